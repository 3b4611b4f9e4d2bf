"""声量明细 Mentions: the posts themselves, filtered, paginated, exportable, correctable."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import audit, cache, corrections, export, ui
from dashboard.context import current
from dashboard.labels import SENTIMENTS, TOUCHPOINTS
from dashboard.queries import MentionFilters
from storage.corrections import NOT_ABOUT, Target

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

st.caption((f"共 {total:,} 条提及" if exact else f"超过 {total:,} 条提及（仅可翻阅前 {total:,} 条，请缩小筛选范围）")
           + "。带星级的评价按顾客自己的星级计情感（1–2星负面、4–5星正面），3星和无星级的按文本模型判断。")
if total == 0:
    ui.empty_state(ctx, "符合条件的提及")
    st.stop()
ui.mentions_table(ctx, rows, height=min(38 * (len(rows) + 1) + 4, 720), key="m_table")

flash = st.session_state.pop("fix_flash", None)
if flash:
    (st.success if flash[0] else st.error)(flash[1])
if ctx.access.can_correct:
    st.subheader("更正标注")
    st.caption("情感或顾客触点判断错了？在此更正：记录更正人、时间和原标注，所有统计即时采用更正后的标注，"
               "并作为下次模型自适应（`tingfeng nlp adapt`）的训练信号。")
    local = pd.to_datetime(rows["published_at"], utc=True).dt.tz_convert(ctx.scope.tz).dt.strftime("%m-%d %H:%M")
    texts = dict(zip(rows["id"], local + " " + (rows["title"].fillna("") + rows["text"].fillna("")).str.slice(0, 40)))
    shown_label = dict(zip(rows["id"], rows["label"]))
    k1, k2, k3, k4 = st.columns([4, 1, 2, 2])
    mid = k1.selectbox("提及", list(rows["id"]), key="fix_id",
                       format_func=lambda i: f"#{i} {texts[i]}（{SENTIMENTS.get(shown_label[i], '—')}）")
    kind = k2.radio("更正项", ["sentiment", "touchpoint"], key="fix_kind",
                    format_func={"sentiment": "情感", "touchpoint": "顾客触点"}.get)
    touchpoint, choices, now_label = None, {**SENTIMENTS}, shown_label.get(mid)
    if kind == "touchpoint":
        shown = cache.q(ctx.db_url, "mention_touchpoints", int(mid))
        touchpoint = k3.selectbox("触点", list(TOUCHPOINTS), key="fix_tp",
                                  format_func=lambda t: f"{TOUCHPOINTS[t]}（当前：{SENTIMENTS.get(shown.get(t), '未提及')}）")
        choices, now_label = {**SENTIMENTS, NOT_ABOUT: "与该触点无关"}, shown.get(touchpoint, NOT_ABOUT)
    new_label = k4.selectbox("应为", [c for c in choices if c != now_label], format_func=choices.get, key="fix_label")
    if st.button("提交更正", key="fix_submit", type="primary"):
        st.session_state["fix_flash"] = corrections.submit(ctx, Target(int(mid), kind, touchpoint), new_label)
        st.rerun()

st.subheader("导出")
st.caption("导出当前筛选条件下的全部提及（最多 100,000 条）。")
if st.button("生成导出文件", key="m_export"):
    full = ui.present_mentions(ctx, cache.q(ctx.db_url, "mentions_export", ctx.scope, mf), short=False)
    st.session_state["m_export_files"] = (export.to_csv_bytes(full), export.to_excel_bytes(full), len(full))
    audit.exported(cache.database(ctx.db_url), ctx.scope, "mentions", len(full))
files = st.session_state.get("m_export_files")
if files:
    stamp = f"{ctx.scope.filters.start:%Y%m%d}-{ctx.scope.filters.end:%Y%m%d}"
    d1, d2, d3 = st.columns([1, 1, 4])
    d1.download_button("下载 CSV", files[0], file_name=f"声量明细_{stamp}.csv", mime="text/csv", key="m_csv")
    d2.download_button("下载 Excel", files[1], file_name=f"声量明细_{stamp}.xlsx", key="m_xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    d3.caption(f"{files[2]:,} 条")
