"""Small shared page components: empty states, safe text, the mentions table."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.context import Context
from dashboard.labels import PLATFORMS, SENTIMENTS, label
from dashboard.queries.metrics import MIN_N, SMALL_SAMPLE, SentimentShares
from storage.retention import PRUNED_NOTE

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:])")

ADD_SOURCE_HELP = (
    "在 `tingfeng.toml` 中添加 `[[sources]]`（RSS/RSSHub 订阅、点评/美团后台导出的 CSV/XLSX、"
    "MediaCrawler 输出目录或配置化的网页/JSON 接口），运行 `tingfeng sync` 同步目录，"
    "再等待定时采集或手动运行一次采集任务；评分和汇总完成后数据会出现在这里。"
)


def md_escape(text: object) -> str:
    """Escape Markdown so outside text (posts, names) renders literally, never as markup or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", str(text if text is not None else "")).replace("\n", " ")


def safe_url(url: object) -> str | None:
    """An outside link fit to open: http(s) with a host, no spaces or control characters
    (no javascript:, data:, …); characters a URL may not carry are percent-escaped."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return quote(text, safe=":/?#[]@!$&'()*+,;=%-._~")


def empty_state(ctx: Context, what: str = "数据") -> None:
    """Explain why a view is empty and what to do about it."""
    if ctx.access.restricted and not ctx.access.stores:
        st.info("您的账号还没有关联任何门店或区域。请联系管理员在 `tingfeng.toml` 的 recipients 中设置您的门店范围。")
        return
    st.info(f"当前筛选条件下没有{what}。可以放宽日期范围或清除侧栏中的筛选条件。")


def page_number(where: Any, pages: int, key: str) -> int:
    """The page-number box (1 … ``pages``) in ``where``. A page kept from before a filter left
    fewer pages is clamped to the new last page before the box is drawn: no empty page, and no
    out-of-range value for the widget."""
    if int(st.session_state.get(key, 1) or 1) > pages:
        st.session_state[key] = pages
    return int(where.number_input(f"页码（共 {pages} 页）", min_value=1, max_value=pages, step=1, key=key))


def no_data_yet() -> None:
    """The state of a fresh install: nothing collected or scored yet."""
    st.info("还没有任何已评分的声量数据。\n\n" + ADD_SOURCE_HELP)


SHARE_HELP = (f"已按情感模型在校准集上的误判率校正（调整计数），括号内为 95% 区间；"
              f"提及少于 {MIN_N} 条显示“{SMALL_SAMPLE}”，不给百分比。")
SHARE_CAPTION = (f"正面/负面占比已按模型误判率校正，括号内为 95% 区间（提及少的区间更宽）；"
                 f"提及少于 {MIN_N} 条的显示“{SMALL_SAMPLE}”。")

STANDARD_HELP = (f"负面占比显著高于全连锁（本表门店合计）：单侧检验，按门店间正常差异放宽，"
                 f"Benjamini–Hochberg 控制误报率 5%，且至少高 5 个百分点；提及少于 {MIN_N} 条的门店不参与。")
TOUCHPOINT_STANDARD_HELP = (f"每个触点各自比较：门店在该触点上的负面占比与本范围全部门店在同一触点上的合计相比，"
                            f"单侧检验，按门店间正常差异放宽；全部“门店 × 触点”一起做 Benjamini–Hochberg，"
                            f"误报率控制在 5%，且至少高 5 个百分点；该触点提及少于 {MIN_N} 条的门店不参与（样本不足）。")


def share_metric(shares: SentimentShares) -> tuple[str, str]:
    """A KPI card's value and help for a corrected positive share: ``72.4%`` or ``样本不足``."""
    s = shares.positive
    if s.small_sample or s.estimate is None:
        return SMALL_SAMPLE, f"只有 {shares.n} 条提及（少于 {MIN_N} 条），占比说明不了什么。"
    return pct(s.estimate), f"{s.display()}。{SHARE_HELP}"


def net_text(net: float | None, n: int) -> str:
    """A net sentiment worth reading: ``+0.33``; ``样本不足（5 条）`` below :data:`MIN_N`
    mentions (one or two posts swing it to ±1.00); ``—`` without any opinion."""
    if net is None or net != net:
        return "—"
    if n < MIN_N:
        return f"{SMALL_SAMPLE}（{int(n)} 条）"
    return f"{net:+.2f}"


