"""The one HTTP POST the bot and webhook channels share, with error classification."""

from __future__ import annotations

import json
from typing import Any

import httpx

from alerts.channels.base import ChannelSettings
from alerts.errors import ChannelError, DeliveryError, RateLimited
from storage.retry_after import http_date, retry_after_seconds


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese kept readable)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def post(url: str, content: bytes, settings: ChannelSettings, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST JSON bytes; 429 → RateLimited, 5xx/network → DeliveryError, other 4xx → ChannelError."""
    timeout = httpx.Timeout(settings.webhook_timeout, connect=settings.webhook_connect_timeout)
    try:
        response = httpx.post(
            url, content=content, timeout=timeout,
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "tingfeng-notifier", **(headers or {})},
        )
    except httpx.InvalidURL as exc:
        raise ChannelError(f"invalid URL {url!r}: {exc}") from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"POST {httpx.URL(url).host} failed: {exc!r}") from exc
    if response.status_code == 429:
        raise RateLimited(f"HTTP 429 from {response.url.host}",
                          retry_after=rate_limit_wait(response.headers.get("Retry-After"), response.headers.get("Date"),
                                                      cap=settings.backoff_max_seconds))
    if response.status_code >= 500:
        raise DeliveryError(f"HTTP {response.status_code} from {response.url.host}: {response.text[:200]}")
    if response.status_code >= 400:
        raise ChannelError(f"HTTP {response.status_code} from {response.url.host}: {response.text[:200]}")
    return response


RATE_LIMIT_DEFAULT_SECONDS = 60.0  # a 429 that does not say how long to wait
RATE_LIMIT_MIN_SECONDS = 1.0  # "retry now" (0, or a date already past) still waits this long


def rate_limit_wait(retry_after: str | None, date: str | None = None, *, cap: float, now: float | None = None) -> float:
    """Seconds to wait after a 429, from its ``Retry-After`` (seconds or HTTP date).

    The date form is counted from the answer's own ``Date`` header when it has one (so
    the two clocks' skew does not matter), else from ``now`` (default this host's clock).
    Missing or unreadable → 60 s; 0 or a date in the past → 1 s; never more than ``cap``
    (the channel's ``backoff_max_seconds``): a bot asking for a day is asked again within
    the cap, which costs one more 429 and no attempt.
    """
    answered_at = http_date(date)
    wait = retry_after_seconds(retry_after, now=answered_at if answered_at is not None else now)
    if wait is None:
        wait = RATE_LIMIT_DEFAULT_SECONDS
    return min(cap, max(RATE_LIMIT_MIN_SECONDS, wait))


def json_answer(response: httpx.Response) -> dict[str, Any]:
    """The JSON object a bot answered with (a DeliveryError when it is not JSON)."""
    try:
        data = response.json()
    except ValueError as exc:
        raise DeliveryError(f"non-JSON answer from {response.url.host}: {response.text[:200]}") from exc
    if not isinstance(data, dict):
        raise DeliveryError(f"unexpected answer from {response.url.host}: {response.text[:200]}")
    return data


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut so its UTF-8 encoding fits ``max_bytes`` (with an ellipsis when cut)."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    return raw[: max_bytes - 3].decode("utf-8", "ignore") + "…"
