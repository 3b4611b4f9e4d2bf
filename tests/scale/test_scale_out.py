"""Scale-out: the same jobs in the embedded mode and on three procrastinate workers.

A loopback feed site serves a backlog of sources (one per store, a few urgent posts
among them); alerts go to a loopback SMTP sink. In every mode, once the pipeline is
quiet: every feed item is stored once and scored once, rollups are clean, every
notification is sent once and received once, and no source was ever fetched by two
processes at once.

The distributed tests need PostgreSQL: they run whenever ``TINGFENG_TEST_PG`` is set,
which CI (``.ci/run`` → ``make test``) always does; without it they are skipped with a
message saying so. The embedded mode runs on SQLite always and on PostgreSQL with it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import Database
from scale_harness import FeedSite, Workers, check_pipeline_outcome, source_id, wait_for, write_catalog
from tingfeng.demo.mailsink import MailSink
from tingfeng.settings import Settings

PG_URL = os.environ.get("TINGFENG_TEST_PG", "")
needs_pg = pytest.mark.skipif(not PG_URL, reason="distributed mode needs PostgreSQL: set TINGFENG_TEST_PG (CI does)")
SOURCES, ITEMS = 12, 20
PROCRASTINATE_TABLES = "procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers"
FAST_RECOVERY = {  # heartbeats every second, a worker silent 10 s is dead, looked for every 2 s
    "TINGFENG_WORKER_HEARTBEAT_SECONDS": "1",
    "TINGFENG_WORKER_STALLED_AFTER_SECONDS": "10",
    "TINGFENG_WORKER_RECOVER_EVERY_SECONDS": "2",
    "TINGFENG_WORKER_SCORE_SLOTS": "3",
}


# ------------------------------------------------------------------------ embedded

def run_embedded(db: Database, tmp_path: Path, site: FeedSite) -> Path:
    """One period of the embedded scheduler: each planned job body once, in plan order."""
    from tingfeng.jobs import Context
    from tingfeng.scheduler import plan

    sink_dir = tmp_path / "mail"
    with MailSink(sink_dir) as sink:
        settings = Settings(
            database_url=db.url, catalog=write_catalog(tmp_path / "tingfeng.toml", site), data_dir=tmp_path,
            http_user_agent="tingfeng-test/embedded", http_min_delay=0.0, respect_robots=False,
            smtp_host="127.0.0.1", smtp_port=sink.port,
        )
        ctx = Context.from_settings(settings)
        for job_id, _cron, body in plan(ctx):
            if job_id != "digest":  # yearly in this catalog: not due within the period
                body()
        ctx.db.dispose()
    return sink_dir


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_embedded_mode_runs_the_jobs_once(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    db = request.getfixturevalue("sqlite_db" if backend == "sqlite" else "pg_db")
    with FeedSite(SOURCES, ITEMS) as site:
        sink_dir = run_embedded(db, tmp_path, site)
    check_pipeline_outcome(db.engine, site, sink_dir)
    assert all(site.fetches[i] == 1 for i in range(SOURCES)), site.fetches


# --------------------------------------------------------------------- distributed

@pytest.fixture
def pg_db(_pg_database: Database) -> Database:
    """The session PostgreSQL database, emptied, with procrastinate's tables beside ours."""
    from sqlmodel import SQLModel

    from tingfeng.tasks import apply_schema

    apply_schema(Settings(database_url=_pg_database.url))
    ours = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with _pg_database.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {ours}, {PROCRASTINATE_TABLES} RESTART IDENTITY CASCADE")
    yield _pg_database
    _pg_database.engine.dispose()


def _jobs(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT j.id, j.task_name, j.status::text, j.args, (j.args->>'timestamp')::bigint,"
            " (SELECT count(*) FROM procrastinate_events e WHERE e.job_id = j.id AND e.type = 'started')"
            " FROM procrastinate_jobs j").all()
    return [dict(id=r[0], task=r[1], status=r[2], args=r[3], period=r[4], starts=r[5]) for r in rows]


