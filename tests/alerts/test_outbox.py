"""The outbox: enqueue (idempotent, routed, quiet hours, escalation) and delivery
(retries with backoff, SMTP down then up, a crash between send and mark, rate limits)."""

from __future__ import annotations

import email
from datetime import datetime, timedelta, timezone
from email.policy import default

import pytest
from sqlmodel import select

import alerts.outbox as outbox
from alerts.channels.base import ChannelSettings, OutgoingMessage, RateLimit
from alerts.errors import ChannelError, DeliveryError
from alerts.outbox import deliver_notifications, enqueue_alert_notifications
from alerts.policy import AlertPolicy
from alerts.render.links import LinkSettings
from storage.alert_state import verify_action
from storage.models import Alert, Brand, Mention, MentionAnalysis, Notification, Recipient, Region, Store
from storage.shares import share
from test_email import SmtpServer, smtp_server  # noqa: F401 - fixture

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
LINKS = LinkSettings(dashboard_url="https://tf.example.com", secret_key="s3cret")


def seed(db, *, severity="warning", opened=NOW, evil=False, opt_in=True) -> int:
    """Two stores in two regions, their managers, an area manager, marketing, admin; one store alert.

    ``opt_in``: every recipient asked for warning pushes (most tests here are about routing).
    """
    with db.session() as s:
        s.add(Brand(id="cha", name="茶颜"))
        s.add(Region(id="sh", name="上海", brand_id="cha"))
        s.add(Region(id="bj", name="北京", brand_id="cha"))
        s.add(Store(id="jingan", brand_id="cha", name="静安寺店", region_id="sh"))
        s.add(Store(id="wangjing", brand_id="cha", name="望京店", region_id="bj"))
        s.add(Recipient(id="mgr-jingan", name="王店长", role="manager", email="wang@example.com", stores=["jingan"],
                        channels={"wecom": {"url": "https://qyapi.example/send?key=jingan"}}, escalates_to=["area-sh"]))
        s.add(Recipient(id="mgr-wangjing", name="李店长", role="manager", email="li@example.com", stores=["wangjing"]))
        s.add(Recipient(id="area-sh", name="赵经理", role="area_manager", email="zhao@example.com", regions=["sh"],
                        escalates_to=["hq"]))
        s.add(Recipient(id="mkt", name="市场部", role="marketing", email="mkt@example.com", brands=["cha"]))
        s.add(Recipient(id="hq", name="总部", role="hq", email="hq@example.com"))
        s.add(Recipient(id="ops", name="运维", role="admin", email="ops@example.com"))
        for r in s.new:
            if isinstance(r, Recipient):
                r.push_warnings = opt_in
        text = '<script>alert(1)</script> 奶茶里有头发 & "差评"' if evil else "奶茶里有头发，太恶心了"
        s.add(Mention(id=1, source_id="dp", external_id="1", platform="dianping", url="https://www.dianping.com/review/1",
                      text=text, published_at=NOW - timedelta(hours=1), collected_at=NOW, content_hash="h1"))
        s.flush()
        s.add(MentionAnalysis(mention_id=1, published_at=NOW - timedelta(hours=1), platform="dianping", brand_id="cha",
                              region_id="sh", store_id="jingan", model="t", model_version="1", score=0.05,
                              label="negative", scored_at=NOW))
        alert = Alert(kind="spike", scope_type="store", scope_id="jingan", incident_key="store:jingan:1",
                      severity=severity, title="静安寺店 负面评价激增" + (" <b>x</b>" if evil else ""),
                      reason="近 6 小时负面 8 条，基线 1.2 条", opened_at=opened, updated_at=opened,
                      window_start=NOW - timedelta(hours=6), window_end=NOW,
                      evidence={"negative": 8, "total": 11, "negative_share": 0.727, "baseline": {"negative_share": 0.1},
                                "shares": {"window": share(8, 11).as_dict(), "corrected": False},
                                "touchpoints": [{"touchpoint": "product", "negative": 6}], "keywords": ["头发", "异物"],
                                "mention_ids": [1]})
        s.add(alert)
        s.flush()
        return alert.id


def rows(db) -> list[Notification]:
    with db.session() as s:
        return list(s.exec(select(Notification).order_by(Notification.id)))


