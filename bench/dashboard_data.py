"""Synthetic data for the dashboard benchmark: a year of mentions for a 200-store chain.

Written straight through the DB-API (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) into the real migrated schema, then day rollups are built by one
``INSERT … SELECT … GROUP BY`` per scope type, the same rows ``alerts.rollups``
writes for the ``day`` grain (the dashboard does not read the ``hour`` grain).
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from storage import Database

SH = ZoneInfo("Asia/Shanghai")
LAST_DAY = date(2026, 11, 20)
PLATFORMS = ["dianping", "meituan", "eleme", "meituan_waimai", "weibo", "xhs", "douyin", "bilibili", "zhihu",
             "tieba", "taobao", "jd"]
TOUCHPOINTS = ["product", "service", "environment", "price", "delivery", "digital"]
KEYWORDS = ["排队", "难喝", "太甜", "态度差", "出餐慢", "好喝", "性价比", "包装", "洒漏", "卫生", "小程序", "会员",
            "新品", "冰块", "拉肚子", "贵", "优惠券", "环境好", "座位", "外卖慢"]
TEXTS = ["今天在{store}喝了{product}，{verdict}", "{store}的{product}{verdict}，下次还来吗", "外卖点了{product}，{verdict}",
         "{product}新品试了一下，{verdict}。{store}排队好久"]
VERDICTS = {"positive": "真的好喝，推荐！", "neutral": "中规中矩吧", "negative": "太难喝了，服务态度也差"}
CITIES = ["上海", "北京", "杭州", "南京", "苏州", "成都", "武汉", "长沙", "深圳", "广州"]

MENTION_COLS = ["id", "source_id", "external_id", "platform", "kind", "url", "author", "title", "text", "rating",
                "published_at", "collected_at", "brand_hint", "store_hint", "product_hint", "likes", "content_hash",
                "duplicate_of", "extra"]
ANALYSIS_COLS = ["mention_id", "published_at", "platform", "brand_id", "region_id", "store_id", "product_id",
                 "link_confidence", "links", "model", "model_version", "score", "label", "urgent", "urgent_terms",
                 "keywords", "counted", "scored_at"]
TP_COLS = ["mention_id", "touchpoint", "polarity", "score", "evidence", "start", "end"]


def _catalog(n_stores: int) -> dict[str, Any]:
    brands = [("b0", "茶颜"), ("b1", "咖啡研究所"), ("b2", "甜品铺")]
    regions = [(f"r{i}", f"{CITIES[i]}区", brands[i % 3][0]) for i in range(10)]
    stores = [(f"s{i:03d}", brands[i % 3][0], f"r{i % 10}", f"{CITIES[i % 10]}{i:03d}号店", CITIES[i % 10])
              for i in range(n_stores)]
    products = [(f"p{i:02d}", brands[i % 3][0], f"产品{i:02d}") for i in range(30)]
    return {"brands": brands, "regions": regions, "stores": stores, "products": products}


def _ts_sqlite(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(n: int, days: int, cat: dict[str, Any], seed: int = 11) -> Iterator[tuple[dict, dict, list[dict]]]:
    rng = random.Random(seed)
    stores = cat["stores"]
    weights = [1.0 / (1 + i % 40) ** 0.6 for i in range(len(stores))]  # some busy, some quiet stores
    base = {s[0]: rng.uniform(0.35, 0.75) for s in stores}
    products_by_brand: dict[str, list[tuple]] = {}
    for p in cat["products"]:
        products_by_brand.setdefault(p[1], []).append(p)
    end = datetime.combine(LAST_DAY + timedelta(days=1), time(), SH).astimezone(timezone.utc)
    span = days * 86400
    picks = rng.choices(range(len(stores)), weights=weights, k=n)
    for i in range(1, n + 1):
        store = stores[picks[i - 1]] if rng.random() < 0.85 else None
        brand = store[1] if store else rng.choice(cat["brands"])[0]
        product = rng.choice(products_by_brand[brand]) if rng.random() < 0.6 else None
        ts = end - timedelta(seconds=rng.random() * span)
        p_pos = base[store[0]] if store else 0.55
        r = rng.random()
        label = "positive" if r < p_pos else "negative" if r < p_pos + (1 - p_pos) * 0.55 else "neutral"
        score = {"positive": 0.6 + 0.4 * rng.random(), "neutral": 0.4 + 0.2 * rng.random(),
                 "negative": 0.4 * rng.random()}[label]
        platform = rng.choice(PLATFORMS)
        urgent = label == "negative" and rng.random() < 0.02
        text = rng.choice(TEXTS).format(store=store[3] if store else "", product=product[2] if product else "奶茶",
                                        verdict=VERDICTS[label])
        mention = {"id": i, "source_id": f"src-{platform}", "external_id": str(i), "platform": platform, "kind": "post",
                   "url": f"https://example.com/{platform}/{i}", "author": f"用户{i % 50000}", "title": None,
                   "text": text, "rating": None, "published_at": ts, "collected_at": ts, "brand_hint": None,
                   "store_hint": None, "product_hint": None, "likes": rng.randint(0, 200), "content_hash": f"h{i}",
                   "duplicate_of": None, "extra": "{}"}
        analysis = {"mention_id": i, "published_at": ts, "platform": platform, "brand_id": brand,
                    "region_id": store[2] if store else None, "store_id": store[0] if store else None,
                    "product_id": product[0] if product else None, "link_confidence": 0.9, "links": "[]",
                    "model": "bench", "model_version": "1", "score": score, "label": label, "urgent": urgent,
                    "urgent_terms": json.dumps(["拉肚子"] if urgent else [], ensure_ascii=False),
                    "keywords": json.dumps(rng.sample(KEYWORDS, 3), ensure_ascii=False), "counted": True,
                    "scored_at": ts}
        tps = []
        for tp in rng.sample(TOUCHPOINTS, rng.choice([1, 1, 2])):
            pol = label if rng.random() < 0.8 else rng.choice(["positive", "neutral", "negative"])
            tps.append({"mention_id": i, "touchpoint": tp, "polarity": pol, "score": score, "evidence": text[:12],
                        "start": 0, "end": 12})
        yield mention, analysis, tps


def _insert_sqlite(db: Database, table: str, cols: list[str], rows: list[dict]) -> None:
    conn = db.engine.raw_connection()
    try:
        quoted = ", ".join(f'"{c}"' for c in cols)
        sql = f'INSERT INTO {table} ({quoted}) VALUES ({", ".join("?" for _ in cols)})'
        conn.cursor().executemany(sql, [tuple(_ts_sqlite(r[c]) if isinstance(r[c], datetime) else r[c] for c in cols)
                                        for r in rows])
        conn.commit()
    finally:
        conn.close()


def _insert_pg(db: Database, table: str, cols: list[str], rows: list[dict]) -> None:
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        quoted = ", ".join(f'"{c}"' for c in cols)
        with cur.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in cols))
        conn.commit()
    finally:
        conn.close()


def _insert(db: Database, table: str, cols: list[str], rows: list[dict]) -> None:
    if rows:
        (_insert_sqlite if db.dialect == "sqlite" else _insert_pg)(db, table, cols, rows)


def _seed_catalog(db: Database, cat: dict[str, Any], now: datetime, n_alerts: int, rng: random.Random) -> None:
    j = json.dumps
    _insert(db, "brands", ["id", "name", "aliases", "exclude"], [{"id": b, "name": n, "aliases": "[]", "exclude": "[]"}
                                                                 for b, n in cat["brands"]])
    _insert(db, "regions", ["id", "name", "brand_id"], [{"id": r, "name": n, "brand_id": b} for r, n, b in cat["regions"]])
    _insert(db, "stores", ["id", "brand_id", "name", "city", "district", "address", "region_id", "aliases",
                           "platform_ids"],
            [{"id": s, "brand_id": b, "name": n, "city": c, "district": "", "address": "", "region_id": r,
              "aliases": "[]", "platform_ids": "{}"} for s, b, r, n, c in cat["stores"]])
    _insert(db, "products", ["id", "brand_id", "name", "category", "aliases"],
            [{"id": p, "brand_id": b, "name": n, "category": "饮品", "aliases": "[]"} for p, b, n in cat["products"]])
    src_cols = ["id", "type", "platform", "schedule", "enabled", "options", "state", "consecutive_failures",
                "last_run_at", "last_success_at", "last_new_item_at", "health"]
    _insert(db, "sources", src_cols, [{"id": f"src-{p}", "type": "feed", "platform": p, "schedule": "*/30 * * * *",
                                       "enabled": True, "options": "{}", "state": "{}", "consecutive_failures": 0,
                                       "last_run_at": now, "last_success_at": now, "last_new_item_at": now,
                                       "health": "ok"} for p in PLATFORMS])
    run_cols = ["source_id", "started_at", "finished_at", "status", "pages", "items_seen", "items_new",
                "items_duplicate", "items_skipped", "errors"]
    runs = [{"source_id": f"src-{p}", "started_at": now - timedelta(minutes=30 * k),
             "finished_at": now - timedelta(minutes=30 * k - 1), "status": "ok" if k % 17 else "failed", "pages": 1,
             "items_seen": 50, "items_new": rng.randint(0, 20), "items_duplicate": 30, "items_skipped": 0,
             "errors": "[]" if k % 17 else j(["HTTP 461"])} for p in PLATFORMS for k in range(48 * 30)]
    _insert(db, "collector_runs", run_cols, runs)
    alert_cols = ["kind", "scope_type", "scope_id", "incident_key", "severity", "status", "title", "reason",
                  "opened_at", "updated_at", "window_start", "window_end", "evidence"]
    alerts = []
    for k in range(n_alerts):
        s = cat["stores"][rng.randrange(len(cat["stores"]))]
        opened = now - timedelta(hours=rng.randint(1, 24 * 365))
        alerts.append({"kind": "spike", "scope_type": "store", "scope_id": s[0], "incident_key": f"spike:{s[0]}:{k}",
                       "severity": rng.choice(["info", "warning", "critical"]),
                       "status": "open" if k % 10 == 0 else "acknowledged" if k % 10 == 1 else "resolved",
                       "title": f"{s[3]} 负面声量激增", "reason": "负面提及高于基线", "opened_at": opened,
                       "updated_at": opened, "window_start": opened - timedelta(hours=1), "window_end": opened,
                       "evidence": j({"mention_ids": [rng.randint(1, 1000) for _ in range(5)]})})
    _insert(db, "alerts", alert_cols, alerts)


TOUCHPOINT_SCOPES = {"touchpoint": "t.touchpoint", "store_touchpoint": "a.store_id || '|' || t.touchpoint",
                     "product_touchpoint": "a.product_id || '|' || t.touchpoint"}


def _rollup_sql(db: Database, only: tuple[str, ...] | None = None) -> list[str]:
    """``INSERT … SELECT`` of the day rollups, one per scope type (``only`` those scope types)."""
    if db.dialect == "sqlite":
        bucket = "datetime(date({c}, '+8 hours'), '-8 hours') || '.000000'"
    else:
        bucket = "date_trunc('day', {c} AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'"
    counts = ("count(*), sum(CASE WHEN {l} = 'positive' THEN 1 ELSE 0 END), "
              "sum(CASE WHEN {l} = 'neutral' THEN 1 ELSE 0 END), sum(CASE WHEN {l} = 'negative' THEN 1 ELSE 0 END), "
              "sum({s}), sum(CASE WHEN a.urgent THEN 1 ELSE 0 END)")
    cols = "INSERT INTO rollups (grain, bucket, scope_type, scope_id, total, positive, neutral, negative, score_sum, urgent)"
    out = []
    mention_scopes = {"brand": "a.brand_id", "region": "a.region_id", "store": "a.store_id", "product": "a.product_id",
                      "store_product": "a.store_id || '|' || a.product_id", "platform": "a.platform"}
    b = bucket.format(c="a.published_at")
    for st, expr in mention_scopes.items():
        if only is not None and st not in only:
            continue
        out.append(f"{cols} SELECT 'day', {b}, '{st}', {expr}, {counts.format(l='a.label', s='a.score')} "
                   f"FROM mention_analysis a WHERE a.counted AND {expr} IS NOT NULL AND {expr} <> '' "
                   f"GROUP BY {b}, {expr}")
    for st, expr in TOUCHPOINT_SCOPES.items():
        if only is not None and st not in only:
            continue
        out.append(f"{cols} SELECT 'day', {b}, '{st}', {expr}, {counts.format(l='t.polarity', s='t.score')} "
                   f"FROM mention_touchpoints t JOIN mention_analysis a ON a.mention_id = t.mention_id "
                   f"WHERE a.counted AND {expr} IS NOT NULL GROUP BY {b}, {expr}")
    return out


def generate(db: Database, n_mentions: int = 1_000_000, n_stores: int = 200, days: int = 365,
             n_alerts: int = 3000, chunk: int = 50_000, log: Any = print) -> None:
    """Fill an empty migrated database with the benchmark data set and its day rollups."""
    rng = random.Random(5)
    cat = _catalog(n_stores)
    now = datetime.combine(LAST_DAY, time(20), SH).astimezone(timezone.utc)
    _seed_catalog(db, cat, now, n_alerts, rng)
    ms: list[dict] = []
    an: list[dict] = []
    tps: list[dict] = []
    for k, (m, a, t) in enumerate(_rows(n_mentions, days, cat), start=1):
        ms.append(m)
        an.append(a)
        tps.extend(t)
        if len(ms) >= chunk or k == n_mentions:
            _insert(db, "mentions", MENTION_COLS, ms)
            _insert(db, "mention_analysis", ANALYSIS_COLS, an)
            _insert(db, "mention_touchpoints", TP_COLS, tps)
            ms, an, tps = [], [], []
            if k % 200_000 == 0:
                log(f"  {db.dialect}: {k:,} mentions")
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('mentions', 'id'), (SELECT max(id) FROM mentions))")
    with db.engine.begin() as conn:
        for sql in _rollup_sql(db):
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql("ANALYZE")
    log(f"  {db.dialect}: rollups built")


def ensure_rollup_scopes(db: Database, log: Any = print) -> None:
    """Build the day rollups of scope types a cached data set predates (e.g. product_touchpoint)."""
    with db.engine.connect() as conn:
        have = {r[0] for r in conn.exec_driver_sql("SELECT DISTINCT scope_type FROM rollups WHERE grain = 'day'")}
    missing = tuple(st for st in TOUCHPOINT_SCOPES if st not in have)
    if not have or not missing:
        return
    with db.engine.begin() as conn:
        for sql in _rollup_sql(db, only=missing):
            conn.exec_driver_sql(sql)
    log(f"  {db.dialect}: built the missing {', '.join(missing)} day rollups")
