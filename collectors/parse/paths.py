"""Field paths into decoded JSON: ``data.items``, ``user.name``, ``images[0].url``,
``authors[].name`` (every element). Missing keys give None, never an exception."""

from __future__ import annotations

import re
from typing import Any

_TOKEN_RE = re.compile(r"([^.\[\]]+)|\[(\d*)\]")


def parse_path(path: str) -> list[str | int | None]:
    """Tokens of a path: str keys, int indexes, None for ``[]`` (all elements)."""
    if path in ("", "."):
        return []
    tokens: list[str | int | None] = []
    for key, index in _TOKEN_RE.findall(path):
        if key:
            tokens.append(key)
        else:
            tokens.append(int(index) if index else None)
    return tokens


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` in ``data``; a list when the path has ``[]``."""
    return _walk(data, parse_path(path))


def _walk(data: Any, tokens: list[str | int | None]) -> Any:
    for pos, token in enumerate(tokens):
        if data is None:
            return None
        if token is None:
            if not isinstance(data, list):
                return None
            rest = tokens[pos + 1:]
            values = [_walk(el, rest) for el in data]
            return [v for v in values if v is not None]
        if isinstance(token, int):
            data = data[token] if isinstance(data, list) and -len(data) <= token < len(data) else None
        elif isinstance(data, dict):
            data = data.get(token)
        else:
            return None
    return data
