"""Pure item filters: brand keyword rules and the backfill date range."""

from __future__ import annotations

from datetime import datetime

from collectors.base import Item


def keyword_match(item: Item, include: list[str], exclude: list[str]) -> bool:
    """True when the item's title+text has an ``include`` phrase (or there are none)
    and no ``exclude`` phrase; case-insensitive."""
    if not include and not exclude:
        return True
    haystack = f"{item.title or ''}\n{item.text}".casefold()
    if include and not any(word.casefold() in haystack for word in include if word):
        return False
    return not any(word.casefold() in haystack for word in exclude if word)


def in_range(published_at: datetime, since: datetime | None, until: datetime | None) -> bool:
    """True when ``since <= published_at < until`` (open bounds when None)."""
    if since is not None and published_at < since:
        return False
    return until is None or published_at < until
