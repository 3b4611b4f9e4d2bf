"""Feishu (飞书) custom bot: an ``interactive`` card with markdown, signed in the body.

``sign = base64(hmac_sha256(key=f"{timestamp}\\n{secret}", msg=b""))`` with ``timestamp``
in seconds, both sent as JSON fields. Limits: 100 messages/min and 5/s per bot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import ClassVar

from alerts.channels._http import dumps, json_answer, post, truncate_utf8
from alerts.channels.base import ChannelSettings, OutgoingMessage, RateLimit, resolve_address, secret_from_env
from alerts.errors import ChannelError, DeliveryError, RateLimited

MAX_BYTES = 25000
_HEADING = re.compile(r"^#{1,6}\s*(.+)$", re.MULTILINE)
_TEMPLATES = {"critical": "red", "warning": "orange", "info": "blue"}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """The ``sign`` field for ``timestamp_s`` (HMAC-SHA256 keyed by ``"{ts}\\n{secret}"`` over nothing)."""
    key = f"{timestamp_s}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def feishu_body(message: OutgoingMessage, secret: str | None, timestamp_s: int) -> dict:
    """The JSON body: an interactive card whose header is the title (pure)."""
    title = message.payload.get("title") or message.subject or "听风通知"
    text = message.text
    first, _, rest = text.partition("\n")
    if first.startswith("#") and _HEADING.sub(r"\1", first).strip() == title:
        text = rest  # the header already shows it
    text = _HEADING.sub(r"**\1**", text).strip()  # card markdown has no headings
    body: dict = {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": title},
                "template": _TEMPLATES.get(str(message.payload.get("severity")), "blue"),
            },
            "elements": [{"tag": "markdown", "content": truncate_utf8(text, MAX_BYTES)}],
        },
    }
    if secret:
        body = {"timestamp": str(timestamp_s), "sign": feishu_sign(secret, timestamp_s), **body}
    return body


class FeishuNotifier:
    """Posts interactive cards to a Feishu custom bot."""

    name: ClassVar[str] = "feishu"
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(5, 1.0), RateLimit(100, 60.0))
    batch_max_bytes: ClassVar[int] = MAX_BYTES

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def send(self, message: OutgoingMessage) -> str:
        """Post one card; returns Feishu's JSON answer."""
        body = feishu_body(message, secret_from_env(message), int(time.time()))
        response = post(resolve_address(message), dumps(body), self.settings)
        data = json_answer(response)
        code = data.get("code", data.get("StatusCode"))
        if code == 0:
            return response.text
        if code in (11232, 9499):  # frequency limited
            raise RateLimited(f"Feishu bot over its rate limit: {data}", retry_after=60)
        if code in (19021, 19022, 19024, 9499001):  # bad signature / IP / keyword
            raise ChannelError(f"Feishu refused the message: {data}")
        raise DeliveryError(f"Feishu error: {data}")