def test_enqueue_routes_store_alert_and_is_idempotent(db):
    alert_id = seed(db)
    policy = AlertPolicy()
    written = enqueue_alert_notifications(db, policy, links=LINKS, now=NOW)
    got = {(n.recipient_id, n.channel) for n in rows(db)}
    assert got == {("mgr-jingan", "email"), ("mgr-jingan", "wecom"), ("area-sh", "email")}
    assert written == 3
    # re-running writes nothing: the keys exist and notified_severity was raised
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW) == 0
    assert len(rows(db)) == 3
    with db.session() as s:
        assert s.get(Alert, alert_id).notified_severity == "warning"
    keys = {n.idempotency_key for n in rows(db)}
    assert f"alert:{alert_id}:warning:mgr-jingan:email" in keys
    # severity goes up: one more push to the same people; going down pushes nothing
    with db.session() as s:
        s.get(Alert, alert_id).severity = "critical"
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW) == 3
    with db.session() as s:
        s.get(Alert, alert_id).severity = "warning"
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW) == 0


def test_product_alert_reaches_the_managers_of_the_stores_it_names_even_when_named_later(db):
    """A store folded into a chain-wide product alert gets no alert of its own, so its managers get this one."""
    seed(db, severity="critical")
    policy = AlertPolicy()
    with db.session() as s:
        s.add(Alert(id=99, kind="spike", scope_type="product", scope_id="mango", incident_key="product:mango:1",
                    severity="critical", title="杨枝甘露 差评激增", reason="r", opened_at=NOW, updated_at=NOW,
                    window_start=NOW - timedelta(hours=3), window_end=NOW,
                    evidence={"stores": [{"store": "wangjing", "name": "望京店", "negative": 6}]}))
    enqueue_alert_notifications(db, policy, links=LINKS, now=NOW)
    product = {n.recipient_id for n in rows(db) if n.alert_id == 99}
    assert product == {"mkt", "hq", "mgr-wangjing"}
    with db.session() as s:  # the next run names a second store
        a = s.get(Alert, 99)
        a.evidence = {**a.evidence, "stores": [*a.evidence["stores"], {"store": "jingan", "name": "静安寺店", "negative": 4}]}
        s.add(a)
    written = enqueue_alert_notifications(db, policy, links=LINKS, now=NOW + timedelta(hours=1))
    added = [(n.recipient_id, n.channel) for n in rows(db) if n.alert_id == 99 and n.recipient_id not in product]
    assert sorted(added) == [("area-sh", "email"), ("mgr-jingan", "email"), ("mgr-jingan", "wecom")]
    assert written == 3
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW + timedelta(minutes=90)) == 0  # before escalation


def test_a_warning_is_a_watch_item_unless_the_recipient_opts_in(db):
    alert_id = seed(db, opt_in=False)
    with db.session() as s:
        s.get(Recipient, "area-sh").push_warnings = True
    policy = AlertPolicy()
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW) == 1
    assert {(n.recipient_id, n.channel) for n in rows(db)} == {("area-sh", "email")}
    # escalation of a warning reaches only opted-in targets (hq did not opt in)
    later = NOW + timedelta(minutes=policy.escalate_after_minutes + 1)
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=later) == 0
    # turning critical pushes everyone routed at once
    with db.session() as s:
        s.get(Alert, alert_id).severity = "critical"
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=later) >= 3
    got = {(n.recipient_id, n.channel) for n in rows(db) if ":critical:" in n.idempotency_key}
    assert {("mgr-jingan", "email"), ("mgr-jingan", "wecom"), ("area-sh", "email")} <= got


def test_urgent_alerts_are_pushed_without_opt_in(db):
    alert_id = seed(db, opt_in=False)
    with db.session() as s:
        alert = s.get(Alert, alert_id)
        alert.kind, alert.severity = "urgent", "warning"
    assert enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW) == 3


def test_enqueued_email_has_evidence_and_signed_links(db):
    alert_id = seed(db)
    enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW)
    mail = next(n for n in rows(db) if n.recipient_id == "mgr-jingan" and n.channel == "email")
    assert mail.subject == "【听风·预警】静安寺店 负面评价激增"
    for needle in ("门店：静安寺店", "样本不足 (n=11)", "出品/商品（6）", "头发", "奶茶里有头发",
                   "https://www.dianping.com/review/1"):
        assert needle in mail.body_html and needle in mail.body_text
    assert "72.7%" not in mail.body_text + mail.body_html  # 11 mentions: no share as a percentage, raw or not
    token = mail.body_text.split("action=ack&token=")[1].split()[0]
    claim = verify_action("s3cret", token, max_age=60)
    assert (claim.alert_id, claim.action, claim.recipient_id) == (alert_id, "ack", "mgr-jingan")
    wecom = next(n for n in rows(db) if n.channel == "wecom")
    assert wecom.body_text.startswith("### 【预警】静安寺店 负面评价激增") and "[确认收到](https://tf.example.com/alerts?action=ack" in wecom.body_text


