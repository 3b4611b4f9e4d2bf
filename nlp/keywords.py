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
the target is the period's negative mentions of the scope, compared with the negative
mentions of the ``history_days`` before the period and with everything said over both
(see :func:`complaint_phrases`). A scope too small for the statistic (an alert's five
negatives) is filled up from the curated lexicon (:func:`lexicon_phrases`: urgent terms,
complaint words, 态度差-style aspect + complaint); :func:`filled_complaint_phrases` is what
every consumer shows.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from sqlmodel import select

from nlp import segment
from nlp import text as textmod
from nlp import urgent as urgentmod
from nlp import vocabulary
from nlp.errors import UnknownScope

MIN_COUNT = 2
MIN_Z = 0.5  # below it a term is about as common in the background: chance, not a reason
# against the earlier complaints a term must stand out beyond chance (about one-sided 92%):
# two mentions in a store's month and none before reach it, 音乐 / 没地方 (as frequent in
# the complaints before) score 0.3–1.0
MIN_Z_COMPLAINTS = 1.4
MIN_BASELINE = 20  # fewer complaints to compare with say nothing about what is usual
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


def document_counts(texts: Iterable[str], names: Iterable[str] = (), stop: frozenset[str] | None = None,
                    words: Iterable[str] | None = None) -> Counter[str]:
    """How many texts each complaint term appears in (see :func:`terms`; ``words``: as in
    :func:`complaint_phrases`)."""
    names = list(names)
    tok = segment.tokenizer(names, vocabulary.shipped().words if words is None else words)
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
# characters that are never the verb of a verb + 不/没 complement (还不承认, 也不新鲜, 就没了)
_NOT_VERB = frozenset("的了是我你他她它这那就都也还又在有和与跟及或被把让给对之而但才再很太挺真好更最超特巨不没却总")
_CLAUSE = re.compile(r"[，,。.！!？?；;：:、~～…\s]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]+")
_NUMERAL = r"[零〇一二两俩三四五六七八九十百千万亿半几多0-9０-９.．]"
_UNIT = r"(?:分钟|小时|钟头|块钱|个|杯|份|块|元|钱|毛|角|分|秒|天|周|月|年|次|口|瓶|斤|克|件|遍|趟|号|岁|位|点|单)"
_QUANTITY = re.compile(rf"(?:好|快|近|约|大约|差不多)?(?:{_NUMERAL}|{_UNIT})+")
KEPT_NUMBERS = frozenset({"315", "12315"})  # the consumer-rights day and hotline: a complaint threat


def is_quantity(term: str) -> bool:
    """Whether ``term`` is only a number, price, amount or duration (二十八, 一个半, 三十块, 2杯,
    四十分钟, 小时): it says how much, never what went wrong. 315 and 12315 are not."""
    return term not in KEPT_NUMBERS and _QUANTITY.fullmatch(term) is not None


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
    negated word as one term (不舒服, not 舒服), a one-character verb with its 不/没
    complement (喝不下去, 退不了: never the fragment 不下去 / 不了) and a degree word with a
    one-character complaint (太腻, 很慢). Stop words, quantities (:func:`is_quantity`:
    二十八, 一个半, 三十块) and anything that is
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
        if clause:
            out.update(_clause_terms(clause, tok))
    return {w for w in out if w not in stop and not is_quantity(w) and w[-1] not in _NEGATION  # 真不: debris
            and not _is_name(w, names, fragments)}


def _clause_terms(clause: str, tok: Any) -> set[str]:
    """The candidate terms of one clause (see :func:`terms`), before any filtering."""
    dag = tok.get_DAG(clause)
    spans = [(i, j) for i, ends in dag.items() for j in ends if j > i and tok.FREQ.get(clause[i:j + 1])]
    word_ends = {j for _, j in spans}
    found: list[tuple[int, int]] = []
    for i, j in spans:
        if i and clause[i - 1] in _NEGATION and clause[i] not in _NEGATION:
            i -= 1  # a negated word is one term: 不舒服, not 舒服
        if clause[i] in _NEGATION and i and _is_verb_before(clause, i, word_ends):
            i -= 1  # a verb with its 不/没 complement is one term: 喝不下去, 退不了, not 不下去 / 不了
        found.append((i, j))
    out = {clause[i:j + 1] for i, j in found
           # 肚子 inside 拉肚子 / 肚子疼, 不下 inside 喝不下去: the longer term says what happened;
           # 天才 across the end of 等了半天(才出杯) is debris of the word graph
           if not any((a <= i and j <= b or a < i <= b < j or i < a <= j < b) and b - a > j - i for a, b in found)}
    for i, c in enumerate(clause):
        if c in ONE_CHAR_COMPLAINTS:
            degree = next((d for d in _DEGREE if clause[:i].endswith(d)), None)
            if degree or (i and clause[i - 1] in _NEGATION):
                out.add((degree or clause[i - 1]) + c)
    return out


