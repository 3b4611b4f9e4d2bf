"""The audit log for the admin page: who did what, when, on what (newest first)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from dashboard.access import Access
from dashboard.queries.base import _frame
from storage import Database
from storage.models import AuditEvent

AUDIT_COLUMNS = ["at", "actor", "action", "target", "scope", "detail"]
AU = AuditEvent.__table__


def audit_events(db: Database, access: Access, actions: tuple[str, ...] = (), since: datetime | None = None,
                 limit: int = 500) -> pd.DataFrame:
    """Audit events (newest first), for admins only: anyone else gets an empty frame."""
    if access.role != "admin":
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    stmt = sa.select(*(AU.c[c] for c in AUDIT_COLUMNS))
    if actions:
        stmt = stmt.where(AU.c.action.in_(actions))
    if since is not None:
        stmt = stmt.where(AU.c.at >= since)
    return _frame(db, stmt.order_by(AU.c.at.desc(), AU.c.id.desc()).limit(limit), AUDIT_COLUMNS)
