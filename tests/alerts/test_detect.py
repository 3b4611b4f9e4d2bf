"""detect_alerts on a real database: table-driven spike cases, lifecycle, urgent dedup."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

import numpy as np
import pytest
from sqlmodel import select

from alerts.evidence import usual_count_zh
from alerts.detect import detect_alerts
from alerts.policy import AlertPolicy
from alerts.rollups import mark_all_dirty, update_rollups
from storage.models import Alert, Mention, MentionAnalysis, MentionTouchpoint, Product, Store

UTC = timezone.utc
START = datetime(2026, 10, 1, tzinfo=UTC)  # baseline starts here
DAY0 = START + timedelta(days=35)  # the day under test (UTC midnight = 08:00 Shanghai)
POLICY = AlertPolicy()
STORES_ONLY = AlertPolicy(scope_types=("store", "store_product"))  # fewer scopes: faster lifecycle tests


class Stream:
    """Builds mentions for a few stores and writes them in bulk."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        self.ids = count(1)
        self.mentions: list[dict] = []
        self.analyses: list[dict] = []
        self.touchpoints: list[dict] = []

    def add(self, at, store, negative, *, product=None, urgent=False, text=None, touchpoint=None, chash=None,
            counted=True):
        i = next(self.ids)
        label = "negative" if negative else "positive"
        self.mentions.append(dict(id=i, source_id="src", external_id=str(i), platform="dianping", kind="review",
                                  text=text or ("味道一般" if negative else "奶茶很好喝") + f" {i}", published_at=at, collected_at=at,
                                  content_hash=chash or f"h{i}", extra={}))
        self.analyses.append(dict(mention_id=i, published_at=at, platform="dianping", brand_id="b1",
                                  region_id="east", store_id=store, product_id=product, link_confidence=1.0,
                                  links=[], model="t", model_version="1", score=0.1 if negative else 0.9,
                                  label=label, urgent=urgent, urgent_terms=["拉肚子"] if urgent else [],
                                  keywords=["异味"] if text and "异味" in text else [], counted=counted, scored_at=at))
        if touchpoint:
            self.touchpoints.append(dict(mention_id=i, touchpoint=touchpoint, polarity=label, score=0.1,
                                         evidence="x", start=0, end=1))
        return i

    def background(self, store, per_day, share=0.1, days=35, start=START, promo=None):
        """Poisson daily volume in Shanghai day time (08–22 local), ``share`` negative."""
        for d in range(days):
            day = start + timedelta(days=d)
            lam = per_day * (3 if promo and promo[0] <= day < promo[1] else 1)
            for _ in range(self.rng.poisson(lam)):
                at = day + timedelta(hours=float(self.rng.uniform(0, 14)))  # 08:00–22:00 local
                self.add(at, store, self.rng.random() < share, product="p1")

    def write(self, db):
        with db.engine.begin() as conn:
            if self.mentions:
                conn.execute(Mention.__table__.insert(), self.mentions)
                conn.execute(MentionAnalysis.__table__.insert(), self.analyses)
            if self.touchpoints:
                conn.execute(MentionTouchpoint.__table__.insert(), self.touchpoints)
        self.mentions, self.analyses, self.touchpoints = [], [], []
        mark_all_dirty(db)
        update_rollups(db)


def spikes(db):
    with db.session() as s:
        return s.exec(select(Alert).where(Alert.kind == "spike").order_by(Alert.id)).all()


def peers(stream, n=6, per_day=6):
    for k in range(n):
        stream.background(f"peer{k}", per_day)


def afternoon(hours):
    return DAY0 + timedelta(hours=6 + hours)  # 14:00 Shanghai + hours


CASES = [
    # name, store volume/day, extra negatives (count, spread hours), expect alert
    ("low volume: one bad review among two a day", 2, (1, 1), False),
    ("low volume: eight bad in an afternoon", 2, (8, 4), True),
    ("high volume: normal day", 40, (0, 1), False),
    ("high volume: 15 extra bad in 6 hours", 40, (15, 6), True),
]


def run_case(db, per_day, extra):
    """Background for s1 and peers, ``extra`` = (negatives, spread hours) on the afternoon; s1's alerts."""
    s = Stream()
    peers(s)
    s.background("s1", per_day, days=36)
    n_bad, spread = extra
    for k in range(n_bad):
        s.add(afternoon(spread * k / max(n_bad, 1)), "s1", True, product="p1", touchpoint="service",
              text=f"奶茶有异味，服务很差 {k}")
    s.write(db)
    with db.session() as sess:
        sess.add(Store(id="s1", brand_id="b1", region_id="east", name="上海万象城店"))
    detect_alerts(db, POLICY, now=afternoon(spread) + timedelta(hours=1))
    return [a for a in spikes(db) if a.scope_id.split("|")[0] == "s1"]


