"""总览 Overview: KPI cards with period-over-period deltas and the volume / sentiment trend."""

from __future__ import annotations

import streamlit as st

from dashboard import cache, charts, ui
from dashboard.context import current
from dashboard.labels import PLATFORMS, label
from dashboard.queries import to_weekly

ctx = current()
f = ctx.scope.filters
st.title("总览")
st.caption(f"{f.start:%Y-%m-%d} 至 {f.end:%Y-%m-%d}（{f.days} 天），与前 {f.days} 天对比")

if not cache.q(ctx.db_url, "catalog_counts")["scored"]:
    ui.no_data_yet()
    st.stop()

k = cache.q(ctx.db_url, "kpis", ctx.scope)
cur, prev, alerts = k["current"], k["previous"], k["alerts"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("声量（提及数）", f"{cur['mentions']:,}", delta=f"{cur['mentions'] - prev['mentions']:+,}", border=True)
share_delta = None if cur["positive_share"] is None or prev["positive_share"] is None else \
    f"{(cur['positive_share'] - prev['positive_share']) * 100:+.1f} 个百分点"
c2.metric("正面占比", ui.pct(cur["positive_share"]), delta=share_delta, border=True)
net_delta = None if cur["net_sentiment"] is None or prev["net_sentiment"] is None else \
    f"{cur['net_sentiment'] - prev['net_sentiment']:+.2f}"
c3.metric("净情感", "—" if cur["net_sentiment"] is None else f"{cur['net_sentiment']:+.2f}", delta=net_delta,
          border=True, help="(正面 − 负面) / (正面 + 负面)，范围 −1 到 +1")
c4.metric("待处理预警", alerts["open"], delta=f"本期新增 {alerts['opened']}（上期 {alerts['opened_prev']}）",
          delta_color="inverse" if alerts["opened"] > alerts["opened_prev"] else "off", border=True)

if cur["mentions"] == 0:
    ui.empty_state(ctx, "声量数据")
    st.stop()

left, right = st.columns([1, 1])
grain = left.segmented_control("粒度", ["按日", "按周"], default="按日", key="ov_grain")
split = right.segmented_control("拆分", ["不拆分", "品牌", "平台"], default="不拆分", key="ov_split")
split_key = {"品牌": "brand", "平台": "platform"}.get(split or "")
df = cache.q(ctx.db_url, "daily", ctx.scope, split_key)
if grain == "按周":
    df = to_weekly(df)
if split_key == "brand":
    df["label"] = df["key"].map(lambda b: ctx.name("brands", b))
elif split_key == "platform":
    df["label"] = df["key"].map(lambda p: label(PLATFORMS, p))
else:
    df["label"] = "全部"

st.subheader("声量趋势")
ui.chart(st, charts.volume_chart(df, split or "拆分"))
st.subheader("净情感趋势")
ui.chart(st, charts.sentiment_chart(df, split or "拆分"))
if cur["urgent"]:
    st.warning(f"本期有 {cur['urgent']} 条提及含紧急词（如 食物中毒、异物、投诉），请到「声量明细」勾选“仅紧急”查看。")
