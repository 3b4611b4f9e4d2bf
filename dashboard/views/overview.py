"""总览 Overview: what needs attention now (open alerts, stores and products going bad,
urgent mentions), then KPI cards with period-over-period deltas and the trends."""

from __future__ import annotations

import streamlit as st

import re

import pandas as pd

from dashboard import cache, charts, ui
from dashboard.context import Context, current
from dashboard.labels import PLATFORMS, SEVERITY, label
from dashboard.queries import to_weekly

SEVERITY_ICON = {"critical": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}
SEVERITY_DOT = {"critical": ":red[●]", "warning": ":orange[●]", "info": ":blue[●]"}
URGENT_CHARS = 80  # an urgent mention's text on the overview; the rest behind "…" and its link
_TAG = re.compile(r"^\s*【[^】]{1,8}】\s*")


def _heading(title: str, empty: str, anything: bool) -> bool:
    """A block's bold heading, and the caption saying there is nothing when there is not."""
    st.markdown(f"**{title}**")
    if not anything:
        st.caption(empty)
    return anything


def _alert_links(ctx: Context, att: dict) -> None:
    """The open alerts, most severe first, each a link to its page."""
    if not _heading(f"待处理预警（{att['open_alerts']}）", "目前没有待处理的预警。", att["open_alerts"] > 0):
        return
    for a in att["alerts"].to_dict("records"):
        opened = pd.Timestamp(a["opened_at"]).tz_convert(ctx.scope.tz).strftime("%m-%d %H:%M")
        what = _TAG.sub("", str(a["title"])).replace(ctx.scope_name(a["scope_type"], a["scope_id"]).replace(" · ", "·"), "")
        for brand in ctx.names.get("brands", {}).values():  # the scope is named already
            what = what.replace(brand, "").strip()
        st.page_link("views/alerts.py", query_params={"alert": str(a["id"])},
                     icon=SEVERITY_ICON.get(a["severity"], ":material/circle:"),
                     label=f"{label(SEVERITY, a['severity'])} · {ctx.scope_name(a['scope_type'], a['scope_id'], short=True)}"
                           f" · {opened}", help=str(a["title"]))
        # on its own line: a link label never wraps, and the reason was cut mid-word ("12315、")
        st.caption(ui.md_escape(what))
    if att["open_alerts"] > len(att["alerts"]):
        st.page_link("views/alerts.py", label=f"查看全部 {att['open_alerts']} 条预警 →")


def _movers(ctx: Context, board: pd.DataFrame, kind: str, what: str) -> None:
    """Stores (products) going bad: net sentiment, its change, corrected positive share with its interval."""
    if not _heading(f"变差的{what}", f"没有明显变差的{what}。", not board.empty):
        return
    for r in board.to_dict("records"):
        change = "（无上期数据）" if r["change"] != r["change"] else f"，较上期 {r['change']:+.2f}"
        flag = f"{SEVERITY_DOT.get(r['alert'], '')} " if isinstance(r["alert"], str) else ""  # an open alert
        st.markdown(f"{flag}**{ui.md_escape(ctx.short(kind, r['id']))}**　净情感 {r['net']:+.2f}{change}　"
                    f"正面占比 {r['pos_text']}，{int(r['total'])} 条")


def _urgent(ctx: Context, att: dict) -> None:
    """The newest urgent mentions, with their store and product."""
    if not _heading(f"紧急提及（本期 {att['urgent_total']} 条）", "本期没有含紧急词的提及。", att["urgent_total"] > 0):
        return
    for m in att["urgent"].to_dict("records"):
        at = pd.Timestamp(m["published_at"]).tz_convert(ctx.scope.tz).strftime("%m-%d %H:%M")
        where = " · ".join(x for x in (ctx.short("stores", m["store_id"]) if pd.notna(m["store_id"]) else "",
                                        ctx.name("products", m["product_id"]) if pd.notna(m["product_id"]) else "")
                           if x)
        text = str(m["text"])
        text = text if len(text) <= URGENT_CHARS else text[:URGENT_CHARS] + "…"
        link = ui.safe_url(m["url"])
        st.markdown(f"{at}　**{ui.md_escape(where or '未关联门店')}**　{ui.md_escape(text)}"
                    + (f"　[原文]({link.replace('(', '%28').replace(')', '%29')})" if link else ""))
    st.caption("全部紧急提及：在「声量明细」勾选“仅紧急”。")

ctx = current()
f = ctx.scope.filters
st.title("总览")
st.caption(f"{f.start:%Y-%m-%d} 至 {f.end:%Y-%m-%d}（{f.days} 天），与前 {f.days} 天对比")

if not cache.q(ctx.db_url, "catalog_counts")["scored"]:
    ui.no_data_yet()
    st.stop()

att = cache.q(ctx.db_url, "attention", ctx.scope)
st.subheader("需要关注")
with st.container(border=True):
    left, right = st.columns([1, 1])
    with left:
        _alert_links(ctx, att)
        _urgent(ctx, att)
    with right:
        _movers(ctx, att["stores"], "stores", "门店")
        _movers(ctx, att["products"], "products", "产品")

k = cache.q(ctx.db_url, "kpis", ctx.scope)
cur, prev, alerts = k["current"], k["previous"], k["alerts"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("声量（提及数）", f"{cur['mentions']:,}", delta=f"{cur['mentions'] - prev['mentions']:+,}", border=True)
share_delta = None if cur["positive_share"] is None or prev["positive_share"] is None else \
    f"{(cur['positive_share'] - prev['positive_share']) * 100:+.1f} 个百分点"
share_value, share_help = ui.share_metric(cur["shares"])
c2.metric("正面占比（校正）", share_value, delta=share_delta, border=True, help=share_help)
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
