"""Leaderboards, store × touchpoint and product × store matrices, complaint keywords."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import case, func

from dashboard.queries.base import (
    COUNT_COLUMNS, MA, R, TOUCHPOINT_KEYS, TP, _empty_counts, _frame, _numeric, _raw_day, _raw_sums, _raw_where,
    _rollup_sums, _rollup_where, _store_product_ids, _stores_for, _to_day, plan,
)
from dashboard.queries.metrics import _add_rates
from dashboard.scope import Scope
from storage import Database
from storage.models import Product, Store


def _by_entity(db: Database, scope: Scope, entity: str, with_day: bool) -> pd.DataFrame:
    """Counts per store or per product (and per day when ``with_day``)."""
    p = plan(db, scope)
    f = scope.filters
    stores = _stores_for(db, scope, p)
    if p.source != "raw":
        if entity == "store" and not f.products:
            st, ids, split = "store", stores, False
        elif entity == "product" and stores is None:
            st, ids, split = "product", (f.products or None), False
        else:
            st, split = "store_product", True
            ids = _store_product_ids(db, stores, f.products)
        cols = [R.c.scope_id.label("key")] + ([R.c.bucket.label("day")] if with_day else [])
        sums = _rollup_sums() if not with_day else [func.sum(R.c[c]).label(c) for c in ("total", "positive", "negative")]
        stmt = sa.select(*cols, *sums).where(*_rollup_where(scope, st, ids)).group_by(
            R.c.scope_id, *([R.c.bucket] if with_day else [])
        )
        df = _frame(db, stmt)
        if split and not df.empty:
            df["key"] = df["key"].map(lambda k: k.split("|", 1)[0 if entity == "store" else 1])
    else:
        # group by coalesce(...): grouping by the bare column lures SQLite onto the (store_id, time)
        # index (a row lookup per mention) instead of a time-range scan; NULL keys are dropped below
        key = func.coalesce(MA.c.store_id if entity == "store" else MA.c.product_id, "")
        day = _raw_day(db, scope)
        cols = [key.label("key")] + ([day.label("day")] if with_day else [])
        stmt = (sa.select(*cols, *_raw_sums()).where(*_raw_where(scope, p.stores))
                .group_by(key, *([day] if with_day else [])))
        df = _frame(db, stmt)
        df = df[df["key"] != ""]
        if with_day:
            df = df[["key", "day", "total", "positive", "negative"]]
    if df.empty:
        return _empty_counts("key", *(["day"] if with_day else []))
    if with_day:
        df["day"] = _to_day(df["day"], scope.tz)
    df = _numeric(df)
    keys = ["key", "day"] if with_day else ["key"]
    if not df.duplicated(keys).any():  # SQL already grouped (only store|product ids split into duplicates)
        return df
    value_cols = [c for c in COUNT_COLUMNS if c in df]
    return df.groupby(keys, as_index=False)[value_cols].sum()


def _names(db: Database, table: Any, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    cols = [table.c.id, table.c.name, *[table.c[c] for c in extra]]
    return _frame(db, sa.select(*cols))


SPARK_DAYS = 30


def leaderboard(db: Database, scope: Scope, entity: str = "store") -> pd.DataFrame:
    """Store (or product) leaderboard: volume, positive share with CI, net sentiment,
    change of net sentiment vs the previous period, and a daily volume sparkline of the
    range's last ``SPARK_DAYS`` days (bounded work whatever the range)."""
    cur = _by_entity(db, scope, entity, with_day=False)
    if cur.empty:
        return pd.DataFrame(columns=["id", "name", "total", "pos_share", "ci_low", "ci_high", "net", "change", "trend"])
    prev = _by_entity(db, scope.previous(), entity, with_day=False)
    spark = scope.narrowed(start=max(scope.filters.start, scope.filters.end - timedelta(days=SPARK_DAYS - 1)))
    days = _by_entity(db, spark, entity, with_day=True)
    df = _add_rates(cur)
    prev = _add_rates(prev)[["key", "net", "total"]].rename(columns={"net": "prev_net", "total": "prev_total"}) if not prev.empty \
        else pd.DataFrame(columns=["key", "prev_net", "prev_total"])
    df = df.merge(prev, on="key", how="left")
    df["change"] = df["net"] - pd.to_numeric(df["prev_net"])
    all_days = [spark.filters.start + timedelta(days=i) for i in range(spark.filters.days)]
    if days.empty:
        df["trend"] = [[0] * len(all_days) for _ in range(len(df))]
    else:
        grid = days.pivot_table(index="key", columns="day", values="total", aggfunc="sum", fill_value=0)
        grid = grid.reindex(index=df["key"], columns=all_days, fill_value=0).fillna(0).astype(int)
        df["trend"] = grid.values.tolist()
    table = Store.__table__ if entity == "store" else Product.__table__
    extra = ("city", "region_id", "brand_id") if entity == "store" else ("category", "brand_id")
    names = _names(db, table, extra)
    df = df.merge(names, left_on="key", right_on="id", how="left")
    df["id"] = df["key"]
    df["name"] = df["name"].fillna(df["key"])
    return df.sort_values("total", ascending=False).reset_index(drop=True)


