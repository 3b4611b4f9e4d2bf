"""产品 Products: leaderboard, product × touchpoint or product × store heatmap, and a product detail view."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import boards, cache, charts, ui
from dashboard.context import current

MATRICES = ["产品 × 顾客触点", "产品 × 门店"]

ctx = current()
board = boards.leaderboard_section(ctx, "product")
# one heatmap at a time: the other is a click away (each reads a year of rollups on long ranges)
shown = st.segmented_control("热力图", MATRICES, default=MATRICES[0], key="p_matrix") or MATRICES[0]
tp = pd.DataFrame()
if shown == MATRICES[0]:
    tp = boards.touchpoint_heatmap(ctx, board, "product")
else:
    st.subheader("产品 × 门店")
    matrix = cache.q(ctx.db_url, "product_store_matrix", ctx.scope)
    if matrix.empty:
        st.caption("没有同时关联到门店和产品的提及。")
    else:
        matrix["门店"] = matrix["store_id"].map(lambda s: ctx.short("stores", s))
        matrix["产品"] = matrix["product_id"].map(lambda p: ctx.name("products", p))
        sums = matrix.groupby("门店")[["positive", "negative"]].sum()
        worst = ((sums["positive"] - sums["negative"]) / (sums["positive"] + sums["negative"])).sort_values()
        st.caption(f"颜色为净情感，数字为提及数；声量最高的 {len(worst)} 家门店，净情感最低的在上；"
                   "产品与排行同序（最需要关注的在左）。")
        ui.chart(st, charts.heatmap(matrix, "产品", "门店", "产品", "门店", rows=list(worst.index),
                                    columns=[ctx.name("products", p) for p in board["id"]]))

boards.detail_section(ctx, board, "product", touchpoints=tp)