def test_user_text_is_escaped_in_alert_email(db):
    seed(db, evil=True)
    enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW)
    for n in rows(db):
        if n.channel == "email":
            assert "<script>" not in n.body_html and "&lt;script&gt;" in n.body_html
            assert "<b>x</b>" not in n.body_html and "&lt;b&gt;x&lt;/b&gt;" in n.body_html
            assert "&amp; &#34;差评&#34;" in n.body_html
        else:
            assert "<script>" not in n.body_text and "\\<script\\>" in n.body_text


def test_brand_and_source_alerts_route_to_marketing_and_admins(db):
    seed(db)
    with db.session() as s:
        s.add(Alert(kind="spike", scope_type="brand", scope_id="cha", incident_key="b", title="品牌负面上升",
                    opened_at=NOW, updated_at=NOW))
        s.add(Alert(kind="source_health", scope_type="source", scope_id="dp", incident_key="s", title="点评源失效",
                    severity="warning", opened_at=NOW, updated_at=NOW))
        s.get(Alert, 1).notified_severity = "warning"
    enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW)
    got = {(n.alert_id, n.recipient_id) for n in rows(db)}
    assert got == {(2, "mkt"), (2, "hq"), (3, "ops")}


def test_quiet_hours_hold_chat_but_not_email_or_critical(db):
    night = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)  # 23:00 Shanghai
    seed(db, opened=night)
    policy = AlertPolicy(quiet_hours=("22:00", "08:00"))
    enqueue_alert_notifications(db, policy, links=LINKS, now=night)
    by_channel = {(n.recipient_id, n.channel): n.next_attempt_at for n in rows(db)}
    assert by_channel[("mgr-jingan", "email")] == night
    assert by_channel[("mgr-jingan", "wecom")] == datetime(2026, 11, 21, 0, 0, tzinfo=timezone.utc)  # 08:00
    with db.session() as s:
        s.get(Alert, 1).severity = "critical"
    enqueue_alert_notifications(db, policy, links=LINKS, now=night)
    crit = next(n for n in rows(db) if n.channel == "wecom" and ":critical:" in n.idempotency_key)
    assert crit.next_attempt_at == night


def test_unacknowledged_alert_escalates_once(db):
    seed(db)
    policy = AlertPolicy(escalate_after_minutes=60)
    enqueue_alert_notifications(db, policy, links=LINKS, now=NOW)
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW + timedelta(minutes=30)) == 0
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW + timedelta(minutes=61)) == 1
    esc = rows(db)[-1]
    assert (esc.recipient_id, esc.channel) == ("hq", "email")  # area-sh already had it; mgr escalates to area-sh
    assert esc.subject.startswith("【听风·升级】")
    assert "升级通知：已通知 赵经理、王店长，61 分钟无人确认" in esc.body_html
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW + timedelta(hours=5)) == 0


def test_acknowledged_alert_does_not_escalate(db):
    from storage.alert_state import acknowledge

    alert_id = seed(db)
    policy = AlertPolicy(escalate_after_minutes=60)
    enqueue_alert_notifications(db, policy, links=LINKS, now=NOW)
    acknowledge(db, alert_id, "mgr-jingan", "在处理")
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW + timedelta(hours=3)) == 0


# ------------------------------------------------------------------------- delivery
class Recorder:
    """A fake chat notifier with WeCom's limits, recording what it is asked to send."""

    name = "wecom"
    rate_limits = (RateLimit(20, 60.0),)

    def __init__(self, batch_max_bytes: int = 4000, fail: Exception | None = None) -> None:
        self.batch_max_bytes = batch_max_bytes
        self.fail = fail
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> str:
        if self.fail:
            raise self.fail
        self.sent.append(message)
        return '{"errcode":0,"errmsg":"ok"}'


