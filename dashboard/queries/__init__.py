"""Every read the dashboard makes: plain functions of a :class:`storage.Database` and a
:class:`dashboard.scope.Scope`, returning pandas frames or plain values.

They read day rollups whenever a rollup answers the scope exactly (see
:func:`dashboard.queries.base.plan`) and fall back to ``mention_analysis`` otherwise. Role
scoping is applied here: a restricted viewer's store universe is part of every plan, and
alerts / sources are filtered by :class:`dashboard.access.Access`. No Streamlit in here,
so ``bench/dashboard.py`` and the unit tests call these directly.

The layer is split by page concern (``trends``, ``boards``, ``mentions``, ``alerts``,
``sources``, ``models``, ``catalog``, ``viewers``) over ``base`` (tables, planner, SQL fragments);
everything public is re-exported here, so callers use ``dashboard.queries.<name>``.
"""

from dashboard.queries.alerts import (
    ALERT_COLUMNS, alert_counts, alert_for_viewer, alert_mentions, alerts_page, alerts_table,
    evidence_mention_ids,
)
from dashboard.queries.audit import AUDIT_COLUMNS, audit_events
from dashboard.queries.attention import alerted, attention, concern_board, rank_by_concern
from dashboard.queries.base import COUNT_COLUMNS, TOUCHPOINT_KEYS, plan, store_universe
from dashboard.queries.boards import (
    SPARK_DAYS, STANDING_COLUMNS, complaint_keywords, leaderboard, product_store_matrix, product_touchpoint_matrix,
    touchpoint_matrix, touchpoint_standing,
)
from dashboard.queries.catalog import catalog_counts, filter_options, latest_day, promotion_calendar
from dashboard.queries.handling import (
    HANDLING_COLUMNS, REPLY_STATUSES, catalog_setting, competitor_benchmark, handling_deadlines, handling_kpis,
    mention_store, own_brand_ids, reply_draft, reply_queue, touchpoint_trend,
)
from dashboard.queries.mentions import (
    COUNT_CAP, MENTION_COLUMNS, MentionFilters, mentions_by_ids, mentions_export, mentions_page,
)
from dashboard.queries.metrics import net_sentiment, scope_shares, share_columns
from dashboard.queries.models import correction_rates, mention_touchpoints, model_registry
from dashboard.queries.overview import kpis
from dashboard.queries.sources import SOURCE_COLUMNS, recent_runs, source_health
from dashboard.queries.trends import daily, to_weekly, totals
from dashboard.queries.viewers import (
    access_for_account, access_for_email, access_for_session, account_fingerprint, scope_stores,
)

__all__ = [
    "AUDIT_COLUMNS", "audit_events",
    "HANDLING_COLUMNS", "REPLY_STATUSES", "catalog_setting", "competitor_benchmark", "handling_deadlines",
    "handling_kpis", "mention_store", "own_brand_ids", "reply_draft", "reply_queue", "touchpoint_trend",
    "ALERT_COLUMNS", "COUNT_CAP", "COUNT_COLUMNS", "MENTION_COLUMNS", "SOURCE_COLUMNS", "SPARK_DAYS",
    "TOUCHPOINT_KEYS", "MentionFilters", "access_for_account", "access_for_email", "access_for_session",
    "account_fingerprint", "alert_counts", "alerted",
    "attention", "concern_board", "rank_by_concern",
    "alert_for_viewer", "alert_mentions", "promotion_calendar", "alerts_page", "alerts_table", "catalog_counts",
    "complaint_keywords", "correction_rates", "daily", "evidence_mention_ids", "filter_options", "kpis", "latest_day",
    "leaderboard", "mention_touchpoints", "mentions_by_ids", "mentions_export", "mentions_page", "model_registry",
    "net_sentiment", "plan",
    "product_store_matrix", "product_touchpoint_matrix", "recent_runs", "scope_stores", "source_health",
    "scope_shares", "share_columns", "store_universe", "to_weekly", "totals", "touchpoint_matrix",
    "STANDING_COLUMNS", "touchpoint_standing",
]
