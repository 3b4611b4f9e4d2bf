"""Dashboard links in messages, with signed acknowledge / resolve tokens."""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import BaseModel, Field, SecretStr

from storage.alert_state import sign_action


class LinkSettings(BaseModel):
    """Where the dashboard lives and the secret that signs action links."""

    dashboard_url: str = "http://localhost:8501"
    secret_key: SecretStr
    max_age_seconds: int = Field(default=7 * 24 * 3600, gt=0)  # how long a link stays valid


def alert_links(links: LinkSettings, alert_id: int, recipient_id: str) -> dict[str, str]:
    """``view``, ``ack`` and ``resolve`` URLs for one alert and one recipient."""
    base = links.dashboard_url.rstrip("/")
    secret = links.secret_key.get_secret_value()
    out = {"view": f"{base}/alerts?{urlencode({'alert': alert_id})}"}
    for action in ("ack", "resolve"):
        token = sign_action(secret, alert_id, action, recipient_id)
        out[action] = f"{base}/alerts?{urlencode({'action': action, 'token': token})}"
    return out
