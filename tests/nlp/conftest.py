"""Fixtures of the nlp tests: a small two-brand catalog."""

from __future__ import annotations

from types import SimpleNamespace as Row

import pytest

from nlp.linking import Catalog


@pytest.fixture
def catalog() -> Catalog:
    """喜茶 (two stores sharing an alias with 一点点's store) and 一点点 (with exclusion words)."""
    return Catalog.from_rows(
        [
            Row(id="yidiandian", name="一点点", aliases=["1點點"], exclude=["一点点甜", "有一点点", "一点点小"]),
            Row(id="heytea", name="喜茶", aliases=["heytea"], exclude=[]),
        ],
        [
            Row(id="ht-mixc", brand_id="heytea", name="喜茶万象城店", aliases=["万象城店"], region_id="south",
                platform_ids={"dianping": "H123"}, address="深南大道9668号"),
            Row(id="ht-coast", brand_id="heytea", name="喜茶海岸城店", aliases=["海岸城店"], region_id="south",
                platform_ids={}, address=""),
            Row(id="yd-mixc", brand_id="yidiandian", name="一点点万象城店", aliases=["万象城店"], region_id="south",
                platform_ids={"meituan": "M9"}, address=""),
        ],
        [Row(id="grape", brand_id="heytea", name="多肉葡萄", aliases=["葡萄冻"])],
    )
