"""SIGKILL of ``tingfeng process`` while it scores a large backlog, then a re-run: every
mention scored exactly once, no half-written batch (an analysis without its queue row
gone, or touchpoints without their analysis), rollups that count every mention once.

Two runners at once (threads with their own engines) are
``tests/nlp/test_nlp_pipeline.py::test_two_runners_at_once_share_the_backlog_without_crashing``;
here a real process dies with the database in whatever state the kill left it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import select

from storage.models import Mention, MentionAnalysis, MentionTouchpoint, Rollup, ScoreQueue, Source
from tests.reliability.conftest import kill_when
from tingfeng.catalog import parse_catalog, sync_catalog

BACKLOG = 2000  # four batches of 500: the kill lands after the first and before the last
CATALOG = """\
timezone = "Asia/Shanghai"

[[brands]]
id = "cha"
name = "茶颜"
aliases = ["茶颜悦色"]

[[stores]]
id = "wuyi"
name = "茶颜悦色五一广场店"
aliases = ["五一广场店"]

[[products]]
id = "youlan"
name = "幽兰拿铁"

[[sources]]
id = "wb"
type = "feed"
platform = "weibo"
enabled = false
[sources.options]
url = "http://127.0.0.1:9/feed"
"""
TEXTS = [
    "茶颜悦色五一广场店的幽兰拿铁还是那么好喝，店员也很热情",
    "五一广场店排队一个小时，服务员态度很差，再也不来了",
    "幽兰拿铁太甜了，价格还涨了，有点失望",
    "茶颜的新品一般般吧，环境倒是挺干净的",
    "外卖送了一个半小时，奶茶都洒了，差评",
]


def seed(db) -> None:
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    rows = [{"source_id": "wb", "external_id": str(i), "platform": "weibo", "kind": "post",
             "text": f"{TEXTS[i % len(TEXTS)]}（第{i}条）", "published_at": start + timedelta(minutes=7 * i),
             "collected_at": start + timedelta(minutes=7 * i, seconds=30), "content_hash": f"h{i}"}
            for i in range(BACKLOG)]
    with db.session() as s:
        s.add_all(Mention(**row) for row in rows)  # the database's trigger queues each one for scoring


def counts(db) -> tuple[set[int], set[int], set[int]]:
    """Mention ids that have an analysis, that are still queued, and that have touchpoints."""
    with db.session() as s:
        return (set(s.exec(select(MentionAnalysis.mention_id)).all()),
                set(s.exec(select(ScoreQueue.mention_id)).all()),
                set(s.exec(select(MentionTouchpoint.mention_id)).all()))


def scored(db) -> int:
    with db.session() as s:
        return s.exec(select(sa.func.count()).select_from(MentionAnalysis)).one()


def queued(db) -> int:
    with db.session() as s:
        return s.exec(select(sa.func.count()).select_from(ScoreQueue)).one()


def test_sigkill_mid_scoring_then_rerun_scores_every_mention_exactly_once(deployment):
    db = deployment.db
    deployment.write_catalog(CATALOG)
    sync_catalog(db, parse_catalog(CATALOG))  # the source row the mentions belong to
    seed(db)
    with db.session() as s:
        all_ids = set(s.exec(select(Mention.id)).all())
        assert s.get(Source, "wb") is not None
    assert len(all_ids) == BACKLOG and queued(db) == BACKLOG

    proc = deployment.start("process")
    kill_when(proc, lambda: scored(db) >= 500 and queued(db) > 0)

    analysed, waiting, touched = counts(db)
    assert 500 <= len(analysed) < BACKLOG
    assert analysed.isdisjoint(waiting) and analysed | waiting == all_ids  # each mention is done or queued
    assert touched <= analysed  # no touchpoints of a batch whose analyses were not committed
    assert len(analysed) % 500 == 0  # whole batches only

    deployment.invoke("process")
    with db.session() as s:
        ids = s.exec(select(MentionAnalysis.mention_id)).all()
        tps = s.exec(select(MentionTouchpoint.mention_id, MentionTouchpoint.touchpoint, MentionTouchpoint.start,
                            MentionTouchpoint.end)).all()
        counted = s.exec(select(sa.func.count()).select_from(MentionAnalysis)
                         .where(MentionAnalysis.counted.is_(True))).one()
        per_day = s.exec(select(sa.func.sum(Rollup.total)).where(Rollup.grain == "day",
                                                                  Rollup.scope_type == "platform")).one()
    assert sorted(ids) == sorted(all_ids)  # exactly once each
    assert queued(db) == 0
    assert len(tps) == len(set(tps)) and tps  # no touchpoint written twice by the re-run
    assert per_day == counted == BACKLOG  # the rollups count every mention once
