"""Evidence attached to an alert: display names, top complaint touchpoints and keywords,
and the most representative negative mentions of a scope over a time window.

I/O at the edge: every function takes an open session (or the database for keywords)
and reads only. Keywords come from ``nlp.keywords.complaint_keywords`` when the nlp
package provides it; otherwise :func:`fallback_complaint_keywords` counts the keywords
NLP stored on the negative mentions.
"""

from __future__ import annotations

import logging

from collections import Counter
from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa
from sqlmodel import Session

from storage.db import Database
from storage.models import Brand, Mention, MentionAnalysis, MentionTouchpoint, Product, Region, Store

_MA = MentionAnalysis.__table__
_TP = MentionTouchpoint.__table__
_M = Mention.__table__

TOUCHPOINT_ZH = {
    "product": "出品",
    "service": "服务",
    "environment": "环境",
    "price": "价格",
    "delivery": "配送",
    "digital": "数字渠道",
}
SEVERITY_ZH = {"info": "提示", "warning": "预警", "critical": "严重"}


def usual_count_zh(expected: float) -> str:
    """How many negatives are usual, as an alert states it: 平时约 0.3 条, or 平时几乎没有
    below 0.05 (which would print as a puzzling 平时约 0.0 条)."""
    return f"平时约 {expected:.1f} 条" if expected >= 0.05 else "平时几乎没有"


def scope_conditions(scope_type: str, scope_id: str) -> tuple[list[Any], str | None]:
    """SQL conditions selecting a scope's analysed mentions, and the touchpoint it needs (if any)."""
    c = _MA.c
    first, _, second = scope_id.partition("|")
    simple = {"brand": c.brand_id, "region": c.region_id, "store": c.store_id, "product": c.product_id,
              "platform": c.platform}
    if scope_type in simple:
        return [simple[scope_type] == scope_id], None
    if scope_type == "store_product":
        return [c.store_id == first, c.product_id == second], None
    if scope_type == "touchpoint":
        return [], scope_id
    if scope_type == "store_touchpoint":
        return [c.store_id == first], second
    raise ValueError(f"unknown scope type {scope_type!r}")


def scope_name(session: Session, scope_type: str, scope_id: str) -> str:
    """A human name for a scope from the catalog tables (falls back to the id)."""
    def name(model: Any, key: str) -> str:
        row = session.get(model, key)
        return row.name if row is not None else key

    first, _, second = scope_id.partition("|")
    if scope_type == "store":
        return name(Store, scope_id)
    if scope_type == "product":
        return name(Product, scope_id)
    if scope_type == "brand":
        return name(Brand, scope_id)
    if scope_type == "region":
        return name(Region, scope_id)
    if scope_type == "store_product":
        return f"{name(Store, first)}·{name(Product, second)}"
    if scope_type == "touchpoint":
        return TOUCHPOINT_ZH.get(scope_id, scope_id)
    if scope_type == "store_touchpoint":
        return f"{name(Store, first)}·{TOUCHPOINT_ZH.get(second, second)}"
    return scope_id


def _window(start: datetime, end: datetime) -> list[Any]:
    c = _MA.c
    return [c.published_at >= start, c.published_at < end, c.counted.is_(True)]


def top_touchpoints(session: Session, scope_type: str, scope_id: str, start: datetime, end: datetime,
                    top: int = 3) -> list[dict[str, Any]]:
    """The touchpoints most often mentioned negatively in the window, with counts."""
    conds, touchpoint = scope_conditions(scope_type, scope_id)
    t = _TP.c
    q = (sa.select(t.touchpoint, sa.func.count(sa.distinct(t.mention_id)).label("n"))
         .select_from(_TP.join(_MA, _MA.c.mention_id == t.mention_id))
         .where(*conds, *_window(start, end), t.polarity == "negative")
         .group_by(t.touchpoint).order_by(sa.desc("n"), t.touchpoint).limit(top))
    if touchpoint:
        q = q.where(t.touchpoint == touchpoint)
    return [{"touchpoint": r.touchpoint, "name": TOUCHPOINT_ZH.get(r.touchpoint, r.touchpoint), "negative": int(r.n)}
            for r in session.execute(q)]