@pytest.mark.parametrize("name,per_day,extra,expect", CASES, ids=[c[0] for c in CASES])
def test_spike_cases(db, name, per_day, extra, expect):
    store_alerts = run_case(db, per_day, extra)
    assert bool(store_alerts) == expect, [a.title for a in spikes(db)]
    if expect:
        (a,) = store_alerts
        assert a.scope_type == "store" and a.status == "open" and a.notified_severity is None
        assert a.title.startswith("【") and "上海万象城店 差评激增" in a.title
        assert 3 <= len(a.evidence["mention_ids"]) <= 5
        assert a.evidence["numbers"]["negative"] >= 3
        assert a.evidence["touchpoints"][0]["touchpoint"] == "service"
        assert "异味" in a.evidence["keywords"]  # nlp's ranker, or the stored keywords without it
        # one incident, one alert: the brand, region and product totals it drags up stay quiet
        assert [x.id for x in spikes(db)] == [a.id]
        # ... and the store alert names the product its negatives landed on
        assert a.evidence["products"][0]["product"] == "p1"
        assert a.evidence["products"][0]["negative"] >= 3 and "涉及产品：p1" in a.reason
        # why, in plain Chinese: expected vs observed, the window, how unusual, the complaint terms
        n = a.evidence["numbers"]
        assert a.reason.startswith(f"{usual_count_zh(n['expected_negative'])}，近 {n['window_hours']} 小时 "
                                   f"{n['negative']} 条差评，{n['rarity']}；")
        assert n["rarity"].endswith("的偶然") and n["months_between"] > 1
        assert "主要抱怨：" in a.reason and "异味" in a.reason


def test_keywords_fall_back_to_stored_keywords_without_nlp_ranker(db, monkeypatch):
    import alerts.evidence

    monkeypatch.setattr(alerts.evidence, "complaint_keywords_hook", lambda: None)
    (a,) = run_case(db, 2, (8, 4))
    assert a.evidence["keywords"] == ["异味"]


def test_promotion_triples_volume_without_alert(db):
    s = Stream()
    peers(s)
    s.background("s1", 20, days=37, promo=(DAY0 - timedelta(days=1), DAY0 + timedelta(days=2)))
    s.write(db)
    for h in range(0, 48, 3):
        detect_alerts(db, STORES_ONLY, now=DAY0 + timedelta(hours=h))
    assert [a.title for a in spikes(db) if a.scope_id.startswith("s1")] == []


def test_ongoing_incident_updates_one_alert_then_resolves(db):
    s = Stream()
    peers(s)
    s.background("s1", 10, days=38)
    for k in range(60):  # a bad day and a half: 60 extra negatives over 30 hours
        s.add(afternoon(k / 2), "s1", True, product="p1")
    s.write(db)
    first = detect_alerts(db, STORES_ONLY, now=afternoon(4))
    assert first.opened == 1
    again = detect_alerts(db, STORES_ONLY, now=afternoon(4))
    assert again.changed == 0  # idempotent at the same now
    (a1,) = [a for a in spikes(db) if a.scope_id.startswith("s1")]
    for h in range(7, 31, 3):
        detect_alerts(db, STORES_ONLY, now=afternoon(h))
    alerts = [a for a in spikes(db) if a.scope_id.startswith("s1")]
    assert len(alerts) == 1
    a = alerts[0]
    assert a.id == a1.id and a.window_end > a1.window_end and a.status == "open"
    assert ["warning", "critical"].index(a.severity) >= ["warning", "critical"].index(a1.severity)
    assert a.incident_key == a1.incident_key
    # quiet again: resolved by the system, and no new alert for the same incident
    for h in range(31, 31 + 48, 4):
        detect_alerts(db, STORES_ONLY, now=afternoon(h))
    alerts = [a for a in spikes(db) if a.scope_id.startswith("s1")]
    assert len(alerts) == 1
    assert alerts[0].status == "resolved" and alerts[0].resolved_by == "system" and alerts[0].resolved_at


