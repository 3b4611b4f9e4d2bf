"""The procrastinate App's wiring, without a database: URLs, periodic schedules, locks."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tingfeng.example import EXAMPLE_CATALOG
from tingfeng.settings import Settings
from tingfeng.tasks import WorkerSettings, make_app, procrastinate_conninfo, worker_options


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://u:p@db:5432/t", "postgres://u:p@db:5432/t", "postgresql://u:p@db:5432/t",
])
def test_conninfo_is_a_libpq_url(url: str) -> None:
    assert procrastinate_conninfo(url) == "postgresql://u:p@db:5432/t"


def test_sqlite_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        procrastinate_conninfo("sqlite:////tmp/x.db")


@pytest.fixture
def app(tmp_path: Path):  # noqa: ANN201 - procrastinate.App
    catalog = tmp_path / "tingfeng.toml"
    catalog.write_text(EXAMPLE_CATALOG, encoding="utf-8")
    return make_app(Settings(catalog=catalog, database_url="postgresql://u@127.0.0.1:1/none"),
                    worker=WorkerSettings(recover_every_seconds=15))


def test_every_enabled_source_has_its_schedule_and_lock(app) -> None:  # noqa: ANN001
    periodic = app.periodic_registry.periodic_tasks
    sources = [s for s in app.runtime.catalog.sources if s.enabled]
    assert sources
    for source in sources:
        entry = periodic[("tingfeng.collect", f"source:{source.id}")]
        assert entry.cron == source.schedule
        assert entry.configure_kwargs["lock"] == entry.configure_kwargs["queueing_lock"] == f"source:{source.id}"
        assert entry.configure_kwargs["task_kwargs"]["source_id"] == source.id
    names = {key for key in periodic}
    assert {("tingfeng.process", "process"), ("tingfeng.deliver", "deliver"), ("tingfeng.digest", "digest"),
            ("tingfeng.recover", "recover")} <= names
    assert periodic[("tingfeng.recover", "recover")].cron == "* * * * * */15"
    prune = periodic[("tingfeng.prune", "prune")]  # the example catalog sets [retention] raw_text_days
    assert prune.cron == "30 3 * * *" and prune.configure_kwargs["lock"] == "prune"


def test_crons_are_read_in_the_catalog_time_zone(app) -> None:  # noqa: ANN001
    digest = app.periodic_registry.periodic_tasks[("tingfeng.digest", "digest")]
    assert digest.cron == "0 9 * * mon"
    at = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc).timestamp()  # a Sunday
    nxt = datetime.fromtimestamp(digest.croniter.get_next(ret_type=float, start_time=at), ZoneInfo("Asia/Shanghai"))
    assert (nxt.weekday(), nxt.hour, nxt.minute) == (0, 9, 0)  # Monday 09:00 Shanghai, not UTC


def test_worker_options_follow_the_settings() -> None:
    opts = worker_options(WorkerSettings(concurrency=3, heartbeat_seconds=5, stalled_after_seconds=20),
                          queues=["collect"], name="w1")
    assert opts["concurrency"] == 3 and opts["queues"] == ["collect"] and opts["name"] == "w1"
    assert opts["update_heartbeat_interval"] == 5 and opts["stalled_worker_timeout"] == 20


def test_every_periodic_task_accepts_the_periodic_timestamp(app) -> None:  # noqa: ANN001
    """procrastinate calls periodic tasks with ``timestamp=``; a task that cannot take it
    fails at every period (the nightly cleanup once did)."""
    import inspect

    periodic = app.periodic_registry.periodic_tasks
    assert ("tingfeng.cleanup", "cleanup") in periodic
    for (name, _pid), entry in periodic.items():
        params = inspect.signature(entry.task.func).parameters
        assert "timestamp" in params or any(p.kind is p.VAR_KEYWORD for p in params.values()), name


@pytest.mark.parametrize("takes,expected", [
    ([5000, 5000, 1200], ["score", "score", "process"]),  # a backlog: the chain once, at the end
    ([5000, 0], ["score", "process"]),  # an exact multiple of the batch still ends with the chain
    ([300], ["process"]),  # steady state: a small take runs the chain at once
    ([0], []),  # nothing new: nothing queued
])
def test_score_jobs_queue_the_chain_once_the_backlog_is_drained(app, monkeypatch, takes, expected) -> None:  # noqa: ANN001
    import asyncio

    import tingfeng.jobs as jobs
    import tingfeng.tasks as tasks

    monkeypatch.setattr(type(app.runtime), "ctx", property(lambda self: None))
    remaining = list(takes)
    monkeypatch.setattr(jobs, "score_pending", lambda ctx, limit: remaining.pop(0))
    queued: list[tuple[str, dict]] = []

    async def record(task, **kwargs):  # noqa: ANN001, ANN202
        queued.append((task.job.task_name.removeprefix("tingfeng."), kwargs))

    monkeypatch.setattr(tasks, "_defer_quietly", record)
    score = app.tasks["tingfeng.score"].func
    kwargs: dict = {"slot": 2}
    for _ in takes:
        asyncio.run(score(**kwargs))
        if queued and queued[-1][0] == "score":
            kwargs = queued[-1][1]
    assert [name for name, _ in queued] == expected
    assert all(kw == {"slot": 2, "backlog": True} for name, kw in queued if name == "score")