def _quiet(engine: sa.Engine) -> bool:
    """Everything collected, scored, rolled up, detected and delivered; no job waiting."""
    jobs = _jobs(engine)
    busy = [j for j in jobs if j["status"] in ("todo", "doing") and j["task"] != "tingfeng.recover"
            and not j["task"].startswith("procrastinate.")]
    collected = {j["args"].get("source_id") for j in jobs if j["task"] == "tingfeng.collect" and j["status"] == "succeeded"}
    with engine.connect() as conn:
        pending = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM mentions m WHERE NOT EXISTS"
            "        (SELECT 1 FROM mention_analysis a WHERE a.mention_id = m.id))"
            " + (SELECT count(*) FROM rollup_dirty)"
            " + (SELECT count(*) FROM notifications WHERE status <> 'sent')").scalar_one()
        sent = conn.exec_driver_sql("SELECT count(*) FROM notifications").scalar_one()
    return not busy and len(collected) == SOURCES and pending == 0 and sent > 0


def run_distributed(db: Database, tmp_path: Path, site: FeedSite, *, kill: bool) -> tuple[Path, int | None]:
    """Three workers until the pipeline is quiet; with ``kill``, SIGKILL the worker
    caught fetching the slow source. Returns the mail directory and the killed worker."""
    sink_dir, killed = tmp_path / "mail", None
    with MailSink(sink_dir) as sink, Workers(
        3, tmp_path, database_url=db.url, catalog=write_catalog(tmp_path / "tingfeng.toml", site),
        data_dir=tmp_path, smtp_port=sink.port, **FAST_RECOVERY,
    ) as workers:
        if kill:
            wait_for(site.slow_started.is_set, 60, "a worker to fetch the slow source", on_fail=workers.tail)
            killed = int(site.agents[site.slow][0].rsplit("/w", 1)[1])
            workers.kill(killed)
            killed_at = time.time()
        wait_for(lambda: _quiet(db.engine), 150, "the pipeline to go quiet", interval=0.5, on_fail=workers.tail)
        if kill:  # the survivors go on deferring periodic jobs (recover runs every 2 s)
            wait_for(lambda: any(j["task"] == "tingfeng.recover" and j["status"] == "succeeded"
                                 and j["period"] > killed_at + 1 for j in _jobs(db.engine)),
                     30, "a periodic job deferred after the kill", on_fail=workers.tail)
        assert len(workers.alive()) == (2 if kill else 3), workers.tail()
        workers.stop()
    return sink_dir, killed


def check_distributed_outcome(db: Database, site: FeedSite, sink_dir: Path, killed_source: int | None) -> None:
    """The mode-independent checks, plus: one collect job per source and period, each
    fetch accounted for, no failed job, and score_pending's counts adding up."""
    check_pipeline_outcome(db.engine, site, sink_dir)
    jobs = _jobs(db.engine)
    assert not [j for j in jobs if j["status"] in ("failed", "doing")], jobs
    assert not [j for j in jobs if j["status"] == "aborted" and j["task"] != "tingfeng.collect"], jobs
    for i in range(SOURCES):
        mine = [j for j in jobs if j["task"] == "tingfeng.collect" and j["args"].get("source_id") == source_id(i)]
        periods = [j["period"] for j in mine]
        assert len(periods) == len(set(periods)) and None not in periods, mine  # one job per period
        assert [j for j in mine if j["status"] == "succeeded"], mine
        # every fetch is a job start; the dead worker's job either started again (retried)
        # or, when the next period's job was already waiting, was aborted in its favour
        assert site.fetches[i] == sum(j["starts"] for j in mine), (i, site.fetches[i], mine)
        interrupted = sum(j["starts"] - 1 for j in mine) + sum(j["status"] == "aborted" for j in mine)
        assert interrupted == (1 if i == killed_source else 0), mine
    with db.engine.connect() as conn:
        runs = conn.exec_driver_sql("SELECT status, detail FROM job_runs WHERE job = 'score_pending'").all()
        mentions = conn.exec_driver_sql("SELECT count(*) FROM mentions").scalar_one()
    details = [json.loads(d) if isinstance(d, str) else d for _s, d in runs]
    assert all(s == "ok" for s, _d in runs), runs
    assert sum(d["result"] for d in details) == mentions  # no mention counted by two scorers


