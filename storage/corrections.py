"""Label corrections: record who fixed what, and make the fix count everywhere at once.

A correction is written through: a sentiment correction sets ``mention_analysis.label``,
a touchpoint correction sets the polarity of the mention's ``mention_touchpoints`` rows
for that touchpoint (adds one when the model missed it, deletes them for ``none``), and
the mention's day is marked dirty so the rollups — and with them every aggregate,
alert and digest — follow on the next rollup run. The model's own ``score`` and
``model``/``model_version`` stay as scored. The scoring stage calls
:func:`reapply_corrections` after writing new analyses, so a rescore keeps them.

Imports nothing of tingfeng's outside ``storage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.db import Database
from storage.dirty_days import mark_dirty, utc_day
from storage.errors import StorageError
from storage.models import Correction, MentionAnalysis, MentionTouchpoint, utcnow

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


def _current(session: Session, target: Target, analysis: MentionAnalysis) -> str:
    if target.kind == SENTIMENT:
        return analysis.label
    rows = session.exec(select(MentionTouchpoint.polarity).where(
        MentionTouchpoint.mention_id == target.mention_id, MentionTouchpoint.touchpoint == target.touchpoint)).all()
    if not rows:
        return NOT_ABOUT
    negative = [p for p in rows if p == "negative"]  # a touchpoint found in several clauses: the worst shown
    return negative[0] if negative else rows[0]


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
        _apply(session, analysis, target, new_label)
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
