"""Totals and day series of a scope (Overview, detail views)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.queries.base import (
    COUNT_COLUMNS, MA, R, Plan, _empty_counts, _frame, _numeric, _raw_day, _raw_sums, _raw_where, _rollup_sums,
    _rollup_where, _to_day, plan,
)
from dashboard.scope import Scope
from storage import Database
from storage.models import Product, Store


def totals(db: Database, scope: Scope) -> dict[str, float]:
    """Summed counts of a scope over its date range."""
    p = plan(db, scope)
    if p.source == "raw":
        stmt = sa.select(*_raw_sums()).where(*_raw_where(scope, p.stores))
    else:
        stmt = sa.select(*_rollup_sums()).where(*_rollup_where(scope, p.source, p.ids))
    with db.engine.connect() as conn:
        row = conn.execute(stmt).one()
    return {c: float(row._mapping[c] or 0) for c in COUNT_COLUMNS}


def daily(db: Database, scope: Scope, split: str | None = None) -> pd.DataFrame:
    """Counts per business day; ``split`` = ``brand`` or ``platform`` adds a ``key`` column.

    Columns: ``day`` (date), ``key`` (split value, or ``"全部"``), the count columns.
    """
    p = plan(db, scope)
    ST, PT = Store.__table__, Product.__table__
    key_expr: Any = None
    if split == "platform" and p.source == "brand" and p.ids is None:
        p = Plan("platform", None)
    if p.source != "raw" and (split is None or (split == "brand" and p.source in {"brand", "store", "product"})
                              or (split == "platform" and p.source == "platform")):
        stmt_from: Any = R
        if split == "brand" and p.source == "store":
            stmt_from, key_expr = R.join(ST, ST.c.id == R.c.scope_id), ST.c.brand_id
        elif split == "brand" and p.source == "product":
            stmt_from, key_expr = R.join(PT, PT.c.id == R.c.scope_id), PT.c.brand_id
        elif split is not None:
            key_expr = R.c.scope_id
        groups = [R.c.bucket] + ([key_expr] if key_expr is not None else [])
        cols = [R.c.bucket.label("day")] + ([key_expr.label("key")] if key_expr is not None else [])
        stmt = (sa.select(*cols, *_rollup_sums()).select_from(stmt_from)
                .where(*_rollup_where(scope, p.source, p.ids)).group_by(*groups))
    else:
        day = _raw_day(db, scope)
        key_expr = {"brand": MA.c.brand_id, "platform": MA.c.platform}.get(split or "")
        cols = [day.label("day")] + ([key_expr.label("key")] if key_expr is not None else [])
        stmt = (sa.select(*cols, *_raw_sums()).where(*_raw_where(scope, p.stores))
                .group_by(day, *([key_expr] if key_expr is not None else [])))
    df = _frame(db, stmt)
    if df.empty:
        return _empty_counts("day", "key")
    df["day"] = _to_day(df["day"], scope.tz)
    if "key" not in df:
        df["key"] = "全部"
    df["key"] = df["key"].fillna("未识别")
    df = _numeric(df).groupby(["day", "key"], as_index=False)[list(COUNT_COLUMNS)].sum()
    return df.sort_values(["day", "key"]).reset_index(drop=True)


def to_weekly(df: pd.DataFrame) -> pd.DataFrame:
    """Re-bucket a :func:`daily` frame into ISO weeks (``day`` = the Monday)."""
    if df.empty:
        return df
    out = df.copy()
    out["day"] = out["day"].map(lambda d: d - timedelta(days=d.weekday()))
    return out.groupby(["day", "key"], as_index=False)[list(COUNT_COLUMNS)].sum()
