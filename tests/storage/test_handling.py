"""Handling KPIs (及时率 / 解决率 / 回复率) and the reply workflow, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from storage.handling import Deadlines, deadlines_from, store_handling
from storage.models import Alert, Mention, MentionAnalysis
from storage.replies import ReplyError, set_reply

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(days=3)


def _alert(s, key, store, opened, *, ack=None, resolved=None, by="王店长", scope="store"):
    s.add(Alert(kind="spike", scope_type=scope, scope_id=store if scope == "store" else f"{store}|x",
                incident_key=key, title=key, opened_at=opened, updated_at=opened,
                acknowledged_at=ack, acknowledged_by="王店长" if ack else None,
                resolved_at=resolved, resolved_by=by if resolved else None,
                status="resolved" if resolved else "acknowledged" if ack else "open"))


def _negative(s, n, store, at):
    s.add(Mention(id=n, source_id="dp", external_id=str(n), text=f"差评{n}", published_at=at, collected_at=at,
                  content_hash=f"h{n}"))
    s.flush()
    s.add(MentionAnalysis(mention_id=n, published_at=at, store_id=store, model="t", model_version="1",
                          score=0.1, label="negative", scored_at=at))


def test_store_handling_counts_deadlines_and_human_actions(db):
    with db.session() as s:
        # a: acked in 30 min, resolved by a person in 5 h — on time twice
        _alert(s, "a", "s1", T0, ack=T0 + timedelta(minutes=30), resolved=T0 + timedelta(hours=5))
        # b: acked after 3 h (late), the detector closed it — not a resolution
        _alert(s, "b", "s1", T0, ack=T0 + timedelta(hours=3), resolved=T0 + timedelta(hours=20), by="system")
        # c: a store × product alert never touched, long overdue
        _alert(s, "c", "s1", T0 + timedelta(hours=1), scope="store_product")
        # d: opened 10 minutes ago: not due yet, in no denominator
        _alert(s, "d", "s2", NOW - timedelta(minutes=10))
        # e: outside the period
        _alert(s, "e", "s2", T0 - timedelta(days=10), ack=T0 - timedelta(days=10))
        for n in range(1, 5):
            _negative(s, n, "s1", T0 + timedelta(hours=n))
    set_reply(db, 1, "replied", "王店长", "抱歉", now=T0 + timedelta(hours=3))  # 2 h after publication
    set_reply(db, 2, "replied", "王店长", now=T0 + timedelta(hours=40))  # 38 h: late
    set_reply(db, 3, "not_needed", "王店长")
    with db.session() as s:
        rows = store_handling(s, None, T0, NOW, Deadlines(acknowledge_minutes=120, resolve_hours=24, reply_hours=24),
                              now=NOW)
        only_s2 = store_handling(s, ["s2"], T0, NOW, Deadlines(), now=NOW)
    s1, s2 = rows["s1"], rows["s2"]
    assert (s1.alerts, s1.responded, s1.response_due, s1.responded_on_time) == (3, 2, 3, 1)
    assert s1.on_time_rate == pytest.approx(1 / 3)
    assert (s1.resolved, s1.resolve_due, s1.resolved_on_time) == (1, 3, 1)
    assert s1.median_response_hours == pytest.approx(1.75)
    assert s1.median_resolve_hours == pytest.approx(5.0)
    assert (s1.negative, s1.reply_needed, s1.replied, s1.replied_on_time) == (4, 3, 2, 1)
    assert s1.reply_rate == pytest.approx(2 / 3) and s1.median_reply_hours == pytest.approx(20.0)
    assert (s2.alerts, s2.response_due, s2.on_time_rate) == (1, 0, None)
    assert set(only_s2) == {"s2"}


def test_reply_status_keeps_first_reply_time_and_refuses_unknowns(db):
    with db.session() as s:
        _negative(s, 1, "s1", T0)
    first = set_reply(db, 1, "replied", "赵雪", "已联系顾客", now=T0 + timedelta(hours=1))
    edited = set_reply(db, 1, "replied", "王磊", "已联系顾客并补送", now=T0 + timedelta(hours=5))
    assert first.replied_at == edited.replied_at == T0 + timedelta(hours=1)
    assert (edited.replied_by, edited.updated_by, edited.text) == ("赵雪", "王磊", "已联系顾客并补送")
    back = set_reply(db, 1, "pending", "王磊", now=T0 + timedelta(hours=6))
    assert back.status == "pending" and back.replied_at is None and back.text == "已联系顾客并补送"
    with pytest.raises(ReplyError, match="unknown reply status"):
        set_reply(db, 1, "done", "x")
    with pytest.raises(ReplyError, match="no mention 99"):
        set_reply(db, 99, "replied", "x")


def test_deadlines_from_stored_settings():
    assert deadlines_from(None) == Deadlines()
    assert deadlines_from({"acknowledge_minutes": 30, "other": 1}) == Deadlines(acknowledge_minutes=30)
