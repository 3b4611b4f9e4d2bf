"""Shared layout of the Stores and Products pages: leaderboard table and detail blocks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cache, charts, ui
from dashboard.context import Context
from dashboard.labels import ALERT_STATUS, SEVERITY, TOUCHPOINT_COLUMNS, TOUCHPOINTS, label
from dashboard.queries import to_weekly
from dashboard.queries.metrics import MIN_N
from nlp.keywords import LEXICON_MIN_COUNT, URGENT_MIN_COUNT


ALERT_MARK = {"critical": "严重", "warning": "警告", "info": "提示"}


def _highlight(view: pd.DataFrame, flagged: pd.Series) -> object:
    """Rows with an open alert tinted red (a Styler; the grid keeps its column types)."""
    tint = "background-color: #fdecea"
    return view.style.apply(lambda row: [tint if isinstance(flagged.iloc[row.name], str) else ""] * len(row), axis=1)


def leaderboard_table(ctx: Context, board: pd.DataFrame, entity: str) -> None:
    """The leaderboard, worst first: open alert, volume, corrected positive and negative share
    with 95 % interval (样本不足 for too few mentions), net sentiment, change, sparkline."""
    view = pd.DataFrame({
        "预警": board["alert"].map(lambda s: ALERT_MARK.get(s, "") if isinstance(s, str) else ""),
        "名称": board["name"],
        "城市" if entity == "store" else "品类": board["city"] if entity == "store" else board["category"],
        "声量": board["total"].astype(int),
        "正面占比": board["pos_text"],
        "负面占比": board["neg_text"],
        "净情感": board["net"],
        "较上期": board["change"],
        "负面": board["negative"].astype(int),
        **({"连锁标准": board["below_standard"].map(lambda b: "低于连锁标准" if b else "")} if entity == "store" else {}),
        "近30天声量": board["trend"],
    })
    st.dataframe(
        _highlight(view, board["alert"]), hide_index=True, placeholder="—", width="stretch",
        height=ui.fit_height(len(view)),
        column_config={
            "预警": st.column_config.TextColumn(help="待处理或已确认、尚未解决的预警中最严重的级别"),
            "正面占比": st.column_config.TextColumn(help=ui.SHARE_HELP),
            "负面占比": st.column_config.TextColumn(help=ui.SHARE_HELP),
            "连锁标准": st.column_config.TextColumn(help=ui.STANDARD_HELP),
            "净情感": st.column_config.NumberColumn(format="%+.2f"),
            "较上期": st.column_config.NumberColumn(format="%+.2f", help="净情感与上一等长周期相比的变化"),
            "近30天声量": st.column_config.LineChartColumn(y_min=0, help="区间最后 30 天的每日提及数"),
        },
    )


ENTITY = {"store": ("门店", "stores"), "product": ("产品", "products")}
MATRIX = {"store": "touchpoint_matrix", "product": "product_touchpoint_matrix"}  # × touchpoint query per entity


def leaderboard_section(ctx: Context, entity: str) -> pd.DataFrame:
    """Title, leaderboard of stores or products; stops the page with an empty state."""
    title, _ = ENTITY[entity]
    st.title(title)
    board = cache.q(ctx.db_url, "concern_board", ctx.scope, entity)
    if board.empty:
        ui.empty_state(ctx, f"{title}声量")
        st.stop()
    st.subheader(f"{title}排行")
    st.caption("最需要关注的排最前：有未解决预警的（红底）在先，其余按净情感低、较上期下降多排序。"
               f"{ui.SHARE_CAPTION}")
    leaderboard_table(ctx, board, entity)
    if entity == "store":
        below = board[board["below_standard"]]
        if below.empty:
            st.caption("本期没有门店的负面占比显著高于连锁标准。")
        else:
            st.warning("低于连锁标准（负面占比显著高于全连锁）：" + "、".join(ui.md_escape(n) for n in below["name"]),
                       icon=":material/trending_down:")
    return board


def touchpoint_heatmap(ctx: Context, board: pd.DataFrame, entity: str, top: int = 25) -> pd.DataFrame:
    """The ``top`` stores (or products) of the leaderboard, worst first, × touchpoint; returns the matrix."""
    title, kind = ENTITY[entity]
    st.subheader(f"{title} × 顾客触点")
    shown = tuple(board["id"][:top])
    tp = cache.q(ctx.db_url, MATRIX[entity], ctx.scope, shown)
    if tp.empty:
        st.caption("没有识别到顾客触点。")
        return tp
    heat = tp.assign(**{title: tp[f"{entity}_id"].map(lambda k: ctx.short(kind, k)),
                        "触点": tp["touchpoint"].map(lambda t: label(TOUCHPOINTS, t))})
    more = f"排行中最需要关注的 {len(shown)} 个{title}" if len(board) > len(shown) else f"全部 {len(shown)} 个{title}"
    st.caption(f"颜色为净情感（红＝负面多，绿＝正面多），数字为提及数；{more}，与排行同序（最需要关注的在上）。")
    ui.chart(st, charts.heatmap(heat, "触点", title, "触点", title, rows=[ctx.short(kind, k) for k in shown],
                                columns=TOUCHPOINT_COLUMNS))
    return tp


def touchpoint_standing_section(ctx: Context) -> None:
    """Store × touchpoint against the chain's own share on each touchpoint, one compact table:
    the flagged pairs first (most significant first), then the other tested pairs
    (``queries.touchpoint_standing``); the untested small samples are counted, not listed."""
    st.subheader("触点连锁标准")
    df = cache.q(ctx.db_url, "touchpoint_standing", ctx.scope)
    tested = df[~df["small_sample"].astype(bool)] if not df.empty else df
    untested = len(df) - len(tested)
    st.caption(f"{ui.TOUCHPOINT_STANDARD_HELP} 本期检验 {len(tested)} 组“门店 × 触点”，"
               f"{untested} 组该触点提及不足 {MIN_N} 条，未检验。")
    if tested.empty:
        st.caption("没有足够提及的“门店 × 触点”可以检验。")
        return
    n_flagged = int(tested["flagged"].sum())
    if n_flagged:
        st.warning(f"{n_flagged} 组“门店 × 触点”的负面占比显著高于连锁标准（排在表首）。", icon=":material/trending_down:")
    else:
        st.caption("本期没有门店在任何触点上显著差于连锁标准。")
    st.dataframe(pd.DataFrame({
        "门店": tested["store_id"].map(lambda k: ctx.short("stores", k)),
        "触点": tested["touchpoint"].map(lambda t: label(TOUCHPOINTS, t)),
        "提及": tested["total"].astype(int),
        "本店负面占比": tested["neg_text"],
        "连锁负面占比": tested["chain_text"],
        "p 值": tested["p_value"].astype(float),
        "结论": tested["flagged"].map(lambda f: "低于连锁标准" if f else "无显著差异"),
    }), hide_index=True, placeholder="—", width="stretch", height=min(36 * (len(tested) + 1) + 3, 360),
        column_config={"本店负面占比": st.column_config.TextColumn(help=ui.SHARE_HELP),
                       "连锁负面占比": st.column_config.TextColumn(help="本范围内参与检验的门店在该触点上的合计（已校正，95% 区间）"),
                       "p 值": st.column_config.NumberColumn(format="%.4f", help="单侧 p 值（未经多重检验校正；结论已按 Benjamini–Hochberg 校正）"),
                       "结论": st.column_config.TextColumn(help=ui.TOUCHPOINT_STANDARD_HELP)})


def detail_section(ctx: Context, board: pd.DataFrame, entity: str, touchpoints: pd.DataFrame) -> None:
    """Pick one store / product and show its trend, touchpoints, keywords, alerts, latest mentions.

    Nothing is read or drawn until one is picked (the only one is picked for a viewer with
    one), so the page's first render is the leaderboard and the matrices alone.
    ``touchpoints``: the page's store (product) × touchpoint matrix; a key in it takes its
    rows from there (the same counts: same range and filters, narrowed to the key) instead
    of a second read, other keys get their own.
    """
    st.divider()
    title, _ = ENTITY[entity]
    st.subheader(f"{title}详情")
    names = dict(zip(board["id"], board["name"]))
    picked = st.selectbox(f"选择{title}", list(names), format_func=lambda k: names[k], key=f"{entity}_detail",
                          index=0 if len(names) == 1 else None,
                          placeholder=f"选择一个{title}，查看趋势、顾客触点、投诉关键词、预警和最新提及")
    if not picked:
        return
    detail = ctx.scope.narrowed(**{f"{entity}s": (picked,)})
    trend_block(ctx, detail)
    left, right = st.columns(2)
    with left:
        st.markdown("**顾客触点**")
        touchpoint_bars(ctx, own_touchpoints(ctx, touchpoints, entity, picked, detail), entity)
        st.markdown("**投诉关键词**")
        keywords_block(ctx, detail)
    with right:
        st.markdown("**预警**")
        alerts_block(ctx, detail)
    st.markdown("**最新提及**")
    latest = cache.q(ctx.db_url, "mentions_page", detail, page_size=10)[0]
    ui.mentions_table(ctx, latest, key=f"{entity}_latest")


def own_touchpoints(ctx: Context, matrix: pd.DataFrame, entity: str, key: str, detail: object) -> pd.DataFrame:
    """One store's (product's) touchpoint counts: its rows of the page's matrix, or a read of its own."""
    column = f"{entity}_id"
    if column in matrix and (matrix[column] == key).any():
        return matrix[matrix[column] == key].reset_index(drop=True)
    return cache.q(ctx.db_url, MATRIX[entity], detail)


