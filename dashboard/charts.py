"""Altair chart specs (also renderable to PNG/SVG for e-mails with vl-convert)."""

from __future__ import annotations

import altair as alt
import pandas as pd

FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
NET_SCALE = alt.Scale(domain=[-1, 1], scheme="redyellowgreen")


def _base(chart: alt.Chart, height: int) -> alt.Chart:
    return chart.properties(height=height).configure_axis(labelFont=FONT, titleFont=FONT).configure_legend(
        labelFont=FONT, titleFont=FONT).configure_title(font=FONT)


def _day_axis(data: pd.DataFrame) -> tuple[pd.DataFrame, alt.X]:
    """Days as ordered labels (bars get a proper band; year-long ranges thin out their labels)."""
    data = data.assign(日期=pd.to_datetime(data["day"]).dt.strftime("%Y-%m-%d"))
    axis = alt.Axis(labelExpr="slice(datum.value, 5)", labelOverlap=True, labelAngle=0)
    return data, alt.X("日期:O", title="日期", axis=axis, sort="ascending")


def volume_chart(df: pd.DataFrame, key_title: str = "拆分", height: int = 260) -> alt.Chart:
    """Stacked bars of mention volume per bucket, coloured by the split key."""
    data, x = _day_axis(df)
    chart = alt.Chart(data).mark_bar().encode(
        x=x,
        y=alt.Y("sum(total):Q", title="声量"),
        color=alt.Color("label:N", title=key_title),
        tooltip=[alt.Tooltip("日期:O", title="日期"), alt.Tooltip("label:N", title=key_title),
                 alt.Tooltip("total:Q", title="声量"), alt.Tooltip("negative:Q", title="负面")],
    )
    return _base(chart, height)


def sentiment_chart(df: pd.DataFrame, key_title: str = "拆分", height: int = 260) -> alt.Chart:
    """Net sentiment ((pos − neg) / (pos + neg)) per bucket and split key."""
    data = df.groupby(["day", "label"], as_index=False)[["positive", "negative", "total"]].sum()
    opinion = data["positive"] + data["negative"]
    data["net"] = ((data["positive"] - data["negative"]) / opinion).where(opinion > 0)
    data, x = _day_axis(data.dropna(subset=["net"]))
    chart = alt.Chart(data).mark_line(point=True).encode(
        x=x,
        y=alt.Y("net:Q", title="净情感", scale=alt.Scale(domain=[-1, 1])),
        color=alt.Color("label:N", title=key_title),
        tooltip=[alt.Tooltip("日期:O", title="日期"), alt.Tooltip("label:N", title=key_title),
                 alt.Tooltip("net:Q", title="净情感", format="+.2f"), alt.Tooltip("total:Q", title="声量")],
    )
    return _base(chart, height)


def heatmap(df: pd.DataFrame, x: str, y: str, x_title: str, y_title: str, height: int = 360) -> alt.Chart:
    """A net-sentiment heatmap (red = negative, green = positive) with volume in the tooltip."""
    chart = alt.Chart(df).mark_rect().encode(
        x=alt.X(f"{x}:N", title=x_title, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:N", title=y_title, sort="-x"),
        color=alt.Color("net:Q", title="净情感", scale=NET_SCALE),
        tooltip=[alt.Tooltip(f"{y}:N", title=y_title), alt.Tooltip(f"{x}:N", title=x_title),
                 alt.Tooltip("total:Q", title="提及"), alt.Tooltip("negative:Q", title="负面"),
                 alt.Tooltip("net:Q", title="净情感", format="+.2f")],
    )
    text = alt.Chart(df).mark_text(fontSize=11).encode(
        x=f"{x}:N", y=alt.Y(f"{y}:N", sort="-x"), text=alt.Text("total:Q"),
        color=alt.condition("abs(datum.net) > 0.55", alt.value("white"), alt.value("#222")))
    return _base(alt.layer(chart, text), height)


def keyword_chart(df: pd.DataFrame, height: int = 260) -> alt.Chart:
    """Horizontal bars of complaint keywords."""
    chart = alt.Chart(df).mark_bar(color="#d62728").encode(
        x=alt.X("count:Q", title="负面提及次数"),
        y=alt.Y("keyword:N", title="关键词", sort="-x"),
        tooltip=[alt.Tooltip("keyword:N", title="关键词"), alt.Tooltip("count:Q", title="次数")],
    )
    return _base(chart, height)
