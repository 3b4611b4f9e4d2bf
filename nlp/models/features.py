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
from itertools import repeat
from operator import add

from nlp.text import traditional_chars

MAX_N = 3  # n-grams of 1 to 3 characters (the code below handles up to 3)
NEGATORS = frozenset("不没别无未非莫勿")
CLAUSE_END = frozenset(",.!?;:~，。！？；：、…\n ")
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
_NEGATOR = re.compile("[" + "".join(sorted(NEGATORS)) + "]")
_NEGATOR_SPLIT = _NEGATOR
_NEG_SCOPE = re.compile("[" + "".join(sorted(NEGATORS)) + "]([^" + re.escape("".join(sorted(CLAUSE_END))) + "]*)")
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


def negation_scopes(text: str) -> list[str]:
    """The pieces of ``text`` inside a negation scope (after a negator, to the end of its clause).

    Negators themselves and clause punctuation are not part of any piece.
    """
    out = []
    for m in _NEG_SCOPE.finditer(text):
        out.extend(p for p in _NEGATOR_SPLIT.split(m.group(1)) if p)
    return out


def _grams(segment: str, into: set[str]) -> None:
    into.update(segment)
    if len(segment) > 1:
        bi = list(map(add, segment, segment[1:]))
        into.update(bi)
        if MAX_N > 2 and len(segment) > 2:
            into.update(map(add, bi, segment[2:]))


def features(text: str, negation: bool = True) -> set[str]:
    """The feature strings of one text (see the module docstring)."""
    t = normalise(text)
    feats: set[str] = set(_EMOTICON.findall(t))
    for segment in t.split(" "):
        if segment:
            _grams(segment, feats)
    if negation and _NEGATOR.search(t):
        negated: set[str] = set()
        for piece in negation_scopes(t):
            _grams(piece, negated)
        feats.update(map(add, repeat("!"), negated))
    return feats
