"""Urgent terms: food-safety and escalation words that need attention at once. Pure logic.

The lists are data (``nlp/data/urgent.toml`` plus the chain's own, see
:mod:`nlp.vocabulary`); this module only matches them. A term does not count when

- it is part of a harmless phrase (``false_friends``: 冬虫夏草, 过敏体质);
- a negation stands within ``window`` characters before it in the same clause, with no
  break word between ("没有异物"; but "没喝完就吐了" is urgent); a few negations count
  only right before it ("不过敏"); look-alikes are masked first ("没想到有头发",
  "没多久就拉肚子" are urgent);
- a hedge (a worry, wish or condition) stands anywhere before it in the same clause, with
  no ``hedge_breaks`` word between ("担心喝了会拉肚子", "希望不要拉肚子", "如果有头发就投诉";
  but "担心会拉肚子果然拉肚子了" and "担心的事发生了，拉肚子一晚上" are urgent);
- a negation closes its clause right after it ("拉肚子倒是没有");
- its clause has a word showing it is about something else (``unless``: 优惠券过期).

:func:`neutralised` removes the negated spans, so the sentiment model is not misled by
the complaint words of "没有吃出头发，也没有变质，放心".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.vocabulary import UrgentLexicon, shipped

_CLAUSE = re.compile(r"[,.!?;，。！？；\n]|但是|不过|可是")


@dataclass(frozen=True)
class Match:
    """One occurrence of a term; ``negated`` is the span of the negation and the term it
    cancels (None when the term counts, or is cancelled by its context, not a negation)."""

    term: str
    start: int
    end: int
    cancelled: bool
    negated: tuple[int, int] | None = None


def _is_number_part(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return before.isdigit() or after.isdigit()


def _mask(text: str, phrases: tuple[str, ...]) -> str:
    for phrase in sorted(phrases, key=len, reverse=True):
        text = text.replace(phrase, "#" * len(phrase))
    return text


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    clause_start = 0
    for m in _CLAUSE.finditer(text, 0, start):
        clause_start = m.end()
    after = _CLAUSE.search(text, end)
    return clause_start, after.start() if after else len(text)


def _negation_before(text: str, start: int, clause_start: int, lex: UrgentLexicon) -> int | None:
    """Where a negation or hedge reaching the term at ``start`` begins, else None.

    A negation reaches ``window`` characters back, a hedge back to its clause's start:
    "担心杨枝甘露太冰会拉肚子" is a worry however long the product name. ``breaks`` end a
    negation's reach, ``hedge_breaks`` a hedge's (searched in the unmasked text, so a
    masked look-alike such as 没想到 can still end a hedge). ``就`` ends a negation
    (没喝完就吐了) but not a hedge (如果有头发就投诉: nothing has happened yet).
    """
    lo = max(clause_start, start - lex.window)
    best = _cue_before(text, lo, start, lex.negations, lex.breaks, lex)
    for cue in lex.adjacent_negations:
        if _mask(text[lo:start], lex.not_negations).endswith(cue):
            at = start - len(cue)
            best = at if best is None else min(best, at)
    hedge = _cue_before(text, clause_start, start, lex.hedges, lex.hedge_breaks, lex)
    if hedge is not None:
        best = hedge if best is None else min(best, hedge)
    return best


def _cue_before(text: str, lo: int, start: int, cues: tuple[str, ...], breaks: tuple[str, ...],
                lex: UrgentLexicon) -> int | None:
    """The earliest of ``cues`` in ``text[lo:start]`` (look-alikes masked) with none of ``breaks`` after it."""
    window = _mask(text[lo:start], lex.not_negations)
    best = None
    for cue in cues:
        at = window.rfind(cue)
        if at < 0:
            continue
        if any(b in text[lo + at + len(cue):start] for b in breaks):
            continue
        best = at if best is None else min(best, at)
    return None if best is None else lo + best


def matches(text: str, lex: UrgentLexicon | None = None) -> list[Match]:
    """Every term found in ``text`` (first occurrence that counts, else the last that does not), in order."""
    lex = lex or shipped().urgent
    masked = _mask(text, lex.false_friends)
    found: list[Match] = []
    for term in sorted(set(lex.terms), key=len, reverse=True):
        start = masked.find(term)
        cancelled: Match | None = None
        while start >= 0:
            end = start + len(term)
            covered = any(m.start <= start and end <= m.end for m in found)
            numeric = term.isdigit() and _is_number_part(masked, start, end)
            if not covered and not numeric:
                hit = _judge(masked, term, start, end, lex)
                if not hit.cancelled:
                    found.append(hit)
                    cancelled = None
                    break
                cancelled = hit
            start = masked.find(term, start + 1)
        if cancelled is not None:
            found.append(cancelled)
    return sorted(found, key=lambda m: m.start)


def _judge(text: str, term: str, start: int, end: int, lex: UrgentLexicon) -> Match:
    c_start, c_end = _clause_bounds(text, start, end)
    neg = _negation_before(text, start, c_start, lex)
    if neg is not None:
        return Match(term, start, end, True, (neg, end))
    post = lex.post_pattern
    if post is not None and post.match(text[end:c_end].strip()):
        return Match(term, start, end, True, (start, c_end))
    clause = text[c_start:c_end]
    return Match(term, start, end, any(w in clause for w in lex.unless_map.get(term, ())))


def urgent_terms(text: str, lex: UrgentLexicon | None = None) -> list[str]:
    """The urgent terms found un-negated in ``text``, in order of first appearance."""
    return [m.term for m in matches(text, lex) if not m.cancelled]


def is_urgent(text: str, lex: UrgentLexicon | None = None) -> bool:
    """True when ``text`` has at least one un-negated urgent term."""
    return bool(urgent_terms(text, lex))


def scan(text: str, lex: UrgentLexicon | None = None) -> tuple[list[str], str]:
    """(:func:`urgent_terms`, :func:`neutralised`) of ``text`` from one pass over the terms."""
    found = matches(text, lex)
    return [m.term for m in found if not m.cancelled], _without(text, found)


def neutralised(text: str, lex: UrgentLexicon | None = None) -> str:
    """``text`` without its negated or hedged complaint spans (negation through term), for the
    sentiment model: "没有吃出头发，也没有变质，放心" → "，也，放心". Text without such spans
    comes back unchanged."""
    return _without(text, matches(text, lex))


def _without(text: str, found: list[Match]) -> str:
    spans = [m.negated for m in found if m.negated is not None]
    if not spans:
        return text
    out, at = [], 0
    for a, b in sorted(spans):
        if a >= at:
            out.append(text[at:a])
            at = b
        else:
            at = max(at, b)
    out.append(text[at:])
    return "".join(out)