def top_products(session: Session, store_id: str, start: datetime, end: datetime, top: int = 3
                 ) -> list[dict[str, Any]]:
    """The store's products with the most negative mentions in the window (attached to a store alert).

    A store incident lands on its products too; the store alert names them instead of a
    separate product alert for each (one incident, one alert).
    """
    c = _MA.c
    q = (sa.select(c.product_id, sa.func.count().label("n"))
         .where(c.store_id == store_id, c.product_id.is_not(None), *_window(start, end), c.label == "negative")
         .group_by(c.product_id).order_by(sa.desc("n"), c.product_id).limit(top))
    return [{"product": r.product_id, "name": scope_name(session, "product", r.product_id), "negative": int(r.n)}
            for r in session.execute(q)]


def fallback_complaint_keywords(session: Session, scope_type: str, scope_id: str, start: datetime,
                                end: datetime, top: int = 10) -> list[tuple[str, float]]:
    """Keywords counted over the window's negative mentions (used when nlp has no keyword ranker)."""
    conds, touchpoint = scope_conditions(scope_type, scope_id)
    q = sa.select(_MA.c.keywords).where(*conds, *_window(start, end), _MA.c.label == "negative")
    if touchpoint:
        q = q.where(_MA.c.mention_id.in_(sa.select(_TP.c.mention_id).where(_TP.c.touchpoint == touchpoint)))
    counts: Counter[str] = Counter()
    for (keywords,) in session.execute(q):
        counts.update(set(keywords or []))
    return [(k, float(v)) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]


def complaint_keywords_hook() -> Callable[..., list[tuple[str, float]]] | None:
    """``nlp.keywords.complaint_keywords`` if the nlp package provides it, else None."""
    try:
        from nlp.keywords import complaint_keywords  # type: ignore[import-not-found]
    except ImportError:
        return None
    return complaint_keywords


def keywords_for(db: Database | None, session: Session, scope_type: str, scope_id: str, start: datetime,
                 end: datetime, top: int = 10) -> list[str]:
    """Top complaint keywords of the window: the nlp ranker when available, else stored keywords."""
    ranker = complaint_keywords_hook() if db is not None else None
    if ranker is not None:
        try:
            return [k for k, _ in ranker(db, scope_type, scope_id, start, end, top=top)]
        except Exception:  # noqa: BLE001 - evidence must never stop an alert; fall back, but say so
            logging.getLogger("tingfeng.alerts").warning(
                "complaint keyword ranker failed for %s %s; using stored keywords", scope_type, scope_id,
                exc_info=True,
            )
    return [k for k, _ in fallback_complaint_keywords(session, scope_type, scope_id, start, end, top)]


def representative_mentions(session: Session, scope_type: str, scope_id: str, start: datetime, end: datetime,
                            limit: int = 5) -> list[dict[str, Any]]:
    """The most negative counted mentions of the window (urgent first), as short quotes."""
    conds, touchpoint = scope_conditions(scope_type, scope_id)
    c, m = _MA.c, _M.c
    q = (sa.select(c.mention_id, c.score, c.urgent, c.platform, c.published_at, m.text, m.url)
         .select_from(_MA.join(_M, _M.c.id == c.mention_id))
         .where(*conds, *_window(start, end), c.label == "negative")
         .order_by(c.urgent.desc(), c.score, sa.func.coalesce(m.likes, 0).desc(), c.mention_id).limit(limit))
    if touchpoint:
        q = q.where(c.mention_id.in_(sa.select(_TP.c.mention_id).where(_TP.c.touchpoint == touchpoint,
                                                                         _TP.c.polarity == "negative")))
    return [quote(r) for r in session.execute(q)]


def quote(row: Any) -> dict[str, Any]:
    """A mention as a short JSON-able quote for evidence."""
    text = (row.text or "").strip()
    return {"id": int(row.mention_id), "text": text[:140] + ("…" if len(text) > 140 else ""),
            "platform": row.platform, "url": row.url, "published_at": row.published_at.isoformat(),
            "score": round(float(row.score), 3)}
