"""Value types shared by the settings of every stage (they all import storage)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def check_zone(value: str) -> str:
    """``value`` if it names an IANA time zone, else a ValueError saying so."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}: use an IANA zone name such as \"Asia/Shanghai\"") from exc
    return value


ZoneName = Annotated[str, AfterValidator(check_zone)]
"""An IANA time zone name such as ``Asia/Shanghai``, checked on validation."""
