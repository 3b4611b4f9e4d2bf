"""The real ``tingfeng process`` and ``tingfeng deliver`` against a loopback aiosmtpd server
that is down, then up; and ``tingfeng deliver`` SIGKILLed while the server holds a
message. Every alert mail reaches its recipient exactly once (once per Message-ID: a
re-send after a kill carries the same one, so mail clients show it once).

The function-level versions (a fixed clock, fake chat notifier, a simulated crash) are
in ``tests/alerts/test_outbox.py`` (``test_smtp_down_then_up_delivers_everything_once``,
``test_crash_between_send_and_mark_redelivers_with_same_message_id``); these run the
commands an operator runs, with the wall clock and the settings from the environment.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from alerts.channels.email import message_id_for
from storage.models import JobRun, Mention, Notification, utcnow
from tests.alerts.test_email import Mailbox, SmtpServer
from tests.reliability.conftest import kill_when
from tingfeng.catalog import parse_catalog, sync_catalog

SENDER = "听风 <alerts@tingfeng.example>"
CATALOG = """\
timezone = "Asia/Shanghai"

[[brands]]
id = "cha"
name = "茶颜"

[[regions]]
id = "cs"
name = "长沙区域"

[[stores]]
id = "wuyi"
name = "茶颜悦色五一广场店"
region = "cs"

[[stores]]
id = "iec"
name = "茶颜悦色国金中心店"
region = "cs"
{sources}
[[recipients]]
id = "mgr-wuyi"
name = "五一店长"
email = "wuyi@example.com"
stores = ["wuyi"]

[[recipients]]
id = "mgr-iec"
name = "国金店长"
email = "iec@example.com"
stores = ["iec"]

[[recipients]]
id = "area-cs"
name = "长沙区域经理"
role = "area_manager"
email = "area@example.com"
regions = ["cs"]
"""
SOURCE = """
[[sources]]
id = "dp-{store}"
type = "feed"
platform = "dianping"
store = "{store}"
enabled = false
[sources.options]
url = "http://127.0.0.1:9/{store}"
"""


@pytest.fixture
def alerted(deployment):
    """Two stores with a food-safety review each, processed by ``tingfeng process``: their
    urgent alerts wait in the outbox as one mail to each store manager and the area manager."""
    catalog = CATALOG.format(sources="".join(SOURCE.format(store=s) for s in ("wuyi", "iec")))
    deployment.write_catalog(catalog)
    sync_catalog(deployment.db, parse_catalog(catalog))
    now = utcnow()
    with deployment.db.session() as s:
        for i, store in enumerate(("wuyi", "iec")):
            s.add(Mention(source_id=f"dp-{store}", external_id=str(i), platform="dianping", content_hash=f"u{i}",
                          text="奶茶里喝出一根头发，太恶心了，已经打12315投诉", published_at=now - timedelta(hours=1),
                          collected_at=now))
    deployment.invoke("process")
    mails = emails(deployment.db)
    assert sorted(n.address for n in mails) == ["area@example.com", "area@example.com", "iec@example.com",
                                                "wuyi@example.com"]
    return deployment


def emails(db) -> list[Notification]:
    with db.session() as s:
        return list(s.exec(select(Notification).where(Notification.channel == "email").order_by(Notification.id)))


def deliver_runs(db) -> list[JobRun]:
    with db.session() as s:
        return list(s.exec(select(JobRun).where(JobRun.job == "deliver_notifications").order_by(JobRun.id)))


def time_passes(db) -> None:
    """Make every unsent row due now, as if its backoff or lease had run out."""
    with db.session() as s:
        s.execute(sa.update(Notification).where(Notification.status.in_(("pending", "failed", "sending")))
                  .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def received_once(server: SmtpServer, rows: list[Notification]) -> None:
    """Each row's mail reached its address, and each address holds no other message."""
    expected: dict[str, set[str]] = {}
    for n in rows:
        expected.setdefault(n.address, set()).add(message_id_for(n.idempotency_key, SENDER))
    assert server.mailbox.by_recipient() == expected


def smtp_env(server: SmtpServer) -> dict[str, str]:
    return {"TINGFENG_SMTP_HOST": "127.0.0.1", "TINGFENG_SMTP_PORT": str(server.port),
            "TINGFENG_SMTP_TIMEOUT": "5", "TINGFENG_SMTP_FROM": SENDER}


def test_smtp_down_then_up_every_alert_mail_arrives_exactly_once(alerted, caplog):
    db = alerted.db
    server = SmtpServer()  # not started: connections to its port are refused
    alerted.env.update(smtp_env(server))
    before = utcnow()
    down = alerted.invoke("deliver")  # exit 0: an outage is not a crash, the job records it and retries
    assert "'retried': 1" in down and "'deferred': 3" in down
    assert "failed, attempt 1, retry at" in caplog.text and "unreachable" in caplog.text  # the log says why
    rows = emails(db)
    assert not [n for n in rows if n.status == "sending"]  # released at once, not held for the lease
    assert all(n.status in ("failed", "pending") and n.next_attempt_at >= before + timedelta(seconds=59) for n in rows)
    assert sum(n.attempts for n in rows) == 1 and "unreachable" in next(n.last_error for n in rows if n.attempts)

    server.start()
    try:
        assert "'claimed': 0" in alerted.invoke("deliver")  # backing off: nothing tried yet
        assert server.mailbox.received == []
        time_passes(db)
        assert "'sent': 4" in alerted.invoke("deliver")
        assert "'claimed': 0" in alerted.invoke("deliver")
        rows = emails(db)
        assert all(n.status == "sent" and n.provider_response.startswith("250") for n in rows)
        received_once(server, rows)
        assert len(server.mailbox.received) == 4  # not one message more than rows
    finally:
        server.stop()


class HoldingMailbox(Mailbox):
    """Takes the first message in and then keeps the client waiting for the answer."""

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001 - aiosmtpd hook
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == 1:
            await asyncio.sleep(30)  # the sender is killed while it waits for the 250
        return answer


def test_sigkill_of_deliver_while_the_server_holds_a_message(alerted):
    """At-least-once: the held message is sent again after the lease, with the same Message-ID."""
    db = alerted.db
    server = SmtpServer()
    server.mailbox = HoldingMailbox()
    alerted.env.update(smtp_env(server))
    server.start()
    try:
        proc = alerted.start("deliver")
        kill_when(proc, lambda: len(server.mailbox.received) == 1)
        rows = emails(db)
        assert [n.status for n in rows] == ["sending"] * 4  # claimed under a lease, none marked sent
        assert all(n.next_attempt_at > utcnow() + timedelta(seconds=250) for n in rows)  # the 300 s lease
        killed = deliver_runs(db)
        assert [r.status for r in killed] == ["running"] and killed[0].pid == proc.pid  # SIGKILL: no handler ran
        assert "'claimed': 0" in alerted.invoke("deliver")  # no second sender while the lease runs
        runs = deliver_runs(db)  # the next run closed the dead one's row: ops see no phantom job running
        assert [r.status for r in runs] == ["failed", "ok"]
        assert runs[0].detail["error"].startswith("interrupted: the run never finished (crash or kill): process "
                                                  f"{proc.pid} on ") and runs[0].finished_at is not None
        time_passes(db)  # the lease runs out
        assert "'sent': 4" in alerted.invoke("deliver")
        rows = emails(db)
        assert all(n.status == "sent" for n in rows)
        received_once(server, rows)  # per recipient: every mail, each Message-ID once
        assert len(server.mailbox.received) == 5  # the held one twice on the wire, same Message-ID
    finally:
        server.stop()