@needs_pg
def test_three_workers_one_killed_mid_fetch_run_every_job_once(pg_db: Database, tmp_path: Path) -> None:
    with FeedSite(SOURCES, ITEMS, slow=5, slow_seconds=8.0) as site:
        sink_dir, killed = run_distributed(pg_db, tmp_path, site, kill=True)
    assert killed is not None
    # the retry ran on a survivor: the slow source's second fetch came from another worker
    assert site.agents[5][-1] != f"tingfeng-test/w{killed}", site.agents[5]
    check_distributed_outcome(pg_db, site, sink_dir, 5)


@needs_pg
def test_recover_retries_a_dead_workers_job_or_aborts_it_for_a_newer_one(pg_db: Database, tmp_path: Path) -> None:
    """Deterministic: a job left ``doing`` by a worker without heartbeat goes back to
    ``todo``; when the same source's next job already waits (the period turned while the
    worker was dead), it is aborted instead, so its lock no longer blocks that source."""
    import asyncio

    from tingfeng.tasks import make_app

    with FeedSite(2, 1) as site:
        app = make_app(Settings(database_url=pg_db.url, catalog=write_catalog(tmp_path / "t.toml", site)))

    async def scenario() -> dict[int, str]:
        async with app.open_async():
            collect = app.tasks["tingfeng.collect"]
            ids = {}
            for i in (0, 1):
                sid = source_id(i)
                ids[i] = await collect.configure(lock=f"source:{sid}", queueing_lock=f"source:{sid}").defer_async(
                    source_id=sid)
            dead = await app.job_manager.register_worker()
            for _ in (0, 1):
                await app.job_manager.fetch_job(queues=None, worker_id=dead)  # both now "doing"
            with pg_db.engine.begin() as conn:
                conn.exec_driver_sql("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
            sid = source_id(1)
            newer = await collect.configure(lock=f"source:{sid}", queueing_lock=f"source:{sid}").defer_async(
                source_id=sid)
            assert await app.tasks["tingfeng.recover"].func(timestamp=None) == 2
            status = app.job_manager.get_job_status_async
            return {"first": (await status(ids[0])).value, "superseded": (await status(ids[1])).value,
                    "newer": (await status(newer)).value}

    assert asyncio.run(scenario()) == {"first": "todo", "superseded": "aborted", "newer": "todo"}


@needs_pg
def test_nightly_cleanup_runs_as_a_periodic_job_and_removes_old_finished_jobs(pg_db: Database, tmp_path: Path) -> None:
    """The cleanup is called the way the periodic deferrer calls it (with a timestamp)."""
    import asyncio

    from tingfeng.tasks import make_app

    with FeedSite(1, 1) as site:
        app = make_app(Settings(database_url=pg_db.url, catalog=write_catalog(tmp_path / "t.toml", site)))

    async def scenario() -> tuple[str, str]:
        async with app.open_async():
            old = await app.tasks["tingfeng.deliver"].defer_async()
            recent = await app.tasks["tingfeng.deliver"].defer_async()
            with pg_db.engine.begin() as conn:
                conn.exec_driver_sql(f"UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id IN ({old}, {recent})")
                # a job's age is that of its latest event: make every event of `old` 100 h old
                conn.exec_driver_sql(f"UPDATE procrastinate_events SET at = now() - interval '100 hours' "
                                     f"WHERE job_id = {old}")
            await app.tasks["tingfeng.cleanup"].func(timestamp=1795375020)
            with pg_db.engine.connect() as conn:
                left = {r[0] for r in conn.exec_driver_sql("SELECT id FROM procrastinate_jobs")}
            return ("old gone" if old not in left else "old kept", "recent kept" if recent in left else "recent gone")

    assert asyncio.run(scenario()) == ("old gone", "recent kept")
