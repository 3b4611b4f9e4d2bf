"""DingTalk (钉钉) custom robot: markdown, signed with ``timestamp`` (ms) + HMAC-SHA256 ``sign``.

``sign = urlencode(base64(hmac_sha256(secret, f"{timestamp}\\n{secret}")))`` appended to the
webhook URL as ``&timestamp=…&sign=…``. 20 messages/min per robot, then throttled 10 min.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import ClassVar
from urllib.parse import quote_plus

from alerts.channels._http import dumps, json_answer, post, truncate_utf8
from alerts.channels.base import ChannelSettings, OutgoingMessage, RateLimit, resolve_address, secret_from_env
from alerts.errors import ChannelError, DeliveryError, RateLimited

MAX_BYTES = 18000


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The URL-encoded ``sign`` parameter for ``timestamp_ms`` (as DingTalk documents it)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), string_to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    """The robot URL with ``timestamp`` and ``sign`` when the robot has a secret."""
    if not secret:
        return url
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def dingtalk_body(message: OutgoingMessage) -> dict:
    """The JSON body of a DingTalk markdown message (pure)."""
    title = message.payload.get("title") or message.subject or "听风通知"
    return {"msgtype": "markdown", "markdown": {"title": title[:64], "text": truncate_utf8(message.text, MAX_BYTES)}}


class DingTalkNotifier:
    """Posts markdown to a DingTalk custom robot, signing when ``secret_env`` is configured."""

    name: ClassVar[str] = "dingtalk"
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(20, 60.0),)
    batch_max_bytes: ClassVar[int] = MAX_BYTES

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def send(self, message: OutgoingMessage) -> str:
        """Post one markdown message; returns DingTalk's JSON answer."""
        url = signed_url(resolve_address(message), secret_from_env(message), int(time.time() * 1000))
        response = post(url, dumps(dingtalk_body(message)), self.settings)
        data = json_answer(response)
        code = data.get("errcode")
        if code == 0:
            return response.text
        if code in (130101, 660026):  # sending too fast: the robot is throttled for 10 minutes
            raise RateLimited(f"DingTalk robot throttled: {data}", retry_after=600)
        if code in (310000, 300001, 400101, 400102, 40035):  # sign / keyword / IP / token refused
            raise ChannelError(f"DingTalk refused the message: {data}")
        raise DeliveryError(f"DingTalk error: {data}")
