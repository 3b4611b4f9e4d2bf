"""Hourly and daily rollups per scope, rebuilt for the days scoring marked dirty.

``update_rollups(db)`` takes every ``RollupDirty`` day, widens it to whole business
days (Asia/Shanghai by default: a dirty UTC date and a dirty local date are both
covered), and in one transaction deletes and re-inserts the ``hour`` and ``day``
``Rollup`` rows of that range for every scope type, then clears the dirty rows. The
counting is done by ``GROUP BY`` in the database; Python only sees one row per
(hour, scope). Re-running it changes nothing; a late or re-scored mention lands in its
own bucket because the whole range is recomputed from ``mention_analysis``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from storage.db import Database
from storage.models import MentionAnalysis, MentionTouchpoint, Rollup, RollupDirty

HOUR = timedelta(hours=1)
_ROLLUP = Rollup.__table__
_MA = MentionAnalysis.__table__
_TP = MentionTouchpoint.__table__
_DIRTY = RollupDirty.__table__


def day_range(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC [start, end) of the business days covering both the UTC and the local ``day``."""
    utc_start = datetime.combine(day, time(), timezone.utc)
    local_start = datetime.combine(day, time(), tz)
    lo = min(utc_start, local_start.astimezone(timezone.utc))
    hi = max(utc_start + timedelta(days=1), (local_start + timedelta(days=1)).astimezone(timezone.utc))
    return local_day_start(lo, tz), local_day_start(hi - timedelta(microseconds=1), tz) + timedelta(days=1)


