"""``html``: a review / post listing described by CSS selectors in the catalog.

A field spec is a CSS selector optionally followed by ``@attr`` (see
:mod:`collectors.parse.selectors`). Pagination by a next-link selector or a ``{page}``
URL template; an optional ``detail`` selector fetches each new item's own page for the
full text. Parsing is the pure :func:`parse_listing`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, tzinfo
from typing import ClassVar
from urllib.parse import urljoin

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.base import Context, HttpOptions, Item, ParsedPage
from collectors.errors import FetchError
from collectors.paging import walk
from collectors.parse.blocks import raise_if_blocked
from collectors.parse.counts import parse_count
from collectors.parse.dates import SHANGHAI, parse_datetime
from collectors.parse.ratings import parse_rating
from collectors.parse.selectors import FieldSpec, check_spec, extract, parse_html, select_elements


def _checked(value: str | None) -> str | None:
    if value is not None:
        problem = check_spec(value)
        if problem:
            raise ValueError(problem)
    return value


class HtmlFields(BaseModel):
    """Field specs, each ``"css selector"`` or ``"css selector@attr"`` or ``"@attr"``."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="review / post text; all matches joined")
    time: str = Field(description="publication time (text, or @attr such as @datetime)")
    id: str | None = Field(None, description="stable id; default: the link, else a hash of author+time+text")
    author: str | None = None
    rating: str | None = Field(None, description="stars: number, star-40 class, 四星半, ★★★★☆ …")
    link: str | None = Field(None, description="permalink, made absolute")
    title: str | None = None
    store: str | None = Field(None, description="shop id or store name on the page → store_hint")
    product: str | None = Field(None, description="product name on the page → product_hint")
    likes: str | None = Field(None, description="like count: 12, 1.2万")

    @field_validator("*")
    @classmethod
    def _selectors(cls, value: str | None) -> str | None:
        return _checked(value)