def test_urgent_count_is_the_dashboards_count_reposts_said_apart(db):
    s = Stream()
    s.add(DAY0 + timedelta(hours=1), "s1", True, urgent=True, text="喝完拉肚子了", chash="a")
    s.add(DAY0 + timedelta(hours=2), "s1", True, urgent=True, text="杯里有异物", chash="b")
    s.add(DAY0 + timedelta(hours=3), "s1", True, urgent=True, text="转发：喝完拉肚子了", chash="a", counted=False)
    s.write(db)
    detect_alerts(db, POLICY, now=DAY0 + timedelta(hours=4))
    with db.session() as sess:
        (u,) = sess.exec(select(Alert).where(Alert.kind == "urgent")).all()
    # the overview counts counted urgent mentions: 2; the repost is in the alert, not in its count
    assert u.evidence["count"] == 2 and u.evidence["reposts"] == 1 and len(u.evidence["all_mention_ids"]) == 3
    assert u.reason.startswith("2 条提及含紧急词") and "另有 1 条转发" in u.reason


def test_urgent_dedup_per_store_and_incident(db):
    s = Stream()
    a1 = s.add(DAY0 + timedelta(hours=1), "s1", True, urgent=True, text="喝完拉肚子了", chash="same")
    s.add(DAY0 + timedelta(hours=3), "s1", True, urgent=True, text="同事也拉肚子")
    s.add(DAY0 + timedelta(hours=2), "s2", True, urgent=True, text="有头发")
    s.write(db)
    summary = detect_alerts(db, POLICY, now=DAY0 + timedelta(hours=4))
    assert summary.urgent_opened == 2
    assert detect_alerts(db, POLICY, now=DAY0 + timedelta(hours=4)).changed == 0
    with db.session() as sess:
        urgent = sess.exec(select(Alert).where(Alert.kind == "urgent").order_by(Alert.scope_id)).all()
        assert [(u.scope_id, u.evidence["count"], u.severity) for u in urgent] == [("s1", 2, "critical"),
                                                                                   ("s2", 1, "critical")]
        assert a1 in urgent[0].evidence["mention_ids"] and "拉肚子" in urgent[0].title
        urgent[0].status, urgent[0].resolved_at = "resolved", DAY0 + timedelta(hours=5)
        sess.add(urgent[0])
    # a repost of the first complaint after the manager resolved it: no new alert
    s.add(DAY0 + timedelta(hours=6), "s1", True, urgent=True, text="喝完拉肚子了", chash="same")
    # a new complaint two days later: a new incident
    s.add(DAY0 + timedelta(hours=50), "s1", True, urgent=True, text="又有虫")
    s.write(db)
    summary = detect_alerts(db, POLICY, now=DAY0 + timedelta(hours=51))
    assert summary.urgent_opened == 1
    with db.session() as sess:
        assert len(sess.exec(select(Alert).where(Alert.kind == "urgent", Alert.scope_id == "s1")).all()) == 2


def test_chain_product_incident_is_one_product_alert_naming_its_stores(db):
    """榴莲冰沙 bad in six stores at once: one product alert that names them, no alert per store × product."""
    s = Stream()
    stores = [f"c{k}" for k in range(6)]
    for store in stores:
        s.background(store, 12, days=37)
        for d in range(37):  # the smoothie sells a few a day everywhere, rarely badly
            for _ in range(s.rng.poisson(3)):
                s.add(START + timedelta(days=d, hours=float(s.rng.uniform(0, 14))), store, s.rng.random() < 0.1,
                      product="p9")
    for store in stores:
        for k in range(6):
            s.add(afternoon(k * 0.6), store, True, product="p9", text=f"榴莲冰沙有异味 {k}")
    s.write(db)
    with db.session() as sess:
        sess.add_all([Store(id=st, brand_id="b1", region_id="east", name=f"{st}店") for st in stores])
        sess.add(Product(id="p9", brand_id="b1", name="榴莲冰沙"))
    for h in (2, 4, 6, 9, 12):
        detect_alerts(db, POLICY, now=afternoon(h))
    alerts = spikes(db)
    # one incident, one alert: no brand alert, no store or store × product alert beside the product's
    assert [(a.scope_type, a.scope_id) for a in alerts] == [("product", "p9")]
    (product,) = [a for a in alerts if a.scope_type == "product"]
    assert product.scope_id == "p9" and "榴莲冰沙" in product.title
    named = [x["store"] for x in product.evidence["stores"]]
    assert len(named) >= 4 and set(named) <= set(stores)
    assert "涉及门店：" in product.reason and f"{named[0]}店" in product.reason


def test_usual_count_never_reads_as_zero_point_zero() -> None:
    """A scope that almost never gets a complaint says so instead of 平时约 0.0 条."""
    assert usual_count_zh(0.3) == "平时约 0.3 条"
    assert usual_count_zh(0.05) == "平时约 0.1 条"
    assert usual_count_zh(0.02) == "平时几乎没有"
    assert usual_count_zh(0.0) == "平时几乎没有"
