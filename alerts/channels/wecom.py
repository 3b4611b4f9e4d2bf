"""WeCom (企业微信) group bot: ``{"msgtype":"markdown","markdown":{"content":…}}``, 20/min per bot."""

from __future__ import annotations

from typing import ClassVar

from alerts.channels._http import dumps, json_answer, post, truncate_utf8
from alerts.channels.base import ChannelSettings, OutgoingMessage, RateLimit, resolve_address
from alerts.errors import ChannelError, DeliveryError, RateLimited

MAX_BYTES = 4096  # WeCom's markdown content limit


def wecom_body(message: OutgoingMessage) -> dict:
    """The JSON body WeCom expects for a markdown message (pure)."""
    return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(message.text, MAX_BYTES)}}


class WeComNotifier:
    """Posts markdown to a WeCom group bot webhook (``…/cgi-bin/webhook/send?key=…``)."""

    name: ClassVar[str] = "wecom"
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(20, 60.0),)
    batch_max_bytes: ClassVar[int] = 4000

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def send(self, message: OutgoingMessage) -> str:
        """Post one markdown message; returns WeCom's JSON answer."""
        response = post(resolve_address(message), dumps(wecom_body(message)), self.settings)
        data = json_answer(response)
        code = data.get("errcode")
        if code == 0:
            return response.text
        if code == 45009:
            raise RateLimited(f"WeCom bot over its rate limit: {data}", retry_after=60)
        if code in (93000, 40008, 40058, 93017):  # invalid key / message type / bad content / blocked
            raise ChannelError(f"WeCom refused the message: {data}")
        raise DeliveryError(f"WeCom error: {data}")
