"""Counts as platforms print them: 1234, "1,234", "1.2万", "3亿", "10w+", "1.5k"."""

from __future__ import annotations

import re
from typing import Any

_COUNT_RE = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(万|w|亿|千|k|m)?\s*\+?\s*$", re.IGNORECASE)
_MULTIPLIERS = {"万": 10_000, "w": 10_000, "亿": 100_000_000, "千": 1_000, "k": 1_000, "m": 1_000_000}


def parse_count(value: Any) -> int | None:
    """An integer count, or None when ``value`` is empty or not a count."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    match = _COUNT_RE.match(str(value))
    if not match:
        return None
    number = float(match.group(1).replace(",", ""))
    unit = (match.group(2) or "").lower()
    return int(round(number * _MULTIPLIERS.get(unit, 1)))
