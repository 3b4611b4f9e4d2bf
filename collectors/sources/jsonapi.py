"""``json``: an HTTP JSON API described by field paths, with page-number, cursor or
next-URL pagination. Secrets come from environment variables named in the catalog
(``headers_env`` / ``params_env``). Parsing is the pure :func:`parse_json_page`."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from collectors.base import Context, HttpOptions, Item, ParsedPage
from collectors.errors import ParseError
from collectors.paging import walk
from collectors.parse.blocks import raise_if_blocked
from collectors.parse.counts import parse_count
from collectors.parse.dates import SHANGHAI, parse_datetime
from collectors.parse.paths import get_path
from collectors.parse.ratings import parse_rating
from collectors.parse.text import collapse_whitespace, html_to_text


class JsonFields(BaseModel):
    """Field paths inside one item (``user.name``, ``pics[0].url``, ``tags[].name``)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    text: str
    time: str
    author: str | None = None
    rating: str | None = None
    link: str | None = None
    title: str | None = None
    store: str | None = None
    product: str | None = None
    likes: str | None = None


class JsonOptions(HttpOptions):
    """Options of a ``json`` source (plus the common HTTP ones)."""

    kind: str | None = Field("post", description="mention kind stored")
    items: str = Field("", description="path to the item list in the response ('' = the response is the list)")
    fields: JsonFields
    text_is_html: bool = Field(False, description="convert the text field from HTML to plain text")
    link_template: str | None = Field(None, description="e.g. 'https://x/review/{id}' when items carry no link")
    time_format: str | None = None
    rating_scale: float = Field(5.0, gt=0)
    pagination: Literal["none", "page", "cursor", "next_url"] = "none"
    page_param: str = "page"
    start_page: int = Field(1, ge=0)
    cursor_param: str = "cursor"
    cursor_path: str | None = Field(None, description="path of the next cursor in the response")
    has_more_path: str | None = Field(None, description="path of a has-more flag; false ends paging")
    next_url_path: str | None = Field(None, description="path of the next page URL (pagination = next_url)")
    max_pages: int = Field(10, ge=1, le=10_000)

    @model_validator(mode="after")
    def _pagination_complete(self) -> "JsonOptions":
        if self.pagination == "cursor" and not self.cursor_path:
            raise ValueError("pagination = 'cursor' needs cursor_path")
        if self.pagination == "next_url" and not self.next_url_path:
            raise ValueError("pagination = 'next_url' needs next_url_path")
        return self


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if v is not None)
    value = str(value).strip()
    return value or None


def parse_json_page(data: Any, options: JsonOptions, *, base_url: str, now: datetime,
                    tz: tzinfo = SHANGHAI) -> ParsedPage:
    """Items of one decoded JSON response plus its next cursor / URL (``page.next``
    is the raw cursor or the absolute next URL, None at the end)."""
    items = get_path(data, options.items) if options.items else data
    if not isinstance(items, list):
        raise ParseError(f"no item list at {options.items or 'the top level'!r}")
    page = ParsedPage()
    f = options.fields
    for index, entry in enumerate(items, start=1):
        try:
            ident = _str(get_path(entry, f.id))
            if not ident:
                raise ValueError("no id")
            raw_text = _str(get_path(entry, f.text))
            text = html_to_text(raw_text) if options.text_is_html else collapse_whitespace(raw_text or "")
            if not text:
                raise ValueError("empty text")
            raw_time = get_path(entry, f.time)
            try:
                published = parse_datetime(raw_time, now=now, tz=tz, fmt=options.time_format)
            except (ValueError, OverflowError, OSError) as exc:
                raise ValueError(f"bad time {raw_time!r}") from exc
            link = _str(get_path(entry, f.link)) if f.link else None
            if link:
                link = urljoin(base_url, link)
            elif options.link_template:
                link = options.link_template.format(id=ident)
            store = _str(get_path(entry, f.store)) if f.store else None
            page.items.append(Item(
                external_id=ident, text=text, published_at=published, kind=options.kind or "post", url=link,
                author=_str(get_path(entry, f.author)) if f.author else None,
                title=_str(get_path(entry, f.title)) if f.title else None,
                rating=parse_rating(get_path(entry, f.rating), scale=options.rating_scale) if f.rating else None,
                likes=parse_count(get_path(entry, f.likes)) if f.likes else None,
                store_hint=store, product_hint=_str(get_path(entry, f.product)) if f.product else None,
                extra={"page_store": store} if store else {}))
        except (ValueError, TypeError, AttributeError) as exc:
            page.errors.append(f"item {index}: {exc}")
    if options.pagination == "cursor":
        more = get_path(data, options.has_more_path) if options.has_more_path else True
        cursor = _str(get_path(data, options.cursor_path or ""))
        page.next = cursor if cursor and more not in (False, 0, "0", "false") else None
    elif options.pagination == "next_url":
        nxt = _str(get_path(data, options.next_url_path or ""))
        page.next = urljoin(base_url, nxt) if nxt else None
    return page


def with_param(url: str, name: str, value: Any) -> str:
    """``url`` with query parameter ``name`` set to ``value``."""
    return str(httpx.URL(url).copy_merge_params({name: str(value)}))


class JsonCollector:
    """Collector for JSON APIs described by field paths."""

    type: ClassVar[str] = "json"
    Options: ClassVar[type[JsonOptions]] = JsonOptions

    async def collect(self, ctx: Context, options: JsonOptions) -> None:
        """Walk the API's pages (incremental, resumable)."""

        async def fetch_page(url: str, page_no: int) -> tuple[ParsedPage, str]:
            response = await ctx.fetch(url, options)
            try:
                data = json.loads(response.text)
            except json.JSONDecodeError as exc:
                raise_if_blocked(response.text, options.block_markers, response.url, response.status)
                raise ParseError(f"{url}: invalid JSON: {exc}") from exc
            page = parse_json_page(data, options, base_url=response.url, now=ctx.now, tz=ctx.tz)
            if options.pagination == "page":
                page.next = with_param(options.url, options.page_param, options.start_page + page_no) \
                    if page.items or page.errors else None
            elif options.pagination == "cursor" and page.next:
                page.next = with_param(options.url, options.cursor_param, page.next)
            elif options.pagination == "none":
                page.next = None
            return page, url

        first = options.url
        if options.pagination == "page":
            first = with_param(first, options.page_param, options.start_page)
        await walk(ctx, first, fetch_page, max_pages=options.max_pages)

