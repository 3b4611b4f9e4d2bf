"""AppTest of every page: renders, filters, role scoping, alert actions, login modes."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pyarrow as pa
import pytest
from sqlmodel import select

from storage.alert_state import sign_action
from storage.models import Alert
from storage.shares import share
from tests.dashboard.seed import PASSWORD

PAGES = ["views/overview.py", "views/stores.py", "views/products.py", "views/mentions.py", "views/alerts.py",
         "views/sources.py"]
TITLES = ["总览", "门店", "产品", "声量明细", "预警", "数据源"]


def _frames_text(at) -> str:  # noqa: ANN001 - AppTest
    """Every cell of every data frame on the page, as one string."""
    return "\n".join(df.value.to_csv() for df in at.dataframe)


def _charts(at) -> list[pd.DataFrame]:  # noqa: ANN001 - AppTest
    """The data of every Vega-Lite chart on the page (one frame per chart, layers' data merged)."""
    def walk(node):  # noqa: ANN001, ANN202
        for child in getattr(node, "children", {}).values():
            yield child
            yield from walk(child)

    def data(e) -> pd.DataFrame:  # noqa: ANN001
        blobs = [d.data.data for d in e.proto.datasets] + ([e.proto.data.data] if e.proto.HasField("data") else [])
        return pa.concat_tables([pa.ipc.open_stream(b).read_all() for b in blobs]).to_pandas()

    return [data(e) for e in walk(at.main) if getattr(e, "type", None) == "vega_lite_chart"]


def _login(at, username: str):  # noqa: ANN001, ANN202 - AppTest
    at.run()
    at.text_input(key="login_user").input(username)
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click().run()
    return at


def test_every_page_renders(seeded, make_app) -> None:
    db, _ = seeded
    at = make_app(db).run()
    assert any("仅监听本机" in w.value for w in at.sidebar.warning)  # no login configured → localhost notice
    for page, title in zip(PAGES, TITLES):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert at.title[0].value == title


def test_overview_kpis_follow_filters_and_url(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db).run()
    everything = at.metric[0].value
    at.multiselect(key="store").set_value(["bj-sanlitun"]).run()
    one_store = at.metric[0].value
    assert int(one_store.replace(",", "")) < int(everything.replace(",", ""))
    # the filter persists on other pages: the mentions list only shows that store
    at.switch_page("views/mentions.py").run()
    text = _frames_text(at)
    assert "三里屯" in text and "南京西路" not in text
    # (URL persistence is the frontend's job with bind="query-params": see test_browser.py)


def test_weekly_and_split_views(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db).run()
    at.segmented_control(key="ov_grain").set_value("按周").run()
    at.segmented_control(key="ov_split").set_value("平台").run()
    assert not at.exception
    at.segmented_control(key="ov_split").set_value("品牌").run()
    assert not at.exception


def test_mentions_filters_and_export(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db).run()
    at.switch_page("views/mentions.py").run()
    total = at.caption[0].value
    at.checkbox(key="m_urgent").check().run()
    assert at.caption[0].value != total
    assert "拉肚子" in _frames_text(at)
    at.text_input(key="m_kw").input("真好喝").run()
    assert "共 0 条" in at.caption[0].value  # urgent ones are all negative
    at.checkbox(key="m_urgent").uncheck().run()
    assert "真好喝" in _frames_text(at) and "难喝" not in _frames_text(at)
    at.button(key="m_export").click().run()
    assert not at.exception
    assert "条" in at.caption[-1].value


def test_mentions_page_number_clamps_when_a_filter_leaves_fewer_pages(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db).run().switch_page("views/mentions.py").run()
    at.selectbox(key="m_size").set_value(25).run()
    last = int(at.number_input(key="m_page").max)
    at.number_input(key="m_page").set_value(last).run()
    assert last >= 3 and not at.exception and len(at.dataframe[0].value) > 0
    at.multiselect(key="m_sent").set_value(["positive"]).run()  # fewer pages, still more than one
    fewer = int(at.number_input(key="m_page").max)
    assert not at.exception and 1 < fewer < last
    assert at.number_input(key="m_page").value == fewer  # clamped to the new last page, not back to page 1
    rows = at.dataframe[0].value
    assert 0 < len(rows) <= 25 and set(rows["情感"]) == {"正面"}
    at.checkbox(key="m_urgent").check().run()  # nothing left: the empty state, no exception
    assert not at.exception and at.number_input(key="m_page").value == 1 and at.info


def test_manager_sees_only_own_store(seeded, make_app) -> None:
    db, _ = seeded
    at = _login(make_app(db, auth="local"), "wang")
    assert not at.exception
    assert "wang" in at.sidebar.text[0].value
    at.switch_page("views/stores.py").run()
    board = at.dataframe[0].value
    assert list(board["名称"]) == ["上海南京西路店"]
    at.switch_page("views/mentions.py").run()
    text = _frames_text(at)
    assert "南京西路" in text and "三里屯" not in text and "国贸" not in text
    at.switch_page("views/alerts.py").run()
    assert list(at.dataframe[0].value["范围"]) == ["上海南京西路店"]
    # the filter bar only offers the manager's own store
    assert at.multiselect(key="store").options == ["上海南京西路店"]


def _exported_authors(at) -> set[str]:  # noqa: ANN001 - AppTest
    """The 作者 column of the CSV and of the Excel file the mentions page built for download."""
    import io

    import openpyxl

    at.button(key="m_export").click().run()
    csv_bytes, xlsx, _ = at.session_state["m_export_files"]
    csv = pd.read_csv(io.BytesIO(csv_bytes), encoding="utf-8-sig")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    header = [c.value for c in sheet[1]]
    col = header.index("作者")
    return set(csv["作者"]) | {row[col] for row in sheet.iter_rows(min_row=2, values_only=True)}


def test_manager_sees_author_names_masked_on_page_and_in_export(seeded, make_app) -> None:
    db, _ = seeded
    at = _login(make_app(db, auth="local"), "wang")
    at.switch_page("views/mentions.py").run()
    shown = set(at.dataframe[0].value["作者"])
    assert shown == {"用***"}
    assert _exported_authors(at) == {"用***"}


def test_admin_sees_author_names_on_page_and_in_export(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = _login(make_app(db, auth="local"), "admin")
    at.switch_page("views/mentions.py").run()
    shown = set(at.dataframe[0].value["作者"])
    assert len(shown) > 1 and all(a.startswith("用户") and a[2:].isdigit() for a in shown)
    exported = _exported_authors(at)
    assert len(exported) > 1 and all(a.startswith("用户") for a in exported)


def test_wrong_password_is_refused(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db, auth="local").run()
    at.text_input(key="login_user").input("wang")
    at.text_input(key="login_password").input("nope")
    at.button[0].click().run()
    assert at.error and "不正确" in at.error[0].value
    assert not at.metric


def test_acknowledge_and_resolve_change_alert_state(seeded, make_app) -> None:
    db, info = seeded
    alert_id = info["alerts"]["sh-nanjingxi"]
    at = _login(make_app(db, auth="local"), "wang")
    at.switch_page("views/alerts.py").run()
    at.text_input(key=f"note_{alert_id}").input("已联系门店")
    at.button(key=f"ack_{alert_id}").click().run()
    assert not at.exception
    with db.session() as s:
        alert = s.get(Alert, alert_id)
    assert (alert.status, alert.acknowledged_by, alert.note) == ("acknowledged", "wang", "已联系门店")
    assert "已确认" in at.success[0].value
    at.button(key=f"resolve_{alert_id}").click().run()
    with db.session() as s:
        assert s.get(Alert, alert_id).status == "resolved"


def test_marketing_acknowledges_but_cannot_resolve(seeded_sqlite, make_app) -> None:
    db, info = seeded_sqlite
    at = _login(make_app(db, auth="local"), "market")
    at.switch_page("views/alerts.py").run()
    assert len(at.dataframe[0].value) == 3  # every store's open / acknowledged alerts
    at.selectbox(key="al_pick").set_value(info["alerts"]["bj-sanlitun"]).run()
    keys = {b.key for b in at.button}
    assert f"ack_{info['alerts']['bj-sanlitun']}" in keys
    assert not any(k and k.startswith("resolve_") for k in keys)


def test_signed_email_link_acknowledges(seeded_sqlite, make_app) -> None:
    db, info = seeded_sqlite
    alert_id = info["alerts"]["bj-sanlitun"]
    at = make_app(db)
    at.query_params["action"] = "ack"
    at.query_params["token"] = sign_action("test-secret", alert_id, "ack", "li")
    at.run().switch_page("views/alerts.py").run()
    at.button(key="link_do").click().run()
    with db.session() as s:
        alert = s.get(Alert, alert_id)
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", "li")


def test_bad_link_is_refused(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db)
    at.query_params["token"] = "forged"
    at.run().switch_page("views/alerts.py").run()
    assert "链接无效" in at.error[0].value
    with db.session() as s:
        assert {a.status for a in s.exec(select(Alert)).all()} == {"open", "acknowledged", "resolved"}


def test_oidc_user_is_scoped_by_recipient_email(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db, auth="oidc")
    at.user = {"is_logged_in": True, "email": "li@example.com", "name": "李经理"}
    at.run().switch_page("views/stores.py").run()
    assert not at.exception
    assert set(at.dataframe[0].value["名称"]) == {"北京三里屯店", "北京国贸店"}


def test_oidc_unknown_or_logged_out(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db, auth="oidc")
    at.user = {"is_logged_in": False}
    at.run()
    assert at.button(key="sso_login") and not at.metric
    at = make_app(db, auth="oidc")
    at.user = {"is_logged_in": True, "email": "stranger@example.com"}
    at.run()
    assert "尚未授权" in at.error[0].value and not at.metric


@pytest.mark.parametrize("page", PAGES)
def test_empty_database_explains_what_to_do(sqlite_db, make_app, page) -> None:
    at = make_app(sqlite_db).run()
    at.switch_page(page).run()
    assert not at.exception
    shown = " ".join(i.value for i in at.info)
    assert shown, page


def test_alerts_page_pages_and_filters_by_state(seeded_sqlite, make_app) -> None:
    db, info = seeded_sqlite
    now = info["now"]
    with db.session() as s:  # 45 more open alerts of one store, older than the seeded ones
        s.add_all([Alert(kind="spike", scope_type="store", scope_id="bj-guomao", incident_key=f"extra:{i}",
                         severity="info", status="open", title=f"国贸店 测试预警 {i:02d}", reason="",
                         opened_at=now - timedelta(days=1, hours=i), updated_at=now - timedelta(days=1, hours=i),
                         evidence={}) for i in range(45)])
    at = make_app(db).run().switch_page("views/alerts.py").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 20 and "共 48 条" in at.caption[0].value  # 45 + 3 not resolved
    at.number_input(key="al_page").set_value(3).run()
    last = at.dataframe[0].value
    assert len(last) == 8 and "测试预警 44" in last["标题"].iloc[-1]
    assert at.selectbox(key="al_pick").value == int(last["编号"].iloc[0].lstrip("#"))  # the page's newest
    at.segmented_control(key="al_view").set_value("已解决").run()  # a state filter goes back to page 1
    assert list(at.dataframe[0].value["状态"]) == ["已解决"] and not at.number_input
    at.segmented_control(key="al_view").set_value("全部").run()
    assert at.number_input(key="al_page").value == 1 and len(at.dataframe[0].value) == 20
    at.multiselect(key="al_sev").set_value(["critical"]).run()
    assert list(at.dataframe[0].value["级别"]) == ["严重"]


def test_a_long_alert_title_is_shown_whole_in_the_table_and_the_detail(seeded_sqlite, make_app) -> None:
    db, info = seeded_sqlite
    title = "【严重】青禾茶事 杭州西湖银泰店·榴莲冰沙 差评激增：近48小时差评 29 条（平时约 0.5 条），多条提到异物和拉肚子"
    with db.session() as s:
        s.add(Alert(kind="spike", scope_type="store", scope_id="bj-guomao", incident_key="long-title",
                    severity="critical", status="open", title=title, reason="", opened_at=info["now"],
                    updated_at=info["now"], evidence={}))
    at = make_app(db).run().switch_page("views/alerts.py").run()
    assert not at.exception
    table = at.dataframe[0]
    assert title in list(table.value["标题"])  # the whole text, not an ellipsis
    # the grid wraps cells only when a row is taller than 4rem (64 px); the title column gets the room
    assert table.proto.row_height > 64
    assert json.loads(table.proto.columns)["标题"]["width"] == "large"
    at.selectbox(key="al_pick").set_value(next(a.id for a in [*_alerts(db)] if a.incident_key == "long-title")).run()
    assert title in "\n".join(m.value.replace("\\", "") for m in at.markdown)


def _alerts(db):  # noqa: ANN001, ANN202
    with db.session() as s:
        return list(s.exec(select(Alert)).all())


def test_sources_page_shows_display_names_not_config_ids(seeded_sqlite, make_app) -> None:
    db, info = seeded_sqlite
    at = make_app(db).run().switch_page("views/sources.py").run()
    assert not at.exception
    shown = list(at.dataframe[0].value["数据源"])
    # the catalog's name where set, else the platform in Chinese (rss-weibo was synced without one)
    assert "南京西路店 点评导出" in shown and {"大众点评", "微博", "小红书"} <= set(shown)
    assert set(at.dataframe[0].value["类型"]) == {"RSS", "文件导入"}
    text = _frames_text(at) + "\n".join(w.value for w in at.warning)
    assert "南京西路店 点评导出（失败）" in "\n".join(w.value for w in at.warning)
    assert "csv-nanjingxi" not in text and "rss-weibo" not in text
    picker = at.selectbox(key="src_detail")
    assert "南京西路店 点评导出" in picker.options and "csv-nanjingxi" not in picker.options
    with db.session() as s:  # an alert about that source names it the same way
        s.add(Alert(kind="source_health", scope_type="source", scope_id="csv-nanjingxi", incident_key="src",
                    severity="warning", status="open", title="数据源连续失败", reason="", opened_at=info["now"],
                    updated_at=info["now"], evidence={}))
    at = make_app(db).run().switch_page("views/alerts.py").run()
    scopes = list(at.dataframe[0].value["范围"])
    assert "数据源 南京西路店 点评导出" in scopes and not any("csv-nanjingxi" in x for x in scopes)


def test_products_page_heatmaps_and_lazy_detail(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db).run().switch_page("views/products.py").run()
    assert not at.exception
    assert [h.value for h in at.subheader][:3] == ["产品排行", "产品 × 顾客触点", "产品详情"]
    (touch,) = _charts(at)  # one heatmap at a time: product × touchpoint first
    assert set(touch["产品"]) == {"幽兰拿铁", "声声乌龙", "美式咖啡"} and set(touch["触点"]) == {"出品/商品", "服务"}
    assert (touch[touch["触点"] == "服务"]["net"] == -1).all()
    assert len(at.dataframe) == 1  # the leaderboard only: nothing of the detail until a product is picked
    at.segmented_control(key="p_matrix").set_value("产品 × 门店").run()
    assert not at.exception and [h.value for h in at.subheader][:3] == ["产品排行", "产品 × 门店", "产品详情"]
    (by_store,) = _charts(at)
    assert {"门店", "产品"} <= set(by_store.columns) and "国贸" in " ".join(by_store["门店"])
    # products left to right in the leaderboard's order (the one with an alert first), not alphabetical
    ranked = list(at.dataframe[0].value.data["名称"]) if hasattr(at.dataframe[0].value, "data") \
        else list(at.dataframe[0].value["名称"])
    shown = by_store.sort_values("_col").drop_duplicates("产品")["产品"].tolist()
    assert shown == [p for p in ranked if p in shown] and len(shown) > 1
    at.segmented_control(key="p_matrix").set_value("产品 × 顾客触点").run()
    at.selectbox(key="product_detail").set_value("yulu").run()
    assert not at.exception
    detail = _charts(at)[1:]  # trend (volume, net), its touchpoint row
    assert len(detail) == 3 and set(detail[2]["触点"]) == {"出品/商品", "服务"}
    assert (detail[2]["product_id"] == "yulu").all()
    # the month's complaint (太难喝了，服务态度差) is what every negative of the month before said too:
    # nothing stands out, so the complaint lexicon names it, and the caption says so
    (month,) = [d.value for d in at.dataframe if "投诉词" in d.value.columns]
    assert {"难喝", "态度差"} <= set(month["投诉词"]) and "太难喝了" in month["例句"].iloc[0]
    said = [c.value for c in at.caption if "投诉词表" in c.value]
    assert len(said) == 1 and "与此前相比没有突出的投诉词" in said[0] and "难喝" in said[0]
    assert not [c.value for c in at.caption if c.value.startswith("投诉词：")]  # no statistical phrase
    # over every seeded day there is nothing before to compare with, only everything said
    last = at.date_input(key="dates").value[1]
    at.date_input(key="dates").set_value((last - timedelta(days=59), last)).run()
    assert not at.exception
    (why,) = [d.value for d in at.dataframe if "投诉词" in d.value.columns]  # why: phrase, count, an example
    assert why["投诉词"].iloc[0] in ("难喝", "服务态度") and "幽兰拿铁太难喝了" in why["例句"].iloc[0]
    assert not {"幽兰拿铁", "茶颜"} & set(why["投诉词"])
    assert "幽兰拿铁" in _frames_text(at) and "美式咖啡" not in at.dataframe[-1].value.to_csv()


def test_store_detail_opens_on_selection_and_for_a_single_store(seeded, make_app) -> None:
    db, _ = seeded
    at = make_app(db).run().switch_page("views/stores.py").run()
    # leaderboard, store × touchpoint heatmap (a chart) and the touchpoints against the chain standard
    assert len(_charts(at)) == 1 and len(at.dataframe) == 2
    standard = at.dataframe[1].value
    assert list(standard.columns) == ["门店", "触点", "提及", "本店负面占比", "连锁负面占比", "p 值", "结论"]
    assert set(standard["结论"]) <= {"低于连锁标准", "无显著差异"} and {"出品/商品", "服务"} <= set(standard["触点"])
    assert any("Benjamini–Hochberg" in c.value and "未检验" in c.value for c in at.caption)
    at.selectbox(key="store_detail").set_value("bj-guomao").run()
    assert not at.exception and len(_charts(at)) == 4 and "国贸" in at.dataframe[-1].value.to_csv()
    wang = _login(make_app(db, auth="local"), "wang")  # one store: its detail is open at once
    wang.switch_page("views/stores.py").run()
    assert wang.selectbox(key="store_detail").value == "sh-nanjingxi" and len(_charts(wang)) == 4


def _page_text(at) -> str:  # noqa: ANN001 - AppTest
    """Every markdown (escapes dropped, as the reader sees it), caption and table cell on the page."""
    return "\n".join([m.value.replace("\\", "") for m in at.markdown] + [c.value for c in at.caption]
                     + [_frames_text(at)])


def test_email_link_opens_that_alert_with_names_and_all_its_mentions(seeded_sqlite, make_app) -> None:
    db, info = seeded_sqlite
    now = info["now"]
    with db.session() as s:
        ids = [int(i) for i in range(1, 15)]
        urgent = Alert(kind="urgent", scope_type="store", scope_id="sh-nanjingxi", incident_key="u1",
                       severity="critical", title="【紧急】上海南京西路店 出现需立即处理的反馈：拉肚子",
                       opened_at=now - timedelta(days=3), updated_at=now - timedelta(days=3),
                       evidence={"scope_name": "上海南京西路店", "all_mention_ids": ids, "mention_ids": ids[:5],
                                 "content_hashes": [f"h{i}" for i in ids], "terms": ["拉肚子"], "count": 13,
                                 "reposts": 1})
        pair = Alert(kind="spike", scope_type="store_product", scope_id="sh-nanjingxi|yulu", incident_key="p1",
                     severity="warning", title="上海南京西路店·幽兰拿铁 差评激增", opened_at=now, updated_at=now,
                     evidence={"numbers": {"window_hours": 30, "negative": 16, "total": 19, "negative_share": 0.84,
                                           "expected_negative": 1.4, "baseline_share": 0.23, "p_value": 1e-10},
                               "shares": {"window": share(16, 19).as_dict(), "usual": share(46, 200).as_dict(),
                                          "corrected": False},
                               "touchpoints": [{"touchpoint": "product", "negative": 12}],
                               "keywords": ["难喝"], "mention_ids": [1]})
        brand = Alert(kind="spike", scope_type="brand", scope_id="chayan", incident_key="b1", severity="warning",
                      title="茶颜 差评激增", opened_at=now, updated_at=now, evidence={})
        s.add_all([urgent, pair, brand])
        s.flush()
        urgent_id, pair_id = int(urgent.id), int(pair.id)
    at = make_app(db)
    at.query_params["alert"] = str(urgent_id)
    at.run().switch_page("views/alerts.py").run()
    assert not at.exception
    assert at.subheader[0].value == f"预警 #{urgent_id}"  # the linked alert first, whatever the list shows
    text = _page_text(at)
    assert "【紧急】上海南京西路店" in at.markdown[0].value + at.markdown[1].value
    assert "13 条含紧急词（另有 1 条转发）" in text and "拉肚子" in text
    assert "all_mention_ids" not in text and "content_hashes" not in text and not at.json
    assert "相关提及**（共 14 条）" in text and len(at.dataframe[0].value) == 5
    at.toggle(key=f"al_all_{urgent_id}").set_value(True).run()
    assert len(at.dataframe[0].value) == 14  # every related mention on request
    scopes = list(at.dataframe[1].value["范围"])  # the list: names, never ids
    assert "上海南京西路店 · 幽兰拿铁" in scopes and "茶颜" in scopes
    assert not [x for x in scopes if "|" in x or x in ("chayan", "sh-nanjingxi")]
    at.selectbox(key="al_pick").set_value(pair_id).run()
    text = _page_text(at)
    # 19 mentions: 样本不足, never 84%; the usual share with its interval, said uncorrected
    assert (f"近 30 小时，差评 16 条 / 共 19 条；负面占比 样本不足 (n=19)；平时同期约 1.4 条；"
            f"平时负面占比 {share(46, 200).display()}；") in text and "84%" not in text and "84.0%" not in text
    assert "占比说明**：占比未校正" in text
    assert "负面触点**：出品/商品 12" in text and "投诉词**：难喝" in text
    assert "**范围**：上海南京西路店 · 幽兰拿铁" in text
    other = make_app(db)
    other.query_params["alert"] = "99999"
    other.run().switch_page("views/alerts.py").run()
    assert "预警 #99999 不存在或不在您的范围内。" in [w.value for w in other.warning]


def test_overview_first_says_what_needs_attention(seeded_sqlite, make_app) -> None:
    db, info = seeded_sqlite
    at = make_app(db).run()
    assert not at.exception and at.subheader[0].value == "需要关注"
    links = [(link.proto.label, link.proto.page, link.proto.query_string) for link in at.get("page_link")]
    # the open alerts, most severe first, by store name, each opening its alert
    assert links[0] == ("严重 · 北京三里屯店 · 11-20 14:00", "alerts", f"alert={info['alerts']['bj-sanlitun']}")
    assert at.caption[1].value == "负面声量激增"  # what it is about, on a line of its own (a link never wraps)
    assert links[1][0].startswith("警告 · 上海南京西路店") and links[1][2] == f"alert={info['alerts']['sh-nanjingxi']}"
    md = [m.value for m in at.markdown]
    movers = md[md.index("**变差的门店**") + 1:md.index("**变差的产品**")]
    # the store whose last week went bad first, with its change and the interval of its positive share
    # (no model in the registry: the share is the labelled one, its Wilson interval)
    assert movers[0] == ":red[●] **北京三里屯店**　净情感 +0.07，较上期 -0.27　正面占比 40% (29%–53%)，60 条"
    urgent = md[md.index("**紧急提及（本期 4 条）**") + 1]
    assert "北京三里屯店 · 声声乌龙" in urgent and "拉肚子" in urgent
    assert "[原文](https://" in urgent  # the post itself, one click away


def test_leaderboard_and_heatmap_rank_the_bad_store_first(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db).run().switch_page("views/stores.py").run()
    board = at.dataframe[0].value
    board = board.data if hasattr(board, "data") else board  # a Styler (alerted rows tinted)
    # open alerts first (critical, then warnings, worst first), not the busiest first
    assert list(board["名称"]) == ["北京三里屯店", "北京国贸店", "上海南京西路店", "上海徐家汇店"]
    assert list(board["预警"]) == ["严重", "警告", "警告", ""]
    (heat,) = _charts(at)
    rows = heat.sort_values("_row").drop_duplicates("门店")["门店"].tolist()
    assert rows == list(board["名称"])  # every store labelled, in the leaderboard's order
    columns = heat.sort_values("_col").drop_duplicates("触点")["触点"].tolist()
    assert columns == ["出品/商品", "服务"]  # the journey's order (出品 first), not the alphabet's (价格 first)


def test_mention_table_leads_with_text_and_link_and_opens_a_row_in_full(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db).run().switch_page("views/mentions.py").run()
    grid = at.dataframe[0].value
    assert list(grid.columns)[:7] == ["时间", "门店", "产品", "情感", "内容", "原文链接", "星级"]
    assert grid["原文链接"].str.startswith("https://example.com/m/").all()
    assert "点选一行，在这里查看全文和原文链接。" in [c.value for c in at.caption]
    at.session_state["m_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    text = grid["内容"].iloc[0]
    assert [t.value for t in at.text] == [text]  # the whole text, as plain text
    (button,) = at.get("link_button")
    assert button.proto.url == grid["原文链接"].iloc[0] and button.proto.label == "打开原文"


def test_only_plain_http_links_leave_the_dashboard() -> None:
    from dashboard.ui import safe_url

    assert safe_url("https://www.dianping.com/review/1?a=1&b=二") == "https://www.dianping.com/review/1?a=1&b=%E4%BA%8C"
    for bad in ("javascript:alert(1)", "data:text/html,x", "https://", "//evil.example/x", "http://a b.com",
                "https://ok.example/\nSet-Cookie: x", None, 3, "ftp://x.example/f"):
        assert safe_url(bad) is None, bad


def test_a_store_with_few_mentions_shows_small_sample_instead_of_a_percentage(seeded, make_app) -> None:
    db, _ = seeded
    at = make_app(db).run()
    last = at.date_input(key="dates").value[1]
    at.date_input(key="dates").set_value((last - timedelta(days=6), last)).run()  # one week: 14 mentions a store
    at.multiselect(key="store").set_value(["bj-guomao"]).run()
    assert not at.exception
    share = next(m for m in at.metric if m.label == "正面占比（校正）")
    assert share.value == "样本不足" and "14 条" in share.proto.help
    at.switch_page("views/stores.py").run()
    board = at.dataframe[0].value
    board = board.data if hasattr(board, "data") else board
    assert list(board["正面占比"]) == ["样本不足 (n=14)"] and list(board["负面占比"]) == ["样本不足 (n=14)"]
    assert "%" not in "".join(board["正面占比"])
    # the whole month has 60 mentions a store: a percentage with its interval
    at.date_input(key="dates").set_value((last - timedelta(days=29), last)).run()
    board = at.dataframe[0].value
    board = board.data if hasattr(board, "data") else board
    assert board["正面占比"].iloc[0].endswith("%)") and "样本不足" not in board["正面占比"].iloc[0]


def test_audit_log_records_logins_exports_and_alert_actions_for_admin_only(seeded, make_app) -> None:
    db, info = seeded
    alert_id = info["alerts"]["sh-nanjingxi"]
    wang = _login(make_app(db, auth="local"), "wang")
    wang.switch_page("views/alerts.py").run()
    wang.button(key=f"ack_{alert_id}").click().run()
    wang.switch_page("views/mentions.py").run()
    wang.button(key="m_export").click().run()
    wang.switch_page("views/audit.py").run()  # a manager is refused: no log shown
    assert not wang.exception and "只有管理员" in wang.error[0].value and not wang.dataframe
    refused = make_app(db, auth="local").run()
    refused.text_input(key="login_user").input("wang")
    refused.text_input(key="login_password").input("wrong")
    refused.button[0].click().run()

    admin = _login(make_app(db, auth="local"), "admin")
    admin.switch_page("views/audit.py").run()
    assert not admin.exception and admin.title[0].value == "审计日志"
    log = admin.dataframe[0].value
    rows = set(zip(log["操作人"], log["操作"]))
    assert {("wang", "登录"), ("wang", "确认预警"), ("wang", "导出"), ("wang", "登录失败"), ("admin", "登录")} <= rows
    ack = log[log["操作"] == "确认预警"].iloc[0]
    assert ack["对象"] == f"alert:{alert_id}" and ack["范围"] == "store:sh-nanjingxi"
    export_row = log[log["操作"] == "导出"].iloc[0]
    assert export_row["对象"] == "mentions" and "authors_masked: True" in export_row["详情"]


def test_rankings_show_every_row_without_scrolling_inside_the_grid(seeded_sqlite, make_app, monkeypatch) -> None:
    """The grid's default height shows ten rows: the 11th and 12th store of the demo's ranking hid."""
    import streamlit as st
    from streamlit.delta_generator import DeltaGenerator

    from dashboard import ui

    db, _ = seeded_sqlite
    drawn: list[tuple[int, object]] = []
    original = DeltaGenerator.dataframe

    def recording(self, data=None, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        rows = len(data.data if hasattr(data, "data") else data) if data is not None else 0
        drawn.append((rows, kwargs.get("height", "auto")))
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "dataframe", recording)
    monkeypatch.setattr(st, "dataframe", lambda *a, **k: recording(st._main, *a, **k))
    at = make_app(db).run()
    for page in ("views/stores.py", "views/sources.py", "views/handling.py"):
        drawn.clear()
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        rows, height = drawn[0]  # the page's ranking (stores / sources / stores' handling)
        assert rows >= 4 and height == ui.fit_height(rows), (page, rows, height)
    assert ui.fit_height(12) > ui.GRID_ROW_PX * 13 and ui.fit_height(500) == ui.fit_height(30)


def test_a_store_with_few_mentions_a_day_shows_its_trend_by_week(seeded_sqlite, make_app) -> None:
    """A day of one store holds a few posts: its daily net sentiment swung ±1 and hid the turn."""
    db, _ = seeded_sqlite
    at = make_app(db).run().switch_page("views/stores.py").run()
    at.selectbox(key="store_detail").set_value("bj-guomao").run()
    assert not at.exception
    volume = _charts(at)[1]  # after the store × touchpoint heatmap
    days = pd.to_datetime(volume["日期"])
    assert len(days) > 1 and (days.dt.day_of_week == 0).all()  # one bar per week, on its Monday
    assert any("按周显示" in c.value for c in at.caption)


def test_alerts_page_lists_the_promotion_calendar_by_name(seeded_sqlite, make_app) -> None:
    from datetime import datetime, timedelta, timezone

    from storage.models import CatalogSetting
    from tests.dashboard.seed import LAST_DAY

    db, _ = seeded_sqlite
    at = make_app(db)
    at.switch_page("views/alerts.py").run()
    assert not any(e.label.startswith("促销日历") for e in at.expander)  # nothing listed, nothing shown
    start = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, tzinfo=timezone.utc) - timedelta(days=1)
    with db.session() as s:
        s.add(CatalogSetting(key="promotions", value={"entries": [
            {"name": "徐家汇周年庆<b>", "stores": ["sh-xujiahui"], "start": start.isoformat(),
             "end": (start + timedelta(days=400)).isoformat()}]}))
    at = make_app(db)
    at.switch_page("views/alerts.py").run()
    assert not at.exception
    (box,) = [e for e in at.expander if e.label.startswith("促销日历")]
    assert box.label == "促销日历（1 个活动，1 个进行中）"
    table = box.dataframe[0].value
    assert list(table["活动"]) == ["徐家汇周年庆<b>"] and list(table["门店"]) == ["上海徐家汇店"]
    assert list(table["状态"]) == ["进行中"]
