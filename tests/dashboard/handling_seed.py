"""Additions to :mod:`tests.dashboard.seed` for handling, replies and the competitor benchmark."""

from __future__ import annotations

from datetime import timedelta

from alerts.rollups import update_rollups
from storage import Database
from storage.models import Alert, Brand, CatalogSetting, Mention, MentionAnalysis, MentionTouchpoint, RollupDirty
from tingfeng.catalog import DEFAULT_REPLY_TEMPLATES

RIVAL_BASE = 900_000


def add_handling(db: Database, seeded: dict) -> dict:
    """Alert handling times, catalog settings and a competitor brand with 20 mentions (15 negative)."""
    now = seeded["now"]
    with db.session() as s:
        s.merge(CatalogSetting(key="handling", value={"acknowledge_minutes": 60, "resolve_hours": 24, "reply_hours": 24}))
        s.merge(CatalogSetting(key="reply_templates", value=DEFAULT_REPLY_TEMPLATES))
        # 国贸店 acknowledged its alert in 20 minutes; 三里屯店 and 南京西路店 never did
        guomao = s.get(Alert, seeded["alerts"]["bj-guomao"])
        guomao.acknowledged_at, guomao.acknowledged_by = guomao.opened_at + timedelta(minutes=20), "li"
        s.add(guomao)
        s.add(Brand(id="rival", name="竹里茶坊", kind="competitor"))
        for i in range(20):
            mid = RIVAL_BASE + i
            at = now - timedelta(days=i % 10, hours=2)
            label = "negative" if i < 15 else "positive"
            s.add(Mention(id=mid, source_id="rss-weibo", external_id=f"r{i}", platform="weibo",
                          text=f"竹里茶坊 第{i}条", published_at=at, collected_at=at, content_hash=f"r{i}"))
            s.flush()
            s.add(MentionAnalysis(mention_id=mid, published_at=at, platform="weibo", brand_id="rival", model="t",
                                  model_version="1", score=0.1 if label == "negative" else 0.9, label=label,
                                  scored_at=at))
            s.add(MentionTouchpoint(mention_id=mid, touchpoint="delivery" if i % 2 else "price", polarity=label,
                                    score=0.1, evidence="x"))
        for d in range(12):
            s.merge(RollupDirty(day=(now - timedelta(days=d)).date()))
    update_rollups(db)  # the competitor's mentions are in the brand rollups, as after a real scoring run
    return {"rival_mentions": 20}
