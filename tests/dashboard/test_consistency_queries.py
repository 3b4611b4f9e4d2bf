"""dashboard.queries.touchpoint_standing: store × touchpoint against the chain, rollups and raw rows alike."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from alerts.rollups import update_rollups
from dashboard import queries as q
from dashboard.access import local_admin
from dashboard.scope import Filters, Scope
from storage import Database
from storage.models import Brand, Mention, MentionAnalysis, MentionTouchpoint, RollupDirty, Store

SH = ZoneInfo("Asia/Shanghai")
LAST = date(2026, 11, 20)
DAYS = 14


def _seed(db: Database) -> None:
    # ten ordinary stores (出品 ~20% negative over 40 mentions, 服务 ~30% over 30), one with a 服务
    # problem (21 of 30 negative), and one with 5 服务 mentions, all negative: too few to test
    plan: dict[str, dict[str, tuple[int, int]]] = {
        f"s{i}": {"product": (7 + i % 3, 40), "service": (8 + i % 3, 30)} for i in range(10)}
    plan["bad"] = {"product": (8, 40), "service": (21, 30)}
    plan["tiny"] = {"product": (8, 40), "service": (5, 5)}
    mentions, analyses, touchpoints = [], [], []
    with db.session() as s:
        s.add(Brand(id="cha", name="茶颜"))
        for sid in plan:
            s.add(Store(id=sid, brand_id="cha", name=f"{sid}店"))
    mid = 0
    for sid, tps in plan.items():
        for tp, (negative, total) in tps.items():
            for k in range(total):
                mid += 1
                at = datetime.combine(LAST - timedelta(days=k % DAYS), time(9 + k % 10), SH).astimezone(timezone.utc)
                label = "negative" if k < negative else "positive"
                platform = "dianping" if k % 2 else "weibo"
                mentions.append(dict(id=mid, source_id="src", external_id=str(mid), platform=platform, kind="post",
                                     text=f"第{mid}条", published_at=at, collected_at=at, content_hash=f"h{mid}",
                                     extra={}))
                analyses.append(dict(mention_id=mid, published_at=at, platform=platform, brand_id="cha", store_id=sid,
                                     model="t", model_version="1", score=0.5, label=label, counted=True,
                                     scored_at=at, links=[], urgent_terms=[], keywords=[]))
                touchpoints.append(dict(mention_id=mid, touchpoint=tp, polarity=label, score=0.5, evidence="x"))
    with db.session() as s:
        s.execute(sa.insert(Mention.__table__), mentions)
        s.execute(sa.insert(MentionAnalysis.__table__), analyses)
        s.execute(sa.insert(MentionTouchpoint.__table__), touchpoints)
        s.add_all([RollupDirty(day=LAST - timedelta(days=i)) for i in range(-1, DAYS + 2)])
    update_rollups(db)


def test_the_store_with_a_service_problem_is_flagged_on_service_only_from_rollups_and_raw_rows(db) -> None:
    _seed(db)
    scope = Scope(Filters(start=LAST - timedelta(days=DAYS - 1), end=LAST), local_admin())
    assert q.plan(db, scope).source == "brand"
    raw = scope.narrowed(platforms=("dianping", "weibo"))  # a platform filter: the touchpoint rows themselves
    assert q.plan(db, raw).source != "brand"
    for sc in (scope, raw):
        df = q.touchpoint_standing(db, sc)
        assert list(df.columns) == q.STANDING_COLUMNS
        assert len(df) == 24  # 12 stores × 2 touchpoints
        flagged = df[df["flagged"]]
        assert list(zip(flagged["store_id"], flagged["touchpoint"])) == [("bad", "service")]
        assert df.iloc[0]["store_id"] == "bad" and df.iloc[0]["name"] == "bad店"  # flagged rows first
        bad = df.iloc[0]
        assert bad["total"] == 30 and bad["negative"] == 21 and bad["neg_text"] == "70% (52%–83%)"
        # the chain's 服务 share over the tested stores (tiny left out): (8·4 + 9·3 + 10·3 + 21) / 330
        assert bad["chain_share"] == 110 / 330 and bad["chain_text"].startswith("33% (")
        tiny = df[(df["store_id"] == "tiny") & (df["touchpoint"] == "service")].iloc[0]
        assert tiny["small_sample"] and not tiny["flagged"] and tiny["neg_text"] == "样本不足 (n=5)"
        assert tiny.name == len(df) - 1  # untested last
        assert not df[df["touchpoint"] == "product"]["flagged"].any()
