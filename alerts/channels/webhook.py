"""Generic JSON webhook, HMAC-SHA256 signed.

Headers: ``X-Tingfeng-Timestamp`` (seconds), ``X-Tingfeng-Signature: sha256=<hex>`` where the
hex is ``hmac_sha256(secret, f"{timestamp}.".encode() + body)``, and
``X-Tingfeng-Idempotency-Key`` so the receiver can drop a re-delivery after a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import ClassVar

from alerts.channels._http import dumps, post
from alerts.channels.base import ChannelSettings, OutgoingMessage, RateLimit, resolve_address, secret_from_env


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """``sha256=<hex>`` over ``"{timestamp}." + body``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_s}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_body(message: OutgoingMessage) -> dict:
    """The JSON document posted (pure)."""
    return {
        "id": message.key,
        "keys": list(message.keys or (message.key,)),
        "recipient": message.recipient_id,
        "subject": message.subject,
        "text": message.text,
        "data": message.payload.get("data", {}),
    }


class WebhookNotifier:
    """POSTs a JSON document to any HTTPS endpoint (ticketing, an internal bus...)."""

    name: ClassVar[str] = "webhook"
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    batch_max_bytes: ClassVar[int] = 0

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def send(self, message: OutgoingMessage) -> str:
        """Post the document; any 2xx is success and its body the provider response."""
        body = dumps(webhook_body(message))
        timestamp = int(time.time())
        headers = {"X-Tingfeng-Timestamp": str(timestamp), "X-Tingfeng-Idempotency-Key": message.key}
        secret = secret_from_env(message)
        if secret:
            headers["X-Tingfeng-Signature"] = webhook_signature(secret, timestamp, body)
        response = post(resolve_address(message), body, self.settings, headers)
        return f"{response.status_code} {response.text[:500]}"
