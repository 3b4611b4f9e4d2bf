"""Field specs for HTML listings: a CSS selector optionally followed by ``@attr``.

``"a.permalink@href"`` is the ``href`` of the first match, ``"@data-id"`` the attribute
of the item element itself, ``".content"`` the text of the matches, ``""`` / ``"."``
the item's own text. Selectors run with soupsieve (bs4), so ``:-soup-contains("下一页")``
works.
"""

from __future__ import annotations

from dataclasses import dataclass

from bs4 import Tag
from soupsieve import SelectorSyntaxError

import soupsieve

from collectors.parse.text import collapse_whitespace


@dataclass(frozen=True)
class FieldSpec:
    """A parsed field spec: ``selector`` ("" = the item itself) and optional ``attr``."""

    selector: str
    attr: str | None

    @classmethod
    def parse(cls, spec: str) -> "FieldSpec":
        """Split ``"sel@attr"``; an ``@`` inside ``[...]`` belongs to the selector."""
        spec = spec.strip()
        depth, cut = 0, -1
        for i, ch in enumerate(spec):
            if ch in "[(":
                depth += 1
            elif ch in "])":
                depth -= 1
            elif ch == "@" and depth == 0:
                cut = i
        if cut >= 0:
            selector, attr = spec[:cut].strip(), spec[cut + 1:].strip()
        else:
            selector, attr = spec, None
        if selector == ".":
            selector = ""
        return cls(selector, attr or None)


def check_spec(spec: str) -> str | None:
    """A problem with the spec's selector (for option validation), or None."""
    parsed = FieldSpec.parse(spec)
    if not parsed.selector:
        return None
    try:
        soupsieve.compile(parsed.selector)
    except SelectorSyntaxError as exc:
        return f"invalid CSS selector {parsed.selector!r}: {exc.args[0].splitlines()[0]}"
    return None


def select_elements(root: Tag, spec: FieldSpec) -> list[Tag]:
    """The elements a spec points at under ``root`` (``root`` itself for "")."""
    if not spec.selector:
        return [root]
    return list(root.select(spec.selector))


def extract(root: Tag, spec: FieldSpec, *, join: bool = False) -> str | None:
    """The value a spec points at: attribute of the first match, or the text of the
    first match (all matches joined by line breaks with ``join``). None when nothing
    matches or the attribute is missing."""
    elements = select_elements(root, spec)
    if not elements:
        return None
    if spec.attr:
        for el in elements:
            value = el.get(spec.attr)
            if value is not None:
                return " ".join(value) if isinstance(value, list) else str(value)
        return None
    if join:
        parts = [tag_text(el) for el in elements]
        return "\n".join(p for p in parts if p)
    return tag_text(elements[0])


def tag_text(el: Tag) -> str:
    """Visible text of a bs4 element, ``<br>`` and block elements as line breaks."""
    for br in el.find_all("br"):
        br.replace_with("\n")
    return collapse_whitespace(el.get_text("", strip=False))
