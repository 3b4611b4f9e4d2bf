"""``feed``: RSS 0.9x / 1.0 / 2.0, Atom 0.3 / 1.0 and JSON Feed (RSSHub ``?format=rss|atom|json``).

Parsing is the pure :func:`parse_feed`; the collector does one conditional GET per run.
XML feeds are read by feedparser, the reference for real-world feeds (base64 Atom
content, windows-1252 and double-encoded text, ``guid isPermaLink``, Atom 0.3 dates,
``rdf:about``, ``name (email)`` authors). Feed XML is untrusted: feedparser drops
entity declarations that refer to other entities or to files, and only ever sees the
bytes we fetched (never a URL or a path). A feed that is not well-formed is read entry
by entry, so one broken entry (an entity bomb, an unterminated CDATA section) is
reported and skipped while the entries around it are kept.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
from datetime import datetime, timezone, tzinfo
from typing import Any, ClassVar
from urllib.parse import urljoin

import feedparser
from pydantic import Field

from collectors.base import Context, HttpOptions, Item, ParsedPage
from collectors.errors import ParseError
from collectors.parse.blocks import raise_if_blocked
from collectors.parse.dates import SHANGHAI, parse_datetime
from collectors.parse.text import collapse_whitespace, html_to_text

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_ENTRY = r"(?:[\w.-]+:)?(?:item|entry)"
# where entries start and end, stepping over comments and whole CDATA sections (one
# that runs into the next entry's end tag is not whole: it is broken)
_ENTRY_TOKEN_RE = re.compile(
    rf"<!--.*?-->|<!\[CDATA\[(?:(?!\]\]>|</{_ENTRY}\s*>).)*\]\]>|<(/?){_ENTRY}(?=[\s>/])[^>]*>",
    re.S | re.I)
_HEADER_TOKEN_RE = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>|<\?.*?\?>|<(/?)([^\s/>!?]+)[^>]*?(/?)>",
    re.S | re.I)
_WHOLE_CDATA_RE = re.compile(r"<!\[CDATA\[.*?\]\]>", re.S)
_TRAILING_CLOSE_RE = re.compile(r"(?:\s*</(?:[\w.-]+:)?(?:channel|rss|feed|rdf)\s*>)+\s*$", re.I)
_ENTITY_DECL_RE = re.compile(r"<!ENTITY\s+(?:%\s*)?([\w.:-]+)\s+(SYSTEM|PUBLIC|\"[^\"]*\"|'[^']*')", re.I)
_SAFE_ENTITY_VALUE_RE = re.compile(r"^[\"'](?:&#\w+;|[^&\"']*)[\"']$")  # what feedparser keeps
_AUTHOR_TAG = r"<(?:[\w.-]+:)?(?:author|creator|contributor|name)(?:\s[^>]*)?>\s*"
_AUTHOR_TEXT_RES = (re.compile(rf"({_AUTHOR_TAG})([^<]*@[^<]*)(?=</)", re.I),
                    re.compile(rf"({_AUTHOR_TAG}<!\[CDATA\[)([^\]]*@[^\]]*)(?=\]\]>)", re.I))
_EMAIL_RE = re.compile(r"(?:mailto:)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMPTY_BRACKETS_RE = re.compile(r"\(\s*\)|<\s*>|&lt;\s*&gt;|\[\s*\]")


class FeedOptions(HttpOptions):
    """Options of a ``feed`` source (plus the common HTTP ones: headers, params, robots …)."""

    kind: str | None = Field("post", description="mention kind stored")


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
    document = _XML_DECL_RE.sub("", stripped, count=1)  # already decoded: feedparser reads it as UTF-8
    for pattern in _AUTHOR_TEXT_RES:  # e-mail addresses are never stored
        document = pattern.sub(lambda m: m.group(1) + author_name(m.group(2)), document)
    parsed = _feedparser(document)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise ParseError(f"not a feed{f': {reason}' if reason else ''}")
    page = ParsedPage()
    if not parsed.bozo:
        for index, entry in enumerate(parsed.entries, start=1):
            _add(page, index, entry, base_url=base_url, now=now, tz=tz, kind=kind)
        return page
    # not well-formed: each entry on its own, so a broken one cannot take the others with it
    chunks = split_entries(document)
    if not chunks:
        for index, entry in enumerate(parsed.entries, start=1):
            _add(page, index, entry, base_url=base_url, now=now, tz=tz, kind=kind)
        return page
    header, closing = chunks[0]
    unsafe = _unsafe_entities(header)
    for index, chunk in enumerate(chunks[1:], start=1):
        problem = _chunk_problem(chunk[0], unsafe)
        if problem:
            page.errors.append(f"entry {index}: {problem}; skipped")
            continue
        entries = _feedparser(header + chunk[0] + closing).entries
        if not entries:
            page.errors.append(f"entry {index}: unreadable XML; skipped")
        for entry in entries:
            _add(page, index, entry, base_url=base_url, now=now, tz=tz, kind=kind)
    return page


def author_name(text: str) -> str:
    """The name in an author field, without e-mail addresses: ``a@b.cn (张三)``,
    ``张三 (a@b.cn)`` and ``张三 <a@b.cn>`` → ``张三``; a bare address → ``""``.
    (feedparser splits these itself, but its address pattern stops at four-letter
    top-level domains and hands the rest to the name.)"""
    name = _EMPTY_BRACKETS_RE.sub("", _EMAIL_RE.sub("", text)).strip()
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1]
    return collapse_whitespace(name)


def _feedparser(document: str) -> Any:
    # a stream, never a str or bytes: feedparser would fetch a str that looks like a URL
    # and open one that names a file. No base URL: feedparser would resolve ``id``s
    # against it too (ids must stay as the feed gives them); links are joined by us.
    return feedparser.parse(io.BytesIO(document.encode("utf-8", "replace")),
                            response_headers={"content-type": "application/xml; charset=utf-8"})


def split_entries(document: str) -> list[tuple[str, str]]:
    """``[(header, closing tags), (entry 1, ""), (entry 2, "") …]``: the text before the
    first entry, the end tags that close it, and each entry's own text — up to its end
    tag, or to the next entry when the end tag is missing. Empty when there is no entry."""
    starts: list[int] = []
    ends: list[int] = []
    for match in _ENTRY_TOKEN_RE.finditer(document):
        if match.group(1) is None:
            continue  # a comment or CDATA section
        (ends if match.group(1) else starts).append(match.start() if not match.group(1) else match.end())
    if not starts:
        return []
    header = document[:starts[0]]
    chunks: list[tuple[str, str]] = [(header, _closing_tags(header))]
    for number, start in enumerate(starts):
        stop = starts[number + 1] if number + 1 < len(starts) else len(document)
        end = next((e for e in ends if start < e <= stop), None)
        text = document[start:end] if end is not None else _TRAILING_CLOSE_RE.sub("", document[start:stop])
        chunks.append((text, ""))
    return chunks


def _closing_tags(header: str) -> str:
    """End tags for the elements left open in ``header`` (``</channel></rss>``)."""
    stack: list[str] = []
    for match in _HEADER_TOKEN_RE.finditer(header):
        closing, name, empty = match.group(1), match.group(2), match.group(3)
        if name is None or empty:
            continue
        if not closing:
            stack.append(name)
        elif name in stack:
            del stack[len(stack) - 1 - stack[::-1].index(name):]
    return "".join(f"</{name}>" for name in reversed(stack))


def _unsafe_entities(header: str) -> set[str]:
    """Entities the DOCTYPE declares that feedparser drops (they refer to other
    entities — an expansion bomb — or to a file or URL)."""
    return {name for name, value in _ENTITY_DECL_RE.findall(header) if not _SAFE_ENTITY_VALUE_RE.match(value)}


def _chunk_problem(chunk: str, unsafe: set[str]) -> str | None:
    for name in sorted(unsafe):
        if f"&{name};" in chunk:
            return f"refers to the entity &{name}; declared in the feed (not expanded: an entity bomb or a file)"
    if "<![" in _WHOLE_CDATA_RE.sub("", chunk):
        return "a CDATA section that is cut or never closed"
    return None


def _add(page: ParsedPage, index: int, entry: Any, *, base_url: str, now: datetime, tz: tzinfo, kind: str) -> None:
    try:
        page.items.append(_entry_item(entry, base_url=base_url, now=now, tz=tz, kind=kind))
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        page.errors.append(f"entry {index}: {exc}")


def _time(value: str | None, now: datetime, tz: tzinfo, parsed: Any = None) -> tuple[datetime, bool]:
    """(UTC time, guessed): a missing date is the collection time; a bad one raises.
    ``parsed`` is feedparser's reading (UTC), used for the forms ours does not know."""
    if not value:
        return now, True
    try:
        return parse_datetime(value, now=now, tz=tz), False
    except (ValueError, OverflowError, OSError):
        if parsed is None:
            raise
        return datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc), False


