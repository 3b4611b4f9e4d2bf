"""Touchpoint (顾客触点) sentiment: which aspect each clause talks about. Pure logic.

A review is split into clauses at punctuation and at contrast words (但是, 不过 …), so
"奶茶很好喝但是店员态度太差" gives two clauses. Each clause is assigned to every
touchpoint whose curated terms it contains; the clause is then scored by the sentiment
model (the caller passes the scores in), and a mention gets one
:class:`TouchpointHit` per touchpoint: the most polarised clause is kept as evidence.

Keys are stored in English: product, service, environment, price, delivery, digital.
The words are data (``nlp/data/touchpoints.toml`` plus the chain's own, see
:mod:`nlp.vocabulary`); pass the run's :class:`~nlp.vocabulary.Vocabulary` down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from nlp import vocabulary
from nlp.vocabulary import Vocabulary

TOUCHPOINTS = vocabulary.TOUCHPOINTS

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


def _matchers(extra: Extra | None, vocab: Vocabulary | None) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The compiled per-touchpoint alternations of ``vocab`` (shipped when None) plus ``extra``."""
    vocab = vocab or vocabulary.shipped()
    if extra:
        vocab = vocab.extended({"touchpoints": {tp: list(terms) for tp, terms in extra.items()}})
    return vocab.touchpoint_matchers


def clause_touchpoints(clause: str, extra: Extra | None = None, vocab: Vocabulary | None = None) -> list[str]:
    """The touchpoints whose terms occur in ``clause`` (``extra`` adds terms, e.g. product names)."""
    low = clause.lower()
    return [tp for tp, rx in _matchers(extra, vocab) if rx.search(low)]


def assign(text: str, extra: Extra | None = None, vocab: Vocabulary | None = None) -> list[tuple[Clause, list[str]]]:
    """Every clause of ``text`` that talks about at least one touchpoint, with those touchpoints."""
    return _assign(text, _matchers(extra, vocab))


def assigner(extra: Extra | None = None, vocab: Vocabulary | None = None
             ) -> Callable[[str], list[tuple[Clause, list[str]]]]:
    """:func:`assign` with ``extra`` resolved once, for scoring many texts against one catalog."""
    matchers = _matchers(extra, vocab)
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