def add_chat(db, n: int, *, address="https://qyapi.example/send?key=x", prefix="t") -> None:
    with db.session() as s:
        for i in range(n):
            s.add(Notification(idempotency_key=f"{prefix}:{i}", channel="wecom", recipient_id="r", address=address,
                               subject=f"预警 {i}", body_text=f"### 预警 {i}\n门店 {i} 负面上升", status="pending",
                               next_attempt_at=NOW, created_at=NOW))


def test_delivery_over_smtp_marks_sent_with_provider_answer(db, smtp_server):
    seed(db)
    enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW)
    summary = deliver_notifications(db, smtp_server.settings(), now=NOW, notifiers={"email": outbox.make_notifiers(smtp_server.settings())["email"], "wecom": Recorder()})
    assert summary.sent == 3 and summary.dead == 0
    assert all(n.status == "sent" and n.attempts == 1 for n in rows(db))
    assert all(n.provider_response.startswith("250") for n in rows(db) if n.channel == "email")
    assert sorted(smtp_server.mailbox.by_recipient()) == ["wang@example.com", "zhao@example.com"]
    # nothing left to do
    assert deliver_notifications(db, smtp_server.settings(), now=NOW + timedelta(hours=1)).claimed == 0


def test_smtp_down_then_up_delivers_everything_once(db):
    server = SmtpServer()  # not started: the port refuses connections
    settings = server.settings(backoff_base_seconds=60)
    seed(db)
    enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW)
    emails = {"email": outbox.make_notifiers(settings)["email"], "wecom": Recorder()}
    first = deliver_notifications(db, settings, now=NOW, notifiers=emails)
    # one failed connection opens the breaker: the other email is given back untried
    assert (first.sent, first.retried, first.deferred, first.dead) == (1, 1, 1, 0)
    mails = [n for n in rows(db) if n.channel == "email"]
    assert all(n.status in ("failed", "pending") and n.next_attempt_at == NOW + timedelta(seconds=60) for n in mails)
    assert sum(n.attempts for n in mails) == 1
    assert "unreachable" in next(n.last_error for n in mails if n.status == "failed")
    # still down a minute later: the tried one backs off twice as long
    deliver_notifications(db, settings, now=NOW + timedelta(seconds=61), notifiers=emails)
    mails = [n for n in rows(db) if n.channel == "email"]
    assert sum(n.attempts for n in mails) == 2 and not any(n.status in ("sent", "dead") for n in mails)
    assert min(n.next_attempt_at for n in mails) >= NOW + timedelta(seconds=61 + 60)
    # not due yet: nothing is claimed
    server.start()
    try:
        assert deliver_notifications(db, settings, now=NOW + timedelta(seconds=90), notifiers=emails).claimed == 0
        done = deliver_notifications(db, settings, now=NOW + timedelta(hours=1), notifiers=emails)
        assert done.sent == 2
        assert {k: len(v) for k, v in server.mailbox.by_recipient().items()} == {"wang@example.com": 1, "zhao@example.com": 1}
        assert len(server.mailbox.received) == 2
    finally:
        server.stop()


def test_crash_between_send_and_mark_redelivers_with_same_message_id(db, smtp_server, monkeypatch):
    seed(db)
    enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW)
    settings = smtp_server.settings(lease_seconds=300)
    notifiers = {"email": outbox.make_notifiers(settings)["email"], "wecom": Recorder()}

    def crash(*args, **kwargs):
        raise SystemExit("killed after the SMTP server accepted the message")

    monkeypatch.setattr(outbox, "_mark_sent", crash)
    with pytest.raises(SystemExit):
        deliver_notifications(db, settings, now=NOW, notifiers=notifiers)
    monkeypatch.undo()
    assert len(smtp_server.mailbox.received) == 1
    assert sum(n.status == "sending" for n in rows(db)) == 3  # all claimed, none marked
    # the lease protects the row from a second sender while the first may still be alive
    assert deliver_notifications(db, settings, now=NOW + timedelta(seconds=299), notifiers=notifiers).claimed == 0
    after = deliver_notifications(db, settings, now=NOW + timedelta(seconds=301), notifiers=notifiers)
    assert after.sent == 3
    # every recipient has exactly one distinct message; the re-sent one has the same Message-ID
    assert {k: len(v) for k, v in smtp_server.mailbox.by_recipient().items()} == {"wang@example.com": 1, "zhao@example.com": 1}
    ids = [m["Message-ID"] for m in smtp_server.mailbox.messages()]
    assert len(ids) == 3 and len(set(ids)) == 2
    assert all(n.status == "sent" for n in rows(db))


