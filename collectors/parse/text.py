"""Text helpers: untrusted HTML to plain text, normalisation and the repost hash."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

import lxml.html
from lxml import etree

_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "section", "article", "header", "footer", "pre", "hr",
}
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "head")
_URL_RE = re.compile(r"https?://\S+")
_SPACES_RE = re.compile(r"[ \t\u3000\xa0]+")
_BLANK_LINES_RE = re.compile(r"\n\s*\n+")
_NEEDS_WORK_RE = re.compile(r"[\t\r\n\u3000\xa0]|  ")


def collapse_whitespace(text: str) -> str:
    """Collapse runs of spaces, keep single line breaks, strip the ends."""
    if not _NEEDS_WORK_RE.search(text):
        return text.strip()
    text = _SPACES_RE.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES_RE.sub("\n", text).strip()


def element_text(el: etree._Element) -> str:
    """Visible text of an lxml element: block elements and ``<br>`` become line breaks,
    scripts and styles are dropped (the text after them is kept)."""
    for bad in list(el.iter(*_DROP_TAGS)):
        _drop_keeping_tail(bad)
    for node in el.iter(*_BLOCK_TAGS):
        node.tail = "\n" + (node.tail or "")
    return collapse_whitespace(el.text_content() if hasattr(el, "text_content") else "".join(el.itertext()))


def _drop_keeping_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (e.g. an RSS ``description``); never executes anything.

    Text that is not markup is returned collapsed; broken markup is read as far as it goes.
    """
    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment:
        return collapse_whitespace(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return collapse_whitespace(re.sub(r"<[^>]*>", " ", fragment))
    return element_text(root)


@functools.cache
def _strip_re() -> re.Pattern[str]:
    """URLs, or runs of punctuation, symbols, separators and control characters (BMP
    and the emoji planes): what :func:`normalise_for_hash` deletes, in one pattern
    (one pass; a character class is cheaper than ``str.translate`` with a dict, which
    raises a KeyError inside for every character kept). Built once on first use."""
    spans: list[list[int]] = []
    for block in (range(0x10000), range(0x1F000, 0x1FB00)):
        for cp in block:
            if unicodedata.category(chr(cp))[0] in "PSZC":
                if spans and spans[-1][1] == cp - 1:
                    spans[-1][1] = cp
                else:
                    spans.append([cp, cp])
    members = "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in spans)
    return re.compile(f"{_URL_RE.pattern}|[{members}]+")


def normalise_for_hash(text: str) -> str:
    """The text reduced to what identifies a repost: NFKC, case-folded, no URLs,
    no whitespace, punctuation or symbols (so "转发: 好喝！" and "好喝" differ but
    "好喝!!" and "好喝！" do not)."""
    return _strip_re().sub("", unicodedata.normalize("NFKC", text).casefold())


def content_hash(text: str) -> str:
    """sha1 hex of :func:`normalise_for_hash` — equal for near-identical reposts."""
    return hash_normalised(normalise_for_hash(text))


def hash_normalised(normalised: str) -> str:
    """sha1 hex of already normalised text."""
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()
