"""Chart specs: built once by Altair, data-free, drawable with their data inlined."""

from __future__ import annotations

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
