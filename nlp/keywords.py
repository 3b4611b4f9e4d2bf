"""Complaint keywords: the words over-represented in a scope's negative mentions.

:func:`log_odds` is the weighted log-odds ratio with an informative Dirichlet prior
(Monroe, Colaresi & Quinn 2008, "Fightin' Words", eq. 22): for word ``w`` with counts
``y_i`` in the target texts and ``y_j`` in the background, totals ``n_i``, ``n_j``, and
prior pseudo-counts ``a_w`` summing to ``a0``::

    δ_w = log((y_i+a_w) / (n_i+a0-y_i-a_w)) − log((y_j+a_w) / (n_j+a0-y_j-a_w))
    z_w = δ_w / sqrt(1/(y_i+a_w) + 1/(y_j+a_w))

Unlike raw frequency it does not rank 奶茶 first in a tea shop's complaints, and unlike
a plain ratio it does not crown words seen once. Counts are per mention (a word counts
once per text), so one long rant cannot dominate.

:func:`complaint_keywords` loads the texts for a scope and period from the database:
the target is the period's negative mentions, the background the scope's own history
(the ``history_days`` before the period).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

from sqlmodel import select

from nlp import segment
from nlp import text as textmod
from nlp import vocabulary
from nlp.errors import UnknownScope

MIN_COUNT = 2
MIN_Z = 0.5  # below it a term is about as common in the background: chance, not a reason
HISTORY_DAYS = 90
SCOPE_TYPES = ("brand", "region", "store", "product", "platform", "store_product", "touchpoint", "store_touchpoint")


def log_odds(target: Mapping[str, int], background: Mapping[str, int],
             prior: Mapping[str, float] | None = None, *, prior_total: float | None = None) -> dict[str, float]:
    """z-scored log-odds of each target word against the background (see the module docstring).

    ``prior`` defaults to target + background counts; ``prior_total`` rescales it to that
    many pseudo-counts in all (default: the prior's own total).
    """
    if prior is None:
        prior = Counter(target) + Counter(background)
    total = sum(prior.values())
    if not total:
        return {}
    scale = (prior_total / total) if prior_total else 1.0
    a0 = total * scale
    n_i, n_j = sum(target.values()), sum(background.values())
    out = {}
    for w, y_i in target.items():
        a_w = prior.get(w, 0.0) * scale
        if a_w <= 0:
            continue
        y_j = background.get(w, 0)
        d = math.log((y_i + a_w) / (n_i + a0 - y_i - a_w)) - math.log((y_j + a_w) / (n_j + a0 - y_j - a_w))
        out[w] = d / math.sqrt(1.0 / (y_i + a_w) + 1.0 / (y_j + a_w))
    return out


def top_keywords(target: Mapping[str, int], background: Mapping[str, int], top: int = 10,
                 min_count: int = MIN_COUNT) -> list[tuple[str, float]]:
    """The ``top`` words with the highest positive z-score seen at least ``min_count`` times."""
    scores = log_odds(target, background)
    ranked = sorted(((w, z) for w, z in scores.items() if z > 0 and target[w] >= min_count),
                    key=lambda wz: (-wz[1], wz[0]))
    return [(w, round(z, 3)) for w, z in ranked[:top]]


def document_counts(texts: Iterable[str], names: Iterable[str] = (), stop: frozenset[str] | None = None
                    ) -> Counter[str]:
    """How many texts each complaint term appears in (see :func:`terms`)."""
    names = list(names)
    tok = segment.tokenizer(names)
    fragments = name_fragments(names)
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(terms(textmod.clean(t), tok, names, stop, fragments))
    return counts


# single characters that are complaints on their own, shown with the degree word before
# them (太腻, 很慢); any other single character is segmentation debris, never a term
ONE_CHAR_COMPLAINTS = frozenset("贵慢咸甜苦酸凉冷烫脏臭少差淡腥硬腻")
_DEGREE = ("有点", "太", "很", "超", "巨", "好", "真", "特")
_NEGATION = "不没"
_CLAUSE = re.compile(r"[，,。.！!？?；;：:、~～…\s]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]+")


@lru_cache(maxsize=8)
def _names_pattern(names: frozenset[str]) -> re.Pattern[str]:
    """One alternation of a catalog's names, longest first (compiled once per catalog)."""
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) or r"(?!)")


def name_fragments(names: Iterable[str]) -> frozenset[str]:
    """The pieces of two characters or more that jieba's default dictionary cuts the
    catalog's names into (榴莲冰沙 → 榴莲, 冰沙; 青禾茶事 杭州西湖银泰店 → 青禾, 茶事, 杭州 …):
    a complaint term containing one (榴莲果) is about the product, not what went wrong."""
    base = segment.tokenizer(())
    out: set[str] = set()
    for name in names:
        out.update(w for w in base.lcut(name.lower(), HMM=True) if len(w.strip()) >= 2)
    return frozenset(out)


