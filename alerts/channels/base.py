"""The ``Notifier`` protocol every channel implements, and the settings passed to them.

A channel is one module under ``alerts/channels/`` with one class that:

- has a ``name`` (the key used in ``Recipient.channels`` and ``Notification.channel``),
- optional ``rate_limits`` per destination (a bot URL): ``RateLimit(count, seconds)``,
- ``batch_max_bytes`` > 0 when several pending messages for one destination may be
  merged into one (chat bots); 0 for channels that send each message on its own,
- ``send(message) -> str`` that delivers one :class:`OutgoingMessage` and returns the
  provider's answer, or raises :class:`alerts.errors.DeliveryError` (temporary: retry
  with backoff), :class:`alerts.errors.RateLimited` (retry after ``retry_after``) or
  :class:`alerts.errors.ChannelError` (permanent: retrying cannot help).

Adding a channel = one new module + one line in ``alerts.channels.NOTIFIERS``.
Secrets (bot signing keys) are never stored: the recipient's channel config names an
environment variable (``secret_env``) that the channel reads at send time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, Field, SecretStr

from alerts.errors import ChannelError


class ChannelSettings(BaseModel):
    """How to reach the outside world; built by the app from environment variables."""

    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: float = 30.0
    smtp_from: str = "听风 tingfeng <tingfeng@localhost>"
    webhook_timeout: float = 10.0
    webhook_connect_timeout: float = 5.0
    # delivery policy of the outbox
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=60.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    lease_seconds: float = Field(default=300.0, gt=0)


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` messages per ``seconds`` to one destination."""

    count: int
    seconds: float


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one destination, as stored in the outbox (``Notification``).

    ``text`` is plain text for email and markdown for chat channels; ``payload`` holds
    channel extras (``images``/``attachments`` for email as base64, ``secret_env`` and
    ``title`` for bots, ``data`` for the JSON webhook).
    """

    key: str
    channel: str
    recipient_id: str
    address: str
    subject: str = ""
    text: str = ""
    html: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    keys: tuple[str, ...] = ()  # every idempotency key merged into this message


@runtime_checkable
class Notifier(Protocol):
    """Delivers messages over one channel (email, a chat bot, a webhook)."""

    name: ClassVar[str]
    rate_limits: ClassVar[tuple[RateLimit, ...]]
    batch_max_bytes: ClassVar[int]

    def send(self, message: OutgoingMessage) -> str:
        """Deliver ``message``; return the provider's answer or raise a delivery error."""
        ...


def secret_from_env(message: OutgoingMessage, *, required: bool = False) -> str | None:
    """The signing secret named by ``payload["secret_env"]``, read from the environment."""
    name = message.payload.get("secret_env")
    if not name:
        if required:
            raise ChannelError(f"{message.channel} destination has no secret_env configured")
        return None
    value = os.environ.get(str(name))
    if not value:
        raise ChannelError(f"environment variable {name} (the {message.channel} secret) is not set")
    return value


ENV_ADDRESS = "env:"


def resolve_address(message: OutgoingMessage) -> str:
    """Where to send: the stored address, or for ``env:NAME`` (a ``url_env`` in the catalog) the
    environment variable's value, read at send time so the secret URL never lands in the outbox."""
    address = message.address
    if not address.startswith(ENV_ADDRESS):
        return address
    name = address[len(ENV_ADDRESS):]
    value = os.environ.get(name, "").strip()
    if not value:
        raise ChannelError(f"environment variable {name} (the {message.channel} address of {message.recipient_id}) "
                           "is not set")
    return value


def merge_markdown(messages: list[OutgoingMessage]) -> OutgoingMessage:
    """One markdown message carrying several, for a bot that is over its rate limit."""
    if len(messages) == 1:
        return messages[0]
    first = messages[0]
    title = f"听风 · {len(messages)} 条通知"
    text = f"### {title}\n\n" + "\n\n---\n\n".join(m.text for m in messages)
    payload = dict(first.payload)
    payload["title"] = title
    keys = tuple(k for m in messages for k in (m.keys or (m.key,)))
    return OutgoingMessage(
        key=first.key, channel=first.channel, recipient_id=first.recipient_id, address=first.address,
        subject=title, text=text, payload=payload, keys=keys,
    )
