"""Collector health (the Sources page)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import case, func

from dashboard.queries.base import _frame
from dashboard.scope import Scope
from storage import Database
from storage.models import CollectorRun, Source
from storage.source_names import default_source_name

SOURCE_COLUMNS = ["id", "name", "type", "platform", "enabled", "health", "store_id", "last_run_at", "last_success_at",
                  "last_new_item_at", "consecutive_failures", "last_status", "last_errors", "runs", "avg_items",
                  "avg_new", "failed_runs", "stale_hours"]


def source_health(db: Database, scope: Scope, now: datetime | None = None, window_days: int = 7) -> pd.DataFrame:
    """Each visible source's health: last run and status, items per run, errors, staleness."""
    now = now or datetime.now(timezone.utc)
    SR, CR = Source.__table__, CollectorRun.__table__
    stmt = sa.select(SR.c.id, SR.c.name, SR.c.type, SR.c.platform, SR.c.enabled, SR.c.health, SR.c.store_id, SR.c.last_run_at,
                     SR.c.last_success_at, SR.c.last_new_item_at, SR.c.consecutive_failures).order_by(SR.c.id)
    sources = _frame(db, stmt)
    if scope.access.restricted and not sources.empty:
        sources = sources[sources["store_id"].map(scope.access.allows_store)]
    if sources.empty:
        return pd.DataFrame(columns=SOURCE_COLUMNS)
    sources["name"] = [n if isinstance(n, str) and n else default_source_name(t, p or "") for n, t, p in
                       zip(sources["name"], sources["type"], sources["platform"])]  # synced before names existed
    since = now - timedelta(days=window_days)
    ids = list(sources["id"])
    failed = func.sum(case((CR.c.status.in_(("failed", "blocked")), 1), else_=0))
    extra = _frame(db, sa.select(CR.c.source_id.label("id"), func.count().label("runs"),
                                 func.avg(CR.c.items_seen).label("avg_items"), func.avg(CR.c.items_new).label("avg_new"),
                                 failed.label("failed_runs"))
                   .where(CR.c.started_at >= since, CR.c.source_id.in_(ids)).group_by(CR.c.source_id))
    newest = (sa.select(CR.c.id).where(CR.c.source_id == SR.c.id).order_by(CR.c.started_at.desc()).limit(1)
              .correlate(SR).scalar_subquery())
    last = _frame(db, sa.select(SR.c.id, CR.c.status.label("last_status"), CR.c.errors.label("last_errors"))
                  .select_from(SR.join(CR, CR.c.id == newest)).where(SR.c.id.in_(ids)))
    if not last.empty:
        last["last_errors"] = last["last_errors"].map(lambda e: "; ".join(map(str, e or []))[:300])
    if extra.empty:
        extra = pd.DataFrame(columns=["id", "runs", "avg_items", "avg_new", "failed_runs"])
    if last.empty:
        last = pd.DataFrame(columns=["id", "last_status", "last_errors"])
    sources = sources.merge(last, on="id", how="left")
    df = sources.merge(extra, on="id", how="left")
    df["stale_hours"] = [(now - t).total_seconds() / 3600 if isinstance(t, datetime) else None
                         for t in df["last_new_item_at"]]
    return df[SOURCE_COLUMNS].reset_index(drop=True)


def recent_runs(db: Database, scope: Scope, source_id: str, limit: int = 30) -> pd.DataFrame:
    """A source's latest collector runs (empty when the viewer may not see the source)."""
    health = source_health(db, scope)
    if source_id not in set(health["id"]):
        return pd.DataFrame(columns=["started_at", "finished_at", "status", "http_status", "items_seen", "items_new",
                                     "items_duplicate", "errors"])
    CR = CollectorRun.__table__
    stmt = sa.select(CR.c.started_at, CR.c.finished_at, CR.c.status, CR.c.http_status, CR.c.items_seen,
                     CR.c.items_new, CR.c.items_duplicate, CR.c.errors).where(CR.c.source_id == source_id).order_by(
        CR.c.started_at.desc()).limit(limit)
    return _frame(db, stmt)


# --------------------------------------------------------------------------- filter options