def _is_name(term: str, names: Iterable[str], fragments: frozenset[str] = frozenset()) -> bool:
    """Whether ``term`` is (part of) a catalog name or alias, or contains one or one of its fragments."""
    return any(term in n or n in term for n in names) or any(f in term for f in fragments)


def terms(text: str, tok: Any, names: Iterable[str] = (), stop: frozenset[str] | None = None,
          fragments: frozenset[str] | None = None) -> set[str]:
    """The complaint-term candidates of one cleaned text.

    Every dictionary word of two or more characters found anywhere in the text (jieba's
    word graph, so a mis-segmentation such as 冰沙全 / 味像 never becomes a term), a
    negated word as one term (不舒服, not 舒服), and a degree word with a one-character
    complaint (太腻, 很慢). Stop words, digits other than 315/12315 and anything that is
    or contains a catalog name (门店, 产品, 品牌 and their aliases) or a fragment of one
    (:func:`name_fragments`; computed here when ``fragments`` is None) are left out.
    ``stop``: the chain's stop words (the shipped ones when None).
    """
    names = [n.lower() for n in names if n]
    stop = segment.stopwords() if stop is None else stop
    fragments = name_fragments(names) if fragments is None else fragments
    out: set[str] = set()
    # names become clause breaks: no word across a name's edge (生椰拿铁料 → 铁料)
    for clause in _CLAUSE.split(_names_pattern(frozenset(names)).sub("，", text.lower())):
        if not clause:
            continue
        dag = tok.get_DAG(clause)
        spans = [(i, j) for i, ends in dag.items() for j in ends if j > i and tok.FREQ.get(clause[i:j + 1])]
        for i, j in spans:
            if any(a <= i and j <= b and (a, b) != (i, j) for a, b in spans):
                continue  # 肚子 inside 拉肚子 / 肚子疼: the longer word says what happened
            word = clause[i:j + 1]
            if i and clause[i - 1] in _NEGATION and word[0] not in _NEGATION:
                word = clause[i - 1] + word
            out.add(word)
        for i, c in enumerate(clause):
            if c in ONE_CHAR_COMPLAINTS:
                degree = next((d for d in _DEGREE if clause[:i].endswith(d)), None)
                if degree or (i and clause[i - 1] in _NEGATION):
                    out.add((degree or clause[i - 1]) + c)
    return {w for w in out
            if w not in stop and not (w.isdigit() and w not in {"315", "12315"})
            and not _is_name(w, names, fragments)}


REDUNDANT = 0.8  # share of a term's mentions already explained by a chosen term that makes it redundant


def _overlap(a: set[int], b: set[int]) -> float:
    """The share of the smaller set's members that are in both."""
    return len(a & b) / min(len(a), len(b))


@dataclass(frozen=True)
class Phrase:
    """A complaint term: how many target mentions use it, its log-odds z and one example."""

    term: str
    mentions: int
    score: float
    example: str  # the clause of one target mention that contains the term
    example_id: Any = None  # that mention's id


