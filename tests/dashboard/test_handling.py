"""Handling KPIs, reply queue, touchpoint trend and competitor benchmark queries, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard import queries as q
from dashboard.access import Access, local_admin
from dashboard.scope import Filters, Scope
from storage.replies import set_reply
from tests.dashboard.handling_seed import add_handling
from tests.dashboard.seed import LAST_DAY, PRODUCTS, STORES

F30 = Filters(start=LAST_DAY - timedelta(days=29), end=LAST_DAY)
ADMIN = Scope(F30, local_admin())
WANG = Access(user="wang", role="manager", stores=frozenset({"sh-nanjingxi"}))


@pytest.fixture
def handled(seeded):
    db, info = seeded
    add_handling(db, info)
    return db, info


def test_handling_kpis_per_store_worst_first(handled):
    db, _ = handled
    df = q.handling_kpis(db, ADMIN)
    by = df.set_index("store_id")
    assert set(by.index) == set(STORES)
    assert by.loc["bj-guomao", "on_time_rate"] == 1.0  # 20 minutes, within the 60-minute deadline
    assert by.loc["bj-guomao", "median_response_hours"] == pytest.approx(1 / 3)
    assert by.loc["bj-sanlitun", "on_time_rate"] == 0.0  # opened hours ago, never answered
    assert by.loc["bj-sanlitun", "negative"] > 0 and by.loc["bj-sanlitun", "reply_rate"] == 0.0
    assert list(df["on_time_rate"].dropna()) == sorted(df["on_time_rate"].dropna())
    # stores tied on both rates and on alerts: the one with more negatives waiting for a reply first
    # (10 of 三里屯's 21 need no reply: 11 wait there, 15 at 南京西路, 12 at 徐家汇)
    queue = q.reply_queue(db, ADMIN.narrowed(stores=("bj-sanlitun",)))
    for mention_id in queue["mention_id"][:10]:
        set_reply(db, int(mention_id), "not_needed", "admin")
    tied = q.handling_kpis(db, ADMIN)
    assert list(tied["store_id"][:3]) == ["sh-nanjingxi", "sh-xujiahui", "bj-sanlitun"]
    mine = q.handling_kpis(db, Scope(F30, WANG))
    assert list(mine["store_id"]) == ["sh-nanjingxi"]  # a manager sees their store only
    assert q.handling_deadlines(db) == {"acknowledge_minutes": 60, "resolve_hours": 24, "reply_hours": 24}


def test_reply_queue_drafts_and_status_feed_the_reply_rate(handled):
    db, _ = handled
    scope = Scope(F30, WANG)
    queue = q.reply_queue(db, scope)
    assert len(queue) > 0 and set(queue["store_id"]) == {"sh-nanjingxi"}
    assert set(queue["status"]) == {"pending"}
    first = queue.iloc[0]
    # 太难喝了，服务态度差: product and service are equally negative; the first clause wins
    assert first["touchpoint"] == "product"
    product = PRODUCTS[first["product_id"]][1]
    assert first["draft"].startswith(f"您好，非常抱歉{product}没有让您满意！上海南京西路店已把")
    before = q.handling_kpis(db, scope).iloc[0]
    set_reply(db, int(first["mention_id"]), "replied", "wang", first["draft"])
    set_reply(db, int(queue.iloc[1]["mention_id"]), "not_needed", "wang")
    after = q.handling_kpis(db, scope).iloc[0]
    assert (after["replied"], after["reply_needed"]) == (before["replied"] + 1, before["reply_needed"] - 1)
    assert after["reply_rate"] == pytest.approx(1 / after["reply_needed"])
    replied = q.reply_queue(db, scope, ("replied",))
    assert list(replied["mention_id"]) == [first["mention_id"]] and replied.iloc[0]["replied_by"] == "wang"
    assert len(queue) < 50 and len(q.reply_queue(db, scope)) == len(queue) - 2  # 未回复 only by default
    assert q.mention_store(db, int(first["mention_id"])) == "sh-nanjingxi"


def test_reply_draft_falls_back_to_default_template():
    templates = {"default": "您好，{store}收到", "price": "{store}的{product}价格"}
    assert q.reply_draft(templates, "price", "静安寺店", "杨枝甘露") == "静安寺店的杨枝甘露价格"
    assert q.reply_draft(templates, "digital", "静安寺店", "杨枝甘露") == "您好，静安寺店收到"
    assert q.reply_draft(None, None, "a", "b") == ""


def test_touchpoint_trend_per_store_and_product(handled):
    db, _ = handled
    df = q.touchpoint_trend(db, ADMIN.narrowed(stores=("bj-sanlitun",)))
    last_week = df[df["day"] > LAST_DAY - timedelta(days=7)]
    service = last_week[last_week["touchpoint"] == "service"]
    assert len(service) == 7 and (service["net"] == -1.0).all()  # the seeded dip: every mention negative
    product = q.touchpoint_trend(db, ADMIN.narrowed(products=("meishi",)))
    assert set(product["touchpoint"]) <= {"product", "service"} and product["total"].sum() > 0
    assert q.touchpoint_trend(db, Scope(F30, WANG).narrowed(stores=("bj-sanlitun",))).empty  # not their store


def test_competitor_benchmark_side_by_side(handled):
    db, _ = handled
    bench = q.competitor_benchmark(db, ADMIN)
    brands = bench["brands"]
    assert list(brands["kind"]) == ["own", "own", "competitor"]
    rival = brands.set_index("brand_id").loc["rival"]
    assert (rival["name"], rival["mentions"], rival["negative"]) == ("竹里茶坊", 20, 15)
    assert rival["net"] == pytest.approx((5 - 15) / 20)
    tps = bench["touchpoints"].set_index(["brand_id", "touchpoint"])
    assert tps.loc[("rival", "delivery"), "mentions"] == 10
    assert ("chayan", "service") in tps.index
    assert q.own_brand_ids(db) == ("chayan", "kafei")
    mine = q.competitor_benchmark(db, Scope(F30, WANG))["brands"].set_index("brand_id")
    assert set(mine.index) == {"chayan", "rival"}  # their own store's numbers, and the competitor's


def test_no_competitor_no_benchmark(seeded):
    db, _ = seeded
    assert q.competitor_benchmark(db, ADMIN)["brands"].empty and q.own_brand_ids(db) == ()
