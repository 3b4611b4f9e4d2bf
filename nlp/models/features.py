"""Features of the n-gram model, shared by training (``nlp.train``) and inference.

A text is normalised (lower case, full → half width, traditional → simplified by a
character table from OpenCC's dictionary, digits folded to ``0``) and turned into the
*set* of its character n-grams (1 to :data:`MAX_N`). Negation is made visible: inside
a clause, characters after a negator (不, 没, 别, 无, 未, 非 …) also yield n-grams
prefixed with ``!``, so "不好吃" carries ``!好吃`` as well as ``好吃``. Weibo emoticon
tokens such as ``[哈哈]`` become one feature each.

Pure Python on purpose: no jieba (too slow for the speed target), no numpy per text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nlp.text import traditional_chars

MAX_N = 3
NEGATORS = frozenset("不没别无未非莫勿")
CLAUSE_END = frozenset(",.!?;:~，。！？；：、…\n ")
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
_DIGITS = str.maketrans("0123456789", "0000000000")


@lru_cache(maxsize=1)
def _table() -> dict[int, int]:
    """Full-width → half-width, traditional → simplified (single characters), digits → 0."""
    table = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
    table[0x3000] = 0x20
    table.update(_DIGITS)
    table.update(traditional_chars())
    return table


def normalise(text: str) -> str:
    """Lower case, half width, simplified characters, digits folded to 0."""
    return text.lower().translate(_table())


def negation_mask(text: str) -> str:
    """``text`` with every character outside a negation scope replaced by a space.

    The scope starts after a negator and runs to the end of its clause.
    """
    out, on = [], False
    for ch in text:
        if ch in CLAUSE_END:
            on = False
            out.append(" ")
        elif ch in NEGATORS:
            on = True
            out.append(" ")
        else:
            out.append(ch if on else " ")
    return "".join(out)


def _grams(text: str, prefix: str, into: set[str]) -> None:
    n = len(text)
    for size in range(1, MAX_N + 1):
        for i in range(n - size + 1):
            g = text[i:i + size]
            if " " not in g:
                into.add(prefix + g if prefix else g)


def features(text: str, negation: bool = True) -> set[str]:
    """The feature strings of one text (see the module docstring)."""
    t = normalise(text)
    feats: set[str] = set(_EMOTICON.findall(t))
    _grams(t, "", feats)
    if negation and any(c in NEGATORS for c in t):
        _grams(negation_mask(t), "!", feats)
    return feats