def pct(value: float | None, signed: bool = False) -> str:
    """0.123 → 12.3 %, None → —."""
    if value is None or value != value:
        return "—"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def _content(df: pd.DataFrame) -> pd.Series:
    """Title (in 【】) and text of each mention (a note where retention removed them)."""
    content = df["title"].fillna("").map(lambda t: f"【{t}】" if t else "") + df["text"].fillna("")
    return content.mask(content == "", PRUNED_NOTE)


def stars_zh(rating: object) -> str:
    """"2星" for a rating (the stars decide the 情感 where clear: :mod:`nlp.ratings`), "" when unrated."""
    try:
        value = float(rating)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return f"{value:g}星" if value >= 1 else ""


def present_mentions(ctx: Context, df: pd.DataFrame, short: bool = True) -> pd.DataFrame:
    """Mentions with Chinese headers, local times and names, ready for a table or export:
    what was said and the link to it first, the bookkeeping after. ``short``: store names
    without the brand (tables); an export keeps them whole."""
    store = ctx.short if short else ctx.name
    return pd.DataFrame({
        "时间": pd.to_datetime(df["published_at"], utc=True).dt.tz_convert(ctx.scope.tz).dt.tz_localize(None),
        "门店": df["store_id"].map(lambda s: store("stores", s)),
        "产品": df["product_id"].map(lambda p: ctx.name("products", p)),
        "情感": df["label"].map(lambda s: label(SENTIMENTS, s)),
        "内容": _content(df),
        "原文链接": df["url"].map(safe_url),
        "星级": df["rating"].map(stars_zh),
        "平台": df["platform"].map(lambda p: label(PLATFORMS, p)),
        "紧急": df["urgent"].map(lambda u: "是" if bool(u) else ""),
        "正面概率": pd.to_numeric(df["score"]).round(2),
        "作者": df["author"].fillna(""),
    })


def mention_detail(ctx: Context, row: pd.Series) -> None:
    """One mention in full: who, where, when, the whole text (plain, never markup) and its link."""
    shown = present_mentions(ctx, row.to_frame().T).iloc[0]
    with st.container(border=True):
        st.caption(" · ".join(str(v) for v in (f"{shown['时间']:%Y-%m-%d %H:%M}", shown["平台"], shown["门店"],
                                               shown["产品"], shown["情感"], shown["作者"]) if v and v != "—"))
        st.text(shown["内容"])
        if shown["原文链接"]:
            st.link_button("打开原文", shown["原文链接"])
        else:
            st.caption("没有可打开的原文链接。")


def mentions_table(ctx: Context, df: pd.DataFrame, height: int | None = None, key: str = "mentions") -> None:
    """The mentions as a plain data grid (text is never interpreted as HTML or Markdown);
    a row picked in it is shown whole below (:func:`mention_detail`)."""
    event = st.dataframe(
        present_mentions(ctx, df),
        hide_index=True, placeholder="—",
        width="stretch",
        height=height or "auto",
        key=key, on_select="rerun", selection_mode="single-row",
        column_config={
            "时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "内容": st.column_config.TextColumn(width="large", help="点选行首的方框，在表格下方查看全文"),
            "原文链接": st.column_config.LinkColumn(display_text="打开原文"),
            "正面概率": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    picked = [i for i in event.selection.rows if i < len(df)] if event is not None else []
    if picked:
        mention_detail(ctx, df.iloc[picked[0]])
    else:
        st.caption("点选一行，在这里查看全文和原文链接。")


GRID_ROW_PX = 35  # Streamlit's data grid: one row (and the header) this tall, plus a 3 px border


def fit_height(rows: int, most: int = 30) -> int:
    """A data grid's height showing all its ``rows`` (up to ``most``, then it scrolls): the default
    shows ten, so the 11th and 12th store of a ranking hid below the fold."""
    return GRID_ROW_PX * (min(max(rows, 1), most) + 1) + 3


def chart(where: Any, spec: charts.ChartSpec) -> None:
    """Draw a :mod:`dashboard.charts` chart in ``where`` (``st`` or a column), full width."""
    where.vega_lite_chart(spec[0], charts.spec(spec), width="stretch")
