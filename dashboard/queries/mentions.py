"""The posts themselves: filtered pages, exports, lookups by id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import func

from dashboard.queries.base import MA, M, TP, Plan, _frame, _private, _raw_where, plan
from dashboard.queries.trends import totals
from dashboard.scope import Scope
from storage import Database


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
                   "rating", "author", "title", "text", "url"]


def mention_select() -> Any:
    """SELECT of :data:`MENTION_COLUMNS` over analyses joined to their mentions (add the WHERE)."""
    return sa.select(MA.c.mention_id.label("id"), MA.c.published_at, MA.c.platform, MA.c.store_id, MA.c.product_id,
                     MA.c.label, MA.c.score, MA.c.urgent, M.c.rating, M.c.author, M.c.title, M.c.text, M.c.url
                     ).select_from(MA.join(M, M.c.id == MA.c.mention_id))


def _mention_select(scope: Scope, p: Plan, mf: MentionFilters) -> Any:
    return mention_select().where(*_mention_where(scope, p, mf))


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
    return _private(_frame(db, stmt, MENTION_COLUMNS), scope), total, exact


def mentions_export(db: Database, scope: Scope, mf: MentionFilters = MentionFilters(), limit: int = 100_000) -> pd.DataFrame:
    """The filtered mentions for CSV/Excel export (newest first, capped at ``limit``)."""
    p = plan(db, scope)
    if p.stores == ():
        return pd.DataFrame(columns=MENTION_COLUMNS)
    stmt = _mention_select(scope, p, mf).order_by(MA.c.published_at.desc()).limit(limit)
    return _private(_frame(db, stmt, MENTION_COLUMNS), scope)


def mentions_by_ids(db: Database, scope: Scope, ids: Iterable[int], cap: int = 200) -> pd.DataFrame:
    """Mentions by id (an alert's evidence), still limited to the viewer's stores."""
    ids = [int(i) for i in ids][:cap]
    if not ids:
        return pd.DataFrame(columns=MENTION_COLUMNS)
    stmt = mention_select().where(MA.c.mention_id.in_(ids)).order_by(MA.c.published_at.desc())
    df = _frame(db, stmt, MENTION_COLUMNS)
    if scope.access.restricted:
        df = df[df["store_id"].map(scope.access.allows_store)]
    return _private(df.reset_index(drop=True), scope)
