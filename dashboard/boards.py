"""Shared layout of the Stores and Products pages: leaderboard table and detail blocks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache, charts, ui
from dashboard.context import Context
from dashboard.labels import ALERT_STATUS, SEVERITY, TOUCHPOINTS, label


def leaderboard_table(ctx: Context, board: pd.DataFrame, entity: str) -> None:
    """The leaderboard: volume, positive share with 95 % interval, net sentiment, change, sparkline."""
    view = pd.DataFrame({
        "名称": board["name"],
        "城市" if entity == "store" else "品类": board["city"] if entity == "store" else board["category"],
        "声量": board["total"].astype(int),
        "正面占比": board["pos_share"],
        "95% 区间": [f"{ui.pct(lo)} – {ui.pct(hi)}" for lo, hi in zip(board["ci_low"], board["ci_high"])],
        "净情感": board["net"],
        "较上期": board["change"],
        "负面": board["negative"].astype(int),
        "近30天声量": board["trend"],
    })
    st.dataframe(
        view, hide_index=True, placeholder="—", width="stretch",
        column_config={
            "正面占比": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0),
            "净情感": st.column_config.NumberColumn(format="%+.2f"),
            "较上期": st.column_config.NumberColumn(format="%+.2f", help="净情感与上一等长周期相比的变化"),
            "近30天声量": st.column_config.LineChartColumn(y_min=0, help="区间最后 30 天的每日提及数"),
        },
    )


ENTITY = {"store": ("门店", "stores"), "product": ("产品", "products")}


def leaderboard_section(ctx: Context, entity: str) -> pd.DataFrame:
    """Title, leaderboard of stores or products; stops the page with an empty state."""
    title, _ = ENTITY[entity]
    st.title(title)
    board = cache.q(ctx.db_url, "leaderboard", ctx.scope, entity)
    if board.empty:
        ui.empty_state(ctx, f"{title}声量")
        st.stop()
    st.subheader(f"{title}排行")
    st.caption("正面占比附 95% Wilson 置信区间：提及少的条目区间更宽，排名仅供参考。")
    leaderboard_table(ctx, board, entity)
    return board


def detail_section(ctx: Context, board: pd.DataFrame, entity: str, touchpoints: pd.DataFrame | None = None) -> None:
    """Pick one store / product and show its trend, touchpoints, keywords, alerts, latest mentions.

    ``touchpoints``: the page's store × touchpoint matrix; a store in it takes its row from
    there (the same counts: same range and filters, narrowed to the store) instead of a
    second read, other stores get their own. None: no touchpoint block (products).
    """
    st.divider()
    title, _ = ENTITY[entity]
    st.subheader(f"{title}详情")
    names = dict(zip(board["id"], board["name"]))
    picked = st.selectbox(f"选择{title}", list(names), format_func=lambda k: names[k], key=f"{entity}_detail")
    if not picked:
        return
    detail = ctx.scope.narrowed(**{f"{entity}s": (picked,)})
    trend_block(ctx, detail)
    left, right = st.columns(2)
    with left:
        if touchpoints is not None:
            st.markdown("**顾客触点**")
            touchpoint_bars(ctx, store_touchpoints(ctx, touchpoints, picked, detail))
        st.markdown("**投诉关键词**")
        keywords_block(ctx, detail)
    with right:
        st.markdown("**预警**")
        alerts_block(ctx, detail)
    st.markdown("**最新提及**")
    latest = cache.q(ctx.db_url, "mentions_page", detail, page_size=10)[0]
    ui.mentions_table(ctx, latest)


def store_touchpoints(ctx: Context, matrix: pd.DataFrame, store: str, detail: object) -> pd.DataFrame:
    """One store's touchpoint counts: its rows of the page's matrix, or a read of its own."""
    if "store_id" in matrix and (matrix["store_id"] == store).any():
        return matrix[matrix["store_id"] == store].reset_index(drop=True)
    return cache.q(ctx.db_url, "touchpoint_matrix", detail)


def trend_block(ctx: Context, scope: object) -> None:
    """Daily volume and net sentiment of a narrowed scope."""
    df = cache.q(ctx.db_url, "daily", scope, None)
    if df.empty:
        st.info("该周期内没有提及。")
        return
    df["label"] = "全部"
    a, b = st.columns(2)
    a.altair_chart(charts.volume_chart(df, "范围", height=220), width="stretch")
    b.altair_chart(charts.sentiment_chart(df, "范围", height=220), width="stretch")


def keywords_block(ctx: Context, scope: object) -> None:
    """Top keywords of negative mentions."""
    kw = cache.q(ctx.db_url, "complaint_keywords", scope)
    if kw.empty:
        st.caption("没有负面关键词。")
    else:
        st.altair_chart(charts.keyword_chart(kw, height=220), width="stretch")


def alerts_block(ctx: Context, scope: object) -> None:
    """The scope's alerts in every state (read-only; act on them on the 预警 page)."""
    al = cache.q(ctx.db_url, "alerts_table", scope, ("open", "acknowledged", "resolved"))
    if al.empty:
        st.caption("没有相关预警。")
        return
    st.dataframe(pd.DataFrame({
        "时间": pd.to_datetime(al["opened_at"], utc=True).dt.tz_convert(ctx.scope.tz).dt.tz_localize(None),
        "级别": al["severity"].map(lambda s: label(SEVERITY, s)),
        "状态": al["status"].map(lambda s: label(ALERT_STATUS, s)),
        "标题": al["title"],
    }), hide_index=True, placeholder="—", width="stretch")


def touchpoint_bars(ctx: Context, tp: pd.DataFrame) -> None:
    """Touchpoint net sentiment of one store as a heat row."""
    if tp.empty:
        st.caption("没有识别到顾客触点。")
        return
    tp = tp.assign(触点=tp["touchpoint"].map(lambda t: label(TOUCHPOINTS, t)), 门店="本店")
    st.altair_chart(charts.heatmap(tp, "触点", "门店", "触点", "", height=90), width="stretch")
