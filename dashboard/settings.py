"""Dashboard settings, read once from the environment by ``dashboard/app.py``."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage import make_url_for_path
from storage.signing_key import SigningKey, signing_key


class DashboardSettings(BaseSettings):
    """What the dashboard needs to know: the database, the signing key, the login mode."""

    model_config = SettingsConfigDict(env_prefix="TINGFENG_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    secret_key: SecretStr | None = None
    auth: Literal["none", "local", "oidc"] = "none"
    timezone: str = "Asia/Shanghai"
    action_link_max_age: int = Field(7 * 24 * 3600, description="seconds an emailed ack/resolve link stays valid")
    session_max_age: int = Field(12 * 3600, ge=60, description="seconds a local login stays valid in its cookie")
    admin_emails: list[str] = Field(default_factory=list, description="OIDC users who are admins without a recipient row")

    @cached_property
    def signing(self) -> SigningKey:
        """The signing key: ``TINGFENG_SECRET_KEY``, else the one generated in ``data_dir`` (shared with the jobs)."""
        return signing_key(self.secret_key.get_secret_value() if self.secret_key else None, self.data_dir)

    @property
    def db_url(self) -> str:
        """The database URL in effect (SQLite in ``data_dir`` when none is given)."""
        return self.database_url or make_url_for_path(self.data_dir / "tingfeng.db")


def signing_key_warning(key: SigningKey) -> str | None:
    """What to tell an operator about the signing key in force (None for a key set in the environment)."""
    if key.is_public:
        return ("签名密钥是公开的开发密钥（dev-only-insecure-key），任何人都能伪造邮件中的确认/解决链接，"
                "因此看板拒绝这些链接。请在环境变量 `TINGFENG_SECRET_KEY` 中设置一个长随机值"
                "（服务与看板相同；见 docs/deployment.md），然后重启。")
    if key.source == "file":
        return (f"签名密钥为本机自动生成（`{key.path}`），只适用于单机部署。多台机器、容器或数据目录会重建时，"
                "请在环境变量 `TINGFENG_SECRET_KEY` 中为服务和看板设置同一个长随机值（见 docs/deployment.md）。")
    return None
