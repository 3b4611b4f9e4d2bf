"""Chart specs, written with Altair, drawn with ``st.vega_lite_chart``.

Each chart is ``(data, spec)``: the data prepared in pandas and a Vega-Lite spec without
data. Altair builds each spec once per parameter set (``lru_cache``): building and
validating an Altair chart costs 20–80 ms of the server's CPU per chart and render (a
page has up to six), the cached dict costs nothing. ``with_data`` inlines the data for
vl-convert (PNG/SVG for e-mails).
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

import altair as alt
import pandas as pd

FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
NET_SCALE = alt.Scale(domain=[-1, 1], scheme="redyellowgreen")

ChartSpec = tuple[pd.DataFrame, dict[str, Any]]


def _base(chart: alt.TopLevelMixin, height: int | alt.Step) -> dict[str, Any]:
    chart = chart.properties(height=height).configure_axis(labelFont=FONT, titleFont=FONT).configure_legend(
        labelFont=FONT, titleFont=FONT).configure_title(font=FONT)
    out = chart.to_dict()
    # a data-less Altair chart points at a placeholder dataset: drop it, the data comes with the draw
    out.pop("datasets", None)
    for part in (out, *out.get("layer", [])):
        part.pop("data", None)
    return out


def spec(chart: ChartSpec) -> dict[str, Any]:
    """A private copy of a chart's (cached, shared) spec."""
    return copy.deepcopy(chart[1])


def with_data(chart: ChartSpec) -> dict[str, Any]:
    """The spec with its data inlined (for vl-convert)."""
    out = spec(chart)
    out["data"] = {"values": json.loads(chart[0].to_json(orient="records", date_format="iso", force_ascii=False))}
    return out


def _day_axis(data: pd.DataFrame) -> pd.DataFrame:
    """Days as ordered labels (bars get a proper band; year-long ranges thin out their labels)."""
    return data.assign(日期=pd.to_datetime(data["day"]).dt.strftime("%Y-%m-%d"))


_X_DAY = alt.X("日期:O", title="日期", sort="ascending",
               axis=alt.Axis(labelExpr="slice(datum.value, 5)", labelOverlap=True, labelAngle=0))


@lru_cache(maxsize=32)
def _volume_spec(key_title: str, height: int) -> dict[str, Any]:
    chart = alt.Chart().mark_bar().encode(
        x=_X_DAY,
        y=alt.Y("sum(total):Q", title="声量"),
        color=alt.Color("label:N", title=key_title),
        tooltip=[alt.Tooltip("日期:O", title="日期"), alt.Tooltip("label:N", title=key_title),
                 alt.Tooltip("total:Q", title="声量"), alt.Tooltip("negative:Q", title="负面")],
    )
    return _base(chart, height)


def volume_chart(df: pd.DataFrame, key_title: str = "拆分", height: int = 260) -> ChartSpec:
    """Stacked bars of mention volume per bucket, coloured by the split key."""
    return _day_axis(df), _volume_spec(key_title, height)


@lru_cache(maxsize=32)
def _sentiment_spec(key_title: str, height: int) -> dict[str, Any]:
    chart = alt.Chart().mark_line(point=True).encode(
        x=_X_DAY,
        y=alt.Y("net:Q", title="净情感", scale=alt.Scale(domain=[-1, 1])),
        color=alt.Color("label:N", title=key_title),
        tooltip=[alt.Tooltip("日期:O", title="日期"), alt.Tooltip("label:N", title=key_title),
                 alt.Tooltip("net:Q", title="净情感", format="+.2f"), alt.Tooltip("total:Q", title="声量")],
    )
    return _base(chart, height)


def sentiment_chart(df: pd.DataFrame, key_title: str = "拆分", height: int = 260) -> ChartSpec:
    """Net sentiment ((pos − neg) / (pos + neg)) per bucket and split key."""
    data = df.groupby(["day", "label"], as_index=False)[["positive", "negative", "total"]].sum()
    opinion = data["positive"] + data["negative"]
    data["net"] = ((data["positive"] - data["negative"]) / opinion).where(opinion > 0)
    return _day_axis(data.dropna(subset=["net"])), _sentiment_spec(key_title, height)


ROW_STEP = 28  # px per heatmap row: every label shown, none overlapping
ROW_ORDER = "_row"  # heatmap rows are drawn in this column's order (worst first)


COLUMN_ORDER = "_col"  # and its columns in this one's, when one is given


@lru_cache(maxsize=32)
def _heatmap_spec(x: str, y: str, x_title: str, y_title: str, ordered_columns: bool = False) -> dict[str, Any]:
    rows = alt.EncodingSortField(field=ROW_ORDER, op="min", order="ascending")
    cols = alt.EncodingSortField(field=COLUMN_ORDER, op="min", order="ascending") if ordered_columns else "ascending"
    y_axis = alt.Axis(labelOverlap=False, labelLimit=260, labelFontSize=12, titleAngle=0, titleAlign="right",
                      titleY=-8, titleX=0) if y_title else alt.Axis(labelOverlap=False, labelLimit=260, title=None)
    chart = alt.Chart().mark_rect().encode(
        x=alt.X(f"{x}:N", title=x_title, sort=cols, axis=alt.Axis(labelAngle=0, labelOverlap=False, orient="top")),
        y=alt.Y(f"{y}:N", title=y_title or None, sort=rows, axis=y_axis),
        # below the rows, across: a one-row heatmap (a store's own touchpoints) is too short for a
        # vertical colour bar, which the browser squeezed to one unreadable tick
        color=alt.Color("net:Q", title="净情感", scale=NET_SCALE,
                        legend=alt.Legend(orient="bottom", direction="horizontal", gradientLength=200,
                                          titleOrient="left", titleBaseline="middle")),
        tooltip=[alt.Tooltip(f"{y}:N", title=y_title or "范围"), alt.Tooltip(f"{x}:N", title=x_title),
                 alt.Tooltip("total:Q", title="提及"), alt.Tooltip("negative:Q", title="负面"),
                 alt.Tooltip("net:Q", title="净情感", format="+.2f")],
    )
    text = alt.Chart().mark_text(fontSize=11).encode(
        x=alt.X(f"{x}:N", sort=cols), y=alt.Y(f"{y}:N", sort=rows), text=alt.Text("total:Q"),
        color=alt.condition("abs(datum.net) > 0.55", alt.value("white"), alt.value("#222")))
    return _base(alt.layer(chart, text), alt.Step(ROW_STEP))


def heatmap(df: pd.DataFrame, x: str, y: str, x_title: str, y_title: str,
            rows: list[str] | None = None, columns: list[str] | None = None) -> ChartSpec:
    """A net-sentiment heatmap (red = negative, green = positive), volume as the cell text;
    one :data:`ROW_STEP` high row per ``y`` value, in the order of ``rows`` (default: the
    data's order), so the chart is as tall as it needs and no label is dropped. ``columns``:
    the ``x`` values left to right (default: alphabetical)."""
    order = rows if rows is not None else list(dict.fromkeys(df[y]))
    rank = {name: i for i, name in enumerate(order)}
    data = df.assign(**{ROW_ORDER: df[y].map(rank).fillna(len(order))})
    if columns is not None:
        col_rank = {name: i for i, name in enumerate(columns)}
        data[COLUMN_ORDER] = data[x].map(col_rank).fillna(len(columns))
    return data, _heatmap_spec(x, y, x_title, y_title, columns is not None)