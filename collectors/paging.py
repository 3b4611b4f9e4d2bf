"""Walking a paginated listing (next link, page template or cursor) incrementally and
resumably.

The page walk saves, with every stored page, where it would continue
(``state["resume"]``). A run that dies leaves that mark; the next run first finishes
the interrupted walk — not stopping at already-stored pages until it has found new
ones, because new posts push old ones down the listing — then walks from the top as
usual. So a crash costs neither duplicates nor gaps. A page whose items are exactly
those of a page already walked (a site that ignores the page number, a cursor that
never moves) ends the walk, logged, instead of fetching it again up to ``max_pages``.
"""

from __future__ import annotations

import hashlib
from typing import Awaitable, Callable

from collectors.base import Context, ParsedPage

FetchPage = Callable[[str, int], Awaitable[tuple[ParsedPage, str]]]
"""(page ref — URL or cursor —, page number) -> (parsed page, ref for the run log)."""


async def walk(ctx: Context, first: str, fetch_page: FetchPage, *, max_pages: int) -> int:
    """Walk pages from ``first``; returns the number of pages fetched."""
    fetched = 0
    resume = ctx.state.get("resume")
    if isinstance(resume, dict) and resume.get("ref"):
        fetched += await _walk_from(ctx, resume["ref"], int(resume.get("page", 2)), fetch_page,
                                    max_pages=max_pages, resuming=True)
    fetched += await _walk_from(ctx, first, 1, fetch_page, max_pages=max_pages, resuming=False)
    return fetched


async def _walk_from(ctx: Context, ref: str, page_no: int, fetch_page: FetchPage, *,
                     max_pages: int, resuming: bool) -> int:
    fetched = 0
    found_new = False
    seen: dict[str, int] = {}  # page fingerprint -> number of the page that had it
    current: str | None = ref
    while current and page_no <= max_pages:
        page, log_ref = await fetch_page(current, page_no)
        fetched += 1
        fingerprint = page_fingerprint(page)
        if fingerprint in seen:
            ctx.log_error(f"{log_ref}: page {page_no} repeats page {seen[fingerprint]} "
                          f"(the same {len(page.items)} items): paging stopped")
            ctx.emit(ParsedPage(), ref=log_ref, state={"resume": None})
            break
        if fingerprint:
            seen[fingerprint] = page_no
        nxt = page.next if page.next and page.next != current and page_no < max_pages else None
        mark = {"resume": {"ref": nxt, "page": page_no + 1}} if nxt else {"resume": None}
        result = ctx.emit(page, ref=log_ref, state=mark)
        found_new = found_new or result.new > 0
        if ctx.should_stop(result) and (found_new or not resuming):
            if nxt:
                ctx.emit(ParsedPage(), ref=log_ref, state={"resume": None})
            break
        current = nxt
        page_no += 1
    return fetched


def page_fingerprint(page: ParsedPage) -> str | None:
    """What identifies a page's content: a hash of its items' ids (None without items)."""
    if not page.items:
        return None
    return hashlib.sha1("\n".join(sorted(item.external_id for item in page.items)).encode()).hexdigest()
