"""Retention: raw text is kept ``[retention] raw_text_days``, the numbers forever.

:func:`prune_raw_text` blanks what a person wrote and who they are — a mention's text,
title, author and source extras (ids of the author, reply text), its touchpoints'
evidence clauses and the quoted text in alerts' evidence — for mentions published before
the cutoff. What the numbers are made of stays: ``mention_analysis`` (label, score,
urgent, links), touchpoint polarities, rollups, alerts and corrections, so every
dashboard figure and the alert detector see the same counts after a prune. The link to
the public post (``url``) and the content hash (duplicate linking) are kept.

Only scored mentions are pruned (an unscored one would lose its analysis for good); a
pruned mention gets ``pruned_at`` and is never touched again, so a re-run does nothing.
Works in batches so a first prune of years of data does not hold one huge transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage import audit
from storage.db import Database
from storage.models import Alert, Mention, MentionAnalysis, MentionTouchpoint, utcnow

_M, _MA, _TP, _AL = Mention.__table__, MentionAnalysis.__table__, MentionTouchpoint.__table__, Alert.__table__
PRUNED_QUOTE = ""  # a pruned quote keeps id, platform, time and score; its text is gone
PRUNED_NOTE = "（原文已过保留期删除）"


@dataclass(frozen=True)
class PruneResult:
    """What a prune did (or, with ``dry_run``, would do)."""

    cutoff: datetime
    mentions: int  # mentions whose raw text was (would be) removed
    touchpoints: int  # touchpoint evidence clauses blanked
    alerts: int  # alerts whose quoted mentions were blanked
    unscored: int  # old mentions left alone because they have no analysis yet
    dry_run: bool = False


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    """The instant before which mentions lose their raw text."""
    if days < 1:
        raise ValueError(f"raw_text_days must be at least 1 (got {days})")
    return (now or utcnow()) - timedelta(days=days)


def _due(cutoff: datetime) -> list[Any]:
    return [_M.c.published_at < cutoff, _M.c.pruned_at.is_(None)]


def _scored() -> Any:
    return sa.exists().where(_MA.c.mention_id == _M.c.id)


def _scrub_quotes(evidence: dict[str, Any], reason: str, pruned: set[int]) -> tuple[dict[str, Any], str] | None:
    """``evidence`` and ``reason`` without the text of quotes of pruned mentions (None when nothing changes).

    Urgent alerts repeat their latest quote in ``reason``; it is replaced by :data:`PRUNED_NOTE`.
    """
    quotes = evidence.get("quotes")
    if not isinstance(quotes, list):
        return None
    changed = False
    kept = []
    for q in quotes:
        if isinstance(q, dict) and q.get("id") in pruned and q.get("text"):
            reason = reason.replace(f"“{q['text']}”", PRUNED_NOTE)
            q = {**q, "text": PRUNED_QUOTE}
            changed = True
        kept.append(q)
    return ({**evidence, "quotes": kept}, reason) if changed else None


def _quoted_ids(evidence: dict[str, Any] | None) -> set[int]:
    quotes = (evidence or {}).get("quotes")
    return {q["id"] for q in quotes if isinstance(q, dict) and isinstance(q.get("id"), int) and q.get("text")} \
        if isinstance(quotes, list) else set()


def _prune_alerts(conn: Any, cutoff: datetime, write: bool) -> int:
    """Blank the quotes of every pruned mention still quoted in an alert's evidence; the
    number of alerts changed (or, without ``write``, that would change). Looks at all
    pruned mentions, not only this run's, so a prune interrupted half-way is finished; a
    dry run counts those of the mentions due as well."""
    alerts = [(i, e, r) for i, e, r in conn.execute(sa.select(_AL.c.id, _AL.c.evidence, _AL.c.reason)).fetchall()
              if _quoted_ids(e)]
    quoted = set().union(*(_quoted_ids(e) for _, e, _ in alerts)) if alerts else set()
    pruned: set[int] = set()
    for chunk in (sorted(quoted)[i:i + 1000] for i in range(0, len(quoted), 1000)):
        pruned |= set(conn.execute(sa.select(_M.c.id).where(_M.c.id.in_(chunk), sa.or_(
            _M.c.pruned_at.is_not(None), sa.and_(*_due(cutoff), _scored())))).scalars())
    changed = 0
    for alert_id, evidence, reason in alerts:
        new = _scrub_quotes(evidence, reason or "", pruned)
        if new is not None:
            if write:
                conn.execute(_AL.update().where(_AL.c.id == alert_id).values(evidence=new[0], reason=new[1]))
            changed += 1
    return changed


def prune_raw_text(db: Database, days: int, *, dry_run: bool = False, batch_size: int = 1000,
                   actor: str = "retention", now: datetime | None = None) -> PruneResult:
    """Remove the raw text of scored mentions published more than ``days`` days ago (see the module doc).

    Idempotent; ``dry_run`` only counts. A prune that changed anything is written to the audit log.
    """
    now = now or utcnow()
    cutoff = cutoff_for(days, now)
    with db.engine.connect() as conn:
        unscored = int(conn.execute(sa.select(sa.func.count()).select_from(_M).where(
            *_due(cutoff), ~_scored())).scalar() or 0)
        if dry_run:
            due = int(conn.execute(sa.select(sa.func.count()).select_from(_M).where(*_due(cutoff), _scored())).scalar() or 0)
            clauses = int(conn.execute(sa.select(sa.func.count()).select_from(_TP.join(_M, _M.c.id == _TP.c.mention_id))
                                       .where(*_due(cutoff), _TP.c.evidence != "")).scalar() or 0)
            return PruneResult(cutoff, due, clauses, _prune_alerts(conn, cutoff, write=False), unscored, dry_run=True)
    mentions = touchpoints = 0
    while True:
        with db.engine.begin() as conn:
            ids = [int(i) for i in conn.execute(sa.select(_M.c.id).where(*_due(cutoff), _scored())
                                                .order_by(_M.c.id).limit(batch_size)).scalars()]
            if not ids:
                break
            conn.execute(_M.update().where(_M.c.id.in_(ids)).values(
                text="", title=None, author=None, extra={}, pruned_at=now))
            touchpoints += conn.execute(_TP.update().where(_TP.c.mention_id.in_(ids), _TP.c.evidence != "")
                                        .values(evidence="")).rowcount or 0
        mentions += len(ids)
    with db.engine.begin() as conn:
        alerts = _prune_alerts(conn, cutoff, write=True)
    if mentions or alerts:
        with db.session() as session:
            audit.record(session, actor, audit.PRUNE, scope=f"published before {cutoff.isoformat()}",
                         detail={"days": days, "mentions": mentions, "touchpoints": touchpoints, "alerts": alerts},
                         now=now)
    return PruneResult(cutoff, mentions, touchpoints, alerts, unscored)
