"""Charts for messages: Altair specs rendered to PNG with vl-convert (CJK font)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

FONT = "Noto Sans CJK SC"
LABEL_COLORS = {"负面": "#c62828", "中性": "#b0b0b0", "正面": "#2e7d32"}


def to_png(chart: alt.TopLevelMixin, *, scale: float = 2.0) -> bytes:
    """PNG bytes of an Altair chart, with the Chinese font configured."""
    spec = chart.configure(font=FONT).configure_view(stroke=None).to_dict()
    return vlc.vegalite_to_png(spec, scale=scale)


def volume_chart(rows: list[dict[str, Any]], *, title: str, width: int = 560, height: int = 180) -> alt.Chart:
    """Stacked bars of mentions per time bucket by sentiment.

    ``rows``: ``{"时间": label, "情感": 正面|中性|负面, "数量": n}``.
    """
    df = pd.DataFrame(rows, columns=["时间", "情感", "数量"])
    df["序"] = df["情感"].map({k: i for i, k in enumerate(LABEL_COLORS)})  # negative at the bottom
    order = list(dict.fromkeys(df["时间"]))
    peak = int(df.groupby("时间")["数量"].sum().max()) if len(df) else 0
    return (
        alt.Chart(df, title=title)
        .mark_bar()
        .encode(
            x=alt.X("时间:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelOverlap=True)),
            y=alt.Y("数量:Q", title="提及数", axis=alt.Axis(tickCount=max(1, min(peak, 5)), format="d")),
            color=alt.Color(
                "情感:N", scale=alt.Scale(domain=list(LABEL_COLORS), range=list(LABEL_COLORS.values())),
                legend=alt.Legend(orient="top", title=None),
            ),
            order=alt.Order("序:Q", sort="ascending"),
        )
        .properties(width=width, height=height)
    )


def bar_chart(rows: list[dict[str, Any]], *, category: str, value: str, title: str, color: str = "#c62828",
              width: int = 560, height: int | None = None) -> alt.Chart:
    """Horizontal bars (touchpoints, stores) sorted by value."""
    df = pd.DataFrame(rows, columns=[category, value])
    peak = int(df[value].max()) if len(df) else 0
    return (
        alt.Chart(df, title=title)
        .mark_bar(color=color)
        .encode(y=alt.Y(f"{category}:N", sort="-x", title=None),
                x=alt.X(f"{value}:Q", title=value, axis=alt.Axis(tickCount=max(1, min(peak, 5)), format="d")))
        .properties(width=width, height=height or max(60, 24 * len(df)))
    )
