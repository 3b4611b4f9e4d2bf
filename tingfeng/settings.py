"""Process settings from the environment (and an optional ``.env``), built once.

Secrets (SMTP password, webhook secrets, the signing key) only ever come from here or
from environment variables the catalog names, never from committed files.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import make_url_for_path
from storage.signing_key import SigningKey, signing_key


class Settings(BaseSettings):
    """Everything a tingfeng process needs to know about its environment."""

    model_config = SettingsConfigDict(env_prefix="TINGFENG_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="where the SQLite file, captured mail and exports live")
    catalog: Path = Field(Path("tingfeng.toml"), description="the catalog TOML file")
    database_url: str | None = Field(
        None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy / libpq URL; unset means SQLite in data_dir",
    )
    timezone: str = "Asia/Shanghai"
    secret_key: SecretStr | None = Field(
        None,
        description="signs acknowledge/resolve links in emails and login cookies; unset = a random key generated "
                    "once in data_dir/secret_key (one machine only: set the same value everywhere otherwise)",
    )
    dashboard_url: str = "http://localhost:8501"
    log_level: str = "INFO"

    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_from: str = "听风舆情 <tingfeng@localhost>"
    smtp_timeout: float = 20.0

    http_user_agent: str = "tingfeng/0.1 (+brand monitoring; polite)"
    http_per_host_concurrency: int = 2
    http_min_delay: float = 1.0
    respect_robots: bool = True

    sentiment_model: str | None = Field(None, description="name of the sentiment model; unset = default")

    scheduler_heartbeat_seconds: float = Field(
        20.0, gt=0, description="how often `tingfeng run` renews its scheduler lock (and a waiting one retries), and a "
        "running job its job_runs heartbeat")
    scheduler_lock_ttl_seconds: float = Field(
        60.0, gt=0, description="a scheduler lock not renewed for this long is stale: a waiting runner takes over; a "
        "job run without a heartbeat for this long is closed as interrupted by the next run of its job")

    @model_validator(mode="after")
    def _lock_outlives_heartbeats(self) -> "Settings":
        if self.scheduler_lock_ttl_seconds < 2 * self.scheduler_heartbeat_seconds:
            raise ValueError(
                f"TINGFENG_SCHEDULER_LOCK_TTL_SECONDS ({self.scheduler_lock_ttl_seconds:g}) must be at least twice "
                f"TINGFENG_SCHEDULER_HEARTBEAT_SECONDS ({self.scheduler_heartbeat_seconds:g}): one late heartbeat "
                "would otherwise hand the lock to a second scheduler")
        return self

    @property
    def db_url(self) -> str:
        """The database URL in effect."""
        if self.database_url:
            return self.database_url
        return make_url_for_path(self.data_dir / "tingfeng.db")

    def signing_key(self) -> SigningKey:
        """The key in force: ``TINGFENG_SECRET_KEY``, else the data dir's generated one (created on first use)."""
        return signing_key(self.secret_key.get_secret_value() if self.secret_key else None, self.data_dir)

    @property
    def outbox_capture_dir(self) -> Path:
        """Where the demo's SMTP sink writes .eml files."""
        return self.data_dir / "mail"