def test_crash_before_send_loses_nothing_and_duplicates_nothing(db, smtp_server, monkeypatch):
    seed(db)
    enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW)
    settings = smtp_server.settings()
    real_send = outbox.make_notifiers(settings)["email"]

    class Killed:
        name, rate_limits, batch_max_bytes = "email", (), 0

        def send(self, message):
            raise SystemExit("killed before talking to the server")

    with pytest.raises(SystemExit):
        deliver_notifications(db, settings, now=NOW, notifiers={"email": Killed(), "wecom": Recorder()})
    deliver_notifications(db, settings, now=NOW + timedelta(minutes=6), notifiers={"email": real_send, "wecom": Recorder()})
    assert len(smtp_server.mailbox.received) == 2
    assert all(n.status == "sent" for n in rows(db) if n.channel == "email")


def test_permanent_error_is_dead_at_once_and_temporary_after_max_attempts(db):
    add_chat(db, 1, address="https://a.example")
    add_chat_key = "t:0"
    settings = ChannelSettings(max_attempts=3, backoff_base_seconds=10)
    deliver_notifications(db, settings, now=NOW, notifiers={"wecom": Recorder(fail=ChannelError("bad key"))})
    [row] = rows(db)
    assert (row.idempotency_key, row.status, row.attempts) == (add_chat_key, "dead", 1)
    assert "bad key" in row.last_error

    with db.session() as s:
        s.delete(s.get(Notification, row.id))
    add_chat(db, 1)
    flaky = Recorder(fail=DeliveryError("HTTP 502"))
    t = NOW
    for expected in ("failed", "failed", "dead"):
        deliver_notifications(db, settings, now=t, notifiers={"wecom": flaky})
        [row] = rows(db)
        assert row.status == expected
        t += timedelta(hours=1)
    assert row.attempts == 3


def test_rate_limit_defers_instead_of_dropping(db):
    add_chat(db, 25)
    bot = Recorder(batch_max_bytes=1)  # no merging possible: one message per row
    first = deliver_notifications(db, ChannelSettings(), now=NOW, notifiers={"wecom": bot})
    assert (first.sent, first.deferred, len(bot.sent)) == (20, 5, 20)
    waiting = [n for n in rows(db) if n.status == "pending"]
    assert len(waiting) == 5 and all(n.attempts == 0 and n.next_attempt_at == NOW + timedelta(seconds=60) for n in waiting)
    # the window is counted from the database, so a new run in the same minute sends nothing
    assert deliver_notifications(db, ChannelSettings(), now=NOW + timedelta(seconds=30), notifiers={"wecom": bot}).sent == 0
    later = deliver_notifications(db, ChannelSettings(), now=NOW + timedelta(seconds=61), notifiers={"wecom": bot})
    assert later.sent == 5 and len(bot.sent) == 25
    assert all(n.status == "sent" for n in rows(db))


def test_pending_messages_for_one_bot_are_merged(db):
    add_chat(db, 25)
    add_chat(db, 0)
    with db.session() as s:
        s.add(Notification(idempotency_key="other", channel="wecom", recipient_id="r", address="https://qyapi.example/send?key=y",
                           body_text="另一个群", next_attempt_at=NOW, created_at=NOW))
    bot = Recorder()
    summary = deliver_notifications(db, ChannelSettings(), now=NOW, notifiers={"wecom": bot})
    assert summary.sent == 26 and summary.messages == 2 and summary.deferred == 0
    merged = next(m for m in bot.sent if m.address.endswith("key=x"))
    assert merged.text.startswith("### 听风 · 25 条通知") and "门店 0 负面上升" in merged.text and "门店 24 负面上升" in merged.text
    assert len(merged.keys) == 25


def test_two_senders_never_claim_the_same_row(db):
    add_chat(db, 10)
    a = outbox._claim(db, NOW, NOW + timedelta(minutes=5), 6)
    b = outbox._claim(db, NOW, NOW + timedelta(minutes=5), 6)
    assert len(a) == 6 and len(b) == 4
    assert not {n.id for n in a} & {n.id for n in b}


