"""Chart specs: built once by Altair, data-free, drawable with their data inlined."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import vl_convert as vlc

from dashboard import charts


def test_specs_are_cached_data_free_and_render() -> None:
    days = pd.DataFrame({"day": [date(2026, 11, 19), date(2026, 11, 20)], "label": ["全部", "全部"],
                         "total": [3, 5], "positive": [2, 1], "negative": [1, 3]})
    cells = pd.DataFrame({"触点": ["服务", "价格"], "门店": ["三里屯店", "国贸店"], "total": [4, 2],
                          "negative": [3, 0], "net": [-0.5, 1.0]})
    made = [charts.volume_chart(days), charts.sentiment_chart(days), charts.heatmap(cells, "触点", "门店", "触点", "门店")]
    assert charts.heatmap(cells, "触点", "门店", "触点", "门店")[1] is made[2][1]  # built once
    for data, spec in made:
        assert "data" not in spec and "datasets" not in spec and all("data" not in p for p in spec.get("layer", []))
        assert not data.empty
        svg = vlc.vegalite_to_svg(charts.with_data((data, spec)))
        assert "<svg" in svg
    assert "三里屯店" in vlc.vegalite_to_svg(charts.with_data(made[2]))
    private = charts.spec(made[2])
    private["height"] = 1
    assert made[2][1]["height"] != 1  # drawing never mutates the shared spec


def test_heatmap_rows_follow_the_given_order_with_every_label_and_a_fitting_height() -> None:
    cells = pd.DataFrame({"触点": ["服务", "服务", "价格"], "门店": ["国贸店", "三里屯店", "三里屯店"],
                          "total": [4, 2, 1], "negative": [3, 0, 1], "net": [-0.5, 1.0, -1.0]})
    data, spec = charts.heatmap(cells, "触点", "门店", "触点", "门店", rows=["三里屯店", "国贸店"])
    assert list(data.sort_values(charts.ROW_ORDER)["门店"].drop_duplicates()) == ["三里屯店", "国贸店"]
    y = spec["layer"][0]["encoding"]["y"]
    assert y["sort"] == {"field": charts.ROW_ORDER, "op": "min", "order": "ascending"}
    assert y["axis"]["labelOverlap"] is False and y["axis"]["labelLimit"] >= 200
    assert spec["height"] == {"step": charts.ROW_STEP}  # as tall as its rows, whatever their number
    svg = vlc.vegalite_to_svg(charts.with_data((data, spec)))

    def label_y(name: str) -> float:  # the drawn axis label's vertical position
        return float(re.search(r'translate\(([-\d.]+),([-\d.]+)\)[^>]*>' + name + "</text>", svg).group(2))

    assert label_y("三里屯店") < label_y("国贸店")  # the first row on top


def test_a_one_row_heatmap_has_a_colour_bar_long_enough_to_read() -> None:
    cells = pd.DataFrame({"触点": ["服务", "价格"], "范围": ["本店", "本店"], "total": [4, 2],
                          "negative": [3, 0], "net": [-0.5, 1.0]})
    svg = vlc.vegalite_to_svg(charts.with_data(charts.heatmap(cells, "触点", "范围", "触点", "")))
    bar = re.search(r'role-legend-gradient"[^>]*><path d="M0,0h([\d.]+)v([\d.]+)', svg)
    length = max(float(bar.group(1)), float(bar.group(2)))
    assert length >= 150  # not squeezed to the 28 px of the one row
    assert all(f">{tick}</text>" in svg for tick in ("−1.0", "0.0", "1.0"))


def test_heatmap_columns_follow_the_given_order() -> None:
    cells = pd.DataFrame({"产品": ["美式", "乌龙", "拿铁"], "门店": ["国贸店"] * 3, "total": [4, 2, 1],
                          "negative": [3, 0, 1], "net": [-0.5, 1.0, -1.0]})
    svg = vlc.vegalite_to_svg(charts.with_data(charts.heatmap(cells, "产品", "门店", "产品", "门店",
                                                               columns=["拿铁", "美式", "乌龙"])))

    def label_x(name: str) -> float:
        return float(re.search(r'translate\(([-\d.]+),([-\d.]+)\)[^>]*>' + name + "</text>", svg).group(1))

    assert label_x("拿铁") < label_x("美式") < label_x("乌龙")
