"""Every read the dashboard makes: plain functions of a :class:`storage.Database` and a
:class:`dashboard.scope.Scope`, returning pandas frames or plain values.

They read day rollups whenever a rollup answers the scope exactly (see
:func:`dashboard.scope.plan`) and fall back to ``mention_analysis`` otherwise. Role
scoping is applied here: a restricted viewer's store universe is part of every plan, and
alerts / sources are filtered by :class:`dashboard.access.Access`. No Streamlit in here,
so ``bench/dashboard.py`` and the unit tests call these directly.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import case, func

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import select

from dashboard.access import RECIPIENT_ROLES, Access
from dashboard.scope import Plan, Scope
from storage import Database
from storage.models import (
    Account,
    Alert,
    Brand,
    CollectorRun,
    Mention,
    MentionAnalysis,
    MentionTouchpoint,
    Product,
    Recipient,
    Region,
    Rollup,
    Source,
    Store,
)

R = Rollup.__table__
MA = MentionAnalysis.__table__
M = Mention.__table__
TP = MentionTouchpoint.__table__
AL = Alert.__table__

COUNT_COLUMNS = ("total", "positive", "neutral", "negative", "score_sum", "urgent")
TOUCHPOINT_KEYS = ("product", "service", "environment", "price", "delivery", "digital")
STORE_SCOPES = {"store", "store_product", "store_touchpoint"}


# --------------------------------------------------------------------------- metrics
def positive_share(positive: float, total: float) -> float | None:
    """Positive mentions / all mentions, None without data."""
    return positive / total if total else None


def net_sentiment(positive: float, negative: float) -> float | None:
    """(pos − neg) / (pos + neg), in [−1, 1]; None when there is no opinion at all."""
    return (positive - negative) / (positive + negative) if positive + negative else None


def wilson_interval(successes: float, n: float, z: float = 1.96) -> tuple[float | None, float | None]:
    """95 % Wilson score interval of a proportion (honest for small stores)."""
    if not n:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Add positive share (+ CI) and net sentiment columns to a frame of counts."""
    df = df.copy()
    pos, neg, tot = df["positive"].astype(float), df["negative"].astype(float), df["total"].astype(float)
    df["pos_share"] = (pos / tot).where(tot > 0)
    df["net"] = ((pos - neg) / (pos + neg)).where((pos + neg) > 0)
    df["ci_low"], df["ci_high"] = _wilson_columns(pos.to_numpy(), tot.to_numpy())
    return df