def test_detector_shaped_evidence_renders_numbers_and_one_severity_tag():
    from alerts.render.alert import build_alert_view, render_alert_email, render_alert_markdown

    alert = Alert(id=9, kind="spike", scope_type="store", scope_id="jingan", incident_key="k", severity="critical",
                  title="【严重】静安寺店 差评激增：近6小时差评 8 条（平时约 0.5 条）", reason="近6小时共 11 条提及",
                  opened_at=NOW, updated_at=NOW, evidence={
                      "numbers": {"window_hours": 6, "negative": 8, "total": 11, "negative_share": 0.7273,
                                  "expected_negative": 0.52, "baseline_share": 0.08, "peer_share": 0.1,
                                  "peer_window_share": 0.09, "p_value": 3.2e-09},
                      "baseline": {"share": 0.08, "expected_negative": 0.52, "peer_share": 0.1},
                      "shares": {"window": share(8, 11, 0.8, 0.05).as_dict(), "usual": share(40, 500, 0.8, 0.05).as_dict(),
                                 "peers": share(300, 3000, 0.8, 0.05).as_dict(), "corrected": True},
                      "touchpoints": [{"touchpoint": "product", "name": "出品", "negative": 6}],
                      "keywords": ["头发", "异物"], "scope_name": "静安寺店", "mention_ids": [1]})
    view = build_alert_view(alert, scope_name="静安寺店", mentions=[], links={}, tz="Asia/Shanghai")
    subject, text, html = render_alert_email(view)
    assert subject == "【听风·严重】静安寺店 差评激增：近6小时差评 8 条（平时约 0.5 条）"
    # p value and peer window share: reason text only; shares only corrected ((0.08 − 0.05)/0.75 = 4%)
    assert dict(view.numbers) == {
        "统计窗口（小时）": "6", "负面数": "8", "总提及数": "11", "平时同期负面数": "0.52",
        "负面占比": "样本不足 (n=11)", "平时负面占比": share(40, 500, 0.8, 0.05).display(),
        "同类范围负面占比": share(300, 3000, 0.8, 0.05).display()}
    assert view.numbers[-2][1].startswith("4% (") and view.numbers[-1][1].startswith("7% (")
    assert "出品/商品（6）" in text and "头发、异物" in html
    title, markdown = render_alert_markdown(view)
    assert markdown.startswith("### 【严重】静安寺店 差评激增") and "【严重】【严重】" not in markdown


def test_urgent_alert_shows_terms_when_no_keywords():
    from alerts.render.alert import build_alert_view

    alert = Alert(id=3, kind="urgent", scope_type="store", scope_id="jingan", incident_key="u", severity="critical",
                  title="【紧急】静安寺店 出现需立即处理的反馈：头发", opened_at=NOW, updated_at=NOW,
                  evidence={"terms": ["头发", "投诉"], "count": 2, "scope_name": "静安寺店"})
    view = build_alert_view(alert, scope_name="静安寺店", mentions=[], links={})
    assert view.title == "静安寺店 出现需立即处理的反馈：头发" and view.kind == "紧急舆情"
    assert view.keywords == ["头发", "投诉"] and ("相关提及数", "2") in view.numbers


def test_a_slow_run_gives_rows_back_before_its_lease_expires(db):
    import time as _time

    class Slow(Recorder):
        def send(self, message):
            _time.sleep(0.15)
            return super().send(message)

    for i in range(3):
        add_chat(db, 1, address=f"https://bot.example/{i}", prefix=f"slow{i}")
    bot = Slow()
    summary = deliver_notifications(db, ChannelSettings(lease_seconds=0.2), now=NOW, notifiers={"wecom": bot})
    assert (summary.sent, summary.deferred) == (1, 2)
    back = [n for n in rows(db) if n.status == "pending"]
    assert len(back) == 2 and all(n.attempts == 0 and n.next_attempt_at == NOW for n in back)
    assert deliver_notifications(db, ChannelSettings(), now=NOW, notifiers={"wecom": bot}).sent == 2


def test_a_held_warning_is_superseded_when_the_alert_turns_critical(db):
    night = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)  # 23:00 Shanghai, quiet hours
    seed(db, opened=night)
    policy = AlertPolicy(quiet_hours=("22:00", "08:00"))
    enqueue_alert_notifications(db, policy, links=LINKS, now=night)
    with db.session() as s:
        s.get(Alert, 1).severity = "critical"
    enqueue_alert_notifications(db, policy, links=LINKS, now=night + timedelta(minutes=30))
    status = {n.idempotency_key: n.status for n in rows(db)}
    assert status["alert:1:warning:mgr-jingan:wecom"] == "superseded"
    assert status["alert:1:critical:mgr-jingan:wecom"] == "pending"
    # the warning email had not been sent yet either: replaced too (a sent one would stay sent)
    assert status["alert:1:warning:mgr-jingan:email"] == "superseded"
    bot = Recorder()
    deliver_notifications(db, ChannelSettings(), now=night + timedelta(hours=10), notifiers={"wecom": bot, "email": Recorder()})
    assert [m.key for m in bot.sent] == ["alert:1:critical:mgr-jingan:wecom"]


