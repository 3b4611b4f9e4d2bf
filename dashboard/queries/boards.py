"""Leaderboards, store × touchpoint, product × touchpoint and product × store matrices, complaint keywords."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import case, func

from dashboard.queries.base import (
    COUNT_COLUMNS, MA, M, R, TOUCHPOINT_KEYS, TP, _empty_counts, _frame, _numeric, _raw_day, _raw_sums, _raw_where,
    _rollup_sums, _rollup_where, _store_product_ids, _stores_for, _to_day, plan,
)
from dashboard.queries.metrics import MIN_N, _add_rates, share_columns
from dashboard.scope import Plan, Scope
from storage import Database
from nlp.consistency import below_standard, touchpoints_below_standard
from nlp import vocabulary
from nlp.keywords import filled_complaint_phrases, split_baseline
from storage.models import Brand, Product, Store


def _entity_rollup(db: Database, scope: Scope, p: Plan, entity: str) -> tuple[str, tuple[str, ...] | None, bool]:
    """The rollup scope type and ids that give per-store (or per-product) counts of a rollup
    plan, and whether its ``store|product`` ids must be split."""
    f = scope.filters
    stores = _stores_for(db, scope, p)
    if entity == "store" and not f.products:
        return "store", stores, False
    if entity == "product" and stores is None:
        return "product", (f.products or None), False
    return "store_product", _store_product_ids(db, stores, f.products), True


def _by_entity(db: Database, scope: Scope, entity: str, with_day: bool) -> pd.DataFrame:
    """Counts per store or per product (and per day when ``with_day``)."""
    p = plan(db, scope)
    if p.source != "raw":
        st, ids, split = _entity_rollup(db, scope, p, entity)
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
BOARD_COLUMNS = ["id", "name", "total", "pos_share", "ci_low", "ci_high", "neg_share", "neg_low", "neg_high",
                 "small_sample", "pos_text", "neg_text", "below_standard", "chain_p", "net", "change", "trend"]


def _board_reads(db: Database, scope: Scope, entity: str, spark: Scope) -> tuple[list[Any], list[Any], bool]:
    """The leaderboard's two grouped reads, on one connection: per key and period (current or
    previous, one scan of both) the counts and row count, and per key and day the sparkline
    window's volume.

    Rollups answer them when they cover the scope, raw rows otherwise. Returns both row lists
    and whether keys are ``store|product`` ids to split.
    """
    p = plan(db, scope)
    lo, _ = scope.bounds()
    both = scope.narrowed(start=scope.previous().filters.start)
    if p.source != "raw":
        st, ids, split = _entity_rollup(db, scope, p, entity)
        t, key = R.c.bucket, R.c.scope_id
        # the bucket as the driver returns it (a string on SQLite), past the UTC column type:
        # converted once per distinct day below, not once per row
        day: Any = sa.type_coerce(R.c.bucket, sa.String)
        counts = {c: R.c[c] for c in COUNT_COLUMNS}
        where, spark_where = _rollup_where(both, st, ids), _rollup_where(spark, st, ids)
    else:
        split = False
        t = MA.c.published_at
        # coalesce(...): grouping by the bare column lures SQLite onto the (store_id, time) index
        # (a row lookup per mention) instead of a time-range scan; NULL keys are dropped below
        key = func.coalesce(MA.c.store_id if entity == "store" else MA.c.product_id, "")
        day = _raw_day(db, spark)
        counts = {"total": sa.literal(1), "positive": case((MA.c.label == "positive", 1), else_=0),
                  "neutral": case((MA.c.label == "neutral", 1), else_=0),
                  "negative": case((MA.c.label == "negative", 1), else_=0), "score_sum": MA.c.score,
                  "urgent": case((MA.c.urgent.is_(True), 1), else_=0)}
        where, spark_where = _raw_where(both, p.stores), _raw_where(spark, p.stores)
    # grouped by position: expressions with bound parameters (coalesce, date, the period flag)
    # would not be matched by PostgreSQL between the select list and a repeated GROUP BY
    periods = sa.select(
        key.label("key"), case((t >= lo, 1), else_=0).label("current"),
        *[func.sum(counts[c]).label(c) for c in COUNT_COLUMNS], func.count().label("n"),
    ).where(*where).group_by(sa.literal_column("1"), sa.literal_column("2"))
    days = (sa.select(key.label("key"), day.label("day"), func.sum(counts["total"]).label("total"))
            .where(*spark_where).group_by(sa.literal_column("1"), sa.literal_column("2")))
    with db.engine.connect() as conn:
        return conn.execute(periods).all(), conn.execute(days).all(), split


def _days_of(values: list[Any], tz: str) -> dict[Any, Any]:
    """Distinct rollup buckets (datetimes, or SQLite's stored strings) or SQL date strings → ``date``."""
    distinct = list(dict.fromkeys(values))
    parsed = [datetime.fromisoformat(v) if isinstance(v, str) and len(v) > 10 else v for v in distinct]
    return dict(zip(distinct, _to_day(pd.Series(parsed, dtype=object), tz)))


def leaderboard(db: Database, scope: Scope, entity: str = "store") -> pd.DataFrame:
    """Store (or product) leaderboard: volume, positive share with CI, net sentiment,
    change of net sentiment vs the previous period, and a daily volume sparkline of the
    range's last ``SPARK_DAYS`` days (bounded work whatever the range).

    Two grouped reads (:func:`_board_reads`); the few hundred rows are folded in Python.
    Ties in volume are ranked by id, so the order is stable between runs and backends.
    """
    spark = scope.narrowed(start=max(scope.filters.start, scope.filters.end - timedelta(days=SPARK_DAYS - 1)))
    period_rows, day_rows, split = _board_reads(db, scope, entity, spark)
    part = 0 if entity == "store" else 1
    n_cols = len(COUNT_COLUMNS)
    acc: dict[str, list[float]] = {}  # current counts, current rows, previous total / positive / negative
    for key, current, *values in period_rows:
        if not key:
            continue
        if split:
            key = key.split("|", 1)[part]
        a = acc.get(key)
        if a is None:
            a = acc[key] = [0.0] * (n_cols + 4)
        if current:
            for i in range(n_cols + 1):
                a[i] += float(values[i] or 0)
        else:
            for i in range(3):  # total, positive, negative
                a[n_cols + 1 + i] += float(values[(0, 1, 3)[i]] or 0)
    keys = sorted(k for k, a in acc.items() if a[n_cols])
    if not keys:
        return pd.DataFrame(columns=BOARD_COLUMNS)
    df = pd.DataFrame({"key": keys})
    for i, c in enumerate(COUNT_COLUMNS):
        values = [acc[k][i] for k in keys]
        df[c] = values if c == "score_sum" else np.array(values, dtype=np.int64)
    df = _add_rates(db, df)
    # stores significantly more negative than the chain (nlp.consistency), among the board's stores
    standing = below_standard({k: (int(n), int(t)) for k, n, t in zip(df["key"], df["negative"], df["total"])},
                              min_n=MIN_N) if entity == "store" else {}
    df["below_standard"] = [bool(standing[k].flagged) if k in standing else False for k in df["key"]]
    df["chain_p"] = [standing[k].p_value if k in standing else None for k in df["key"]]
    prev_total, prev_pos, prev_neg = (np.array([acc[k][n_cols + j] for k in keys]) for j in (1, 2, 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        df["prev_net"] = np.where(prev_pos + prev_neg > 0, (prev_pos - prev_neg) / (prev_pos + prev_neg), np.nan)
    df["prev_total"] = np.where(prev_total > 0, prev_total, np.nan)
    df["change"] = df["net"] - df["prev_net"]
    start, n_days = spark.filters.start, spark.filters.days
    trend = {k: [0] * n_days for k in keys}
    day_of = _days_of([r[1] for r in day_rows], scope.tz)
    for key, raw_day, total in day_rows:
        if not key:
            continue
        if split:
            key = key.split("|", 1)[part]
        i = (day_of[raw_day] - start).days
        if key in trend and 0 <= i < n_days:
            trend[key][i] += int(total or 0)
    df["trend"] = [trend[k] for k in keys]
    table = Store.__table__ if entity == "store" else Product.__table__
    extra = ("city", "region_id", "brand_id") if entity == "store" else ("category", "brand_id")
    names = _names(db, table, extra)
    df = df.merge(names, left_on="key", right_on="id", how="left")
    df["id"] = df["key"]
    df["name"] = df["name"].fillna(df["key"])
    return df.sort_values(["total", "id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _pair_rollups(db: Database, scope: Scope, scope_type: str, ids: tuple[str, ...] | None, first: str,
                  second: str) -> pd.DataFrame:
    """Summed ``a|b`` rollups (``store|x``, ``product|touchpoint``) split into ``first`` and ``second`` columns."""
    stmt = sa.select(R.c.scope_id.label("key"), *_rollup_sums()).where(
        *_rollup_where(scope, scope_type, ids)).group_by(R.c.scope_id)
    df = _frame(db, stmt)
    if not df.empty:
        parts = df["key"].str.split("|", n=1, expand=True)
        df[first], df[second] = parts[0], parts[1]
    return df


def _products_for(db: Database, scope: Scope) -> tuple[str, ...] | None:
    """The products a scope covers (the product filter, else a brand filter's products), None: all."""
    f = scope.filters
    if f.products:
        return f.products
    if f.brands:
        PT = Product.__table__
        return tuple(_frame(db, sa.select(PT.c.id).where(PT.c.brand_id.in_(f.brands)))["id"])
    return None


def _covers_most(db: Database, entity: str, keys: tuple[str, ...]) -> bool:
    """Whether ``keys`` are at least half of the catalog's stores (products)."""
    table = Store.__table__ if entity == "store" else Product.__table__
    with db.engine.connect() as conn:
        n = conn.execute(sa.select(func.count()).select_from(table)).scalar() or 0
    return 2 * len(keys) >= n


def _touchpoint_matrix(db: Database, scope: Scope, entity: str, only: tuple[str, ...] | None) -> pd.DataFrame:
    """Store (or product) × touchpoint counts: ``{entity}_id``, touchpoint, counts, net.

    The ``store_touchpoint`` / ``product_touchpoint`` rollups answer it when the scope has
    no platform filter and no filter of the other dimension (a store universe for products,
    a product filter for stores); otherwise touchpoint rows joined to their analyses.
    """
    column = f"{entity}_id"
    p = plan(db, scope)
    stores = _stores_for(db, scope, p)
    f = scope.filters
    if entity == "store":
        keys, other_filtered = stores, bool(f.products)
    else:
        keys, other_filtered = _products_for(db, scope), stores is not None
    if only is not None:
        keys = tuple(k for k in only if keys is None or k in keys)
    if not other_filtered and not f.platforms:
        ids = None if keys is None else tuple(f"{k}|{t}" for k in keys for t in TOUCHPOINT_KEYS)
        if ids is not None and db.dialect == "postgresql" and _covers_most(db, entity, keys):
            # PostgreSQL underestimates an IN list of scope ids ~20× (150 ids of a year: 3,000
            # rows planned, 55,000 read) and walks ix_rollups_scope_id_bucket with a heap page
            # per row (98 ms); the whole range in a bitmap scan, filtered here, is 57 ms.
            # SQLite probes the index per id faster than it reads the range: it keeps the list.
            df = _pair_rollups(db, scope, f"{entity}_touchpoint", None, column, "touchpoint")
            if not df.empty:
                df = df[df[column].isin(set(keys))].reset_index(drop=True)
        else:
            df = _pair_rollups(db, scope, f"{entity}_touchpoint", ids, column, "touchpoint")
    else:
        key = MA.c.store_id if entity == "store" else MA.c.product_id
        j = TP.join(MA, MA.c.mention_id == TP.c.mention_id)
        where = [*_raw_where(scope, keys if entity == "store" else stores), key.is_not(None)]
        if entity == "product" and keys is not None:
            where.append(key.in_(keys))
        stmt = (sa.select(key.label(column), TP.c.touchpoint, func.count().label("total"),
                          func.sum(case((TP.c.polarity == "positive", 1), else_=0)).label("positive"),
                          func.sum(case((TP.c.polarity == "neutral", 1), else_=0)).label("neutral"),
                          func.sum(case((TP.c.polarity == "negative", 1), else_=0)).label("negative"))
                .select_from(j).where(*where).group_by(key, TP.c.touchpoint))
        df = _frame(db, stmt)
    if df.empty:
        return pd.DataFrame(columns=[column, "touchpoint", "total", "positive", "negative", "net"])
    df = _numeric(df)[[column, "touchpoint", "total", "positive", "negative"]]
    df["net"] = ((df["positive"] - df["negative"]) / (df["positive"] + df["negative"])).where(
        (df["positive"] + df["negative"]) > 0)
    return df


def touchpoint_matrix(db: Database, scope: Scope, only: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Store × touchpoint counts (polarity of the touchpoint clause): store_id, touchpoint, counts, net.

    ``only`` limits it to some stores (e.g. the leaderboard's busiest), within the scope.
    """
    return _touchpoint_matrix(db, scope, "store", only)


STANDING_COLUMNS = ["store_id", "name", "touchpoint", "total", "negative", "neg_share", "neg_low", "neg_high",
                    "neg_text", "chain_share", "chain_text", "z", "p_value", "flagged", "small_sample"]


def touchpoint_standing(db: Database, scope: Scope) -> pd.DataFrame:
    """Each store × touchpoint of the scope against the chain's own share on that touchpoint
    (``nlp.consistency.touchpoints_below_standard``: the scope's stores are the chain compared).

    One row per store × touchpoint with mentions: the store's corrected negative share with
    its interval (``neg_text``, 样本不足 below ``MIN_N``: such rows are not tested), the
    chain's corrected share on the touchpoint over the tested stores (``chain_text``), z,
    p-value and ``flagged``. Flagged rows first, most significant first; then tested rows
    by p-value; untested rows last.
    """
    mat = touchpoint_matrix(db, scope)
    if mat.empty:
        return pd.DataFrame(columns=STANDING_COLUMNS)
    counts: dict[str, dict[str, tuple[int, int]]] = {}
    for sid, tp, neg, total in zip(mat["store_id"], mat["touchpoint"], mat["negative"], mat["total"]):
        counts.setdefault(tp, {})[sid] = (int(neg), int(total))
    standing = touchpoints_below_standard(counts, min_n=MIN_N)
    df = mat[["store_id", "touchpoint", "total", "positive", "negative"]].reset_index(drop=True)
    rows = [standing[tp][sid] for sid, tp in zip(df["store_id"], df["touchpoint"])]
    df["z"] = [r.z for r in rows]
    df["p_value"] = [r.p_value for r in rows]
    df["flagged"] = [r.flagged for r in rows]
    _, df = share_columns(db, df)
    tested = df[~df["small_sample"]]
    chain = tested.groupby("touchpoint", as_index=False)[["total", "positive", "negative"]].sum()
    _, chain = share_columns(db, chain)
    chain_share = dict(zip(chain["touchpoint"], chain["neg_share"]))
    chain_text = dict(zip(chain["touchpoint"], chain["neg_text"]))
    df["chain_share"] = df["touchpoint"].map(chain_share)
    df["chain_text"] = [chain_text.get(tp, "—") for tp in df["touchpoint"]]
    names = _names(db, Store.__table__)
    df["name"] = df["store_id"].map(dict(zip(names["id"], names["name"]))).fillna(df["store_id"])
    df["_rank"] = np.where(df["flagged"], 0, np.where(df["small_sample"], 2, 1))
    df = df.sort_values(["_rank", "p_value", "store_id", "touchpoint"], na_position="last", kind="stable")
    return df[STANDING_COLUMNS].reset_index(drop=True)


def product_touchpoint_matrix(db: Database, scope: Scope, only: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Product × touchpoint counts (polarity of the touchpoint clause): product_id, touchpoint, counts, net.

    Over every store from the ``product_touchpoint`` rollups; a store universe (store or
    region filter, a manager's stores) or a platform filter reads the touchpoint rows.
    ``only`` limits it to some products (e.g. the leaderboard's busiest), within the scope.
    """
    return _touchpoint_matrix(db, scope, "product", only)


def product_store_matrix(db: Database, scope: Scope, top_stores: int = 30) -> pd.DataFrame:
    """Product × store counts and net sentiment for the busiest ``top_stores`` stores.

    Raw rows are scanned once, grouped by store and product (NULL product included), which
    gives both the stores' volumes that pick the busiest and the pairs shown.
    """
    p = plan(db, scope)
    f = scope.filters
    columns = ["store_id", "product_id", "total", "positive", "negative", "net"]
    if p.source != "raw":
        busiest = _by_entity(db, scope, "store", with_day=False)
        if busiest.empty:
            return pd.DataFrame(columns=columns)
        stores = tuple(busiest.nlargest(top_stores, "total")["key"])
        df = _pair_rollups(db, scope, "store_product", _store_product_ids(db, stores, f.products), "store_id",
                           "product_id")
    else:
        store, product = func.coalesce(MA.c.store_id, ""), func.coalesce(MA.c.product_id, "")
        stmt = (sa.select(store.label("store_id"), product.label("product_id"), *_raw_sums())
                .where(*_raw_where(scope, p.stores))
                .group_by(sa.literal_column("1"), sa.literal_column("2")))  # by position: bound '' params
        df = _frame(db, stmt)
        df = df[df["store_id"] != ""]
        if df.empty:
            return pd.DataFrame(columns=columns)
        df = _numeric(df).sort_values(["store_id", "product_id"], kind="stable")
        volume = df.groupby("store_id", sort=True)["total"].sum()
        stores = tuple(volume.nlargest(top_stores).index)
        df = df[df["store_id"].isin(stores) & (df["product_id"] != "")]
    if df.empty:
        return pd.DataFrame(columns=columns)
    df = _numeric(df)
    busiest = df.groupby("store_id")["total"].sum().nlargest(top_stores).index
    df = df[df["store_id"].isin(busiest)].copy()
    df["net"] = ((df["positive"] - df["negative"]) / (df["positive"] + df["negative"])).where(
        (df["positive"] + df["negative"]) > 0)
    return df[columns].reset_index(drop=True)


KEYWORD_HISTORY_DAYS = 90


def _catalog_names(db: Database) -> list[str]:
    """Every brand, store and product name and alias (never a complaint keyword)."""
    out: list[str] = []
    with db.engine.connect() as conn:
        for table in (Brand.__table__, Store.__table__, Product.__table__):
            for name, aliases in conn.execute(sa.select(table.c.name, table.c.aliases)):
                out.extend(n for n in (name, *(aliases or ())) if n)
    return out


def complaint_keywords(db: Database, scope: Scope, limit: int = 10, sample: int = 1000,
                       background: int = 4000) -> pd.DataFrame:
    """The complaint phrases of the scope's newest ``sample`` negative mentions
    (``nlp.keywords.filled_complaint_phrases``: over-represented against the newest
    ``background`` mentions of the brand filter's stores, all of them otherwise, over the
    period and the ``KEYWORD_HISTORY_DAYS`` before it, and against the negative ones
    among them before the period, filled up from the complaint lexicon when they are few),
    most used first: keyword, count (negative mentions using it), example (a clause of one
    of them), example_id and source ("statistic" or "lexicon")."""
    p = plan(db, scope)
    j = MA.join(M, M.c.id == MA.c.mention_id)
    target_stmt = (sa.select(MA.c.mention_id, M.c.text).select_from(j)
                   .where(*_raw_where(scope, p.stores), MA.c.label == "negative")
                   .order_by(MA.c.published_at.desc(), MA.c.mention_id.desc()).limit(sample))
    lo, hi = scope.bounds()
    back_where = [MA.c.published_at >= lo - timedelta(days=KEYWORD_HISTORY_DAYS), MA.c.published_at < hi,
                  MA.c.counted.is_(True)]
    if scope.filters.brands:
        back_where.append(MA.c.brand_id.in_(scope.filters.brands))
    with db.engine.connect() as conn:
        target = [(int(i), t or "") for i, t in conn.execute(target_stmt)]
        if not target:
            return pd.DataFrame(columns=KEYWORD_COLUMNS)
        skip = {i for i, _ in target}
        back_stmt = (sa.select(MA.c.mention_id, M.c.text, MA.c.label, MA.c.published_at).select_from(j)
                     .where(*back_where).order_by(MA.c.published_at.desc()).limit(background + len(skip)))
        rows = [(t, label, at) for i, t, label, at in conn.execute(back_stmt) if i not in skip][:background]
    back, complaints = split_baseline(rows, lo)
    with db.session() as session:  # the chain's own stop words and lexicon too
        vocab = vocabulary.from_session(session)
    phrases = filled_complaint_phrases(target, back, _catalog_names(db), top=limit, complaints=complaints, vocab=vocab)
    return pd.DataFrame([(ph.term, ph.mentions, ph.example, ph.example_id, ph.source) for ph in phrases],
                        columns=KEYWORD_COLUMNS)


KEYWORD_COLUMNS = ["keyword", "count", "example", "example_id", "source"]
