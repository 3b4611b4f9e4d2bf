"""The ``Retry-After`` header (RFC 9110 §10.2.3), read the same way by every HTTP client
of tingfeng's: the collectors' polite client and the alert channels' webhook POST.

It lives in ``storage`` only because that is the one package both may import; it does
no I/O and knows nothing of the schema.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date).

    ``now`` is the POSIX time the date form is counted from (default: this host's
    clock). A date in the past gives 0; a missing or unreadable value gives None.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = http_date(value)
    if when is None:
        return None
    return max(0.0, when - (now if now is not None else time.time()))


def http_date(value: str | None) -> float | None:
    """The POSIX time of an HTTP date (``Wed, 21 Oct 2026 07:28:00 GMT``), None when unreadable."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value.strip()).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
