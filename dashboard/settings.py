"""Dashboard settings, read once from the environment by ``dashboard/app.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage import make_url_for_path


class DashboardSettings(BaseSettings):
    """What the dashboard needs to know: the database, the signing key, the login mode."""

    model_config = SettingsConfigDict(env_prefix="TINGFENG_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    secret_key: SecretStr = SecretStr("dev-only-insecure-key")
    auth: Literal["none", "local", "oidc"] = "none"
    timezone: str = "Asia/Shanghai"
    action_link_max_age: int = Field(7 * 24 * 3600, description="seconds an emailed ack/resolve link stays valid")
    session_max_age: int = Field(12 * 3600, ge=60, description="seconds a local login stays valid in its cookie")
    admin_emails: list[str] = Field(default_factory=list, description="OIDC users who are admins without a recipient row")

    @property
    def db_url(self) -> str:
        """The database URL in effect (SQLite in ``data_dir`` when none is given)."""
        return self.database_url or make_url_for_path(self.data_dir / "tingfeng.db")
