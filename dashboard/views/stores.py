"""门店 Stores: leaderboard, store × touchpoint heatmap, touchpoints against the chain standard, and a store detail view."""

from __future__ import annotations

from dashboard import boards
from dashboard.context import current

ctx = current()
board = boards.leaderboard_section(ctx, "store")
tp = boards.touchpoint_heatmap(ctx, board, "store")
boards.touchpoint_standing_section(ctx)
boards.detail_section(ctx, board, "store", touchpoints=tp)
