"""门店 Stores: leaderboard, store × touchpoint heatmap, and a store detail view."""

from __future__ import annotations

import streamlit as st

from dashboard import boards, cache, charts
from dashboard.context import current
from dashboard.labels import TOUCHPOINTS, label

ctx = current()
board = boards.leaderboard_section(ctx, "store")

st.subheader("门店 × 顾客触点")
busiest = tuple(board["id"][:25])
tp = cache.q(ctx.db_url, "touchpoint_matrix", ctx.scope, busiest)
if tp.empty:
    st.caption("没有识别到顾客触点。")
else:
    heat = tp.copy()
    heat["门店"] = heat["store_id"].map(lambda s: ctx.name("stores", s))
    heat["触点"] = heat["touchpoint"].map(lambda t: label(TOUCHPOINTS, t))
    st.caption(f"颜色为净情感（红＝负面多，绿＝正面多），数字为提及数；显示声量最高的 {len(busiest)} 家门店。")
    st.altair_chart(charts.heatmap(heat, "触点", "门店", "触点", "门店", height=max(160, 26 * len(busiest))),
                    width="stretch")

boards.detail_section(ctx, board, "store", touchpoints=tp)
