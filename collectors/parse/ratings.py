"""Star ratings in the forms review pages use, normalised to 0–5.

``4``, ``"4.5"``, ``"4.5分"``, ``"5星"``, ``"四星半"``, ``"★★★★☆"``, CSS classes such as
``star-40`` / ``sml-str40`` / ``star45`` (tenths), ``"40"`` from a class attribute.
"""

from __future__ import annotations

import re
from typing import Any

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CLASS_RE = re.compile(r"(?:star|str|rank|rating|score)[-_]?(\d{1,2})\b", re.IGNORECASE)
_CN_RE = re.compile(r"([零一二两三四五])\s*(?:星|颗星)(半)?")
_NUM_RE = re.compile(r"(\d+(?:\.\d+)?)")


def parse_rating(value: Any, *, scale: float = 5.0) -> float | None:
    """The rating on a 0–5 scale, or None. ``scale`` is the platform's maximum for
    plain numbers (10 for a 10-point score); class forms like ``star-40`` are tenths."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return _clamp(float(value) * 5.0 / scale)
    text = str(value).strip()
    if not text:
        return None
    try:  # the common case: a plain number
        return _clamp(float(text) * 5.0 / scale)
    except ValueError:
        pass
    if "★" in text or "☆" in text:
        full = text.count("★")
        return _clamp(full + (0.5 if "½" in text else 0.0))
    match = _CLASS_RE.search(text)
    if match:
        digits = match.group(1)
        return _clamp(int(digits) / 10.0 if len(digits) == 2 else float(digits))
    match = _CN_RE.search(text)
    if match:
        return _clamp(_CN_DIGITS[match.group(1)] + (0.5 if match.group(2) else 0.0))
    match = _NUM_RE.search(text)
    if match:
        return _clamp(float(match.group(1)) * 5.0 / scale)
    return None


def _clamp(value: float) -> float | None:
    if value < 0 or value > 5.0001:
        return None
    return round(value, 2)
