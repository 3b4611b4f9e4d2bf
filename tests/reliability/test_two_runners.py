"""Two ``tingfeng process`` and then two ``tingfeng deliver`` started at the same moment on
one database, as real processes: neither crashes, every mention is scored once, every
alert mail reaches its recipient once.

Thread-level versions: ``tests/nlp/test_nlp_pipeline.py::test_two_runners_at_once_share_the_backlog_without_crashing``
and ``tests/alerts/test_outbox.py::test_concurrent_senders_split_the_rows_without_overlap``.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from storage.models import Alert, Mention, MentionAnalysis, Notification, ScoreQueue, utcnow
from tests.alerts.test_email import SmtpServer
from tests.reliability.test_deliver_faults import CATALOG, SOURCE, emails, received_once, smtp_env
from tingfeng.catalog import parse_catalog, sync_catalog

BACKLOG = 1000  # two batches of 500: each runner can take one


def both(deployment, command: str) -> list[str]:
    """Start two ``tingfeng COMMAND`` at once, wait for both; their outputs (each must exit 0)."""
    procs = [deployment.start(command) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    for p, out in zip(procs, outs):
        assert p.returncode == 0, out[-3000:]
    return outs


def test_two_process_and_two_deliver_at_once_score_and_send_everything_once(deployment):
    db = deployment.db
    catalog = CATALOG.format(sources="".join(SOURCE.format(store=s) for s in ("wuyi", "iec")))
    deployment.write_catalog(catalog)
    sync_catalog(db, parse_catalog(catalog))
    now = utcnow()
    with db.session() as s:
        s.add_all(Mention(source_id=f"dp-{('wuyi', 'iec')[i % 2]}", external_id=str(i), platform="dianping",
                          content_hash=f"h{i}", published_at=now - timedelta(days=3, minutes=i), collected_at=now,
                          text=f"第{i}条：幽兰拿铁{'很好喝，店员热情' if i % 4 else '太甜了，等了四十分钟'}")
                  for i in range(BACKLOG))
        for i, store in enumerate(("wuyi", "iec")):
            s.add(Mention(source_id=f"dp-{store}", external_id=f"u{i}", platform="dianping", content_hash=f"u{i}",
                          text="奶茶里喝出一根头发，太恶心了，已经打12315投诉", published_at=now - timedelta(hours=1),
                          collected_at=now))

    both(deployment, "process")
    with db.session() as s:
        ids = s.exec(select(MentionAnalysis.mention_id)).all()
        urgent = s.exec(select(Alert.scope_id).where(Alert.kind == "urgent")).all()
        assert s.exec(select(sa.func.count()).select_from(ScoreQueue)).one() == 0
    assert len(ids) == len(set(ids)) == BACKLOG + 2
    assert sorted(urgent) == ["iec", "wuyi"]  # one alert per incident, not one per runner
    assert sorted(n.address for n in emails(db)) == ["area@example.com", "area@example.com", "iec@example.com",
                                                    "wuyi@example.com"]

    server = SmtpServer()
    deployment.env.update(smtp_env(server))
    server.start()
    try:
        both(deployment, "deliver")
        rows = emails(db)
        assert all(n.status == "sent" and n.attempts == 1 for n in rows)  # each claimed by one sender only
        received_once(server, rows)
        assert len(server.mailbox.received) == len(rows)
    finally:
        server.stop()


def test_a_model_registered_by_another_runner_meanwhile_is_not_a_crash(db):
    """The race the test above hit on a fresh database (about one run in five on SQLite):
    both runners saw no registry row for the model, the slower insert broke the unique key
    and its whole ``process`` failed. Here the other runner's row is committed from a
    second engine just before this runner's INSERT reaches the database."""
    import nlp.registry as registry
    from nlp.models import get_model
    from storage import Database
    from storage.models import ModelRecord

    model = get_model()
    other = Database(db.url)
    fired: list[str] = []

    def other_runner_first(conn, cursor, statement, *args):  # noqa: ANN001 - SQLAlchemy hook
        if statement.lstrip().upper().startswith("INSERT INTO MODEL_REGISTRY") and not fired:
            fired.append(statement)
            registry.record(other, model.name, model.version, {"by": "the other runner"}, promote=True)

    sa.event.listen(db.engine, "before_cursor_execute", other_runner_first)
    try:
        registry.ensure_registered(db, model)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", other_runner_first)
        other.dispose()
    assert fired
    with db.session() as s:
        [row] = s.exec(select(ModelRecord)).all()
    assert row.figures == {"by": "the other runner"} and row.promoted_at is not None
