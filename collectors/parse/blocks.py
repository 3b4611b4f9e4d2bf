"""Recognising block pages and login walls in an otherwise successful answer."""

from __future__ import annotations


def block_marker(text: str, markers: list[str]) -> str | None:
    """The first marker found (case-insensitive) in the start of ``text``, or None."""
    head = text[:20_000].casefold()
    for marker in markers:
        if marker and marker.casefold() in head:
            return marker
    return None


def raise_if_blocked(text: str, markers: list[str], url: str, status: int | None) -> None:
    """Raise :class:`BlockedError` when ``text`` carries a block / login marker."""
    from collectors.errors import BlockedError

    marker = block_marker(text, markers)
    if marker:
        raise BlockedError(f"block page / login wall ({marker!r}) at {url}", url=url, status=status)
