"""What needs attention now: open alerts by store and product, leaderboards ranked by
concern instead of volume, and the Overview's "需要关注" block."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dashboard.queries.alerts import alerts_table
from dashboard.queries.boards import leaderboard
from dashboard.queries.mentions import MentionFilters, mentions_page
from dashboard.scope import Scope
from storage import Database

SEVERITY_RANK = {"critical": 3, "warning": 2, "info": 1}
#: a drop of net sentiment against the previous period this large makes a mover
MOVER_DROP = -0.10


def alerted(db: Database, scope: Scope, entity: str) -> dict[str, str]:
    """Stores (``entity="store"``) or products with an open or acknowledged alert in scope,
    and the worst severity among them (store × product alerts count for both)."""
    alerts = alerts_table(db, scope, ("open", "acknowledged"), limit=1000)
    out: dict[str, str] = {}
    for scope_type, scope_id, severity in zip(alerts["scope_type"], alerts["scope_id"], alerts["severity"]):
        first, _, second = str(scope_id).partition("|")
        key = None
        if entity == "store" and scope_type in ("store", "store_product", "store_touchpoint"):
            key = first
        elif entity == "product" and scope_type in ("product", "store_product"):
            key = second or first
        if key and SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(out.get(key, ""), 0):
            out[key] = severity
    return out


def rank_by_concern(board: pd.DataFrame, flagged: dict[str, str]) -> pd.DataFrame:
    """The leaderboard worst first: those with an open alert (most severe first), then by
    concern = −(net sentiment) − (its drop against the previous period, if it dropped),
    so a store that is bad or getting worse comes before a merely busy one. Adds the
    ``alert`` (worst open severity or None) and ``concern`` columns."""
    if board.empty:
        return board.assign(alert=pd.Series(dtype=object), concern=pd.Series(dtype=float))
    drop = np.minimum(board["change"].astype(float).fillna(0.0), 0.0)
    out = board.assign(alert=board["id"].map(flagged), concern=-board["net"].astype(float) - drop)
    rank = out["alert"].map(lambda s: SEVERITY_RANK.get(s, 0) if isinstance(s, str) else 0)
    order = pd.DataFrame({"rank": rank, "concern": out["concern"].fillna(-np.inf), "total": out["total"],
                          "id": out["id"]}).sort_values(["rank", "concern", "total", "id"],
                                                        ascending=[False, False, False, True], kind="stable")
    return out.loc[order.index].reset_index(drop=True)


def concern_board(db: Database, scope: Scope, entity: str = "store") -> pd.DataFrame:
    """:func:`leaderboard` ranked by :func:`rank_by_concern` with the scope's open alerts."""
    return rank_by_concern(leaderboard(db, scope, entity), alerted(db, scope, entity))


def _movers(board: pd.DataFrame, top: int) -> pd.DataFrame:
    """The first ``top`` rows that are alerted, dropped by :data:`MOVER_DROP` or more, or net negative."""
    if board.empty:
        return board
    worrying = board["alert"].notna() | (board["change"] <= MOVER_DROP) | (board["net"] < 0)
    return board[worrying].head(top).reset_index(drop=True)


def attention(db: Database, scope: Scope, top: int = 5) -> dict[str, Any]:
    """The Overview's first block: open alerts (most severe, then newest, first; and how
    many), the stores and products going bad (:func:`_movers` of the concern-ranked
    boards) and the newest urgent mentions."""
    alerts = alerts_table(db, scope, ("open",), limit=1000)
    if not alerts.empty:
        severity = alerts["severity"].map(lambda s: SEVERITY_RANK.get(s, 0))
        alerts = alerts.assign(_s=severity).sort_values(["_s", "opened_at", "id"], ascending=[False, False, False],
                                                        kind="stable").drop(columns="_s")
    urgent, n_urgent, _ = mentions_page(db, scope, MentionFilters(urgent_only=True), 1, 3)
    return {
        "alerts": alerts.head(top).reset_index(drop=True), "open_alerts": len(alerts),
        "stores": _movers(concern_board(db, scope, "store"), 3),
        "products": _movers(concern_board(db, scope, "product"), 3),
        "urgent": urgent, "urgent_total": n_urgent,
    }