def local_day_start(instant: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of local midnight starting the business day that contains ``instant``."""
    local = instant.astimezone(tz)
    return datetime.combine(local.date(), time(), tz).astimezone(timezone.utc)


def merge_ranges(ranges: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, non-overlapping union of half-open ranges."""
    out: list[list[datetime]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def _hour_expr(db: Database, column: Any) -> ColumnElement:
    """SQL for the UTC hour bucket of a timestamp, in the column's stored representation.

    SQLite stores ``UtcDateTime`` as text ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC), so the
    bucket is the hour prefix plus zeros; PostgreSQL truncates the timestamptz in UTC.
    """
    if db.dialect == "sqlite":
        return sa.func.substr(column, 1, 13).op("||")(sa.literal_column("':00:00.000000'"))
    return sa.func.timezone("UTC", sa.func.date_trunc("hour", sa.func.timezone("UTC", column)))


def _concat(*parts: ColumnElement) -> ColumnElement:
    expr = parts[0]
    for part in parts[1:]:
        expr = expr.op("||")(sa.literal("|")).op("||")(part)
    return expr


def _mention_scopes() -> dict[str, tuple[ColumnElement, list[ColumnElement]]]:
    """scope type -> (scope id expression, columns that must be non-null)."""
    c = _MA.c
    return {
        "brand": (c.brand_id, [c.brand_id]),
        "region": (c.region_id, [c.region_id]),
        "store": (c.store_id, [c.store_id]),
        "product": (c.product_id, [c.product_id]),
        "store_product": (_concat(c.store_id, c.product_id), [c.store_id, c.product_id]),
        "platform": (c.platform, [c.platform]),
    }


def _counts(label_col: ColumnElement) -> list[ColumnElement]:
    return [
        sa.func.count().label("total"),
        sa.func.sum(sa.case((label_col == "positive", 1), else_=0)).label("positive"),
        sa.func.sum(sa.case((label_col == "neutral", 1), else_=0)).label("neutral"),
        sa.func.sum(sa.case((label_col == "negative", 1), else_=0)).label("negative"),
    ]


def _hourly_selects(db: Database, lo: datetime, hi: datetime) -> list[sa.Select]:
    """One aggregate SELECT per scope type over [lo, hi), shaped like a ``rollups`` row."""
    c = _MA.c
    in_range = sa.and_(c.published_at >= lo, c.published_at < hi, c.counted.is_(True))
    urgent = sa.func.sum(sa.case((c.urgent.is_(True), 1), else_=0))
    selects = []

    def shaped(scope_type: str, bucket: ColumnElement, scope_id: ColumnElement, label: ColumnElement,
               score: ColumnElement) -> sa.Select:
        return sa.select(
            sa.literal_column("'hour'").label("grain"), bucket.label("bucket"),
            sa.literal_column(f"'{scope_type}'").label("scope_type"), scope_id.label("scope_id"),
            *_counts(label), sa.func.coalesce(sa.func.sum(score), 0.0).label("score_sum"), urgent.label("urgent"),
        ).group_by(sa.literal_column("2"), sa.literal_column("4"))

    hour = _hour_expr(db, c.published_at)
    for scope_type, (scope_id, required) in _mention_scopes().items():
        conds = [col.isnot(None) for col in required] + [col != "" for col in required]
        selects.append(shaped(scope_type, hour, scope_id, c.label, c.score).where(in_range, *conds))
    t = _TP.c
    joined = _TP.join(_MA, _MA.c.mention_id == t.mention_id)
    for scope_type, scope_id, extra in (
        ("touchpoint", t.touchpoint, []),
        ("store_touchpoint", _concat(c.store_id, t.touchpoint), [c.store_id.isnot(None), c.store_id != ""]),
        # the dashboard's product × touchpoint heatmap; not in alerts.policy.SCOPE_TYPES, so never watched for spikes
        ("product_touchpoint", _concat(c.product_id, t.touchpoint), [c.product_id.isnot(None), c.product_id != ""]),
    ):
        selects.append(shaped(scope_type, hour, scope_id, t.polarity, t.score).select_from(joined)
                       .where(in_range, *extra))
    return selects


_FIELDS = ("total", "positive", "neutral", "negative", "score_sum", "urgent")
_COLUMNS = ["grain", "bucket", "scope_type", "scope_id", *_FIELDS]


def _rebuild_range(conn: sa.Connection, db: Database, lo: datetime, hi: datetime, tz: ZoneInfo) -> int:
    """Delete and re-insert hour and day rollups for [lo, hi) entirely in SQL; returns rows written.

    Hours: ``INSERT … SELECT … GROUP BY`` per scope type over ``mention_analysis``.
    Days: per business day, ``INSERT … SELECT`` summing that day's hour rows, bucketed
    at the day's local midnight (exact for any time zone, DST included).
    """
    r = _ROLLUP.c
    conn.execute(_ROLLUP.delete().where(r.bucket >= lo, r.bucket < hi))
    for select_ in _hourly_selects(db, lo, hi):
        conn.execute(_ROLLUP.insert().from_select(_COLUMNS, select_))
    day = lo
    while day < hi:
        nxt = local_day_start(day + timedelta(hours=36), tz)
        daily = (
            sa.select(sa.literal_column("'day'"), sa.literal(day, type_=r.bucket.type), r.scope_type, r.scope_id,
                      *[sa.func.sum(getattr(r, f)) for f in _FIELDS])
            .where(r.grain == "hour", r.bucket >= day, r.bucket < nxt)
            .group_by(r.scope_type, r.scope_id)
        )
        conn.execute(_ROLLUP.insert().from_select(_COLUMNS, daily))
        day = nxt
    # rowcount of INSERT … SELECT is not reported by every driver: count instead
    return int(conn.execute(sa.select(sa.func.count()).select_from(_ROLLUP).where(r.bucket >= lo, r.bucket < hi))
               .scalar_one())


def update_rollups(db: Database, tz: str = "Asia/Shanghai") -> int:
    """Recompute the rollups of every dirty day; returns the number of rollup rows written.

    One transaction: the dirty rows are claimed (deleted) first, so a day marked dirty
    again by a concurrent scorer after that point stays dirty for the next run.
    """
    zone = ZoneInfo(tz)
    written = 0
    with db.engine.begin() as conn:
        claim = sa.select(_DIRTY.c.day)
        if db.dialect == "postgresql":
            claim = claim.with_for_update(skip_locked=True)
        days = [r.day for r in conn.execute(claim)]
        if not days:
            return 0
        conn.execute(_DIRTY.delete().where(_DIRTY.c.day.in_(days)))
        for lo, hi in merge_ranges(day_range(d, zone) for d in days):
            written += _rebuild_range(conn, db, lo, hi, zone)
    return written


def mark_all_dirty(db: Database) -> int:
    """Mark every UTC day that has analysed mentions dirty (for a full rebuild); returns days marked."""
    with db.engine.begin() as conn:
        lo, hi = conn.execute(sa.select(sa.func.min(_MA.c.published_at), sa.func.max(_MA.c.published_at))).one()
        if lo is None:
            return 0
        existing = {r.day for r in conn.execute(sa.select(_DIRTY.c.day))}
        days = []
        d = lo.date()
        while d <= hi.date():
            if d not in existing:
                days.append({"day": d})
            d += timedelta(days=1)
        if days:
            conn.execute(_DIRTY.insert(), days)
        return len(days)