def _is_verb_before(clause: str, i: int, word_ends: set[int]) -> bool:
    """Whether the character before ``clause[i]`` (a 不/没) stands alone as a one-character
    verb: Chinese, not a function character and not the end of a longer word (根本没 → no)."""
    c = clause[i - 1]
    return "\u4e00" <= c <= "\u9fff" and c not in _NOT_VERB and (i - 1) not in word_ends


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
    source: str = "statistic"  # "lexicon": filled in by :func:`lexicon_phrases` (score 0, no z)


def _example_clause(text: str, term: str, width: int = 40) -> str:
    """The clause of ``text`` around ``term``, at most ``width`` characters."""
    parts = [p for p in re.split(r"[。！!？?；;\n]+", text) if term in p.lower()]
    clause = (parts[0] if parts else text).strip()
    if len(clause) <= width:
        return clause
    at = max(0, clause.lower().find(term) - width // 3)
    return ("…" if at else "") + clause[at:at + width] + "…"


def complaint_phrases(target: Sequence[tuple[Any, str]], background: Iterable[str], names: Iterable[str] = (),
                      top: int = 10, min_count: int = MIN_COUNT, stop: frozenset[str] | None = None,
                      *, complaints: Iterable[str] | None = None, words: Iterable[str] | None = None
                      ) -> list[Phrase]:
    """The terms most over-represented in ``target`` (``(id, text)`` pairs, e.g. the
    period's negative mentions of a store), each with an example clause from the first
    target text that uses it.

    A term must stand out against ``background`` (what customers say in general: it is a
    complaint, not 奶茶) and, given at least :data:`MIN_BASELINE` ``complaints`` (the
    chain's negative mentions before the period), against those too by
    :data:`MIN_Z_COMPLAINTS`: what customers always complain about (没地方, 音乐 of the
    noisy-shop reviews) is no more frequent now than then and does not rank, what went
    wrong now (头发, 喝不下去) does. With fewer complaints (a new chain) there is nothing to
    compare with but the background.

    Ranked by the log-odds z (:func:`log_odds`) against the complaints when they are
    compared with, else against the background; a term inside an already chosen one (肚子 in 拉肚子) or
    around it is skipped. The ``top`` chosen come back ordered by how many target
    mentions use them, most first. ``names``: the catalog's names and aliases (never a
    term, nor their fragments); ``stop``: the chain's stop words; ``words``: the chain's
    lexicon (:attr:`~nlp.vocabulary.Vocabulary.words`, whole terms where jieba's dictionary
    would cut them: 小程序, 没地方坐); the shipped ones when None.
    """
    names = [n for n in names if n]
    words = vocabulary.shipped().words if words is None else frozenset(words)
    tok = segment.tokenizer(names, words)
    fragments = name_fragments(names)
    seen: dict[str, set[str]] = {}  # reviews repeat (templates, reposts): segment each text once

    def terms_of(text: str) -> set[str]:
        if text not in seen:
            seen[text] = terms(textmod.clean(text), tok, names, stop, fragments)
        return seen[text]

    target_terms = [(mid, text, terms_of(text)) for mid, text in target]
    counts: Counter[str] = Counter()
    for _, _, ts in target_terms:
        counts.update(ts)
    back: Counter[str] = Counter()
    for t in background:
        back.update(terms_of(t))
    scores = log_odds(counts, back)
    complaints = list(complaints or ())
    if len(complaints) >= MIN_BASELINE:
        against: Counter[str] = Counter()
        for t in complaints:
            against.update(terms_of(t))
        scores = {w: z for w, z in log_odds(counts, against).items()
                  if z >= MIN_Z_COMPLAINTS and scores.get(w, 0.0) >= MIN_Z}
    ranked = sorted(((w, z) for w, z in scores.items() if z >= MIN_Z and counts[w] >= min_count),
                    key=lambda wz: (-wz[1], -len(wz[0]), wz[0] not in words, wz[0]))  # ties: longer, the chain's word
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


FILL_BELOW = 3  # fewer statistical phrases leave a small scope unexplained: the lexicon fills up to this many
LEXICON_MIN_COUNT = 2  # negatives a complaint word needs to fill in (one is an anecdote)
URGENT_MIN_COUNT = 1  # an urgent term needs one: a single 拉肚子 is a reason already
# between an aspect and a one-character complaint: 态度很差 → 态度差, 送餐也太慢 → 送餐慢
_ASPECT_FILL = r"(?:也|都|还|又|实在|真的)?(?:有点|有些|非常|特别|超级|比较|太|很|超|巨|好|真|特|挺|蛮)?"


@lru_cache(maxsize=8)
def _lexicons(vocab: vocabulary.Vocabulary) -> tuple[Any, re.Pattern[str]]:
    """(the complaint words as an urgent-style lexicon, so one negation logic judges both, and
    the pattern of an aspect word followed by a one-character complaint) of ``vocab``."""
    lex = replace(vocab.urgent, terms=tuple(sorted(vocab.complaints)))
    aspects = sorted({w.lower() for _, ws in vocab.touchpoints for w in ws
                      if len(w) >= 2 and w not in vocab.complaints and not set(w) & set(_NEGATION)},
                     key=len, reverse=True)
    chars = "".join(sorted(ONE_CHAR_COMPLAINTS))
    aspect = "|".join(map(re.escape, aspects)) or r"(?!)"
    # 服务差不多 is "about the same", not 服务差
    return lex, re.compile(rf"(?P<a>{aspect}){_ASPECT_FILL}(?P<c>[{chars}])(?!不多)")


def lexicon_terms(text: str, names: Iterable[str] = (), vocab: vocabulary.Vocabulary | None = None
                  ) -> dict[str, tuple[str, bool, str]]:
    """The curated complaint terms of one text: term → (its words in the text, whether urgent,
    its core: the aspect of a composed term, else the term).

    Urgent terms (拉肚子, 头发) and complaint words (难喝, 排队; ``vocab.complaints``) that
    count (:func:`nlp.urgent.matches`: not negated, hedged or a false friend: 没有头发, 不用排队
    are not), and an aspect word of the touchpoint lexicon with a one-character complaint
    after it (态度很差 → 态度差, 送餐太慢 → 送餐慢). Never inside a catalog name.
    """
    vocab = vocab or vocabulary.shipped()
    names = [n.lower() for n in names if n]
    lex, aspect_rx = _lexicons(vocab)
    masked = _names_pattern(frozenset(names)).sub("，", textmod.clean(text).lower())
    composed = {m.group(0): (m.group("a") + m.group("c"), m.group("a")) for m in aspect_rx.finditer(masked)}
    out: dict[str, tuple[str, bool, str]] = {}
    for t in urgentmod.urgent_terms(masked, replace(lex, terms=lex.terms + tuple(composed))):
        term, core = composed.get(t, (t, t))
        out.setdefault(term, (t, False, core))
    for t in urgentmod.urgent_terms(masked, vocab.urgent):
        out[t] = (t, True, t)
    return out


def lexicon_phrases(target: Sequence[tuple[Any, str]], chosen: Iterable[Phrase | str] = (),
                    names: Iterable[str] = (), vocab: vocabulary.Vocabulary | None = None,
                    need: int = FILL_BELOW) -> list[Phrase]:
    """Curated complaint terms filling ``chosen`` (the statistic's phrases) up to ``need``: the
    "why" of a scope too small for :func:`complaint_phrases` to find anything beyond chance.

    A term of :func:`lexicon_terms` in at least :data:`LEXICON_MIN_COUNT` of the ``target``
    (``(id, text)``, the scope's negative mentions), an urgent one in
    :data:`URGENT_MIN_COUNT`; ranked by how many use it (urgent first on ties, then longer),
    each with the clause of the first that does. A term already chosen, inside or around
    one (头发 / 一根头发), one whose aspect a chosen one names (态度差 after 服务态度), a stop
    word or (part of) a catalog name is skipped. Pure; the
    phrases have ``score`` 0 and ``source`` "lexicon".
    """
    vocab = vocab or vocabulary.shipped()
    names = [n for n in names if n]
    taken = [c.term if isinstance(c, Phrase) else c for c in chosen]
    if len(taken) >= need:
        return []
    lowered = [n.lower() for n in names]
    fragments = name_fragments(lowered)
    counts: Counter[str] = Counter()
    first: dict[str, tuple[Any, str, str, bool, str]] = {}
    for mid, text in target:
        for term, (words, is_urgent, core) in lexicon_terms(text, names, vocab).items():
            counts[term] += 1
            first.setdefault(term, (mid, text, words, is_urgent, core))
    ranked = sorted((t for t, n in counts.items()
                     if n >= (URGENT_MIN_COUNT if first[t][3] else LEXICON_MIN_COUNT)
                     and t not in vocab.stopwords and not is_quantity(t) and not _is_name(t, lowered, fragments)),
                    key=lambda t: (-counts[t], not first[t][3], -len(t), t))
    out: list[Phrase] = []
    for t in ranked:
        if len(taken) >= need:
            break
        mid, text, words, _, core = first[t]
        if any(core in c or c in t for c in taken):
            continue
        shown = text if words in text.lower() else textmod.clean(text)
        out.append(Phrase(t, counts[t], 0.0, _example_clause(shown, words), mid, "lexicon"))
        taken.append(t)
    return out


def filled_complaint_phrases(target: Sequence[tuple[Any, str]], background: Iterable[str], names: Iterable[str] = (),
                             top: int = 10, *, complaints: Iterable[str] | None = None,
                             vocab: vocabulary.Vocabulary | None = None) -> list[Phrase]:
    """The complaint phrases every consumer shows (alerts, digest, dashboard): the statistic's
    (:func:`complaint_phrases` with ``vocab``'s stop words and lexicon), then, when it has
    fewer than :data:`FILL_BELOW`, the lexicon's (:func:`lexicon_phrases`) up to that many; most
    used first (the statistic's first on ties)."""
    vocab = vocab or vocabulary.shipped()
    names = [n for n in names if n]
    stat = complaint_phrases(target, background, names, top=top, stop=vocab.stopwords, complaints=complaints,
                             words=vocab.words)
    filled = lexicon_phrases(target, stat, names, vocab, need=min(top, FILL_BELOW))
    return sorted(stat + filled, key=lambda p: -p.mentions) if filled else stat


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


def baseline_texts(session: Any, start: datetime, end: datetime, exclude: Iterable[int] = (),
                   limit: int = BACKGROUND_SAMPLE, *, since: datetime | None = None) -> tuple[list[str], list[str]]:
    """The newest ``limit`` counted mentions of every scope in ``[start, end)``, but
    ``exclude``, and the negative ones among them published before ``since`` (the
    period's start; default ``end``): (what customers say in general, what they used to
    complain about), against which a scope's complaints stand out (:func:`complaint_phrases`'s
    ``background`` and ``complaints``)."""
    from storage.models import Mention
    from storage.models import MentionAnalysis as A

    skip = set(exclude)
    since = end if since is None else since
    q = (select(Mention.id, Mention.text, A.label, A.published_at).join(A, A.mention_id == Mention.id)
         .where(A.published_at >= start, A.published_at < end, A.counted.is_(True))
         .order_by(A.published_at.desc(), Mention.id.desc()).limit(limit + len(skip)))
    rows = [r for r in session.exec(q).all() if r[0] not in skip][:limit]
    return split_baseline([(text, label, at) for _, text, label, at in rows], since)


def split_baseline(rows: Iterable[tuple[str | None, str, datetime]], since: datetime) -> tuple[list[str], list[str]]:
    """(every text, the negative ones published before ``since``) of (text, label, published_at) rows."""
    rows = list(rows)
    since = _naive_utc(since)
    return ([t or "" for t, _, _ in rows],
            [t or "" for t, label, at in rows if label == "negative" and _naive_utc(at) < since])


def _naive_utc(at: datetime) -> datetime:
    """``at`` comparable with what either backend returns (SQLite drops the zone)."""
    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at


def scope_complaint_phrases(db: Any, scope_type: str, scope_id: str, start: datetime, end: datetime,
                            top: int = 10, *, history_days: int = HISTORY_DAYS) -> list[Phrase]:
    """The complaint phrases of a catalog scope's negative mentions of ``[start, end)``
    against the complaints of the ``history_days`` before it and everything customers said
    over both, filled up from the lexicon when they are few (:func:`filled_complaint_phrases`),
    each with an example.

    ``db`` is a ``storage.Database``. For touchpoint scopes a mention is negative when that
    touchpoint's clause is.
    """
    from nlp.pipeline import load_catalog

    with db.session() as session:
        names = load_catalog(session).names()
        vocab = vocabulary.from_session(session)
        target = _texts(session, scope_type, scope_id, start, end)
        if not target:
            return []
        background, complaints = baseline_texts(session, start - timedelta(days=history_days), end,
                                                exclude=[mid for mid, _ in target], since=start)
    return filled_complaint_phrases(target, background, names, top=top, complaints=complaints, vocab=vocab)


def complaint_keywords(db: Any, scope_type: str, scope_id: str, start: datetime, end: datetime, top: int = 10,
                       *, history_days: int = HISTORY_DAYS) -> list[tuple[str, float]]:
    """:func:`scope_complaint_phrases` as (term, z) pairs, most used first."""
    return [(p.term, p.score) for p in scope_complaint_phrases(db, scope_type, scope_id, start, end, top,
                                                               history_days=history_days)]
