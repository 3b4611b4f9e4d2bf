"""处理与回复 Handling: per-store 及时率 / 解决率 / 回复率, and the reply queue with drafts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache, replies, ui
from dashboard.context import current
from dashboard.labels import PLATFORMS, TOUCHPOINTS, label

STATUS_VIEWS = {"未回复": ("pending",), "已回复": ("replied",), "无需回复": ("not_needed",), "全部": ()}


def _hours(value: float | None) -> str:
    if value is None or value != value:
        return "—"
    return f"{value * 60:.0f} 分钟" if value < 1 else f"{value:.1f} 小时"


def _share(done: float, due: float) -> float | None:
    return done / due if due else None


ctx = current()
f = ctx.scope.filters
st.title("处理与回复")
limits = cache.q(ctx.db_url, "handling_deadlines")
st.caption(f"{f.start:%Y-%m-%d} 至 {f.end:%Y-%m-%d} 期间新开的门店预警与负面提及。"
           f"时限：确认 {limits['acknowledge_minutes']} 分钟，解决 {limits['resolve_hours']} 小时，"
           f"回复 {limits['reply_hours']} 小时（tingfeng.toml 的 [alerts] escalate_after_minutes / "
           "resolve_within_hours 与 [replies] within_hours）。")

kpi = cache.q(ctx.db_url, "handling_kpis", ctx.scope)
if kpi.empty:
    ui.empty_state(ctx, "门店预警或负面提及")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
c1.metric("及时率", ui.pct(_share(kpi["responded_on_time"].sum(), kpi["response_due"].sum())), border=True,
          help="到期的预警中，在确认时限内被确认（或直接解决）的比例")
c2.metric("解决率", ui.pct(_share(kpi["resolved_on_time"].sum(), kpi["resolve_due"].sum())), border=True,
          help="到期的预警中，在解决时限内由人解决的比例；系统因声量回落自动关闭的不算")
c3.metric("回复率", ui.pct(_share(kpi["replied"].sum(), kpi["reply_needed"].sum())), border=True,
          help="需要回复的负面提及（未标记“无需回复”）中已回复的比例")
c4.metric("待回复负面", f"{int(kpi['reply_needed'].sum() - kpi['replied'].sum()):,}", border=True)
if not kpi["response_due"].sum():
    # a bare "—" read as broken: say why (the demo's alerts were all still within their deadline)
    st.caption(f"及时率、解决率为“—”：本期 {int(kpi['alerts'].sum())} 条门店预警都还没到确认时限，到期后才计入。")

st.subheader("各门店处理时效（最差在前）")
st.dataframe(pd.DataFrame({
    "门店": kpi["store_id"].map(lambda s: ctx.name("stores", s)),
    "预警": kpi["alerts"].astype(int),
    "及时率": kpi["on_time_rate"].map(ui.pct),
    "确认用时（中位）": kpi["median_response_hours"].map(_hours),
    "解决率": kpi["resolve_rate"].map(ui.pct),
    "解决用时（中位）": kpi["median_resolve_hours"].map(_hours),
    "负面提及": kpi["negative"].astype(int),
    "回复率": kpi["reply_rate"].map(ui.pct),
    "回复用时（中位）": kpi["median_reply_hours"].map(_hours),
}), hide_index=True, width="stretch", height=ui.fit_height(len(kpi)))

st.subheader("差评回复")
flash = st.session_state.pop("reply_flash", None)
if flash:
    (st.success if flash[0] else st.error)(flash[1])
view = st.segmented_control("回复状态", list(STATUS_VIEWS), default="未回复", key="rp_view") or "未回复"
queue = cache.q(ctx.db_url, "reply_queue", ctx.scope, STATUS_VIEWS[view])
if queue.empty:
    st.info("没有符合条件的负面提及。" if view != "未回复" else "所有负面提及都已处理。")
    st.stop()
st.caption(f"最新的 {len(queue)} 条（最多 50 条），新的在前。选择一条查看回复草稿并标记状态。")
st.dataframe(pd.DataFrame({
    "编号": queue["mention_id"].map(lambda i: f"#{i}"),
    "时间": pd.to_datetime(queue["published_at"], utc=True).dt.tz_convert(ctx.scope.tz).dt.tz_localize(None),
    "平台": queue["platform"].map(lambda p: label(PLATFORMS, p)),
    "门店": queue["store_id"].map(lambda s: ctx.name("stores", s)),
    "产品": queue["product_id"].map(lambda p: ctx.name("products", p)),
    "触点": queue["touchpoint"].map(lambda t: label(TOUCHPOINTS, t) if t else "—"),
    "内容": queue["text"],
    "状态": queue["status"].map(replies.STATUS_LABELS.get),
    "回复人": queue["replied_by"].fillna(""),
}), hide_index=True, width="stretch", placeholder="—",
    column_config={"时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                   "内容": st.column_config.TextColumn(width="large")})

rows = {int(r["mention_id"]): r for r in queue.to_dict("records")}
picked = st.selectbox("处理哪一条", list(rows), key="rp_pick",
                      format_func=lambda i: f"#{i} {ctx.name('stores', rows[i]['store_id'])} · {rows[i]['text'][:30]}")
if picked is not None:
    row = rows[picked]
    with st.container(border=True):
        st.markdown(f"**{ui.md_escape(ctx.name('stores', row['store_id']))}** · "
                    f"{label(PLATFORMS, row['platform'])} · 状态：{replies.STATUS_LABELS.get(row['status'])}"
                    + (f"（{ui.md_escape(row['replied_by'])} 回复）" if row["replied_by"] else ""))
        st.text(row["text"])
        url = ui.safe_url(row["url"])
        if url:
            st.link_button("打开原文去回复", url)
        text = st.text_area("回复内容（按触点模板生成，可修改后复制到平台）", value=row["reply_text"] or row["draft"],
                            key=f"rp_text_{picked}", height=120)
        b1, b2, b3, _ = st.columns([1, 1, 1, 3])
        if b1.button("标记已回复", key=f"rp_done_{picked}", type="primary"):
            st.session_state["reply_flash"] = replies.set_status(ctx, picked, "replied", text)
            st.rerun()
        if b2.button("无需回复", key=f"rp_skip_{picked}"):
            st.session_state["reply_flash"] = replies.set_status(ctx, picked, "not_needed")
            st.rerun()
        if row["status"] != "pending" and b3.button("改回未回复", key=f"rp_undo_{picked}"):
            st.session_state["reply_flash"] = replies.set_status(ctx, picked, "pending")
            st.rerun()
