"""Label corrections: record who fixed what, and make the fix count everywhere at once.

A correction is written through: a sentiment correction sets ``mention_analysis.label``,
a touchpoint correction sets the polarity of the mention's ``mention_touchpoints`` rows
for that touchpoint (adds one when the model missed it, deletes them for ``none``). The
rollup rows that hold the mention (its hour and business day, every scope) are shifted
in the same transaction, so every aggregate, alert and digest counts the correction at
once; the mention's day is also marked dirty, so the next rollup run recomputes it
exactly (and creates rows a shift could not: a touchpoint new to that scope and day). The model's own ``score`` and
``model``/``model_version`` stay as scored. The scoring stage calls
:func:`reapply_corrections` after writing new analyses, so a rescore keeps them.

Imports nothing of tingfeng's outside ``storage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, select

from storage import audit
from storage.db import Database
from storage.dirty_days import mark_dirty, utc_day
from storage.errors import StorageError
from storage.models import Correction, MentionAnalysis, MentionTouchpoint, Rollup, utcnow

SENTIMENT, TOUCHPOINT = "sentiment", "touchpoint"
LABELS = ("positive", "neutral", "negative")
NOT_ABOUT = "none"  # a touchpoint the mention is not about


class CorrectionError(StorageError):
    """A correction that cannot be recorded (unknown mention, bad label, nothing changes)."""


@dataclass(frozen=True)
class Target:
    """What a correction changes: a mention's sentiment, or one of its touchpoints."""

    mention_id: int
    kind: str = SENTIMENT
    touchpoint: str | None = None


def shown_polarity(polarities: Iterable[str]) -> str:
    """The polarity a touchpoint found in several clauses of a mention shows: the most negative."""
    found = list(polarities)
    for p in ("negative", "neutral", "positive"):
        if p in found:
            return p
    return found[0] if found else NOT_ABOUT


def _current(session: Session, target: Target, analysis: MentionAnalysis) -> str:
    if target.kind == SENTIMENT:
        return analysis.label
    rows = session.exec(select(MentionTouchpoint.polarity).where(
        MentionTouchpoint.mention_id == target.mention_id, MentionTouchpoint.touchpoint == target.touchpoint)).all()
    return shown_polarity(rows)


def _check(target: Target, new_label: str) -> None:
    if target.kind == SENTIMENT:
        if new_label not in LABELS:
            raise CorrectionError(f"sentiment label {new_label!r} is not one of {', '.join(LABELS)}")
    elif target.kind == TOUCHPOINT:
        if not target.touchpoint:
            raise CorrectionError("a touchpoint correction must name the touchpoint")
        if new_label not in (*LABELS, NOT_ABOUT):
            raise CorrectionError(f"touchpoint label {new_label!r} is not one of {', '.join((*LABELS, NOT_ABOUT))}")
    else:
        raise CorrectionError(f"unknown correction kind {target.kind!r} (sentiment or touchpoint)")


def record_correction(db: Database, target: Target, new_label: str, by: str,
                      now: datetime | None = None) -> Correction:
    """Store a correction and write it through; raise :class:`CorrectionError` when it cannot be.

    Correcting to the label already shown is refused: it would count as a model error.
    """
    _check(target, new_label)
    if not by.strip():
        raise CorrectionError("a correction must say who made it")
    with db.session() as session:
        analysis = session.get(MentionAnalysis, target.mention_id)
        if analysis is None:
            raise CorrectionError(f"mention #{target.mention_id} has not been scored (or does not exist)")
        old = _current(session, target, analysis)
        if old == new_label:
            raise CorrectionError(f"mention #{target.mention_id} is already labelled {new_label}")
        row = Correction(mention_id=target.mention_id, kind=target.kind, touchpoint=target.touchpoint,
                         old_label=old, new_label=new_label, model=analysis.model,
                         model_version=analysis.model_version, corrected_by=by.strip(), corrected_at=now or utcnow())
        session.add(row)
        audit.record(session, row.corrected_by, audit.CORRECTION, target=f"mention:{target.mention_id}",
                     scope=f"store:{analysis.store_id}" if analysis.store_id else None,
                     detail={"kind": target.kind, "touchpoint": target.touchpoint, "old": old, "new": new_label},
                     now=row.corrected_at)
        before = _counted_rows(session, analysis, target)
        _apply(session, analysis, target, new_label)
        _shift_rollups(session, analysis, target, before, _counted_rows(session, analysis, target))
        mark_dirty(session, [utc_day(analysis.published_at)])
    return row


