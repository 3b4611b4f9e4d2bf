"""Decoding untrusted bytes: charset from the Content-Type header, a BOM, an HTML
``<meta>`` or XML declaration, then sniffing. GB2312/GBK are read as GB18030 and Big5
as Big5-HKSCS (their supersets) so every character a Chinese page uses comes out."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
              "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs", "iso-8859-1": "cp1252",
              "latin-1": "cp1252", "ascii": "utf-8", "us-ascii": "utf-8"}
_HEADER_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:\-]+)", re.IGNORECASE)
_META_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:\-]+)", re.IGNORECASE)
_XML_RE = re.compile(rb"<\?xml[^>]+encoding\s*=\s*[\"']([\w.:\-]+)[\"']", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def normalise_charset(name: str | None) -> str | None:
    """A Python codec name for a declared charset (its superset), or None if unknown."""
    if not name:
        return None
    name = name.strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def detect_charset(content: bytes, content_type: str | None = None) -> str:
    """The codec to decode ``content`` with."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return codec
    declared = None
    if content_type:
        match = _HEADER_RE.search(content_type)
        declared = normalise_charset(match.group(1)) if match else None
    if declared is None:
        head = content[:4096]
        match = _XML_RE.search(head) or _META_RE.search(head)
        declared = normalise_charset(match.group(1).decode("ascii", "replace")) if match else None
    if declared and _decodes(content, declared):
        return declared
    try:
        content.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(content[:200_000]).best()
    sniffed = normalise_charset(best.encoding) if best else None
    return sniffed or declared or "utf-8"


def decode(content: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, codec): ``content`` decoded with :func:`detect_charset`, bad bytes replaced."""
    codec = detect_charset(content, content_type)
    return content.decode(codec, errors="replace"), codec


def _decodes(content: bytes, codec: str) -> bool:
    try:
        content[:200_000].decode(codec)
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the sample edge is fine
        return exc.start >= min(len(content), 200_000) - 4
    return True
