"""AppTest of the handling, touchpoint-trend and benchmark pages: what a user sees and does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard import queries as q
from dashboard.access import local_admin
from dashboard.scope import Filters, Scope
from storage.models import MentionReply
from tests.dashboard.handling_seed import add_handling
from tests.dashboard.seed import LAST_DAY
from tests.dashboard.test_pages import _charts, _login


@pytest.fixture
def handled_sqlite(seeded_sqlite):
    db, info = seeded_sqlite
    add_handling(db, info)
    return db, info


def test_handling_page_ranks_stores_and_replies_with_a_draft(handled_sqlite, make_app) -> None:
    db, _ = handled_sqlite
    at = _login(make_app(db, auth="local"), "wang")
    at.switch_page("views/handling.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "处理与回复"
    assert "确认 60 分钟" in at.caption[0].value
    board = at.dataframe[0].value
    assert list(board["门店"]) == ["上海南京西路店"]  # a manager sees their store only
    assert board["及时率"].iloc[0] == "0.0%"  # the store's alert was never acknowledged
    queue = at.dataframe[1].value
    assert set(queue["门店"]) == {"上海南京西路店"} and set(queue["状态"]) == {"未回复"}
    first = queue["编号"].iloc[0]
    draft = at.text_area[0].value
    assert "上海南京西路店" in draft and draft.startswith("您好")
    pending_before = at.metric[3].value
    at.text_area[0].input(draft + "（店长赵雪）")
    at.button(key=f"rp_done_{first[1:]}").click().run()
    assert not at.exception
    assert "已标记为「已回复」" in at.success[0].value
    with db.session() as s:
        reply = s.get(MentionReply, int(first[1:]))
    assert (reply.status, reply.replied_by) == ("replied", "wang") and reply.text.endswith("（店长赵雪）")
    assert first not in list(at.dataframe[1].value["编号"])  # gone from 未回复
    assert int(at.metric[3].value) == int(pending_before) - 1
    assert at.metric[2].value != "0.0%"  # the reply rate moved
    at.segmented_control(key="rp_view").set_value("已回复").run()
    replied = at.dataframe[1].value
    assert list(replied["编号"]) == [first] and list(replied["回复人"]) == ["wang"]


def test_touchpoint_trend_for_a_store(handled_sqlite, make_app) -> None:
    db, _ = handled_sqlite
    at = make_app(db).run().switch_page("views/touchpoints.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="tp_store").set_value("bj-sanlitun").run()
    assert at.subheader[0].value == "北京三里屯店：各触点净情感（按周）"
    chart = _charts(at)[0]
    assert set(chart["label"]) == {"出品/商品", "服务"}
    summary = at.dataframe[0].value
    assert list(summary["触点"])[0] == "服务"  # worst first: every service mention is negative
    # all 10 service mentions of the last week are negative: flagged, not a bare -1.00
    assert summary["最近一期净情感"].iloc[0] == "样本不足（10 条）"
    at.selectbox(key="tp_product").set_value("yulu").run()
    assert at.subheader[0].value.startswith("北京三里屯店 · 幽兰拿铁")


def test_benchmark_page_puts_competitors_next_to_us(handled_sqlite, make_app) -> None:
    db, _ = handled_sqlite
    at = make_app(db).run().switch_page("views/benchmark.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["品牌"]) == ["茶颜", "咖啡研究所", "竹里茶坊"]
    assert list(table["类型"]) == ["我方", "我方", "竞品"]
    assert table["负面占比（校正）"].iloc[2] == "75% (53%–89%)" and table["净情感"].iloc[2] == "-0.50"
    heat = _charts(at)[0]
    assert "竹里茶坊（竞品）" in set(heat["品牌"]) and "配送" in set(heat["触点"])
    # side by side per touchpoint: a handful of posts is flagged, not compared as a number
    side = at.dataframe[1].value
    assert side.loc["配送", "竹里茶坊（竞品）"] == "样本不足（10 条）"
    assert side.loc["服务", "茶颜"] == "-1.00" and side.loc["服务", "咖啡研究所"] == "样本不足（15 条）"
    # the overview counts our brands only once a competitor is in the catalog
    at.switch_page("views/overview.py").run()
    f = Filters(start=LAST_DAY - timedelta(days=29), end=LAST_DAY)
    ours = q.totals(db, Scope(f, local_admin()).narrowed(brands=("chayan", "kafei")))["total"]
    everything = q.totals(db, Scope(f, local_admin()))["total"]
    assert everything == ours + 20
    assert at.metric[0].value == f"{int(ours):,}"
    assert at.multiselect(key="brand").options[-1] == "竹里茶坊（竞品）"


def test_benchmark_without_competitors_says_how_to_add_them(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db).run().switch_page("views/benchmark.py").run()
    assert "type = \"competitor\"" in at.info[0].value

