"""Field specs for HTML listings: a CSS selector optionally followed by ``@attr``.

``"a.permalink@href"`` is the ``href`` of the first match, ``"@data-id"`` the attribute
of the item element itself, ``".content"`` the text of the matches, ``""`` / ``"."``
the item's own text. Selectors are CSS 3 (cssselect, compiled once to XPath and run by
lxml), plus ``:contains("下一页")`` (also spelled ``:-soup-contains(...)``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import lxml.html
from cssselect import HTMLTranslator, SelectorError
from lxml import etree

from collectors.parse.text import element_text

_XML_DECL = "<?xml"


@dataclass(frozen=True)
class FieldSpec:
    """A parsed field spec: ``selector`` ("" = the item itself) and optional ``attr``."""

    selector: str
    attr: str | None

    @classmethod
    def parse(cls, spec: str) -> "FieldSpec":
        """Split ``"sel@attr"``; an ``@`` inside ``[...]`` or ``(...)`` belongs to the selector."""
        return _parse_spec(spec)


@functools.lru_cache(maxsize=1024)
def _parse_spec(spec: str) -> FieldSpec:
    spec = spec.strip()
    depth, cut = 0, -1
    for i, ch in enumerate(spec):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "@" and depth == 0:
            cut = i
    selector, attr = (spec[:cut].strip(), spec[cut + 1:].strip()) if cut >= 0 else (spec, None)
    return FieldSpec("" if selector == "." else selector, attr or None)


@functools.lru_cache(maxsize=1024)
def compile_selector(selector: str) -> etree.XPath:
    """The XPath (descendants of the context element) for a CSS selector; raises
    ValueError for invalid CSS."""
    css = selector.replace(":-soup-contains(", ":contains(")
    try:
        return etree.XPath(HTMLTranslator().css_to_xpath(css, prefix="descendant::"))
    except (SelectorError, etree.XPathSyntaxError) as exc:
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc


def check_spec(spec: str) -> str | None:
    """A problem with the spec's selector (for option validation), or None."""
    parsed = FieldSpec.parse(spec)
    if not parsed.selector:
        return None
    try:
        compile_selector(parsed.selector)
    except ValueError as exc:
        return str(exc)
    return None


def parse_html(text: str) -> etree._Element:
    """An lxml tree of an untrusted HTML document (never fetches or executes anything)."""
    if text.lstrip().startswith(_XML_DECL):
        text = text.split("?>", 1)[-1]
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html></html>")


def select_elements(root: etree._Element, spec: FieldSpec) -> list[etree._Element]:
    """The elements a spec points at under ``root`` (``root`` itself for "")."""
    if not spec.selector:
        return [root]
    return [el for el in compile_selector(spec.selector)(root) if isinstance(el.tag, str)]


def extract(root: etree._Element, spec: FieldSpec, *, join: bool = False) -> str | None:
    """The value a spec points at: attribute of the first match that has it, or the
    text of the first match (all matches joined by line breaks with ``join``). None
    when nothing matches or the attribute is missing."""
    elements = select_elements(root, spec)
    if not elements:
        return None
    if spec.attr:
        for el in elements:
            value = el.get(spec.attr)
            if value is not None:
                return value
        return None
    if join:
        parts = [element_text(el) for el in elements]
        return "\n".join(p for p in parts if p)
    return element_text(elements[0])
