"""Small shared page components: empty states, safe text, the mentions table."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.context import Context
from dashboard.labels import PLATFORMS, SENTIMENTS, label

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
    """Only http(s) links leave the dashboard (no javascript:, data:, …)."""
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return url
    return None


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


def pct(value: float | None, signed: bool = False) -> str:
    """0.123 → 12.3 %, None → —."""
    if value is None or value != value:
        return "—"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def present_mentions(ctx: Context, df: pd.DataFrame) -> pd.DataFrame:
    """Mentions with Chinese headers, local times and names, ready for a table or export."""
    out = pd.DataFrame({
        "时间": pd.to_datetime(df["published_at"], utc=True).dt.tz_convert(ctx.scope.tz).dt.tz_localize(None),
        "平台": df["platform"].map(lambda p: label(PLATFORMS, p)),
        "门店": df["store_id"].map(lambda s: ctx.name("stores", s)),
        "产品": df["product_id"].map(lambda p: ctx.name("products", p)),
        "情感": df["label"].map(lambda s: label(SENTIMENTS, s)),
        "正面概率": pd.to_numeric(df["score"]).round(2),
        "紧急": df["urgent"].map(lambda u: "是" if bool(u) else ""),
        "作者": df["author"].fillna(""),
        "内容": (df["title"].fillna("").map(lambda t: f"【{t}】" if t else "") + df["text"].fillna("")),
        "原文链接": df["url"].map(safe_url),
    })
    return out


def mentions_table(ctx: Context, df: pd.DataFrame, height: int | None = None) -> None:
    """The mentions as a plain data grid (text is never interpreted as HTML or Markdown)."""
    st.dataframe(
        present_mentions(ctx, df),
        hide_index=True, placeholder="—",
        width="stretch",
        height=height or "auto",
        column_config={
            "时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "内容": st.column_config.TextColumn(width="large"),
            "原文链接": st.column_config.LinkColumn(display_text="打开原文"),
            "正面概率": st.column_config.NumberColumn(format="%.2f"),
        },
    )


def chart(where: Any, spec: charts.ChartSpec) -> None:
    """Draw a :mod:`dashboard.charts` chart in ``where`` (``st`` or a column), full width."""
    where.vega_lite_chart(spec[0], charts.spec(spec), width="stretch")
