"""Notification channels, one module each, behind the :class:`~alerts.channels.base.Notifier` protocol.

``NOTIFIERS`` is the explicit registry: channel name → notifier class. A new channel is
one new module here and one line below.
"""

from __future__ import annotations

from alerts.channels.base import ChannelSettings, Notifier, OutgoingMessage, RateLimit
from alerts.channels.dingtalk import DingTalkNotifier
from alerts.channels.email import EmailNotifier
from alerts.channels.feishu import FeishuNotifier
from alerts.channels.webhook import WebhookNotifier
from alerts.channels.wecom import WeComNotifier

NOTIFIERS: dict[str, type] = {
    "email": EmailNotifier,
    "wecom": WeComNotifier,
    "dingtalk": DingTalkNotifier,
    "feishu": FeishuNotifier,
    "webhook": WebhookNotifier,
}


def make_notifiers(settings: ChannelSettings) -> dict[str, Notifier]:
    """One notifier per registered channel, configured with ``settings``."""
    return {name: cls(settings) for name, cls in NOTIFIERS.items()}


__all__ = ["NOTIFIERS", "ChannelSettings", "Notifier", "OutgoingMessage", "RateLimit", "make_notifiers"]