def _example_clause(text: str, term: str, width: int = 40) -> str:
    """The clause of ``text`` around ``term``, at most ``width`` characters."""
    parts = [p for p in re.split(r"[。！!？?；;\n]+", text) if term in p.lower()]
    clause = (parts[0] if parts else text).strip()
    if len(clause) <= width:
        return clause
    at = max(0, clause.lower().find(term) - width // 3)
    return ("…" if at else "") + clause[at:at + width] + "…"


def complaint_phrases(target: Sequence[tuple[Any, str]], background: Iterable[str], names: Iterable[str] = (),
                      top: int = 10, min_count: int = MIN_COUNT, stop: frozenset[str] | None = None
                      ) -> list[Phrase]:
    """The terms most over-represented in ``target`` (``(id, text)`` pairs, e.g. the
    period's negative mentions of a store) against ``background`` texts, each with an
    example clause from the first target text that uses it.

    Ranked by the log-odds z (:func:`log_odds`); a term inside an already chosen one
    (肚子 in 拉肚子) or around it is skipped. The ``top`` chosen come back ordered by how
    many target mentions use them, most first. ``names``: the catalog's names and aliases
    (never a term, nor their fragments); ``stop``: the chain's stop words.
    """
    names = [n for n in names if n]
    tok = segment.tokenizer(names)
    fragments = name_fragments(names)
    target_terms = [(mid, text, terms(textmod.clean(text), tok, names, stop, fragments)) for mid, text in target]
    counts: Counter[str] = Counter()
    for _, _, ts in target_terms:
        counts.update(ts)
    back: Counter[str] = Counter()
    for t in background:
        back.update(terms(textmod.clean(t), tok, names, stop, fragments))
    scores = log_odds(counts, back)
    ranked = sorted(((w, z) for w, z in scores.items() if z >= MIN_Z and counts[w] >= min_count),
                    key=lambda wz: (-wz[1], -len(wz[0]), wz[0]))
    used: dict[str, set[int]] = {}
    for i, (_, _, ts) in enumerate(target_terms):
        for w in ts:
            used.setdefault(w, set()).add(i)
    chosen: list[tuple[str, float]] = []
    for w, z in ranked:
        # a term inside or around a chosen one, or used by (nearly) the same mentions as
        # one (店长 and 退款 of the same complaints), explains nothing new
        if not any(w in c or c in w or _overlap(used[w], used[c]) >= REDUNDANT for c, _ in chosen):
            chosen.append((w, z))
            if len(chosen) == top:
                break
    out = []
    for w, z in chosen:
        mid, text = next((m, t) for m, t, ts in target_terms if w in ts)
        # the customer's own words where the term is found in them (it is in the cleaned text)
        shown = text if w in text.lower() else textmod.clean(text)
        out.append(Phrase(w, counts[w], round(z, 3), _example_clause(shown, w), mid))
    return sorted(out, key=lambda p: (-p.mentions, -p.score, p.term))


def _scope_filter(scope_type: str, scope_id: str) -> tuple[list[Any], bool]:
    """(where clauses on MentionAnalysis / MentionTouchpoint, whether the touchpoint join is needed)."""
    from storage.models import MentionAnalysis as A
    from storage.models import MentionTouchpoint as T

    simple = {"brand": A.brand_id, "region": A.region_id, "store": A.store_id, "product": A.product_id,
              "platform": A.platform}
    if scope_type in simple:
        return [simple[scope_type] == scope_id], False
    parts = scope_id.split("|")
    if scope_type == "store_product" and len(parts) == 2:
        return [A.store_id == parts[0], A.product_id == parts[1]], False
    if scope_type == "touchpoint":
        return [T.touchpoint == scope_id], True
    if scope_type == "store_touchpoint" and len(parts) == 2:
        return [A.store_id == parts[0], T.touchpoint == parts[1]], True
    raise UnknownScope(f"unknown scope {scope_type!r} / {scope_id!r}; expected one of {', '.join(SCOPE_TYPES)}")


TARGET_SAMPLE = 1000
BACKGROUND_SAMPLE = 4000


def _texts(session: Any, scope_type: str, scope_id: str, start: datetime, end: datetime) -> list[tuple[int, str]]:
    """The newest :data:`TARGET_SAMPLE` negative mentions of a scope in ``[start, end)`` as (id, text)."""
    from storage.models import Mention
    from storage.models import MentionAnalysis as A
    from storage.models import MentionTouchpoint as T

    where, touch = _scope_filter(scope_type, scope_id)
    q = (select(Mention.id, Mention.text, A.published_at).join(A, A.mention_id == Mention.id)
         .where(A.published_at >= start, A.published_at < end, A.counted.is_(True), *where))
    if touch:
        q = q.join(T, T.mention_id == Mention.id).where(T.polarity == "negative")
    else:
        q = q.where(A.label == "negative")
    q = q.distinct().order_by(A.published_at.desc(), Mention.id.desc()).limit(TARGET_SAMPLE)
    return [(mid, text or "") for mid, text, _ in session.exec(q).all()]


def background_texts(session: Any, start: datetime, end: datetime, exclude: Iterable[int] = (),
                     limit: int = BACKGROUND_SAMPLE) -> list[str]:
    """The newest ``limit`` counted mentions of every scope in ``[start, end)``, but ``exclude``:
    what customers say in general, against which a scope's complaints stand out."""
    from storage.models import Mention
    from storage.models import MentionAnalysis as A

    skip = set(exclude)
    q = (select(Mention.id, Mention.text).join(A, A.mention_id == Mention.id)
         .where(A.published_at >= start, A.published_at < end, A.counted.is_(True))
         .order_by(A.published_at.desc(), Mention.id.desc()).limit(limit + len(skip)))
    return [text or "" for mid, text in session.exec(q).all() if mid not in skip][:limit]


def scope_complaint_phrases(db: Any, scope_type: str, scope_id: str, start: datetime, end: datetime,
                            top: int = 10, *, history_days: int = HISTORY_DAYS) -> list[Phrase]:
    """The complaint phrases of a catalog scope's negative mentions of ``[start, end)``
    against everything customers said in the ``history_days`` before ``end``
    (:func:`complaint_phrases`), each with an example.

    ``db`` is a ``storage.Database``. For touchpoint scopes a mention is negative when that
    touchpoint's clause is.
    """
    from nlp.pipeline import load_catalog

    with db.session() as session:
        names = load_catalog(session).names()
        stop = vocabulary.from_session(session).stopwords
        target = _texts(session, scope_type, scope_id, start, end)
        if not target:
            return []
        background = background_texts(session, start - timedelta(days=history_days), end,
                                      exclude=[mid for mid, _ in target])
    return complaint_phrases(target, background, names, top=top, stop=stop)


def complaint_keywords(db: Any, scope_type: str, scope_id: str, start: datetime, end: datetime, top: int = 10,
                       *, history_days: int = HISTORY_DAYS) -> list[tuple[str, float]]:
    """:func:`scope_complaint_phrases` as (term, z) pairs, most used first."""
    return [(p.term, p.score) for p in scope_complaint_phrases(db, scope_type, scope_id, start, end, top,
                                                               history_days=history_days)]
