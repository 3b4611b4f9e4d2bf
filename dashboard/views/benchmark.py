"""竞品对比 Benchmark: our brands next to the catalog's competitor brands, overall and per touchpoint."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache, charts, ui
from dashboard.context import current
from dashboard.labels import TOUCHPOINT_COLUMNS, TOUCHPOINTS, label
from dashboard.queries.metrics import MIN_N, SMALL_SAMPLE

ctx = current()
f = ctx.scope.filters
st.title("竞品对比")
st.caption(f"{f.start:%Y-%m-%d} 至 {f.end:%Y-%m-%d}。竞品是 tingfeng.toml 中 type = \"competitor\" 的品牌；"
           "门店和产品筛选不作用于竞品。")

bench = cache.q(ctx.db_url, "competitor_benchmark", ctx.scope)
brands, tps = bench["brands"], bench["touchpoints"]
if brands.empty:
    st.info("目录中还没有竞品品牌，或本期没有竞品提及。在 tingfeng.toml 的 [[brands]] 中添加 "
            "`type = \"competitor\"` 的品牌并为它配置数据源（如微博/小红书关键词订阅）。")
    st.stop()

KIND = {"own": "我方", "competitor": "竞品"}
st.subheader("整体口碑")
st.dataframe(pd.DataFrame({
    "品牌": brands["name"],
    "类型": brands["kind"].map(KIND),
    "提及": brands["mentions"],
    "负面占比（校正）": brands["neg_text"],
    "净情感": [ui.net_text(v, n) for v, n in zip(brands["net"], brands["mentions"])],
}), hide_index=True, width="stretch")
st.caption(ui.SHARE_CAPTION)

if not tps.empty:
    st.subheader("各触点净情感：我方与竞品并排")
    matrix = tps.assign(品牌=tps["name"] + tps["kind"].map({"own": "", "competitor": "（竞品）"}),
                        触点=tps["touchpoint"].map(lambda t: label(TOUCHPOINTS, t)), total=tps["mentions"])
    matrix = matrix.dropna(subset=["net"])
    ui.chart(st, charts.heatmap(matrix[["品牌", "触点", "net", "total", "negative"]], "触点", "品牌", "触点", "品牌",
                                rows=list(dict.fromkeys(matrix["品牌"])), columns=TOUCHPOINT_COLUMNS))
    cells = matrix.assign(text=[ui.net_text(v, n) for v, n in zip(matrix["net"], matrix["total"])])
    wide = cells.pivot_table(index="触点", columns="品牌", values="text", aggfunc="first")
    wide = wide.reindex([label(TOUCHPOINTS, t) for t in TOUCHPOINTS if label(TOUCHPOINTS, t) in wide.index])
    st.dataframe(wide.fillna("—"), width="stretch")
    st.caption(f"格子里的数字为提及数；某触点提及少于 {MIN_N} 条的显示“{SMALL_SAMPLE}”，不宜据此比较。")
