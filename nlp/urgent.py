"""Urgent terms: food-safety and escalation words that need attention at once. Pure logic.

The terms come from PRODUCT.md (食物中毒, 拉肚子, 异物, 头发, 虫, 过期, 变质, 投诉, 曝光,
315, 12315, 维权, 报警) plus close variants. A term is not urgent when a negation
(没有, 没, 无, 不是 …) stands shortly before it in the same clause: "没有异物" is fine,
"没想到有头发" is not (没想到 is not a negation).
"""

from __future__ import annotations

import re
from typing import Iterable

URGENT_TERMS: tuple[str, ...] = (
    "食物中毒", "中毒", "拉肚子", "腹泻", "呕吐", "吐了", "吃坏", "进医院", "异物", "头发", "虫", "苍蝇",
    "蟑螂", "过期", "变质", "发霉", "馊了", "投诉", "曝光", "315", "12315", "维权", "报警", "举报",
)
#: words that contain an urgent term but are harmless
FALSE_FRIENDS: tuple[str, ...] = ("冬虫夏草", "虫草", "毛毛虫", "网虫", "懒虫", "中毒了一样", "好吃到中毒", "上瘾中毒")
NEGATIONS: tuple[str, ...] = ("没有", "没", "无", "不是", "并没有", "未", "不会", "不存在", "零")
NOT_NEGATIONS: tuple[str, ...] = ("没想到", "没想", "无语", "无奈", "没法", "没办法", "不是第一次")
WINDOW = 4  # characters before a term searched for a negation

_CLAUSE = re.compile(r"[,.!?;，。！？；\n]|但是|不过|可是")


def _is_number_part(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return before.isdigit() or after.isdigit()


def _negated(text: str, start: int) -> bool:
    clause_start = 0
    for m in _CLAUSE.finditer(text, 0, start):
        clause_start = m.end()
    window = text[max(clause_start, start - WINDOW):start]
    for bad in NOT_NEGATIONS:
        window = window.replace(bad, "#" * len(bad))
    return any(neg in window for neg in NEGATIONS)


def urgent_terms(text: str, terms: Iterable[str] = URGENT_TERMS) -> list[str]:
    """The urgent terms found un-negated in ``text``, in order of first appearance."""
    masked = text
    for friend in FALSE_FRIENDS:
        masked = masked.replace(friend, "#" * len(friend))
    hits: list[tuple[int, str]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        start = masked.find(term)
        while start >= 0:
            end = start + len(term)
            covered = any(s <= start and end <= s + len(t) for s, t in hits)
            numeric = term.isdigit() and _is_number_part(masked, start, end)
            if not covered and not numeric and not _negated(masked, start):
                hits.append((start, term))
                break
            start = masked.find(term, start + 1)
    return [t for _, t in sorted(hits)]


def is_urgent(text: str) -> bool:
    """True when ``text`` has at least one un-negated urgent term."""
    return bool(urgent_terms(text))
