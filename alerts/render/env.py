"""The Jinja2 environment: ``.html`` templates autoescaped; ``.txt`` ones (plain text and chat
markdown, which escape outside text with the ``md`` filter instead) not.

Templates are ``.html``/``.txt`` so the package data globs ship them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from storage.shares import MIN_N
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def md_escape(text: object) -> str:
    """Outside text made inert in chat markdown: no links, emphasis or HTML; one line."""
    flat = " ".join(str(text or "").split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def safe_url(url: object) -> str:
    """An outside URL fit for ``href`` and markdown links: http(s) only, no breaking characters."""
    text = str(url or "").strip()
    if not text.lower().startswith(("http://", "https://")):
        return ""
    return quote(text, safe=":/?#@!$&'*+,;=%-._~")


def shorten(text: object, width: int = 140) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def pct(value: object, digits: int = 0) -> str:
    """0.123 → ``12%``; None → ``–``."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def signed(value: object, digits: int = 2, percent: bool = False) -> str:
    """A change with its sign (``+0.12``, ``-3.0%``); None → ``–``."""
    if value is None:
        return "–"
    v = float(value) * (100 if percent else 1)
    return f"{v:+.{digits}f}{'%' if percent else ''}"


def share(value: object, side: str = "positive") -> str:
    """A corrected share with its interval (``72% (65%–79%)``) or ``样本不足 (n=3)``; None → ``–``."""
    if value is None:
        return "–"
    return getattr(value, side).display()


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared template environment (cached; holds no per-message state)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(url=safe_url, md=md_escape, shorten=shorten, pct=pct, signed=signed, share=share)
    env.globals["share_min_n"] = MIN_N  # below it a share is 样本不足 (storage.shares)
    return env


def render(name: str, **context: object) -> str:
    """Render template ``name`` (``.html`` escapes every value; ``.txt``/``.md`` do not)."""
    return environment().get_template(name).render(**context)
