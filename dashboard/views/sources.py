"""数据源 Sources: each source's health — last run, status, items per run, errors, staleness."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache, ui
from dashboard.context import current
from dashboard.labels import PLATFORMS, RUN_STATUS, SOURCE_HEALTH, SOURCE_TYPES, label

ctx = current()
st.title("数据源")
health = cache.q(ctx.db_url, "source_health", ctx.scope)
if health.empty:
    st.info("还没有配置数据源。\n\n" + ui.ADD_SOURCE_HELP)
    st.stop()

tz = ctx.scope.tz


def _local(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, utc=True).dt.tz_convert(tz).dt.tz_localize(None)


bad = health[health["health"] != "ok"]
c1, c2, c3 = st.columns(3)
c1.metric("数据源", len(health), border=True)
c2.metric("异常", len(bad), border=True)
c3.metric("停用", int((~health["enabled"].astype(bool)).sum()), border=True)
if not bad.empty:
    st.warning("异常数据源：" + "、".join(f"{ui.md_escape(n)}（{label(SOURCE_HEALTH, h)}）"
                                        for n, h in zip(bad["name"], bad["health"])))

st.dataframe(pd.DataFrame({
    "数据源": health["name"],
    "类型": health["type"].map(lambda t: label(SOURCE_TYPES, t)),
    "平台": health["platform"].map(lambda p: label(PLATFORMS, p)),
    "门店": health["store_id"].map(lambda s: ctx.name("stores", s) if isinstance(s, str) else "—"),
    "启用": health["enabled"].astype(bool),
    "健康": health["health"].map(lambda h: label(SOURCE_HEALTH, h)),
    "最近运行": _local(health["last_run_at"]),
    "最近状态": health["last_status"].map(lambda s: label(RUN_STATUS, s) if isinstance(s, str) else "—"),
    "近7天运行": health["runs"].fillna(0).astype(int),
    "平均条数/次": health["avg_items"].round(1),
    "平均新增/次": health["avg_new"].round(1),
    "失败次数": health["failed_runs"].fillna(0).astype(int),
    "连续失败": health["consecutive_failures"].astype(int),
    "距上次新数据(小时)": health["stale_hours"].round(1),
    "最近错误": health["last_errors"].fillna(""),
}), hide_index=True, placeholder="—", width="stretch", height=ui.fit_height(len(health)), column_config={
    "最近运行": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
})

st.subheader("运行记录")
names = dict(zip(health["id"], health["name"]))
source = st.selectbox("选择数据源", list(names), key="src_detail", format_func=lambda i: names[i])
if source:
    runs = cache.q(ctx.db_url, "recent_runs", ctx.scope, source)
    if runs.empty:
        st.caption("近期没有运行记录。")
    else:
        st.dataframe(pd.DataFrame({
            "开始": _local(runs["started_at"]),
            "结束": _local(runs["finished_at"]),
            "状态": runs["status"].map(lambda s: label(RUN_STATUS, s)),
            "HTTP": runs["http_status"],
            "抓取": runs["items_seen"],
            "新增": runs["items_new"],
            "重复": runs["items_duplicate"],
            "错误": runs["errors"].map(lambda e: "; ".join(map(str, e or []))),
        }), hide_index=True, placeholder="—", width="stretch")