def _make_item(*, ident: str | None, link: str | None, title: str | None, body: str, when: str | None,
               authors: list[str], now: datetime, tz: tzinfo, kind: str, base_url: str,
               when_parsed: Any = None) -> Item:
    text = body or collapse_whitespace(title or "")
    if not text:
        raise ValueError("empty text")
    link = urljoin(base_url, link.strip()) if link else None
    ident = (ident or "").strip() or link or hashlib.sha1(f"{title}|{when}|{text}".encode()).hexdigest()
    published, guessed = _time(when, now, tz, when_parsed)
    extra = {"time_guessed": True} if guessed else {}
    return Item(external_id=ident, text=text, published_at=published, kind=kind, url=link,
                author=", ".join(a for a in authors if a) or None, title=(title or None) and collapse_whitespace(title),
                extra=extra)


def _as_text(detail: Any) -> str:
    """Plain text of a feedparser text construct (HTML converted, plain text as is)."""
    if not detail or not detail.get("value"):
        return ""
    if detail.get("type") == "text/plain":
        return collapse_whitespace(detail["value"])
    return html_to_text(detail["value"])


def _entry_item(entry: Any, *, base_url: str, now: datetime, tz: tzinfo, kind: str) -> Item:
    """One feedparser entry (RSS item or Atom entry) as an Item."""
    body = ""
    for detail in [*entry.get("content", []), entry.get("summary_detail")]:
        body = _as_text(detail)
        if body:
            break
    link = entry.get("link")
    if link and link == entry.get("id") and entry.get("guidislink") and not link.startswith(("http://", "https://")):
        link = None  # a guid taken as the permalink must at least be a URL
    authors = [collapse_whitespace(a.get("name") or "") for a in entry.get("authors", []) if isinstance(a, dict)]
    title = _as_text(entry.get("title_detail")) or None
    for key in ("published", "updated", "created"):
        if entry.get(key):
            when, when_parsed = entry[key], entry.get(f"{key}_parsed")
            break
    else:
        when, when_parsed = None, None
    return _make_item(ident=entry.get("id"), link=link, title=title, body=body, when=when, when_parsed=when_parsed,
                      authors=authors, now=now, tz=tz, kind=kind, base_url=base_url)


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