@pytest.mark.parametrize("kind,delivered", [("spike", False), ("urgent", True)])
def test_a_held_push_of_an_alert_resolved_overnight(db, kind, delivered):
    from storage.alert_state import resolve

    night = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)  # 23:00 Shanghai, quiet hours
    alert_id = seed(db, opened=night)
    with db.session() as s:
        s.get(Alert, alert_id).kind = kind
    enqueue_alert_notifications(db, AlertPolicy(quiet_hours=("22:00", "08:00")), links=LINKS, now=night)
    email = Recorder()
    deliver_notifications(db, ChannelSettings(), now=night, notifiers={"wecom": Recorder(), "email": email})
    assert email.sent  # email is not held by quiet hours: it went out at once
    resolve(db, alert_id, "area-sh", "门店已处理", now=night + timedelta(hours=4))
    bot = Recorder()
    summary = deliver_notifications(db, ChannelSettings(), now=night + timedelta(hours=10),
                                    notifiers={"wecom": bot, "email": Recorder()})
    status = {n.idempotency_key: n.status for n in rows(db)}
    if delivered:  # a food-safety report reaches the manager whatever happened since
        assert [m.key for m in bot.sent] == ["alert:1:warning:mgr-jingan:wecom"] and summary.cancelled == 0
        assert status["alert:1:warning:mgr-jingan:wecom"] == "sent"
    else:  # a 08:00 push about a spike that was over at 03:00 is noise
        assert bot.sent == [] and summary.cancelled == 1
        assert status["alert:1:warning:mgr-jingan:wecom"] == "cancelled"
    assert status["alert:1:warning:mgr-jingan:email"] == "sent"


def test_an_escalation_acknowledged_before_it_goes_out_is_cancelled(db):
    from storage.alert_state import acknowledge

    alert_id = seed(db)
    policy = AlertPolicy(escalate_after_minutes=60)
    enqueue_alert_notifications(db, policy, links=LINKS, now=NOW)
    deliver_notifications(db, ChannelSettings(), now=NOW, notifiers={"wecom": Recorder(), "email": Recorder()})
    assert enqueue_alert_notifications(db, policy, links=LINKS, now=NOW + timedelta(minutes=61)) == 1
    acknowledge(db, alert_id, "mgr-jingan", "在处理", now=NOW + timedelta(minutes=62))
    email = Recorder()
    summary = deliver_notifications(db, ChannelSettings(), now=NOW + timedelta(minutes=63), notifiers={"email": email})
    assert email.sent == [] and summary.cancelled == 1
    assert rows(db)[-1].status == "cancelled" and "acknowledged" in rows(db)[-1].last_error


def test_source_health_alert_tells_the_admin_what_broke(db):
    seed(db)
    with db.session() as s:
        s.get(Alert, 1).notified_severity = "warning"
        s.add(Alert(kind="source_health", scope_type="source", scope_id="dianping-feed", incident_key="source:x",
                    severity="warning", title="数据源被拦截/需要登录: dianping-feed", reason="HTTP 461",
                    opened_at=NOW, updated_at=NOW, evidence={
                        "health": "blocked", "run_id": 7, "http_status": 461, "consecutive_failures": 3,
                        "errors": ["login wall <form id=login>"], "last_success_at": "2026-11-19T01:00:00+00:00"}))
    assert enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW) == 1
    [mail] = [n for n in rows(db) if n.recipient_id == "ops"]
    for needle in ("数据源：dianping-feed", "被拦截/需登录", "HTTP 状态码", "461", "连续失败次数",
                   "2026-11-19 09:00", "login wall &lt;form id=login&gt;"):
        assert needle in mail.body_html, needle
    assert "采集批次" not in mail.body_html


