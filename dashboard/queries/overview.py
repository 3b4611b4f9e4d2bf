"""The Overview KPI cards."""

from __future__ import annotations

from typing import Any

from dashboard.queries.alerts import alert_counts
from dashboard.queries.metrics import net_sentiment, scope_shares
from dashboard.queries.trends import totals
from dashboard.scope import Scope
from storage import Database


def kpis(db: Database, scope: Scope) -> dict[str, Any]:
    """The Overview cards: this period, the previous period, and the alert counts."""
    cur, prev = totals(db, scope), totals(db, scope.previous())

    def rates(t: dict[str, float]) -> dict[str, Any]:
        shares = scope_shares(db, t["positive"], t["negative"], t["total"])
        return {
            "mentions": int(t["total"]),
            "shares": shares,  # corrected, with interval and the 样本不足 flag
            "positive_share": shares.positive.shown,  # None: no data, or too few mentions to say
            "net_sentiment": net_sentiment(t["positive"], t["negative"]),
            "urgent": int(t["urgent"]),
        }

    return {"current": rates(cur), "previous": rates(prev), "alerts": alert_counts(db, scope)}
