"""The global filter bar in the sidebar, bound to the URL query string.

Widgets live in ``app.py``'s run, so their values persist across pages; with
``bind="query-params"`` each one is mirrored in the URL (``?store=a&store=b&dates=…``)
and a shared link restores it. Choices are limited to what the viewer may see, and the
query layer intersects again, so a hand-edited URL cannot widen a manager's scope.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from dashboard.labels import PLATFORMS, label
from dashboard.scope import Filters

DEFAULT_DAYS = 30


def _pick(title: str, key: str, choices: list[tuple[str, str]]) -> tuple[str, ...]:
    names = dict(choices)
    picked = st.sidebar.multiselect(
        title, options=list(names), format_func=lambda k: names.get(k, k), key=key,
        bind="query-params", placeholder="全部",
    )
    return tuple(picked)


def filter_bar(options: dict[str, list[tuple[str, str]]], last_day: date) -> Filters:
    """Render the sidebar filters and return the chosen :class:`Filters`."""
    st.sidebar.subheader("筛选")
    default = (last_day - timedelta(days=DEFAULT_DAYS - 1), last_day)
    picked = st.sidebar.date_input("日期范围", value=default, key="dates", bind="query-params",
                                   format="YYYY-MM-DD", max_value=max(last_day, date.today()))
    if isinstance(picked, (tuple, list)) and len(picked) == 2:
        start, end = picked
    elif isinstance(picked, (tuple, list)) and len(picked) == 1:
        start = end = picked[0]
    elif isinstance(picked, date):
        start = end = picked
    else:
        start, end = default
    platforms = [(p, label(PLATFORMS, p)) for p, _ in options["platforms"]]
    return Filters(
        start=start,
        end=end,
        brands=_pick("品牌", "brand", options["brands"]) or tuple(b for b, _ in options.get("default_brands", [])),
        regions=_pick("区域", "region", options["regions"]),
        stores=_pick("门店", "store", options["stores"]),
        products=_pick("产品", "product", options["products"]),
        platforms=_pick("平台", "platform", platforms),
    )