def _apply(session: Session, analysis: MentionAnalysis, target: Target, new_label: str) -> None:
    if target.kind == SENTIMENT:
        session.execute(sa.update(MentionAnalysis).where(MentionAnalysis.mention_id == target.mention_id)
                        .values(label=new_label))
        return
    where = (MentionTouchpoint.mention_id == target.mention_id, MentionTouchpoint.touchpoint == target.touchpoint)
    if new_label == NOT_ABOUT:
        session.execute(sa.delete(MentionTouchpoint).where(*where))
        return
    changed = session.execute(sa.update(MentionTouchpoint).where(*where).values(polarity=new_label)).rowcount
    if not changed:  # the model missed this touchpoint: the correction adds it
        session.add(MentionTouchpoint(mention_id=target.mention_id, touchpoint=target.touchpoint,
                                      polarity=new_label, score=analysis.score, evidence=""))


def latest_corrections(session: Session, mention_ids: Iterable[int] | None = None) -> list[Correction]:
    """The correction in force for each (mention, kind, touchpoint): the latest one.

    All of them when ``mention_ids`` is None.
    """
    q = select(Correction).order_by(Correction.corrected_at, Correction.id)
    if mention_ids is not None:
        ids = list(mention_ids)
        if not ids:
            return []
        q = q.where(Correction.mention_id.in_(ids))
    latest: dict[tuple, Correction] = {}
    for c in session.exec(q).all():
        latest[(c.mention_id, c.kind, c.touchpoint)] = c
    return list(latest.values())


def reapply_corrections(session: Session, mention_ids: Sequence[int]) -> int:
    """Write the corrections in force for these freshly (re)scored mentions; how many applied."""
    found = latest_corrections(session, mention_ids)
    if not found:
        return 0
    session.flush()
    analyses = {a.mention_id: a for a in session.exec(
        select(MentionAnalysis).where(MentionAnalysis.mention_id.in_({c.mention_id for c in found}))).all()}
    for c in found:
        if c.mention_id in analyses:
            _apply(session, analyses[c.mention_id], Target(c.mention_id, c.kind, c.touchpoint), c.new_label)
    return len(found)


def _counted_rows(session: Session, analysis: MentionAnalysis, target: Target) -> list[tuple[str, float]]:
    """(label, score) of what the rollups count for this target: the mention, or its touchpoint rows."""
    if not analysis.counted:
        return []
    session.flush()
    if target.kind == SENTIMENT:
        label = session.exec(select(MentionAnalysis.label).where(MentionAnalysis.mention_id == analysis.mention_id)).one()
        return [(label, analysis.score)]
    return [(p, sc) for p, sc in session.exec(select(MentionTouchpoint.polarity, MentionTouchpoint.score).where(
        MentionTouchpoint.mention_id == target.mention_id, MentionTouchpoint.touchpoint == target.touchpoint))]


def _scopes(a: MentionAnalysis, target: Target) -> list[tuple[str, str]]:
    """The rollup (scope_type, scope_id) pairs counting this target (as ``alerts.rollups`` builds them)."""
    if target.kind == TOUCHPOINT:
        t = target.touchpoint
        pairs = [("touchpoint", t), ("store_touchpoint", f"{a.store_id}|{t}" if a.store_id else None),
                 ("product_touchpoint", f"{a.product_id}|{t}" if a.product_id else None)]
    else:
        pairs = [("brand", a.brand_id), ("region", a.region_id), ("store", a.store_id), ("product", a.product_id),
                 ("store_product", f"{a.store_id}|{a.product_id}" if a.store_id and a.product_id else None),
                 ("platform", a.platform)]
    return [(k, v) for k, v in pairs if v]


def _shift_rollups(session: Session, a: MentionAnalysis, target: Target, before: list[tuple[str, float]],
                   after: list[tuple[str, float]]) -> None:
    """Move the counts of ``before`` to ``after`` in the existing hour and day rollup rows."""
    delta = Counter(label for label, _ in after)
    delta.subtract(label for label, _ in before)
    values = {f: getattr(Rollup, f) + delta.get(f, 0) for f in LABELS if delta.get(f, 0)}
    if len(after) != len(before):
        values["total"] = Rollup.total + (len(after) - len(before))
    score = sum(sc for _, sc in after) - sum(sc for _, sc in before)
    if score:
        values["score_sum"] = Rollup.score_sum + score
    if not values:
        return
    ts = a.published_at.astimezone(timezone.utc)
    hour = ts.replace(minute=0, second=0, microsecond=0)
    for scope_type, scope_id in _scopes(a, target):
        key = (Rollup.scope_type == scope_type, Rollup.scope_id == scope_id)
        day = session.exec(select(Rollup.bucket).where(
            Rollup.grain == "day", *key, Rollup.bucket <= ts, Rollup.bucket > ts - timedelta(hours=26))
            .order_by(Rollup.bucket.desc()).limit(1)).first()
        for grain, bucket in (("hour", hour), ("day", day)):
            if bucket is not None:
                session.execute(sa.update(Rollup).where(Rollup.grain == grain, Rollup.bucket == bucket, *key)
                                .values(**values))
