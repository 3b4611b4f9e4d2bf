"""Complaint handling (及时率 / 解决率 / 回复率), the reply queue with drafts, touchpoint trends
and the competitor benchmark.

The KPI arithmetic is :func:`storage.handling.store_handling` (shared with the digest);
here it is scoped to the viewer's stores and turned into a frame. Deadlines and reply
templates come from ``catalog_settings`` (written by ``tingfeng sync``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import case, func

from dashboard.queries.base import MA, M, TOUCHPOINT_KEYS, TP, _frame, _private, _raw_day, _raw_where, _stores_for, _to_day, plan
from dashboard.queries.metrics import net_sentiment, share_columns
from dashboard.scope import Scope
from storage import Database
from storage.handling import deadlines_from, store_handling
from storage.models import Brand, CatalogSetting, MentionReply, Product, Store

HANDLING_COLUMNS = [
    "store_id", "alerts", "responded", "responded_on_time", "response_due", "resolved_on_time", "resolve_due",
    "replied_on_time", "on_time_rate", "median_response_hours", "resolved", "resolve_rate",
    "median_resolve_hours", "negative", "reply_needed", "replied", "reply_rate", "median_reply_hours",
]
REPLY_STATUSES = ("pending", "replied", "not_needed")
RP = MentionReply.__table__


def catalog_setting(db: Database, key: str) -> dict[str, Any] | None:
    """A section ``tingfeng sync`` stored for the dashboard (None before the first sync)."""
    with db.session() as s:
        row = s.get(CatalogSetting, key)
        return dict(row.value) if row is not None else None


def handling_deadlines(db: Database) -> dict[str, int]:
    """The acknowledge / resolve / reply deadlines in effect (the defaults before a sync)."""
    d = deadlines_from(catalog_setting(db, "handling"))
    return {"acknowledge_minutes": d.acknowledge_minutes, "resolve_hours": d.resolve_hours,
            "reply_hours": d.reply_hours}


def handling_kpis(db: Database, scope: Scope) -> pd.DataFrame:
    """One row per store in scope with an alert or a negative mention in the period.

    Sorted worst first: lowest 及时率, then lowest 回复率, then most alerts, then most
    negative mentions waiting for a reply.
    """
    lo, hi = scope.bounds()
    with db.session() as s:
        stores = _stores_for(db, scope, plan(db, scope.narrowed(products=(), platforms=())))
        rows = store_handling(s, stores, lo, hi, deadlines_from(catalog_setting(db, "handling")))
    df = pd.DataFrame([{c: getattr(r, c) for c in HANDLING_COLUMNS} for r in rows.values()], columns=HANDLING_COLUMNS)
    if df.empty:
        return df
    df = df.astype({c: "float" for c in ("on_time_rate", "resolve_rate", "reply_rate", "median_response_hours",
                                         "median_resolve_hours", "median_reply_hours")})
    # ties (no alert due, nothing replied: every store of the demo) go by the most negatives waiting
    # for a reply, not by the store's internal id
    df["_waiting"] = df["reply_needed"] - df["replied"]
    return df.sort_values(["on_time_rate", "reply_rate", "alerts", "_waiting", "store_id"],
                          ascending=[True, True, False, False, True],
                          na_position="last").drop(columns="_waiting").reset_index(drop=True)


# --------------------------------------------------------------------------- replies
def reply_draft(templates: dict[str, str] | None, touchpoint: str | None, store: str, product: str) -> str:
    """The template of the touchpoint (else ``default``) with the store and product filled in."""
    templates = templates or {}
    text = templates.get(touchpoint or "", "") or templates.get("default", "")
    return text.replace("{store}", store).replace("{product}", product)


def reply_queue(db: Database, scope: Scope, statuses: tuple[str, ...] = ("pending",), limit: int = 50) -> pd.DataFrame:
    """Negative store mentions in scope with their reply status, main complaint touchpoint and a draft.

    Newest first. ``statuses`` picks 未回复 (pending, also mentions without a row),
    已回复 and/or 无需回复; empty means all.
    """
    p = plan(db, scope)
    status = func.coalesce(RP.c.status, "pending")
    conds = [*_raw_where(scope, p.stores), MA.c.label == "negative", MA.c.store_id.is_not(None)]
    if statuses:
        conds.append(status.in_(list(statuses)))
    stmt = (sa.select(MA.c.mention_id, MA.c.published_at, MA.c.platform, MA.c.store_id, MA.c.product_id, MA.c.score,
                      M.c.text, M.c.url, M.c.author, status.label("status"), RP.c.text.label("reply_text"),
                      RP.c.replied_by, RP.c.replied_at)
            .select_from(MA.join(M, M.c.id == MA.c.mention_id).outerjoin(RP, RP.c.mention_id == MA.c.mention_id))
            .where(*conds).order_by(MA.c.published_at.desc(), MA.c.mention_id.desc()).limit(limit))
    df = _private(_frame(db, stmt), scope)
    if df.empty:
        return df.assign(touchpoint=pd.Series(dtype=object), draft=pd.Series(dtype=object))
    ids = [int(i) for i in df["mention_id"]]
    with db.engine.connect() as conn:  # the most negative touchpoint of each mention
        tps = conn.execute(sa.select(TP.c.mention_id, TP.c.touchpoint, TP.c.score)
                           .where(TP.c.mention_id.in_(ids), TP.c.polarity == "negative")
                           .order_by(TP.c.mention_id, TP.c.score, TP.c.id)).fetchall()
        names = {kind: dict(conn.execute(sa.select(t.c.id, t.c.name)).fetchall())
                 for kind, t in (("store", Store.__table__), ("product", Product.__table__))}
    main: dict[int, str] = {}
    for mention_id, touchpoint, _ in tps:
        main.setdefault(int(mention_id), touchpoint)
    templates = catalog_setting(db, "reply_templates")
    df["touchpoint"] = [main.get(i) for i in ids]
    df["draft"] = [reply_draft(templates, t, names["store"].get(s, s or ""), names["product"].get(pr, "") or "我们的饮品")
                   for t, s, pr in zip(df["touchpoint"], df["store_id"], df["product_id"])]
    return df


def mention_store(db: Database, mention_id: int) -> str | None:
    """The store a scored mention is linked to (None when unknown or brand-level): the reply action checks it."""
    with db.engine.connect() as conn:
        return conn.execute(sa.select(MA.c.store_id).where(MA.c.mention_id == mention_id)).scalar()


# --------------------------------------------------------------------------- touchpoint trend
def touchpoint_trend(db: Database, scope: Scope, weekly: bool = False) -> pd.DataFrame:
    """Per business day (``weekly``: per ISO week, ``day`` = its Monday) and touchpoint:
    mentions, positive, negative and net sentiment.

    Counts distinct mentions per touchpoint (a mention naming service twice counts once).
    Columns: ``day``, ``touchpoint``, ``total``, ``positive``, ``negative``, ``net``.
    """
    p = plan(db, scope)
    day = _raw_day(db, scope)
    stmt = (sa.select(day.label("day"), TP.c.touchpoint,
                      func.count(sa.distinct(TP.c.mention_id)).label("total"),
                      func.count(sa.distinct(case((TP.c.polarity == "positive", TP.c.mention_id)))).label("positive"),
                      func.count(sa.distinct(case((TP.c.polarity == "negative", TP.c.mention_id)))).label("negative"))
            .select_from(TP.join(MA, MA.c.mention_id == TP.c.mention_id))
            .where(*_raw_where(scope, p.stores)).group_by(day, TP.c.touchpoint))
    df = _frame(db, stmt)
    if df.empty:
        return pd.DataFrame(columns=["day", "touchpoint", "total", "positive", "negative", "net"])
    df["day"] = _to_day(df["day"], scope.tz)
    for c in ("total", "positive", "negative"):
        df[c] = pd.to_numeric(df[c]).astype(int)
    df = df[df["touchpoint"].isin(TOUCHPOINT_KEYS)]
    if weekly:
        df = df.assign(day=df["day"].map(lambda d: d - timedelta(days=d.weekday())))
        df = df.groupby(["day", "touchpoint"], as_index=False)[["total", "positive", "negative"]].sum()
    df["net"] = [net_sentiment(pp, n) for pp, n in zip(df["positive"], df["negative"])]
    return df.sort_values(["day", "touchpoint"]).reset_index(drop=True)


# --------------------------------------------------------------------------- competitors
def competitor_benchmark(db: Database, scope: Scope) -> dict[str, pd.DataFrame]:
    """Own brands next to the catalog's competitor brands over the period.

    ``brands``: id, name, kind (own | competitor), mentions, positive, negative, net, negative_share
    (corrected; NaN when ``small_sample``) and the other :func:`share_columns`.
    ``touchpoints``: brand_id, name, kind, touchpoint, mentions, negative, net.
    Store and product filters do not apply (competitors have neither in the catalog);
    the date range and platform filter do. Empty frames when no competitor is configured.
    """
    BR = Brand.__table__
    with db.engine.connect() as conn:
        brands = conn.execute(sa.select(BR.c.id, BR.c.name, BR.c.kind).order_by(BR.c.id)).fetchall()
    kinds = {b[0]: ("competitor" if b[2] == "competitor" else "own") for b in brands}
    names = {b[0]: b[1] for b in brands}
    if "competitor" not in kinds.values():
        return {"brands": pd.DataFrame(), "touchpoints": pd.DataFrame()}
    lo, hi = scope.bounds()
    conds = [MA.c.published_at >= lo, MA.c.published_at < hi, MA.c.counted.is_(True), MA.c.brand_id.in_(list(kinds))]
    if scope.filters.platforms:
        conds.append(MA.c.platform.in_(scope.filters.platforms))
    if scope.access.restricted:  # a store manager sees their stores' numbers, and the competitors'
        own_stores = sorted(scope.access.stores or ())
        conds.append(sa.or_(MA.c.brand_id.in_([b for b, k in kinds.items() if k == "competitor"]),
                            MA.c.store_id.in_(own_stores)))
    pos = func.sum(case((MA.c.label == "positive", 1), else_=0))
    neg = func.sum(case((MA.c.label == "negative", 1), else_=0))
    b = _frame(db, sa.select(MA.c.brand_id, func.count().label("mentions"), pos.label("positive"), neg.label("negative"))
               .where(*conds).group_by(MA.c.brand_id))
    t = _frame(db, sa.select(MA.c.brand_id, TP.c.touchpoint, func.count(sa.distinct(TP.c.mention_id)).label("mentions"),
                             func.count(sa.distinct(case((TP.c.polarity == "positive", TP.c.mention_id)))).label("positive"),
                             func.count(sa.distinct(case((TP.c.polarity == "negative", TP.c.mention_id)))).label("negative"))
               .select_from(TP.join(MA, MA.c.mention_id == TP.c.mention_id)).where(*conds)
               .group_by(MA.c.brand_id, TP.c.touchpoint))
    for df in (b, t):
        for c in ("mentions", "positive", "negative"):
            if c in df:
                df[c] = pd.to_numeric(df[c]).fillna(0).astype(int)
        if not df.empty:
            df["name"] = df["brand_id"].map(names)
            df["kind"] = df["brand_id"].map(kinds)
            df["net"] = [net_sentiment(p_, n) for p_, n in zip(df["positive"], df["negative"])]
    # corrected, NaN below the 样本不足 threshold (small_sample says which)
    b, t = (share_columns(db, df.assign(total=df["mentions"]))[1].rename(columns={"neg_share": "negative_share"})
            if not df.empty else df for df in (b, t))
    if not b.empty:  # ours first, then competitors, each by volume
        b["_ours"] = b["kind"] == "own"
        b = b.sort_values(["_ours", "mentions"], ascending=[False, False]).drop(columns="_ours").reset_index(drop=True)
    if not t.empty:
        t = t[t["touchpoint"].isin(TOUCHPOINT_KEYS)].reset_index(drop=True)
    return {"brands": b, "touchpoints": t}


def own_brand_ids(db: Database) -> tuple[str, ...]:
    """The own brands when the catalog also has competitors (the filter bar's default), else ()."""
    BR = Brand.__table__
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(BR.c.id, BR.c.kind).order_by(BR.c.id)).fetchall()
    if not any(k == "competitor" for _, k in rows):
        return ()
    return tuple(i for i, k in rows if k != "competitor")



