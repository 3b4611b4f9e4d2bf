"""``feed``: RSS 2.0 / RSS 1.0, Atom and JSON Feed (RSSHub ``?format=rss|atom|json``).

Parsing is the pure :func:`parse_feed`; the collector does one conditional GET per run.
Feed XML is untrusted: parsed with entity resolution and network access off.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import urljoin

from lxml import etree
from pydantic import Field

from collectors.base import Context, HttpOptions, Item, ParsedPage
from collectors.errors import ParseError
from collectors.parse.blocks import raise_if_blocked
from collectors.parse.dates import SHANGHAI, parse_datetime
from collectors.parse.text import collapse_whitespace, html_to_text

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>")


class FeedOptions(HttpOptions):
    """Options of a ``feed`` source (plus the common HTTP ones: headers, params, robots …)."""

    kind: str | None = Field("post", description="mention kind stored")


def _local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _children(el: etree._Element, *names: str) -> list[etree._Element]:
    return [c for c in el if _local(c) in names]


def _first_text(el: etree._Element, *names: str) -> str | None:
    for name in names:
        for child in el:
            if _local(child) == name:
                text = "".join(child.itertext()).strip()
                if text:
                    return text
    return None


def parse_feed(text: str, *, base_url: str, now: datetime, tz: tzinfo = SHANGHAI, kind: str = "post") -> ParsedPage:
    """Items of an RSS, Atom or JSON feed document. Raises :class:`ParseError` when
    the document is not a feed at all; a bad entry becomes an error line instead."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON feed: {exc}") from exc
        return _parse_json_feed(data, base_url=base_url, now=now, tz=tz, kind=kind)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, remove_comments=True,
                             remove_pis=True, huge_tree=False)
    try:
        root = etree.fromstring(_XML_DECL_RE.sub("", stripped, count=1).encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not a feed: {exc}") from exc
    if root is None:
        raise ParseError("not a feed: empty or unreadable XML")
    name = _local(root)
    if name == "feed":
        entries, reader = _children(root, "entry"), _atom_entry
    elif name in ("rss", "rdf"):
        channel = _children(root, "channel")
        entries = [*_children(root, "item"), *(c for ch in channel for c in _children(ch, "item"))]
        reader = _rss_item
    else:
        raise ParseError(f"not a feed: root element <{name}>")
    page = ParsedPage()
    for index, entry in enumerate(entries, start=1):
        try:
            page.items.append(reader(entry, base_url=base_url, now=now, tz=tz, kind=kind))
        except (ValueError, KeyError, TypeError) as exc:
            page.errors.append(f"entry {index}: {exc}")
    return page


def _time(value: str | None, now: datetime, tz: tzinfo) -> tuple[datetime, bool]:
    """(UTC time, guessed): a missing date is the collection time; a bad one raises."""
    if not value:
        return now, True
    return parse_datetime(value, now=now, tz=tz), False


def _make_item(*, ident: str | None, link: str | None, title: str | None, body: str, when: str | None,
               authors: list[str], now: datetime, tz: tzinfo, kind: str, base_url: str) -> Item:
    text = body or collapse_whitespace(title or "")
    if not text:
        raise ValueError("empty text")
    link = urljoin(base_url, link.strip()) if link else None
    ident = (ident or "").strip() or link or hashlib.sha1(f"{title}|{when}|{text}".encode()).hexdigest()
    published, guessed = _time(when, now, tz)
    extra = {"time_guessed": True} if guessed else {}
    return Item(external_id=ident, text=text, published_at=published, kind=kind, url=link,
                author=", ".join(a for a in authors if a) or None, title=(title or None) and collapse_whitespace(title),
                extra=extra)


def _rss_item(el: etree._Element, *, base_url: str, now: datetime, tz: tzinfo, kind: str) -> Item:
    body = html_to_text(_first_text(el, "encoded") or _first_text(el, "description") or "")
    authors = [collapse_whitespace("".join(a.itertext())) for a in _children(el, "author", "creator")]
    return _make_item(ident=_first_text(el, "guid"), link=_first_text(el, "link"), title=_first_text(el, "title"),
                      body=body, when=_first_text(el, "pubdate", "date", "published", "updated"),
                      authors=authors, now=now, tz=tz, kind=kind, base_url=base_url)


def _atom_entry(el: etree._Element, *, base_url: str, now: datetime, tz: tzinfo, kind: str) -> Item:
    link = None
    for candidate in _children(el, "link"):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            link = candidate.get("href")
            break
    body = ""
    for name in ("content", "summary"):
        nodes = _children(el, name)
        if nodes:
            node = nodes[0]
            if node.get("type", "text") in ("html", "xhtml", "text/html"):
                raw = node.text or "" if node.get("type") != "xhtml" else etree.tostring(node, encoding="unicode")
                body = html_to_text(raw)
            else:
                body = collapse_whitespace("".join(node.itertext()))
            if body:
                break
    authors = [_first_text(a, "name") or "" for a in _children(el, "author")]
    return _make_item(ident=_first_text(el, "id"), link=link, title=_first_text(el, "title"), body=body,
                      when=_first_text(el, "published", "updated"), authors=authors, now=now, tz=tz,
                      kind=kind, base_url=base_url)


def _json_authors(entry: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in ("authors", "author"):
        value = entry.get(key)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, dict):
                names.append(str(v.get("name") or ""))
            elif isinstance(v, str):
                names.append(v)
        if any(names):
            break
    return [n for n in names if n]


def _parse_json_feed(data: Any, *, base_url: str, now: datetime, tz: tzinfo, kind: str) -> ParsedPage:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ParseError("not a JSON Feed: no items list")
    page = ParsedPage()
    for index, entry in enumerate(data["items"], start=1):
        try:
            if not isinstance(entry, dict):
                raise ValueError("entry is not an object")
            body = html_to_text(entry.get("content_html")) if entry.get("content_html") else \
                collapse_whitespace(str(entry.get("content_text") or entry.get("summary") or ""))
            ident = entry.get("id")
            page.items.append(_make_item(
                ident=str(ident) if ident is not None else None, link=entry.get("url") or entry.get("external_url"),
                title=entry.get("title"), body=body, when=entry.get("date_published") or entry.get("date_modified"),
                authors=_json_authors(entry), now=now, tz=tz, kind=kind, base_url=base_url))
        except (ValueError, KeyError, TypeError) as exc:
            page.errors.append(f"entry {index}: {exc}")
    return page


class FeedCollector:
    """Collector for RSS / Atom / JSON feeds (one document per run, conditional GET)."""

    type: ClassVar[str] = "feed"
    Options: ClassVar[type[FeedOptions]] = FeedOptions

    async def collect(self, ctx: Context, options: FeedOptions) -> None:
        """Fetch the feed (304 → nothing to do), parse, store."""
        response = await ctx.fetch(options.url, options, conditional=True)
        if response.not_modified:
            ctx.not_modified()
            return
        try:
            page = parse_feed(response.text, base_url=response.url, now=ctx.now, tz=ctx.tz,
                              kind=options.kind or "post")
        except ParseError:
            raise_if_blocked(response.text, options.block_markers, response.url, response.status)
            raise
        if not page.items and not page.errors:
            raise_if_blocked(response.text, options.block_markers, response.url, response.status)
        ctx.emit(page, ref=options.url, state=ctx.validators_state(options.url, response))
