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
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from sqlmodel import select

from nlp import segment
from nlp import text as textmod
from nlp.errors import UnknownScope

MIN_COUNT = 2
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


def document_counts(texts: Iterable[str], names: Iterable[str] = ()) -> Counter[str]:
    """How many texts each content word appears in (catalog names kept whole and left out)."""
    names = list(names)
    skip = {n.lower() for n in names}
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update({w for w in segment.content_words(textmod.clean(t), names) if w not in skip})
    return counts


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


def _texts(session: Any, scope_type: str, scope_id: str, start: datetime, end: datetime,
           negative_only: bool) -> list[str]:
    from storage.models import Mention
    from storage.models import MentionAnalysis as A
    from storage.models import MentionTouchpoint as T

    where, touch = _scope_filter(scope_type, scope_id)
    q = (select(Mention.id, Mention.text).join(A, A.mention_id == Mention.id)
         .where(A.published_at >= start, A.published_at < end, A.counted.is_(True), *where))
    if touch:
        q = q.join(T, T.mention_id == Mention.id)
        if negative_only:
            q = q.where(T.polarity == "negative")
    elif negative_only:
        q = q.where(A.label == "negative")
    return [text for _, text in dict(session.exec(q.distinct()).all()).items()]


def complaint_keywords(db: Any, scope_type: str, scope_id: str, start: datetime, end: datetime, top: int = 10,
                       *, history_days: int = HISTORY_DAYS) -> list[tuple[str, float]]:
    """The words most over-represented in the scope's negative mentions of ``[start, end)``
    against the scope's own mentions of the ``history_days`` before ``start``; (word, z) pairs.

    ``db`` is a ``storage.Database``. For touchpoint scopes a mention is negative when that
    touchpoint's clause is.
    """
    from nlp.pipeline import load_catalog

    with db.session() as session:
        names = load_catalog(session).names()
        target = _texts(session, scope_type, scope_id, start, end, negative_only=True)
        history = _texts(session, scope_type, scope_id, start - timedelta(days=history_days), start,
                         negative_only=False)
    if not target:
        return []
    return top_keywords(document_counts(target, names), document_counts(history, names), top=top)
