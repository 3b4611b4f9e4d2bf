"""Filter-bar choices and what exists at all (for empty states and the default range)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import func

from dashboard.access import Access
from dashboard.queries.base import MA
from dashboard.queries.handling import catalog_setting
from dashboard.scope import Scope
from storage import Database
from storage.models import Brand, Product, Region, Source, Store
from storage.promotions import SETTING_KEY as PROMOTIONS_KEY, promotions_from
from storage.source_names import default_source_name


def filter_options(db: Database, access: Access) -> dict[str, list[tuple[str, str]]]:
    """(id, name) choices for the filter bar, limited to what the viewer may see."""
    ST, BR, RG, PT, SR = Store.__table__, Brand.__table__, Region.__table__, Product.__table__, Source.__table__
    with db.engine.connect() as conn:
        stores = [(r[0], r[1], r[2], r[3]) for r in conn.execute(
            sa.select(ST.c.id, ST.c.name, ST.c.brand_id, ST.c.region_id).order_by(ST.c.id))]
        if access.restricted:
            stores = [s for s in stores if s[0] in (access.stores or ())]
        brand_rows = conn.execute(sa.select(BR.c.id, BR.c.name, BR.c.kind).order_by(BR.c.id)).fetchall()
        brands = [(r[0], r[1] + ("（竞品）" if r[2] == "competitor" else "")) for r in brand_rows]
        regions = [(r[0], r[1]) for r in conn.execute(sa.select(RG.c.id, RG.c.name).order_by(RG.c.id))]
        products = [(r[0], r[1], r[2]) for r in conn.execute(sa.select(PT.c.id, PT.c.name, PT.c.brand_id).order_by(PT.c.id))]
        platforms = sorted({r[0] for r in conn.execute(sa.select(SR.c.platform).distinct()) if r[0]})
        sources = [(r[0], r[1] or default_source_name(r[2], r[3] or ""))
                   for r in conn.execute(sa.select(SR.c.id, SR.c.name, SR.c.type, SR.c.platform).order_by(SR.c.id))]
    if access.restricted:
        seen_brands = {s[2] for s in stores}
        seen_regions = {s[3] for s in stores}
        brands = [b for b in brands if b[0] in seen_brands]
        regions = [r for r in regions if r[0] in seen_regions]
        products = [p for p in products if p[2] in seen_brands]
    competitors = {r[0] for r in brand_rows if r[2] == "competitor"}
    return {
        # with competitors in the catalog, "no brand picked" means our brands, not theirs too
        "default_brands": [(b, b) for b, _ in brands if b not in competitors] if competitors else [],
        "brands": brands,
        "regions": regions,
        "stores": [(s[0], s[1]) for s in stores],
        "products": [(p[0], p[1]) for p in products],
        "platforms": [(p, p) for p in platforms],
        "sources": sources,  # display names, for alerts about a source
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


#: how far past the picked range the promotion calendar looks ahead
PROMOTION_LOOKAHEAD = timedelta(days=30)
PROMOTION_COLUMNS = ("name", "stores", "start", "end", "status")


def promotion_calendar(db: Database, scope: Scope, now: datetime | None = None) -> pd.DataFrame:
    """The catalog's ``[[promotions]]`` the viewer's stores take part in (chain-wide ones for
    everyone) that overlap the picked range or start within 30 days after it, soonest first.

    ``stores`` holds store names (empty: every store); ``start``/``end`` are UTC (end exclusive);
    ``status`` is running / upcoming / ended at ``now``. The detector reads the same setting
    (``alerts.promotions``): these are the hours whose norm it lifts.
    """
    now = now or datetime.now(timezone.utc)
    lo, hi = scope.bounds()
    allowed = scope.access.stores
    with db.engine.connect() as conn:
        names = dict(conn.execute(sa.select(Store.__table__.c.id, Store.__table__.c.name)).fetchall())
    rows = []
    for p in promotions_from(catalog_setting(db, PROMOTIONS_KEY)):
        if allowed is not None and p.stores and not set(p.stores) & allowed:
            continue
        if p.end <= lo or p.start >= hi + PROMOTION_LOOKAHEAD:
            continue
        shown = [s for s in p.stores if allowed is None or s in allowed]
        status = "running" if p.start <= now < p.end else "upcoming" if now < p.start else "ended"
        rows.append({"name": p.name, "stores": [names.get(s, s) for s in shown], "start": p.start, "end": p.end,
                     "status": status})
    return pd.DataFrame(rows, columns=list(PROMOTION_COLUMNS)).sort_values("start", kind="stable",
                                                                         ignore_index=True)