def trend_block(ctx: Context, scope: object) -> None:
    """Daily volume and net sentiment of a narrowed scope."""
    df = cache.q(ctx.db_url, "daily", scope, None)
    if df.empty:
        st.info("该周期内没有提及。")
        return
    per_day = df.groupby("day")["total"].sum()
    if per_day.median() < MIN_N:
        # one store's day holds a handful of posts, each day's net swings ±1 and hides when it turned
        df = to_weekly(df)
        st.caption(f"每天提及较少（中位 {per_day.median():.0f} 条），按周显示；首尾两周可能不满一周。")
    df["label"] = "全部"
    a, b = st.columns(2)
    ui.chart(a, charts.volume_chart(df, "范围", height=220))
    ui.chart(b, charts.sentiment_chart(df, "范围", height=220))


def keywords_block(ctx: Context, scope: object) -> None:
    """Why customers complain now: the phrases over-represented in negative mentions against the
    complaints before, filled up from the complaint lexicon when they are few (said so in a
    caption), each with an example."""
    kw = cache.q(ctx.db_url, "complaint_keywords", scope)
    if kw.empty:
        st.caption("与此前相比，没有突出的投诉词。")
        return
    st.dataframe(pd.DataFrame({"投诉词": kw["keyword"], "负面提及": kw["count"].astype(int), "例句": kw["example"]}),
                 hide_index=True, width="stretch",
                 column_config={"负面提及": st.column_config.NumberColumn(help="用到该词的负面提及数"),
                                "例句": st.column_config.TextColumn(width="large")})
    lexicon = kw.loc[kw["source"] == "lexicon", "keyword"].tolist()
    if len(lexicon) < len(kw):
        st.caption("投诉词：负面提及中明显多于此前的差评、也多于顾客平时所说的词，按提及数排列。")
    if lexicon:  # filled in where the comparison finds too few (nlp.keywords.lexicon_phrases)
        st.caption(f"{'、'.join(lexicon)}：投诉词表中的词，{'与此前相比没有突出的投诉词，' if len(lexicon) == len(kw) else ''}"
                   f"负面提及中至少 {LEXICON_MIN_COUNT} 条用到（紧急词 {URGENT_MIN_COUNT} 条即可）。")


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


def touchpoint_bars(ctx: Context, tp: pd.DataFrame, entity: str) -> None:
    """Touchpoint net sentiment of one store (product) as a heat row."""
    if tp.empty:
        st.caption("没有识别到顾客触点。")
        return
    tp = tp.assign(触点=tp["touchpoint"].map(lambda t: label(TOUCHPOINTS, t)), 范围="本店" if entity == "store" else "本品")
    ui.chart(st, charts.heatmap(tp, "触点", "范围", "触点", "", columns=TOUCHPOINT_COLUMNS))
