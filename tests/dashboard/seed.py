"""A compact, deterministic catalog + mentions + rollups + alerts for dashboard tests.

Two brands, two regions, four stores, three products, three platforms, ~60 days of
scored mentions with touchpoints, rollups built by the real ``alerts.rollups``,
alerts in every state, recipients, local accounts and collector runs.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from argon2 import PasswordHasher

from alerts.rollups import update_rollups
from storage import Database
from storage.models import (
    Account,
    Alert,
    Brand,
    CollectorRun,
    Mention,
    MentionAnalysis,
    MentionTouchpoint,
    Product,
    Recipient,
    Region,
    RollupDirty,
    Source,
    Store,
)

SH = ZoneInfo("Asia/Shanghai")
LAST_DAY = date(2026, 11, 20)
PASSWORD = "s3cret-密码"

STORES = {
    # id: (brand, region, name, marker word used in its mention texts)
    "sh-nanjingxi": ("chayan", "east", "上海南京西路店", "南京西路"),
    "sh-xujiahui": ("chayan", "east", "上海徐家汇店", "徐家汇"),
    "bj-sanlitun": ("chayan", "north", "北京三里屯店", "三里屯"),
    "bj-guomao": ("kafei", "north", "北京国贸店", "国贸"),
}
PRODUCTS = {"yulu": ("chayan", "幽兰拿铁"), "shengsheng": ("chayan", "声声乌龙"), "meishi": ("kafei", "美式咖啡")}
PLATFORMS = ["dianping", "weibo", "xhs"]
TOUCHPOINTS = ["product", "service", "environment", "price", "delivery", "digital"]


def seed(db: Database, per_store_per_day: int = 2, days: int = 60) -> dict[str, object]:
    """Fill ``db``; returns handy ids (alert ids by store, etc.)."""
    rng = random.Random(7)
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    now = datetime.combine(LAST_DAY, time(20), SH).astimezone(timezone.utc)
    with db.session() as s:
        s.add_all([Brand(id="chayan", name="茶颜"), Brand(id="kafei", name="咖啡研究所")])
        s.add_all([Region(id="east", name="华东区", brand_id="chayan"), Region(id="north", name="华北区")])
        for sid, (brand, region, name, _) in STORES.items():
            s.add(Store(id=sid, brand_id=brand, region_id=region, name=name, city=name[:2]))
        for pid, (brand, name) in PRODUCTS.items():
            s.add(Product(id=pid, brand_id=brand, name=name))
        for p in PLATFORMS:
            s.add(Source(id=f"rss-{p}", type="feed", platform=p, last_run_at=now, last_success_at=now,
                         last_new_item_at=now - timedelta(hours=2)))
        s.add(Source(id="csv-nanjingxi", name="南京西路店 点评导出", type="file", platform="dianping", store_id="sh-nanjingxi", health="failing",
                     consecutive_failures=3, last_run_at=now, last_new_item_at=now - timedelta(days=3)))
        s.add_all([
            Recipient(id="wang", name="王店长", role="manager", email="wang@example.com", stores=["sh-nanjingxi"]),
            Recipient(id="li", name="李经理", role="area_manager", email="li@example.com", regions=["north"]),
            Recipient(id="mkt", name="市场部", role="marketing", email="mkt@example.com"),
        ])
        s.add_all([
            Account(username="admin", password_hash=hasher.hash(PASSWORD), role="admin"),
            Account(username="market", password_hash=hasher.hash(PASSWORD), role="marketing"),
            Account(username="wang", password_hash=hasher.hash(PASSWORD), role="manager", recipient_id="wang"),
        ])
        for i in range(6):
            src = "csv-nanjingxi" if i % 2 else "rss-weibo"
            s.add(CollectorRun(source_id=src, started_at=now - timedelta(hours=i), finished_at=now - timedelta(hours=i),
                               status="failed" if src == "csv-nanjingxi" else "ok", items_seen=10 + i, items_new=i,
                               errors=["HTTP 461 blocked"] if src == "csv-nanjingxi" else []))
    rows: list[tuple[dict, list[dict]]] = []  # (mention_analysis row, its touchpoint rows)
    mentions: list[dict] = []
    mid = 0
    with db.session() as s:
        for d in range(days):
            day = LAST_DAY - timedelta(days=d)
            for sid, (brand, region, name, marker) in STORES.items():
                for k in range(per_store_per_day):
                    mid += 1
                    ts = datetime.combine(day, time(8 + 3 * k, 15), SH).astimezone(timezone.utc)
                    label = rng.choice(["positive", "positive", "neutral", "negative"])
                    if sid == "bj-sanlitun" and d < 7:
                        label = "negative"  # a recent dip, so store filters visibly change KPIs
                    prods = [p for p, (b, _) in PRODUCTS.items() if b == brand]
                    product = rng.choice(prods)
                    platform = PLATFORMS[(mid + k) % 3]
                    urgent = label == "negative" and mid % 11 == 0
                    text = f"{marker}的{PRODUCTS[product][1]}{'真好喝' if label == 'positive' else '一般般' if label == 'neutral' else '太难喝了，服务态度差'}"
                    if urgent:
                        text += "，喝完拉肚子"
                    if mid == 5:
                        text = "<script>alert('x')</script><b>粗体</b> " + text
                    mentions.append(dict(id=mid, source_id=f"rss-{platform}", external_id=str(mid), platform=platform,
                                         kind="post", url=f"https://example.com/m/{mid}", author=f"用户{mid}",
                                         text=text, published_at=ts, collected_at=ts, content_hash=f"h{mid}",
                                         extra={}))
                    score = {"positive": 0.9, "neutral": 0.5, "negative": 0.1}[label]
                    a = dict(mention_id=mid, published_at=ts, platform=platform, brand_id=brand,
             region_id=region, store_id=sid, product_id=product, link_confidence=0.9, links=[],
                             model="test", model_version="1", score=score, label=label, urgent=urgent,
                             urgent_terms=["拉肚子"] if urgent else [],
                             keywords=["难喝", "态度差"] if label == "negative" else ["好喝"], counted=True,
                             scored_at=ts)
                    tps = [dict(mention_id=mid, touchpoint="product", polarity=label, score=score,
                                evidence=text[:20], start=0, end=20)]
                    if label == "negative":
                        tps.append(dict(mention_id=mid, touchpoint="service", polarity="negative", score=0.1,
                                        evidence="服务态度差", start=0, end=5))
                    rows.append((a, tps))
        # bulk Core inserts: the ORM unit of work would make each test's setup seconds slower
        s.execute(sa.insert(Mention.__table__), mentions)
        s.execute(sa.insert(MentionAnalysis.__table__), [a for a, _ in rows])
        s.execute(sa.insert(MentionTouchpoint.__table__), [t for _, tps in rows for t in tps])
    with db.session() as s:  # every UTC day with mentions is dirty; the real update_rollups builds them
        first = LAST_DAY - timedelta(days=days + 1)
        s.add_all([RollupDirty(day=first + timedelta(days=i)) for i in range(days + 3)])
    update_rollups(db)
    alerts: dict[str, int] = {}
    with db.session() as s:
        for i, (sid, status) in enumerate([("sh-nanjingxi", "open"), ("bj-sanlitun", "open"),
                                           ("bj-guomao", "acknowledged"), ("sh-xujiahui", "resolved")]):
            neg_ids = [a["mention_id"] for a, _ in rows if a["store_id"] == sid and a["label"] == "negative"][:3]
            alert = Alert(kind="spike", scope_type="store", scope_id=sid, incident_key=f"spike:{sid}",
                          severity="critical" if i == 1 else "warning", status=status,
                          title=f"{STORES[sid][2]} 负面声量激增", reason="负面提及是过去两周同时段的 4 倍",
                          opened_at=now - timedelta(hours=5 + i), updated_at=now - timedelta(hours=5 + i),
                          window_start=now - timedelta(days=1), window_end=now,
                          evidence={"mention_ids": neg_ids, "negative": 12, "baseline": 3.0})
            s.add(alert)
            s.flush()
            alerts[sid] = int(alert.id)
    return {"alerts": alerts, "now": now, "mentions": mid}