def test_alert_email_end_to_end_has_chart_inline_by_cid_and_escaped_text(db, smtp_server):
    from email.header import decode_header, make_header

    from storage.models import Rollup

    seed(db, evil=True)
    with db.session() as s:
        for h in range(48):
            s.add(Rollup(grain="hour", bucket=NOW - timedelta(hours=48 - h), scope_type="store", scope_id="jingan",
                         total=4, positive=2, neutral=1, negative=1 + (h > 42) * 3))
    enqueue_alert_notifications(db, AlertPolicy(), links=LINKS, now=NOW)
    settings = smtp_server.settings()
    deliver_notifications(db, settings, now=NOW, notifiers={"email": outbox.make_notifiers(settings)["email"],
                                                            "wecom": Recorder()})
    raws = {rcpts[0]: raw for rcpts, raw in smtp_server.mailbox.received}
    raw = raws["wang@example.com"]
    assert str(make_header(decode_header(email.message_from_bytes(raw)["Subject"]))) == \
        "【听风·预警】静安寺店 负面评价激增 <b>x</b>"  # a subject is plain text: shown as typed
    msg = email.message_from_bytes(raw, policy=default)
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    html, image = related.get_payload()
    assert image.get_content_type() == "image/png" and image.get_payload(decode=True).startswith(b"\x89PNG")
    cid = image["Content-ID"].strip("<>")
    body = html.get_content()
    assert f'src="cid:{cid}"' in body
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>x</b>" not in body
    assert "action=ack&amp;token=" in body and "action=resolve&amp;token=" in body


def test_concurrent_senders_split_the_rows_without_overlap(db):
    from concurrent.futures import ThreadPoolExecutor

    add_chat(db, 40)
    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(lambda _: outbox._claim(db, NOW, NOW + timedelta(minutes=5), 15), range(4)))
    ids = [n.id for batch in batches for n in batch]
    assert len(ids) == len(set(ids)) == 40
    assert all(n.status == "sending" and n.attempts == 1 for n in rows(db))


def _alert(s, kind: str, severity: str, n: int) -> int:
    alert = Alert(kind=kind, scope_type="store", scope_id="jingan", incident_key=f"{kind}:{n}", severity=severity,
                  title=f"{kind} {severity}", opened_at=NOW, updated_at=NOW)
    s.add(alert)
    s.flush()
    return alert.id


def test_urgent_and_critical_pushes_are_claimed_before_older_warnings_and_digests(db):
    """After an outage the backlog is all due at once: the food-safety report goes out first."""
    with db.session() as s:
        due = {  # older rows were queued first, so they also have the lower ids
            "digest": (None, NOW - timedelta(minutes=40)),
            "warning": (_alert(s, "spike", "warning", 1), NOW - timedelta(minutes=30)),
            "critical": (_alert(s, "spike", "critical", 2), NOW - timedelta(minutes=20)),
            "urgent": (_alert(s, "urgent", "critical", 3), NOW - timedelta(minutes=1)),
            "later": (_alert(s, "urgent", "critical", 4), NOW + timedelta(minutes=1)),  # not due yet
        }
        for key, (alert_id, when) in due.items():
            s.add(Notification(idempotency_key=key, channel="wecom", recipient_id="r", address="https://qyapi.example/x",
                               body_text=key, alert_id=alert_id, digest_week="2026-W47" if alert_id is None else None,
                               status="failed" if key == "warning" else "pending", next_attempt_at=when, created_at=when))
    lease = NOW + timedelta(minutes=5)
    order = [[n.idempotency_key for n in outbox._claim(db, NOW, lease, 1)] for _ in range(5)]
    assert order == [["urgent"], ["critical"], ["digest"], ["warning"], []]


def test_a_delivery_batch_sends_the_urgent_push_first(db):
    with db.session() as s:
        warning, urgent = _alert(s, "spike", "warning", 1), _alert(s, "urgent", "critical", 2)
        for key, alert_id, when in (("w", warning, NOW - timedelta(minutes=30)), ("u", urgent, NOW - timedelta(minutes=1))):
            s.add(Notification(idempotency_key=key, channel="wecom", recipient_id=key, address=f"https://qyapi.example/{key}",
                               body_text=key, alert_id=alert_id, status="pending", next_attempt_at=when, created_at=when))
    bot = Recorder()
    one = deliver_notifications(db, ChannelSettings(), now=NOW, limit=1, notifiers={"wecom": bot})
    assert one.sent == 1 and [m.key for m in bot.sent] == ["u"]
    both = deliver_notifications(db, ChannelSettings(), now=NOW, notifiers={"wecom": bot})
    assert both.sent == 1 and [m.key for m in bot.sent] == ["u", "w"]
