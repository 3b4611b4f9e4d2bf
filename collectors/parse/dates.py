"""Dates as feeds and pages print them, normalised to UTC-aware datetimes.

Handles epoch seconds / milliseconds, ISO 8601, RFC 822 (RSS), ``2026-11-20 12:30``,
``2026年11月20日 12:30``, ``11-20 12:30`` (this year), and relative forms: 刚刚,
3秒前/3分钟前/3小时前/2天前/1周前/3个月前, 今天/昨天/前天 12:30, "3 minutes ago".
Times without a zone are read in ``tz`` (Asia/Shanghai by default).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

SHANGHAI = ZoneInfo("Asia/Shanghai")

_AGO_RE = re.compile(
    r"^(\d+)\s*(秒|秒钟|分|分钟|小时|个小时|天|日|周|星期|个月|月|年|"
    r"seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s*(前|以前|ago)$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {
    "秒": 1, "秒钟": 1, "second": 1, "seconds": 1, "sec": 1, "secs": 1,
    "分": 60, "分钟": 60, "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "小时": 3600, "个小时": 3600, "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600,
    "天": 86400, "日": 86400, "day": 86400, "days": 86400,
    "周": 7 * 86400, "星期": 7 * 86400, "week": 7 * 86400, "weeks": 7 * 86400,
    "个月": 30 * 86400, "月": 30 * 86400, "month": 30 * 86400, "months": 30 * 86400,
    "年": 365 * 86400, "year": 365 * 86400, "years": 365 * 86400,
}
_DAY_WORDS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
_DAY_WORD_RE = re.compile(r"^(今天|今日|昨天|昨日|前天)\s*(\d{1,2})?[:：]?(\d{2})?(?:[:：](\d{2}))?$")
_CN_DATE_RE = re.compile(
    r"^(?:(\d{4})\s*[年/\-.])?\s*(\d{1,2})\s*[月/\-.]\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?秒?)?$"
)
_NOW_WORDS = {"刚刚", "刚才", "just now", "now"}


def parse_datetime(
    value: Any,
    *,
    now: datetime,
    tz: tzinfo = SHANGHAI,
    fmt: str | None = None,
) -> datetime:
    """``value`` as a UTC-aware datetime; raises ValueError when it is not a date.

    ``now`` anchors relative forms and "this year"; ``fmt`` is a strptime format tried first.
    """
    if value is None or value == "":
        raise ValueError("no date")
    if isinstance(value, datetime):
        return _to_utc(value, tz)
    if isinstance(value, date):
        return _to_utc(datetime(value.year, value.month, value.day), tz)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return from_epoch(value)
    text = str(value).strip()
    if fmt:
        return _to_utc(datetime.strptime(text, fmt), tz)
    if len(text) >= 10 and text[4] == "-" and text[:4].isdigit():
        try:  # the common export form, fast: 2026-11-20 12:30[:00][+08:00]
            return _to_utc(datetime.fromisoformat(text), tz)
        except ValueError:
            pass
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return from_epoch(float(text))
    local_now = now.astimezone(tz)
    if text.lower() in _NOW_WORDS:
        return now.astimezone(timezone.utc)
    match = _AGO_RE.match(text)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        return (now - timedelta(seconds=seconds)).astimezone(timezone.utc)
    match = _DAY_WORD_RE.match(text)
    if match:
        day = local_now.date() - timedelta(days=_DAY_WORDS[match.group(1)])
        hour, minute, second = (int(g) if g else 0 for g in match.group(2, 3, 4))
        return _to_utc(datetime(day.year, day.month, day.day, hour, minute, second), tz)
    match = _CN_DATE_RE.match(text)
    if match:
        year, month, day, hour, minute, second = (int(g) if g else None for g in match.groups())
        guessed_year = year is None
        local = datetime(year or local_now.year, month, day, hour or 0, minute or 0, second or 0)
        if guessed_year and local.replace(tzinfo=tz) > local_now + timedelta(days=1):
            local = local.replace(year=local.year - 1)  # "12-31" read in January
        return _to_utc(local, tz)
    if re.search(r"[A-Za-z]{3},?\s+\d", text) and re.search(r"\d{1,2}:\d{2}", text):
        try:
            return _to_utc(parsedate_to_datetime(text), tz)
        except (TypeError, ValueError, IndexError):
            pass
    try:
        return _to_utc(dateutil_parser.isoparse(text), tz)
    except (ValueError, OverflowError):
        pass
    try:
        return _to_utc(dateutil_parser.parse(text, fuzzy=False), tz)
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"unparseable date {text!r}") from exc


def from_epoch(value: float) -> datetime:
    """Epoch seconds or milliseconds (values above 10^11 are taken as ms) to UTC."""
    value = float(value)
    if value > 1e11:
        value /= 1000.0
    return datetime.fromtimestamp(value, tz=timezone.utc)


def _to_utc(value: datetime, tz: tzinfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(timezone.utc)
