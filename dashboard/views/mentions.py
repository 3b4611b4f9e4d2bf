"""声量明细 Mentions: the posts themselves, filtered, paginated, exportable."""

from __future__ import annotations

import math

import streamlit as st

from dashboard import cache, export, ui
from dashboard.context import current
from dashboard.labels import SENTIMENTS, TOUCHPOINTS
from dashboard.queries import MentionFilters

PAGE_SIZES = [25, 50, 100, 200]

ctx = current()
st.title("声量明细")
c1, c2, c3, c4 = st.columns([2, 2, 3, 1])
sentiments = c1.multiselect("情感", list(SENTIMENTS), format_func=SENTIMENTS.get, key="m_sent", placeholder="全部")
touchpoints = c2.multiselect("顾客触点", list(TOUCHPOINTS), format_func=TOUCHPOINTS.get, key="m_tp", placeholder="全部")
keyword = c3.text_input("关键词搜索", key="m_kw", placeholder="例如：排队、拉肚子、新品")
urgent = c4.checkbox("仅紧急", key="m_urgent")
mf = MentionFilters(sentiments=tuple(sentiments), touchpoints=tuple(touchpoints), urgent_only=urgent,
                    keyword=keyword.strip()[:100])

p1, p2 = st.columns([1, 5])
page_size = p1.selectbox("每页", PAGE_SIZES, index=1, key="m_size")
probe, total, exact = cache.q(ctx.db_url, "mentions_page", ctx.scope, mf, 1, page_size)
pages = max(1, math.ceil(total / page_size))
page = ui.page_number(p2, pages, key="m_page")
rows = probe if page == 1 else cache.q(ctx.db_url, "mentions_page", ctx.scope, mf, int(page), page_size)[0]

st.caption(f"共 {total:,} 条提及" if exact else f"超过 {total:,} 条提及（仅可翻阅前 {total:,} 条，请缩小筛选范围）")
if total == 0:
    ui.empty_state(ctx, "符合条件的提及")
    st.stop()
ui.mentions_table(ctx, rows, height=min(38 * (len(rows) + 1) + 4, 720), key="m_table")

st.subheader("导出")
st.caption("导出当前筛选条件下的全部提及（最多 100,000 条）。")
if st.button("生成导出文件", key="m_export"):
    full = ui.present_mentions(ctx, cache.q(ctx.db_url, "mentions_export", ctx.scope, mf), short=False)
    st.session_state["m_export_files"] = (export.to_csv_bytes(full), export.to_excel_bytes(full), len(full))
files = st.session_state.get("m_export_files")
if files:
    stamp = f"{ctx.scope.filters.start:%Y%m%d}-{ctx.scope.filters.end:%Y%m%d}"
    d1, d2, d3 = st.columns([1, 1, 4])
    d1.download_button("下载 CSV", files[0], file_name=f"声量明细_{stamp}.csv", mime="text/csv", key="m_csv")
    d2.download_button("下载 Excel", files[1], file_name=f"声量明细_{stamp}.xlsx", key="m_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    d3.caption(f"{files[2]:,} 条")
