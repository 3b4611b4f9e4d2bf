"""Shared pieces of the query layer: table handles, the planner (which rollup answers a
scope), SQL fragments and frame helpers."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import case, func
from sqlmodel import select

from dashboard.scope import Plan, Scope
from storage import Database
from storage.privacy import mask_author
from storage.models import Alert, Mention, MentionAnalysis, MentionTouchpoint, Product, Rollup, Store

R = Rollup.__table__
MA = MentionAnalysis.__table__
M = Mention.__table__
TP = MentionTouchpoint.__table__
AL = Alert.__table__

COUNT_COLUMNS = ("total", "positive", "neutral", "negative", "score_sum", "urgent")
TOUCHPOINT_KEYS = ("product", "service", "environment", "price", "delivery", "digital")
STORE_SCOPES = {"store", "store_product", "store_touchpoint"}

# --------------------------------------------------------------------------- planning
def store_universe(db: Database, scope: Scope) -> tuple[str, ...] | None:
    """The stores a scope covers, or None when neither the filters nor the role restrict stores."""
    f, access = scope.filters, scope.access
    if not (f.stores or f.regions or access.restricted):
        return None
    stmt = select(Store.id)
    if f.stores:
        stmt = stmt.where(Store.id.in_(f.stores))
    if f.regions:
        stmt = stmt.where(Store.region_id.in_(f.regions))
    if f.brands:
        stmt = stmt.where(Store.brand_id.in_(f.brands))
    with db.session() as s:
        ids = set(s.exec(stmt).all())
    if access.stores is not None:
        ids &= access.stores
    return tuple(sorted(ids))


def plan(db: Database, scope: Scope) -> Plan:
    """Choose the rollup (or raw rows) that answers ``scope`` exactly."""
    f = scope.filters
    stores = store_universe(db, scope)
    if f.platforms:
        if stores is None and not f.brands and not f.products:
            return Plan("platform", f.platforms)
        return Plan("raw", stores=stores)
    if f.products:
        if stores is None:
            return Plan("product", f.products)
        return Plan("store_product", tuple(f"{s}|{p}" for s in stores for p in f.products), stores)
    if stores is not None:
        return Plan("store", stores, stores)
    return Plan("brand", f.brands or None)


# --------------------------------------------------------------------------- SQL pieces
def _rollup_sums() -> list[Any]:
    return [func.coalesce(func.sum(R.c[c]), 0).label(c) for c in COUNT_COLUMNS]


def _raw_sums() -> list[Any]:
    return [
        func.count().label("total"),
        func.coalesce(func.sum(case((MA.c.label == "positive", 1), else_=0)), 0).label("positive"),
        func.coalesce(func.sum(case((MA.c.label == "neutral", 1), else_=0)), 0).label("neutral"),
        func.coalesce(func.sum(case((MA.c.label == "negative", 1), else_=0)), 0).label("negative"),
        func.coalesce(func.sum(MA.c.score), 0.0).label("score_sum"),
        func.coalesce(func.sum(case((MA.c.urgent.is_(True), 1), else_=0)), 0).label("urgent"),
    ]


def _rollup_where(scope: Scope, scope_type: str, ids: Iterable[str] | None) -> list[Any]:
    lo, hi = scope.bounds()
    conds = [R.c.grain == "day", R.c.scope_type == scope_type, R.c.bucket >= lo, R.c.bucket < hi]
    if ids is not None:
        conds.append(R.c.scope_id.in_(list(ids)))
    return conds


def _raw_where(scope: Scope, stores: tuple[str, ...] | None) -> list[Any]:
    f = scope.filters
    lo, hi = scope.bounds()
    conds = [MA.c.published_at >= lo, MA.c.published_at < hi, MA.c.counted.is_(True)]
    if f.platforms:
        conds.append(MA.c.platform.in_(f.platforms))
    if f.brands:
        conds.append(MA.c.brand_id.in_(f.brands))
    if f.products:
        conds.append(MA.c.product_id.in_(f.products))
    if stores is not None:
        conds.append(MA.c.store_id.in_(stores))
    return conds


def _raw_day(db: Database, scope: Scope) -> Any:
    """The business day of ``mention_analysis.published_at``, in SQL."""
    if db.dialect == "sqlite":
        return func.date(MA.c.published_at, f"{scope.utc_offset_hours():+g} hours")
    return func.date(func.timezone(scope.tz, MA.c.published_at))


def _frame(db: Database, stmt: Any, columns: list[str] | None = None) -> pd.DataFrame:
    with db.engine.connect() as conn:
        result = conn.execute(stmt)
        rows = result.fetchall()
        cols = columns or list(result.keys())
    return pd.DataFrame([tuple(r) for r in rows], columns=cols)


def _private(df: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """``df`` with its ``author`` column masked unless the viewer may see author names:
    every query returning mentions passes through here, so pages and exports get the same."""
    if "author" in df.columns and not scope.access.can_see_authors:
        df = df.assign(author=df["author"].map(mask_author))
    return df


def _to_day(values: pd.Series, tz: str) -> pd.Series:
    """Rollup buckets (UTC instants of local midnights) or SQL date strings → ``date``.

    Converted once per distinct value: a year of store rollups has 73,000 rows but 365 buckets.
    """
    if values.empty:
        return pd.Series([], dtype=object)
    zone = ZoneInfo(tz)

    def convert(v: Any) -> date:
        if isinstance(v, datetime):
            return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).astimezone(zone).date()
        return v if isinstance(v, date) else date.fromisoformat(str(v)[:10])

    mapping = {v: convert(v) for v in pd.unique(values)}
    return values.map(mapping)


def _empty_counts(*keys: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[*keys, *COUNT_COLUMNS])


def _numeric(df: pd.DataFrame) -> pd.DataFrame:
    """Count columns as numbers (SQL sums can come back as Decimal or None)."""
    for c in COUNT_COLUMNS:
        if c in df and not pd.api.types.is_numeric_dtype(df[c]):
            df[c] = pd.to_numeric(df[c]).fillna(0)
    return df


def _brand_stores(db: Database, brands: tuple[str, ...]) -> tuple[str, ...]:
    with db.engine.connect() as conn:
        return tuple(r[0] for r in conn.execute(sa.select(Store.__table__.c.id).where(Store.__table__.c.brand_id.in_(brands))))


def _all_ids(db: Database, table: Any) -> tuple[str, ...]:
    with db.engine.connect() as conn:
        return tuple(r[0] for r in conn.execute(sa.select(table.c.id)))


def _store_product_ids(db: Database, stores: tuple[str, ...] | None, products: tuple[str, ...]) -> tuple[str, ...] | None:
    """``store|product`` rollup ids for a store universe and product filter (None: every pair)."""
    if stores is None and not products:
        return None
    st_ids = stores if stores is not None else _all_ids(db, Store.__table__)
    prods = products or _all_ids(db, Product.__table__)
    return tuple(f"{s}|{p}" for s in st_ids for p in prods)


def _stores_for(db: Database, scope: Scope, p: Plan) -> tuple[str, ...] | None:
    """The store universe of a plan, narrowing an unrestricted brand filter to its stores."""
    if p.stores is not None:
        return p.stores
    if scope.filters.brands:
        return _brand_stores(db, scope.filters.brands)
    return None