class HtmlOptions(HttpOptions):
    """Options of an ``html`` source (plus the common HTTP ones)."""

    kind: str | None = Field("review", description="mention kind stored")
    item: str = Field(description="CSS selector of one item in the listing")
    fields: HtmlFields
    time_format: str | None = Field(None, description="strptime format of the time field; else auto")
    next: str | None = Field(None, description="next-page link spec (default attribute href)")
    page_url: str | None = Field(None, description="page URL template with {page}; page 1 is url")
    start_page: int = Field(1, ge=0, description="the number {page} of the first page (url)")
    max_pages: int = Field(10, ge=1, le=10_000)
    detail: str | None = Field(None, description="spec of the full text on the item's link page")
    rating_scale: float = Field(5.0, gt=0, description="maximum of plain-number ratings")

    @field_validator("item", "next", "detail")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        return _checked(value)

    @field_validator("page_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and "{page}" not in value:
            raise ValueError("must contain {page}")
        return value

    @model_validator(mode="after")
    def _one_pagination(self) -> "HtmlOptions":
        if self.next and self.page_url:
            raise ValueError("give either next or page_url, not both")
        if self.detail and not self.fields.link:
            raise ValueError("detail needs fields.link (the page to fetch)")
        return self


def parse_listing(html: str, options: HtmlOptions, *, base_url: str, now: datetime,
                  tz: tzinfo = SHANGHAI) -> ParsedPage:
    """Items of one listing page; a broken item becomes an error line, the rest are kept.
    ``next`` is the absolute next-page URL from ``options.next`` (None at the end)."""
    doc = parse_html(html)
    page = ParsedPage()
    for index, element in enumerate(select_elements(doc, FieldSpec(options.item, None)), start=1):
        try:
            page.items.append(parse_item(element, options, base_url=base_url, now=now, tz=tz))
        except (ValueError, TypeError, OverflowError) as exc:
            page.errors.append(f"item {index}: {exc}")
    if options.next:
        spec = FieldSpec.parse(options.next)
        spec = spec if spec.attr else FieldSpec(spec.selector, "href")
        href = extract(doc, spec)
        if href and not href.strip().lower().startswith(("javascript:", "#")):
            page.next = urljoin(base_url, href.strip())
    return page


def parse_item(element: etree._Element, options: HtmlOptions, *, base_url: str, now: datetime, tz: tzinfo) -> Item:
    """One listing item as an :class:`Item`; raises ValueError naming the bad field."""
    fields = options.fields

    def get(spec: str | None, *, join: bool = False) -> str | None:
        if not spec:
            return None
        value = extract(element, FieldSpec.parse(spec), join=join)
        return value.strip() if value else None

    text = get(fields.text, join=True)
    if not text:
        raise ValueError("empty text")
    raw_time = get(fields.time)
    if not raw_time:
        raise ValueError("no time")
    try:
        published = parse_datetime(raw_time, now=now, tz=tz, fmt=options.time_format)
    except ValueError as exc:
        raise ValueError(f"bad time {raw_time!r}") from exc
    link = get(fields.link)
    link = absolute_url(base_url, link) if link else None
    author = get(fields.author)
    ident = get(fields.id) or link or hashlib.sha1(f"{author}|{raw_time}|{text}".encode()).hexdigest()
    extra: dict[str, str] = {}
    store = get(fields.store)
    if store:
        extra["page_store"] = store
    return Item(
        external_id=ident, text=text, published_at=published, kind=options.kind or "review", url=link,
        author=author, title=get(fields.title), rating=_rating(element, fields.rating, options.rating_scale),
        likes=parse_count(get(fields.likes)), store_hint=store, product_hint=get(fields.product), extra=extra)


def absolute_url(base_url: str, link: str) -> str:
    """``link`` resolved against ``base_url`` (fast path for ``/path`` links)."""
    if link.startswith(("http://", "https://")):
        return link
    if link.startswith("/") and not link.startswith("//"):
        scheme_end = base_url.find("://")
        host_end = base_url.find("/", scheme_end + 3) if scheme_end >= 0 else -1
        if scheme_end >= 0:
            return (base_url if host_end < 0 else base_url[:host_end]) + link
    return urljoin(base_url, link)


def _rating(element: etree._Element, spec_text: str | None, scale: float) -> float | None:
    """The rating from the spec's attribute, or else its text, class, title or data-score."""
    if not spec_text:
        return None
    spec = FieldSpec.parse(spec_text)
    for el in select_elements(element, spec):
        candidates = [el.get(spec.attr)] if spec.attr else [
            el.text_content().strip(), el.get("class"), el.get("title"), el.get("data-score")]
        for candidate in candidates:
            value = parse_rating(candidate, scale=scale)
            if value is not None:
                return value
    return None


def parse_detail(html: str, spec: str) -> str | None:
    """The full text on a detail page, or None when the spec matches nothing."""
    return extract(parse_html(html), FieldSpec.parse(spec), join=True)


class HtmlCollector:
    """Collector for selector-described HTML listings."""

    type: ClassVar[str] = "html"
    Options: ClassVar[type[HtmlOptions]] = HtmlOptions

    async def collect(self, ctx: Context, options: HtmlOptions) -> None:
        """Walk the listing pages (incremental, resumable), fetch details for new items."""

        async def fetch_page(url: str, page_no: int) -> tuple[ParsedPage, str]:
            response = await ctx.fetch(url, options)
            page = parse_listing(response.text, options, base_url=response.url, now=ctx.now, tz=ctx.tz)
            if not page.items and not page.errors:
                raise_if_blocked(response.text, options.block_markers, response.url, response.status)
            if options.page_url and page.items:
                page.next = options.page_url.format(page=options.start_page + page_no)
            if options.detail:
                await self._details(ctx, options, page)
            return page, url

        await walk(ctx, options.url, fetch_page, max_pages=options.max_pages)

    async def _details(self, ctx: Context, options: HtmlOptions, page: ParsedPage) -> None:
        known = ctx.known([item.external_id for item in page.items])
        for item in page.items:
            if item.external_id in known or not item.url:
                continue
            try:
                response = await ctx.fetch(item.url, options)
            except FetchError as exc:
                ctx.log_error(f"detail {item.url}: {exc}; kept the listing text")
                continue
            full = parse_detail(response.text, options.detail or "")
            if full:
                item.text = full
