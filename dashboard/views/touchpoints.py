"""触点趋势 Touchpoints: net sentiment per touchpoint over time, for a store, a product or everything in scope."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache, charts, ui
from dashboard.context import current
from dashboard.labels import TOUCHPOINTS, label
from dashboard.queries.metrics import MIN_N, SMALL_SAMPLE

ctx = current()
f = ctx.scope.filters
st.title("触点趋势")
st.caption("出品、服务、环境、价格、配送、数字渠道各自的净情感随时间变化：看清是哪一环在变差、从什么时候开始。")

left, mid, right = st.columns([2, 2, 1])
stores, products = ctx.names["stores"], ctx.names["products"]
store = left.selectbox("门店", [None, *stores], key="tp_store", format_func=lambda s: "全部门店" if s is None else stores[s])
product = mid.selectbox("产品", [None, *products], key="tp_product",
                        format_func=lambda p: "全部产品" if p is None else products[p])
grain = right.segmented_control("粒度", ["按日", "按周"], default="按周", key="tp_grain") or "按周"
scope = ctx.scope
if store:
    scope = scope.narrowed(stores=(store,))
if product:
    scope = scope.narrowed(products=(product,))
df = cache.q(ctx.db_url, "touchpoint_trend", scope, grain == "按周")
what = " · ".join(x for x in (stores.get(store or ""), products.get(product or "")) if x) or "全部范围"
if df.empty:
    ui.empty_state(ctx, f"{what}的触点数据")
    st.stop()
df = df.assign(label=df["touchpoint"].map(lambda t: label(TOUCHPOINTS, t)))
st.subheader(f"{what}：各触点净情感（{grain}）")
ui.chart(st, charts.sentiment_chart(df, "触点"))

recent = df[df["day"] == df["day"].max()].set_index("touchpoint")
first = df[df["day"] == df["day"].min()].set_index("touchpoint")
summary = df.groupby("touchpoint", as_index=False)[["total", "positive", "negative"]].sum()
summary["net"] = (summary["positive"] - summary["negative"]) / (summary["positive"] + summary["negative"]).where(
    (summary["positive"] + summary["negative"]) > 0)
summary = summary.sort_values("net", na_position="last")
st.subheader("各触点汇总（最差在前）")
st.dataframe(pd.DataFrame({
    "触点": summary["touchpoint"].map(lambda t: label(TOUCHPOINTS, t)),
    "提及": summary["total"].astype(int),
    "负面": summary["negative"].astype(int),
    "净情感": [ui.net_text(v, n) for v, n in zip(summary["net"], summary["total"])],
    "最近一期净情感": summary["touchpoint"].map(
        lambda t: "—" if t not in recent.index else ui.net_text(recent.loc[t, "net"], recent.loc[t, "total"])),
    "最早一期净情感": summary["touchpoint"].map(
        lambda t: "—" if t not in first.index else ui.net_text(first.loc[t, "net"], first.loc[t, "total"])),
}), hide_index=True, width="stretch")
st.caption(f"一期提及少于 {MIN_N} 条的显示“{SMALL_SAMPLE}”（一两条就能把净情感推到 ±1）；"
           "首尾两期可能不满一周/一天，以所选日期范围为准。")