def _pair_rollups(db: Database, scope: Scope, scope_type: str, ids: tuple[str, ...] | None, second: str) -> pd.DataFrame:
    """Summed ``store|x`` rollups split into ``store_id`` and ``second`` columns."""
    stmt = sa.select(R.c.scope_id.label("key"), *_rollup_sums()).where(
        *_rollup_where(scope, scope_type, ids)).group_by(R.c.scope_id)
    df = _frame(db, stmt)
    if not df.empty:
        parts = df["key"].str.split("|", n=1, expand=True)
        df["store_id"], df[second] = parts[0], parts[1]
    return df


def touchpoint_matrix(db: Database, scope: Scope, only: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Store × touchpoint counts (polarity of the touchpoint clause): store_id, touchpoint, counts, net.

    ``only`` limits it to some stores (e.g. the leaderboard's busiest), within the scope.
    """
    p = plan(db, scope)
    stores = _stores_for(db, scope, p)
    if only is not None:
        stores = tuple(s for s in only if stores is None or s in stores)
    f = scope.filters
    if not f.products and not f.platforms:
        ids = None if stores is None else tuple(f"{s}|{t}" for s in stores for t in TOUCHPOINT_KEYS)
        df = _pair_rollups(db, scope, "store_touchpoint", ids, "touchpoint")
    else:
        j = TP.join(MA, MA.c.mention_id == TP.c.mention_id)
        stmt = (sa.select(MA.c.store_id, TP.c.touchpoint, func.count().label("total"),
                          func.sum(case((TP.c.polarity == "positive", 1), else_=0)).label("positive"),
                          func.sum(case((TP.c.polarity == "neutral", 1), else_=0)).label("neutral"),
                          func.sum(case((TP.c.polarity == "negative", 1), else_=0)).label("negative"))
                .select_from(j).where(*_raw_where(scope, stores), MA.c.store_id.is_not(None))
                .group_by(MA.c.store_id, TP.c.touchpoint))
        df = _frame(db, stmt)
    if df.empty:
        return pd.DataFrame(columns=["store_id", "touchpoint", "total", "positive", "negative", "net"])
    df = _numeric(df)[["store_id", "touchpoint", "total", "positive", "negative"]]
    df["net"] = ((df["positive"] - df["negative"]) / (df["positive"] + df["negative"])).where(
        (df["positive"] + df["negative"]) > 0)
    return df


def product_store_matrix(db: Database, scope: Scope, top_stores: int = 30) -> pd.DataFrame:
    """Product × store counts and net sentiment for the busiest ``top_stores`` stores."""
    p = plan(db, scope)
    f = scope.filters
    busiest = _by_entity(db, scope, "store", with_day=False)
    if busiest.empty:
        return pd.DataFrame(columns=["store_id", "product_id", "total", "positive", "negative", "net"])
    stores = tuple(busiest.nlargest(top_stores, "total")["key"])
    if p.source != "raw":
        df = _pair_rollups(db, scope, "store_product", _store_product_ids(db, stores, f.products), "product_id")
    else:
        stmt = (sa.select(MA.c.store_id, MA.c.product_id, *_raw_sums())
                .where(*_raw_where(scope, stores)).group_by(MA.c.store_id, MA.c.product_id))
        df = _frame(db, stmt)
        df = df[df["store_id"].notna() & df["product_id"].notna()]
    if df.empty:
        return pd.DataFrame(columns=["store_id", "product_id", "total", "positive", "negative", "net"])
    df = _numeric(df)
    busiest = df.groupby("store_id")["total"].sum().nlargest(top_stores).index
    df = df[df["store_id"].isin(busiest)].copy()
    df["net"] = ((df["positive"] - df["negative"]) / (df["positive"] + df["negative"])).where(
        (df["positive"] + df["negative"]) > 0)
    return df[["store_id", "product_id", "total", "positive", "negative", "net"]].reset_index(drop=True)


def complaint_keywords(db: Database, scope: Scope, limit: int = 15, sample: int = 1000) -> pd.DataFrame:
    """The most frequent keywords of the newest ``sample`` negative mentions in scope."""
    p = plan(db, scope)
    stmt = (sa.select(MA.c.keywords).where(*_raw_where(scope, p.stores), MA.c.label == "negative")
            .order_by(MA.c.published_at.desc()).limit(sample))
    counter: Counter[str] = Counter()
    with db.engine.connect() as conn:
        for (kws,) in conn.execute(stmt):
            counter.update(k for k in (kws or []) if isinstance(k, str) and k)
    return pd.DataFrame(counter.most_common(limit), columns=["keyword", "count"])
