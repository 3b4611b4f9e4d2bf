"""Touchpoint (顾客触点) sentiment: which aspect each clause talks about. Pure logic.

A review is split into clauses at punctuation and at contrast words (但是, 不过 …), so
"奶茶很好喝但是店员态度太差" gives two clauses. Each clause is assigned to every
touchpoint whose curated terms it contains; the clause is then scored by the sentiment
model (the caller passes the scores in), and a mention gets one
:class:`TouchpointHit` per touchpoint: the most polarised clause is kept as evidence.

Keys are stored in English: product, service, environment, price, delivery, digital.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Sequence

#: touchpoint key -> the words that put a clause in it (curated from PRODUCT.md).
LEXICON: Mapping[str, tuple[str, ...]] = {
    "product": (
        "口味", "味道", "口感", "好喝", "难喝", "好吃", "难吃", "质量", "新鲜", "不新鲜", "分量", "份量",
        "量少", "量足", "温度", "太甜", "太淡", "太咸", "太油", "新品", "异物", "出品", "食材", "奶茶",
        "咖啡", "饮品", "饮料", "果茶", "奶盖", "珍珠", "小料", "甜度", "冰块", "菜品", "饭菜", "米饭",
        "肉", "汤", "面条", "拉面", "粉丝", "蛋糕", "面包", "凉了", "冷了", "馊", "变质", "过期", "头发", "虫",
        # single 面 / 饭 / 茶 are left out on purpose: 里面, 方面, 吃饭, 喜茶 are not about the product
    ),
    "service": (
        "态度", "服务", "店员", "服务员", "员工", "店长", "收银", "热情", "冷漠", "专业", "不耐烦",
        "速度", "出餐", "上菜", "出杯", "做得慢", "慢死", "排队", "等了", "等位", "叫号", "微笑", "礼貌",
        "客服", "退款", "道歉",
    ),
    "environment": (
        "环境", "卫生", "干净", "脏", "装修", "座位", "位置", "噪音", "吵", "停车", "氛围", "空调",
        "厕所", "洗手间", "桌子", "店面", "地面", "苍蝇", "蟑螂", "拥挤", "宽敞",
    ),
    "price": (
        "价格", "价钱", "贵", "便宜", "性价比", "实惠", "划算", "优惠", "优惠券", "券", "活动", "折扣",
        "满减", "块钱", "元", "涨价", "收费",
    ),
    "delivery": (
        "外卖", "配送", "送达", "送餐", "送到", "送来", "送过来", "骑手", "小哥", "快递", "准时", "超时",
        "迟到", "洒", "漏", "撒了", "包装", "打包", "餐盒", "送货",
    ),
    "digital": (
        "小程序", "app", "会员", "积分", "点单", "下单", "支付", "扫码", "付款", "公众号", "系统",
        "闪退", "卡顿", "网页", "优惠码", "线上",
    ),
}
TOUCHPOINTS = tuple(LEXICON)

_CLAUSE_PUNCT = re.compile(r"[,.!?;:~，。！？；：、…\n\r]+")
_CONTRAST = re.compile(r"(但是|但|不过|可是|然而|只是|就是有点|而且|并且|另外|还有)")


@dataclass(frozen=True)
class Clause:
    """A clause of the text and where it is."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TouchpointHit:
    """One touchpoint of a mention, stored as a ``MentionTouchpoint`` row."""

    touchpoint: str
    polarity: str
    score: float
    evidence: str
    start: int
    end: int


def split_clauses(text: str) -> list[Clause]:
    """Clauses at punctuation and before contrast words; empty pieces dropped."""
    cuts = {0, len(text)}
    for m in _CLAUSE_PUNCT.finditer(text):
        cuts.update((m.start(), m.end()))
    for m in _CONTRAST.finditer(text):
        cuts.add(m.start())
    points = sorted(cuts)
    out = []
    for a, b in zip(points, points[1:]):
        piece = text[a:b]
        stripped = _CLAUSE_PUNCT.sub("", piece).strip()
        if not stripped:
            continue
        lead = piece.find(stripped[0])
        start = a + max(lead, 0)
        out.append(Clause(stripped, start, start + len(stripped)))
    return out


Extra = Mapping[str, Iterable[str]]


def _freeze(extra: Extra | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not extra:
        return ()
    return tuple(sorted((tp, tuple(sorted({t.lower() for t in terms if t}))) for tp, terms in extra.items()))


@lru_cache(maxsize=16)
def _matchers(frozen: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One compiled alternation per touchpoint (longest terms first), built once per term set."""
    more = dict(frozen)
    out = []
    for tp, terms in LEXICON.items():
        words = sorted({t.lower() for t in (*terms, *more.get(tp, ()))}, key=len, reverse=True)
        out.append((tp, re.compile("|".join(map(re.escape, words)))))
    return tuple(out)


def clause_touchpoints(clause: str, extra: Extra | None = None) -> list[str]:
    """The touchpoints whose terms occur in ``clause`` (``extra`` adds terms, e.g. product names)."""
    low = clause.lower()
    return [tp for tp, rx in _matchers(_freeze(extra)) if rx.search(low)]


def assign(text: str, extra: Extra | None = None) -> list[tuple[Clause, list[str]]]:
    """Every clause of ``text`` that talks about at least one touchpoint, with those touchpoints."""
    return _assign(text, _matchers(_freeze(extra)))


def assigner(extra: Extra | None = None) -> Callable[[str], list[tuple[Clause, list[str]]]]:
    """:func:`assign` with ``extra`` resolved once, for scoring many texts against one catalog."""
    matchers = _matchers(_freeze(extra))
    return lambda text: _assign(text, matchers)


def _assign(text: str, matchers: tuple[tuple[str, re.Pattern[str]], ...]) -> list[tuple[Clause, list[str]]]:
    out = []
    for clause in split_clauses(text):
        low = clause.text.lower()
        tps = [tp for tp, rx in matchers if rx.search(low)]
        if tps:
            out.append((clause, tps))
    return out


def touchpoints(
    assigned: Sequence[tuple[Clause, list[str]]],
    scores: Sequence[float],
    label: Callable[[float], str],
) -> list[TouchpointHit]:
    """One hit per touchpoint from clause assignments and their scores.

    ``scores[i]`` is the model's probability of positive for ``assigned[i]``'s clause;
    where a touchpoint has several clauses the most polarised one is kept.
    """
    best: dict[str, TouchpointHit] = {}
    for (clause, tps), p in zip(assigned, scores):
        for tp in tps:
            hit = TouchpointHit(tp, label(p), float(p), clause.text, clause.start, clause.end)
            if tp not in best or abs(p - 0.5) > abs(best[tp].score - 0.5):
                best[tp] = hit
    return [best[tp] for tp in TOUCHPOINTS if tp in best]
