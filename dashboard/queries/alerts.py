"""Alerts the viewer may see, their evidence mentions, and alert counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.access import Access
from dashboard.queries.base import AL, MA, STORE_SCOPES, _frame, _private, store_universe
from dashboard.queries.mentions import MENTION_COLUMNS, mention_select, mentions_by_ids
from dashboard.scope import Scope
from storage import Database
from storage.models import Product, Region, Source, Store


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
                    limit: int = 20_000, severities: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Visible alerts (light columns only: id, scope, status, severity, opened_at), newest first."""
    stmt = sa.select(*[AL.c[c] for c in _LIGHT])
    if statuses:
        stmt = stmt.where(AL.c.status.in_(statuses))
    if severities:
        stmt = stmt.where(AL.c.severity.in_(severities))
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
    stmt = stmt.order_by(AL.c.opened_at.desc(), AL.c.id.desc()).limit(limit)
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


def alerts_page(db: Database, scope: Scope, statuses: tuple[str, ...] = ("open", "acknowledged"),
                severities: tuple[str, ...] = (), page: int = 1, page_size: int = 20) -> tuple[pd.DataFrame, int]:
    """One page of the visible alerts with those statuses and severities (all when empty),
    newest first, full rows; and how many there are in all."""
    rows = _visible_alerts(db, scope, statuses=statuses, severities=severities)
    start = max(0, page - 1) * page_size
    ids = [a["id"] for a in rows[start:start + page_size]]
    if not ids:
        return pd.DataFrame(columns=ALERT_COLUMNS), len(rows)
    stmt = sa.select(*[AL.c[c] for c in ALERT_COLUMNS]).where(AL.c.id.in_(ids)).order_by(
        AL.c.opened_at.desc(), AL.c.id.desc())
    return _frame(db, stmt, ALERT_COLUMNS), len(rows)


def alerts_table(db: Database, scope: Scope, statuses: tuple[str, ...] = ("open", "acknowledged"),
                 severities: tuple[str, ...] = (), limit: int = 200) -> pd.DataFrame:
    """The newest ``limit`` visible alerts with those statuses and severities (all when empty)."""
    return alerts_page(db, scope, statuses, severities, page=1, page_size=limit)[0]


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
    """Mention ids an alert's evidence points at: every one (``all_mention_ids``) where it
    keeps them, else its quoted ones (``mention_ids`` or ``mentions``)."""
    evidence = evidence or {}
    raw = evidence.get("all_mention_ids") or evidence.get("mention_ids") or evidence.get("mentions") or []
    ids: list[int] = []
    for item in raw if isinstance(raw, list) else []:
        value = item.get("id") if isinstance(item, dict) else item
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids


def _alert_scope_where(alert: dict[str, Any]) -> list[Any] | None:
    """Conditions on ``mention_analysis`` for the alert's scope (None: not a mention scope)."""
    st, sid = alert["scope_type"], str(alert["scope_id"])
    first, _, second = sid.partition("|")
    simple = {"store": MA.c.store_id, "product": MA.c.product_id, "brand": MA.c.brand_id,
              "region": MA.c.region_id, "platform": MA.c.platform}
    if st in simple:
        return [simple[st] == sid]
    if st == "store_product":
        return [MA.c.store_id == first, MA.c.product_id == second]
    return None


ALERT_MENTIONS_CAP = 500


def alert_mentions(db: Database, scope: Scope, alert: dict[str, Any], limit: int = ALERT_MENTIONS_CAP) -> pd.DataFrame:
    """Every mention behind an alert, newest first (at most ``limit``): the ids its evidence
    keeps for all of them (urgent alerts), else the negative counted mentions of its scope
    and window (spikes), else its quoted ones; limited to the viewer's stores."""
    evidence = alert.get("evidence") or {}
    if evidence.get("all_mention_ids"):
        return mentions_by_ids(db, scope, evidence_mention_ids(evidence), cap=limit)
    where = _alert_scope_where(alert)
    start, end = alert.get("window_start"), alert.get("window_end")  # None, or NaT from a page's frame
    if where is not None and not pd.isna(start) and not pd.isna(end):
        stmt = (mention_select()
                .where(*where, MA.c.published_at >= start, MA.c.published_at <= end,
                       MA.c.label == "negative", MA.c.counted.is_(True))
                .order_by(MA.c.published_at.desc(), MA.c.mention_id.desc()).limit(limit))
        df = _frame(db, stmt, MENTION_COLUMNS)
        if scope.access.restricted:
            df = df[df["store_id"].map(scope.access.allows_store)].reset_index(drop=True)
        if not df.empty:
            return _private(df, scope)
    return mentions_by_ids(db, scope, evidence_mention_ids(evidence), cap=limit)


def alert_counts(db: Database, scope: Scope) -> dict[str, int]:
    """Open alerts now, and alerts opened in this period vs the previous one (visible ones only)."""
    lo, hi = scope.bounds()
    plo, _ = scope.previous().bounds()
    alerts = _visible_alerts(db, scope, since=plo)
    open_now = len(_visible_alerts(db, scope, statuses=("open",)))
    opened = sum(1 for a in alerts if lo <= a["opened_at"] < hi)
    opened_prev = sum(1 for a in alerts if plo <= a["opened_at"] < lo)
    return {"open": open_now, "opened": opened, "opened_prev": opened_prev}