def _wilson_columns(pos: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wilson_interval` over arrays (NaN where ``n`` is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = pos / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


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


# --------------------------------------------------------------------------- viewers
def scope_stores(db: Database, recipient: Recipient | None) -> frozenset[str]:
    """Every store a recipient's catalog scope covers (stores ∪ regions ∪ brands)."""
    if recipient is None:
        return frozenset()
    with db.session() as s:
        ids = set(recipient.stores or [])
        if recipient.regions:
            ids |= set(s.exec(select(Store.id).where(Store.region_id.in_(recipient.regions))).all())
        if recipient.brands:
            ids |= set(s.exec(select(Store.id).where(Store.brand_id.in_(recipient.brands))).all())
    return frozenset(ids)


def _access_for(db: Database, user: str, role: str, recipient: Recipient | None) -> Access:
    if role == "manager":
        return Access(
            user=user,
            role=role,
            stores=scope_stores(db, recipient),
            regions=frozenset(recipient.regions or []) if recipient else frozenset(),
            brands=frozenset(recipient.brands or []) if recipient else frozenset(),
        )
    return Access(user=user, role=role if role in {"admin", "marketing"} else "marketing")


def access_for_account(db: Database, username: str, password: str) -> Access | None:
    """Check a local account's password; None when the username or password is wrong."""
    with db.session() as s:
        account = s.get(Account, username)
        recipient = s.get(Recipient, account.recipient_id) if account and account.recipient_id else None
    if account is None:
        PasswordHasher().hash(password)  # same work either way: no username oracle by timing
        return None
    try:
        PasswordHasher().verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return _access_for(db, username, account.role, recipient)


def access_for_email(db: Database, email: str | None, admin_emails: list[str] | tuple[str, ...] = ()) -> Access | None:
    """The access of an OIDC user, by the recipient with that e-mail; None if unknown."""
    if not email:
        return None
    email = email.strip().lower()
    if email in {e.strip().lower() for e in admin_emails}:
        return Access(user=email, role="admin")
    with db.session() as s:
        recipients = s.exec(select(Recipient).where(Recipient.email.is_not(None))).all()
    recipient = next((r for r in recipients if (r.email or "").strip().lower() == email), None)
    if recipient is None:
        return None
    return _access_for(db, email, RECIPIENT_ROLES.get(recipient.role, "manager"), recipient)


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


# --------------------------------------------------------------------------- overview
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


def alert_counts(db: Database, scope: Scope) -> dict[str, int]:
    """Open alerts now, and alerts opened in this period vs the previous one (visible ones only)."""
    lo, hi = scope.bounds()
    plo, _ = scope.previous().bounds()
    alerts = _visible_alerts(db, scope, since=plo)
    open_now = len(_visible_alerts(db, scope, statuses=("open",)))
    opened = sum(1 for a in alerts if lo <= a["opened_at"] < hi)
    opened_prev = sum(1 for a in alerts if plo <= a["opened_at"] < lo)
    return {"open": open_now, "opened": opened, "opened_prev": opened_prev}


def kpis(db: Database, scope: Scope) -> dict[str, Any]:
    """The Overview cards: this period, the previous period, and the alert counts."""
    cur, prev = totals(db, scope), totals(db, scope.previous())

    def rates(t: dict[str, float]) -> dict[str, Any]:
        return {
            "mentions": int(t["total"]),
            "positive_share": positive_share(t["positive"], t["total"]),
            "net_sentiment": net_sentiment(t["positive"], t["negative"]),
            "urgent": int(t["urgent"]),
        }

    return {"current": rates(cur), "previous": rates(prev), "alerts": alert_counts(db, scope)}


# --------------------------------------------------------------------------- leaderboards
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


# --------------------------------------------------------------------------- mentions
@dataclass(frozen=True)
class MentionFilters:
    """Filters of the Mentions page on top of the global scope."""

    sentiments: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    urgent_only: bool = False
    keyword: str = ""


def _mention_where(scope: Scope, p: Plan, mf: MentionFilters) -> list[Any]:
    conds = _raw_where(scope, p.stores)
    if mf.sentiments:
        conds.append(MA.c.label.in_(mf.sentiments))
    if mf.urgent_only:
        conds.append(MA.c.urgent.is_(True))
    if mf.keyword.strip():
        kw = mf.keyword.strip()
        conds.append(sa.or_(M.c.text.contains(kw, autoescape=True), M.c.title.contains(kw, autoescape=True)))
    if mf.touchpoints:
        conds.append(sa.exists().where(TP.c.mention_id == MA.c.mention_id, TP.c.touchpoint.in_(mf.touchpoints)))
    return conds


MENTION_COLUMNS = ["id", "published_at", "platform", "store_id", "product_id", "label", "score", "urgent",
                   "author", "title", "text", "url"]


def _mention_select(scope: Scope, p: Plan, mf: MentionFilters) -> Any:
    j = MA.join(M, M.c.id == MA.c.mention_id)
    stmt = sa.select(MA.c.mention_id.label("id"), MA.c.published_at, MA.c.platform, MA.c.store_id, MA.c.product_id,
                     MA.c.label, MA.c.score, MA.c.urgent, M.c.author, M.c.title, M.c.text, M.c.url).select_from(j)
    return stmt.where(*_mention_where(scope, p, mf))


COUNT_CAP = 10_000


def _rollup_count(db: Database, scope: Scope, p: Plan, mf: MentionFilters) -> int | None:
    """The filtered count straight from rollups when they can tell it (no keyword / touchpoint)."""
    if p.source == "raw" or mf.keyword.strip() or mf.touchpoints or (mf.urgent_only and mf.sentiments):
        return None
    t = totals(db, scope)
    if mf.urgent_only:
        return int(t["urgent"])
    if mf.sentiments:
        return int(sum(t[s] for s in mf.sentiments if s in t))
    return int(t["total"])


def mentions_page(db: Database, scope: Scope, mf: MentionFilters = MentionFilters(),
                  page: int = 1, page_size: int = 50) -> tuple[pd.DataFrame, int, bool]:
    """One page of mentions (newest first), the filtered count, and whether it is exact.

    Counts come from rollups when possible; otherwise they stop at ``COUNT_CAP`` (then
    ``exact`` is False and the page shows "10,000+").
    """
    p = plan(db, scope)
    if p.stores == ():
        return pd.DataFrame(columns=MENTION_COLUMNS), 0, True
    total = _rollup_count(db, scope, p, mf)
    exact = True
    if total is None:
        where = _mention_where(scope, p, mf)
        j = MA.join(M, M.c.id == MA.c.mention_id) if mf.keyword.strip() else MA
        capped = sa.select(MA.c.mention_id).select_from(j).where(*where).limit(COUNT_CAP + 1).subquery()
        with db.engine.connect() as conn:
            total = int(conn.execute(sa.select(func.count()).select_from(capped)).scalar() or 0)
        exact = total <= COUNT_CAP
        total = min(total, COUNT_CAP)
    stmt = _mention_select(scope, p, mf).order_by(MA.c.published_at.desc(), MA.c.mention_id.desc()).limit(
        page_size).offset(max(0, page - 1) * page_size)
    return _frame(db, stmt, MENTION_COLUMNS), total, exact


def mentions_export(db: Database, scope: Scope, mf: MentionFilters = MentionFilters(), limit: int = 100_000) -> pd.DataFrame:
    """The filtered mentions for CSV/Excel export (newest first, capped at ``limit``)."""
    p = plan(db, scope)
    if p.stores == ():
        return pd.DataFrame(columns=MENTION_COLUMNS)
    stmt = _mention_select(scope, p, mf).order_by(MA.c.published_at.desc()).limit(limit)
    return _frame(db, stmt, MENTION_COLUMNS)


def mentions_by_ids(db: Database, scope: Scope, ids: Iterable[int], cap: int = 200) -> pd.DataFrame:
    """Mentions by id (an alert's evidence), still limited to the viewer's stores."""
    ids = [int(i) for i in ids][:cap]
    if not ids:
        return pd.DataFrame(columns=MENTION_COLUMNS)
    j = MA.join(M, M.c.id == MA.c.mention_id)
    stmt = sa.select(MA.c.mention_id.label("id"), MA.c.published_at, MA.c.platform, MA.c.store_id, MA.c.product_id,
                     MA.c.label, MA.c.score, MA.c.urgent, M.c.author, M.c.title, M.c.text, M.c.url
                     ).select_from(j).where(MA.c.mention_id.in_(ids)).order_by(MA.c.published_at.desc())
    df = _frame(db, stmt, MENTION_COLUMNS)
    if scope.access.restricted:
        df = df[df["store_id"].map(scope.access.allows_store)]
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- alerts
def _store_meta(db: Database) -> dict[str, tuple[str | None, str | None]]:
    ST = Store.__table__
    with db.engine.connect() as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(sa.select(ST.c.id, ST.c.brand_id, ST.c.region_id))}


def _alert_store(alert: dict[str, Any]) -> str | None:
    if alert["scope_type"] in STORE_SCOPES:
        return str(alert["scope_id"]).split("|", 1)[0]
    return None


def _alert_visible(alert: dict[str, Any], scope: Scope, meta: dict[str, tuple[str | None, str | None]],
                   region_brand: dict[str, str | None], product_brand: dict[str, str | None],
                   source_store: dict[str, str | None]) -> bool:
    """Whether an alert is in the viewer's access and matches the global filters."""
    access: Access = scope.access
    f = scope.filters
    st, sid = alert["scope_type"], str(alert["scope_id"])
    if f.products and st not in ("product", "store_product"):
        return False
    store = _alert_store(alert)
    if st == "source":
        store = source_store.get(sid)
        if store is None:
            return not access.restricted
    if store is not None:
        brand, region = meta.get(store, (None, None))
        if not access.allows_store(store):
            return False
        if f.stores and store not in f.stores:
            return False
        if f.regions and region not in f.regions:
            return False
        if f.brands and brand not in f.brands:
            return False
        if f.products and (st != "store_product" or sid.split("|", 1)[1] not in f.products):
            return False  # with a product filter only that product's store alerts are relevant
        return True
    if st == "region":
        brand = region_brand.get(sid)
        if access.restricted and sid not in access.regions and brand not in access.brands:
            return False
        return not f.stores and (not f.regions or sid in f.regions) and (not f.brands or brand in f.brands)
    brand = sid if st == "brand" else product_brand.get(sid) if st == "product" else None
    if access.restricted and brand not in access.brands:
        return False
    if f.stores or f.regions:
        return False
    if f.brands and brand is not None and brand not in f.brands:
        return False
    if st == "product" and f.products and sid not in f.products:
        return False
    return True


_LIGHT = ("id", "scope_type", "scope_id", "status", "severity", "opened_at")


def _visible_alerts(db: Database, scope: Scope, statuses: tuple[str, ...] = (), since: datetime | None = None,
                    limit: int = 20_000) -> list[dict[str, Any]]:
    """Visible alerts (light columns only: id, scope, status, severity, opened_at), newest first."""
    stmt = sa.select(*[AL.c[c] for c in _LIGHT])
    if statuses:
        stmt = stmt.where(AL.c.status.in_(statuses))
    if since is not None:
        stmt = stmt.where(AL.c.opened_at >= since)
    if scope.filters.products:  # a product filter shows product and store × product alerts only
        stmt = stmt.where(AL.c.scope_type.in_(("product", "store_product")))
    stores = store_universe(db, scope)
    if stores is not None and len(stores) <= 500:
        # pre-filter in SQL: non-store alerts, or alerts whose store part is in the universe
        head = (sa.func.split_part(AL.c.scope_id, "|", 1) if db.dialect == "postgresql" else
                sa.func.substr(AL.c.scope_id, 1, sa.func.instr(AL.c.scope_id + "|", "|") - 1))
        stmt = stmt.where(sa.or_(AL.c.scope_type.not_in(STORE_SCOPES), head.in_(stores)))
    stmt = stmt.order_by(AL.c.opened_at.desc()).limit(limit)
    with db.engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(stmt)]
        if not rows:
            return []
        RG, PT, SR = Region.__table__, Product.__table__, Source.__table__
        region_brand = {r[0]: r[1] for r in conn.execute(sa.select(RG.c.id, RG.c.brand_id))}
        product_brand = {r[0]: r[1] for r in conn.execute(sa.select(PT.c.id, PT.c.brand_id))}
        source_store = {r[0]: r[1] for r in conn.execute(sa.select(SR.c.id, SR.c.store_id))}
    meta = _store_meta(db)
    return [a for a in rows if _alert_visible(a, scope, meta, region_brand, product_brand, source_store)]


ALERT_COLUMNS = ["id", "kind", "severity", "status", "title", "reason", "scope_type", "scope_id", "opened_at",
                 "updated_at", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by", "note",
                 "window_start", "window_end", "evidence"]


def alerts_table(db: Database, scope: Scope, statuses: tuple[str, ...] = ("open", "acknowledged"),
                 severities: tuple[str, ...] = (), limit: int = 200) -> pd.DataFrame:
    """Visible alerts with those statuses (all when empty), newest first, full rows."""
    rows = _visible_alerts(db, scope, statuses=statuses)
    if severities:
        rows = [a for a in rows if a["severity"] in severities]
    ids = [a["id"] for a in rows[:limit]]
    if not ids:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    stmt = sa.select(*[AL.c[c] for c in ALERT_COLUMNS]).where(AL.c.id.in_(ids)).order_by(
        AL.c.opened_at.desc(), AL.c.id.desc())
    return _frame(db, stmt, ALERT_COLUMNS)


def alert_for_viewer(db: Database, scope: Scope, alert_id: int) -> dict[str, Any] | None:
    """One alert if the viewer may see it (global filters ignored), else None."""
    open_scope = scope.narrowed(brands=(), regions=(), stores=(), products=(), platforms=())
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(AL).where(AL.c.id == int(alert_id))).first()
    if row is None:
        return None
    alert = dict(row._mapping)
    visible = _visible_alerts(db, open_scope, since=alert["opened_at"])
    return alert if any(a["id"] == alert["id"] for a in visible) else None


def evidence_mention_ids(evidence: dict[str, Any] | None) -> list[int]:
    """Mention ids an alert's evidence points at (``mention_ids`` or ``mentions``)."""
    evidence = evidence or {}
    raw = evidence.get("mention_ids") or evidence.get("mentions") or []
    ids: list[int] = []
    for item in raw if isinstance(raw, list) else []:
        value = item.get("id") if isinstance(item, dict) else item
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids


def alerts_mentions(db: Database, scope: Scope, alerts: tuple[tuple[int, tuple[int, ...]], ...]) -> pd.DataFrame:
    """The evidence mentions of many alerts in one query: ``((alert_id, mention_ids), …)`` →
    mention rows with an ``alert_id`` column (viewer scoping applied)."""
    wanted = {m for _, ids in alerts for m in ids[:50]}
    if not wanted:
        return pd.DataFrame(columns=["alert_id", *MENTION_COLUMNS])
    found = mentions_by_ids(db, scope, sorted(wanted), cap=2000).set_index("id", drop=False)
    parts = [found.loc[[m for m in ids[:50] if m in found.index]].assign(alert_id=aid) for aid, ids in alerts]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["alert_id", *MENTION_COLUMNS])


def alert_mentions(db: Database, scope: Scope, alert: dict[str, Any], limit: int = 50) -> pd.DataFrame:
    """The mentions behind an alert: its evidence ids, else negative mentions of its window and store."""
    ids = evidence_mention_ids(alert.get("evidence"))
    if ids:
        return mentions_by_ids(db, scope, ids)
    store = _alert_store(alert)
    if store is None or alert.get("window_start") is None or alert.get("window_end") is None:
        return pd.DataFrame(columns=MENTION_COLUMNS)
    j = MA.join(M, M.c.id == MA.c.mention_id)
    stmt = (sa.select(MA.c.mention_id.label("id"), MA.c.published_at, MA.c.platform, MA.c.store_id, MA.c.product_id,
                      MA.c.label, MA.c.score, MA.c.urgent, M.c.author, M.c.title, M.c.text, M.c.url).select_from(j)
            .where(MA.c.store_id == store, MA.c.published_at >= alert["window_start"],
                   MA.c.published_at < alert["window_end"], MA.c.label == "negative")
            .order_by(MA.c.published_at.desc()).limit(limit))
    df = _frame(db, stmt, MENTION_COLUMNS)
    return df if scope.access.allows_store(store) else df.iloc[0:0]


# --------------------------------------------------------------------------- sources
SOURCE_COLUMNS = ["id", "type", "platform", "enabled", "health", "store_id", "last_run_at", "last_success_at",
                  "last_new_item_at", "consecutive_failures", "last_status", "last_errors", "runs", "avg_items",
                  "avg_new", "failed_runs", "stale_hours"]


def source_health(db: Database, scope: Scope, now: datetime | None = None, window_days: int = 7) -> pd.DataFrame:
    """Each visible source's health: last run and status, items per run, errors, staleness."""
    now = now or datetime.now(timezone.utc)
    SR, CR = Source.__table__, CollectorRun.__table__
    stmt = sa.select(SR.c.id, SR.c.type, SR.c.platform, SR.c.enabled, SR.c.health, SR.c.store_id, SR.c.last_run_at,
                     SR.c.last_success_at, SR.c.last_new_item_at, SR.c.consecutive_failures).order_by(SR.c.id)
    sources = _frame(db, stmt)
    if scope.access.restricted and not sources.empty:
        sources = sources[sources["store_id"].map(scope.access.allows_store)]
    if sources.empty:
        return pd.DataFrame(columns=SOURCE_COLUMNS)
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
def filter_options(db: Database, access: Access) -> dict[str, list[tuple[str, str]]]:
    """(id, name) choices for the filter bar, limited to what the viewer may see."""
    ST, BR, RG, PT, SR = Store.__table__, Brand.__table__, Region.__table__, Product.__table__, Source.__table__
    with db.engine.connect() as conn:
        stores = [(r[0], r[1], r[2], r[3]) for r in conn.execute(
            sa.select(ST.c.id, ST.c.name, ST.c.brand_id, ST.c.region_id).order_by(ST.c.id))]
        if access.restricted:
            stores = [s for s in stores if s[0] in (access.stores or ())]
        brands = [(r[0], r[1]) for r in conn.execute(sa.select(BR.c.id, BR.c.name).order_by(BR.c.id))]
        regions = [(r[0], r[1]) for r in conn.execute(sa.select(RG.c.id, RG.c.name).order_by(RG.c.id))]
        products = [(r[0], r[1], r[2]) for r in conn.execute(sa.select(PT.c.id, PT.c.name, PT.c.brand_id).order_by(PT.c.id))]
        platforms = sorted({r[0] for r in conn.execute(sa.select(SR.c.platform).distinct()) if r[0]})
    if access.restricted:
        seen_brands = {s[2] for s in stores}
        seen_regions = {s[3] for s in stores}
        brands = [b for b in brands if b[0] in seen_brands]
        regions = [r for r in regions if r[0] in seen_regions]
        products = [p for p in products if p[2] in seen_brands]
    return {
        "brands": brands,
        "regions": regions,
        "stores": [(s[0], s[1]) for s in stores],
        "products": [(p[0], p[1]) for p in products],
        "platforms": [(p, p) for p in platforms],
    }


def latest_day(db: Database, tz: str = "Asia/Shanghai") -> date | None:
    """The business day of the newest scored mention (the default end of the date range)."""
    with db.engine.connect() as conn:
        newest = conn.execute(sa.select(func.max(MA.c.published_at))).scalar()
    if newest is None:
        return None
    if isinstance(newest, str):
        newest = datetime.fromisoformat(newest).replace(tzinfo=timezone.utc)
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=timezone.utc)
    return pd.Timestamp(newest).tz_convert(tz).date()


def catalog_counts(db: Database) -> dict[str, int]:
    """How much there is at all (to choose an empty state): sources, mentions scored, stores."""
    with db.engine.connect() as conn:
        return {
            "sources": int(conn.execute(sa.select(func.count()).select_from(Source.__table__)).scalar() or 0),
            "stores": int(conn.execute(sa.select(func.count()).select_from(Store.__table__)).scalar() or 0),
            "scored": int(conn.execute(sa.select(func.count()).select_from(sa.select(MA.c.mention_id).limit(1).subquery())).scalar() or 0),
        }
