"""A chat webhook that fails: 500 then 200, and 429 with ``Retry-After``, against a real
loopback HTTP endpoint and the real webhook notifier. Every push arrives exactly once,
each retry waits as long as it should (checked on ``next_attempt_at``, not on the clock),
and a failing endpoint does not hold up another one."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from email.utils import formatdate

import pytest

from sqlmodel import select

from alerts.channels import ChannelSettings, make_notifiers
from alerts.outbox import LinkSettings, backoff, deliver_notifications, enqueue_alert_notifications
from alerts.policy import AlertPolicy
from storage.models import Alert, Brand, Notification, Recipient, Region, Store

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
LINKS = LinkSettings(dashboard_url="https://tf.example.com", secret_key="k" * 48)
SETTINGS = ChannelSettings(webhook_timeout=5, backoff_base_seconds=60)


def seed(db, receiver) -> None:
    """Two stores, each with a manager on a webhook of their own, and an urgent alert each."""
    with db.session() as s:
        s.add(Brand(id="cha", name="茶颜"))
        s.add(Region(id="sh", name="上海", brand_id="cha"))
        for store, name in (("a", "静安寺店"), ("b", "徐家汇店")):
            s.add(Store(id=store, brand_id="cha", name=name, region_id="sh"))
            s.add(Recipient(id=f"mgr-{store}", name=f"{name}店长", role="manager", stores=[store],
                            channels={"webhook": {"url": receiver.url(f"/hook/{store}")}}))
        s.flush()
        for store in ("a", "b"):
            s.add(Alert(kind="urgent", scope_type="store", scope_id=store, incident_key=f"urgent:store:{store}:1",
                        severity="critical", title="出现需立即处理的反馈：头发", opened_at=NOW, updated_at=NOW,
                        evidence={"terms": ["头发"], "count": 1}))
    assert enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW) == 2


def row(db, recipient: str) -> Notification:
    with db.session() as s:
        return s.exec(select(Notification).where(Notification.recipient_id == recipient)).one()


def deliver(db, at: datetime):
    return deliver_notifications(db, SETTINGS, now=at, notifiers=make_notifiers(SETTINGS))


def test_webhook_500_then_200_is_retried_with_backoff_and_delivered_once(db, receiver):
    seed(db, receiver)
    receiver.script["/hook/a"] = [(500, {}), (500, {}), (200, {})]

    first = deliver(db, NOW)
    assert (first.sent, first.retried, first.dead) == (1, 1, 0)  # b went out although a failed
    a = row(db, "mgr-a")
    assert (a.status, a.attempts) == ("failed", 1) and "HTTP 500" in a.last_error
    assert a.next_attempt_at == NOW + backoff(1, SETTINGS)  # released at once, not held by the lease
    assert row(db, "mgr-b").status == "sent"

    assert deliver(db, a.next_attempt_at - timedelta(seconds=1)).claimed == 0  # not due: no request
    assert len(receiver.posts) == 2

    second = deliver(db, a.next_attempt_at)
    a2 = row(db, "mgr-a")
    assert second.retried == 1 and (a2.status, a2.attempts) == ("failed", 2)
    assert a2.next_attempt_at == a.next_attempt_at + backoff(2, SETTINGS)  # twice as long

    third = deliver(db, a2.next_attempt_at)
    a3 = row(db, "mgr-a")
    assert third.sent == 1 and (a3.status, a3.attempts, a3.last_error) == ("sent", 3, None)
    assert a3.provider_response.startswith("200")
    assert deliver(db, a3.next_attempt_at + timedelta(days=1)).claimed == 0

    key = a3.idempotency_key
    assert [p.headers["X-Tingfeng-Idempotency-Key"] for p in receiver.posts if p.path == "/hook/a"] == [key] * 3
    assert [p.body["id"] for p in receiver.accepted("/hook/a")] == [key]  # acted on exactly once
    assert len(receiver.accepted("/hook/b")) == 1


def in_two_minutes() -> str:
    """``Retry-After`` as an HTTP date 120 s after the receiver's clock (which stamps its ``Date``)."""
    return formatdate(time.time() + 120, usegmt=True)


@pytest.mark.parametrize(("retry_after", "slack"), [(lambda: "120", 0), (in_two_minutes, 2)], ids=["seconds", "http-date"])
def test_webhook_429_waits_for_retry_after_without_spending_an_attempt(db, receiver, retry_after, slack):
    seed(db, receiver)
    receiver.script["/hook/a"] = [(429, {"Retry-After": retry_after()}), (200, {})]

    first = deliver(db, NOW)
    assert (first.sent, first.deferred, first.retried, first.dead) == (1, 1, 0, 0)
    a = row(db, "mgr-a")
    assert (a.status, a.attempts) == ("pending", 0)  # being told to slow down is not a failure
    # a date is counted from the answer's Date header, in whole seconds: a second may tick in between
    assert NOW + timedelta(seconds=120 - slack) <= a.next_attempt_at <= NOW + timedelta(seconds=120) and "429" in a.last_error

    assert deliver(db, a.next_attempt_at - timedelta(seconds=1)).claimed == 0
    assert len(receiver.posts) == 2

    later = deliver(db, a.next_attempt_at)
    a2 = row(db, "mgr-a")
    assert later.sent == 1 and (a2.status, a2.attempts) == ("sent", 1)
    assert deliver(db, NOW + timedelta(days=1)).claimed == 0
    assert [p.status for p in receiver.posts if p.path == "/hook/a"] == [429, 200]
    assert len(receiver.accepted("/hook/a")) == 1 and len(receiver.accepted("/hook/b")) == 1


def test_a_webhook_that_never_recovers_goes_dead_after_max_attempts_and_says_why(db, receiver):
    seed(db, receiver)
    receiver.script["/hook/a"] = [(503, {})]
    settings = SETTINGS.model_copy(update={"max_attempts": 3})
    at = NOW
    for _ in range(3):
        deliver_notifications(db, settings, now=at, notifiers=make_notifiers(settings))
        at = max(at, row(db, "mgr-a").next_attempt_at)
    a = row(db, "mgr-a")
    assert (a.status, a.attempts) == ("dead", 3) and "HTTP 503" in a.last_error
    assert deliver_notifications(db, settings, now=at + timedelta(days=1), notifiers=make_notifiers(settings)).claimed == 0
    assert len([p for p in receiver.posts if p.path == "/hook/a"]) == 3
    assert len(receiver.accepted("/hook/b")) == 1
