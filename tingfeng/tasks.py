"""The distributed mode: procrastinate tasks on PostgreSQL wrapping :mod:`tingfeng.jobs`.

Any number of ``tingfeng worker run`` processes, on any machines, share one PostgreSQL
(the same database as the tingfeng tables; procrastinate's ``procrastinate_*`` tables
live beside ours). Each task is a thin wrapper that calls the *same* job function the
embedded scheduler calls; no stage is implemented twice.

How the guarantees are obtained (all from procrastinate, nothing home-made):

* **Periodic tasks once per period.** Every worker runs procrastinate's periodic
  deferrer; a periodic job is inserted together with a row of
  ``procrastinate_periodic_defers`` unique on (task, periodic id, scheduled time), so
  whatever the number of workers, each period defers one job, and losing any worker
  loses no schedule. Crons are read in the catalog's time zone (:class:`ZonedPeriodicTask`).
* **One source never fetched twice at once.** ``collect`` jobs carry
  ``lock="source:<id>"`` (no two ``doing`` at once) and ``queueing_lock="source:<id>"``
  (at most one waiting), so a slow source piles up no backlog of its own.
* **Scoring shared by all workers.** After a collection with new mentions, up to
  ``score_slots`` ``score`` jobs are queued (one queueing lock per slot); each runs
  ``score_pending``, whose batches are claimed with row locks (``FOR UPDATE SKIP LOCKED``
  on PostgreSQL), so workers drain one backlog without scoring a mention twice.
* **Rollups, detection and notification serialised.** ``process`` (the embedded
  mode's chain: score → rollups → detect → enqueue) has ``lock="process"``.
* **A dead worker loses nothing.** Workers heartbeat; the periodic ``recover`` task
  puts the ``doing`` jobs of workers silent for ``stalled_after_seconds`` back to
  ``todo`` (procrastinate's stalled-job retry). The job functions are idempotent and
  transactional per batch/page, so a re-run resumes where the dead one stopped. When a
  newer job with the same queueing lock already waits (the source's next period came
  while the worker was dead), the dead job is marked ``aborted`` instead: the waiting
  one does its work, and the dead one's lock no longer blocks the source.

The catalog (sources, schedules, time zone) is read when the app is built: restart the
workers after changing it, as for the embedded scheduler.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime
from functools import cached_property
from typing import Any, Callable
from zoneinfo import ZoneInfo

import attr
import croniter
import procrastinate
from procrastinate import exceptions as pexc
from procrastinate.jobs import Status
from procrastinate.periodic import PeriodicTask
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tingfeng import jobs
from tingfeng.catalog import Catalog, load_catalog
from tingfeng.settings import Settings

log = logging.getLogger("tingfeng.tasks")

#: queue of each task; ``tingfeng worker run --queues`` can dedicate workers to some.
QUEUES = ("collect", "score", "process", "deliver", "maintenance", "builtin")
#: PostgreSQL advisory lock key held while a worker syncs the catalog (any constant).
CATALOG_SYNC_LOCK = 0x7469_6E67  # "ting"


class WorkerSettings(BaseSettings):
    """Knobs of the distributed mode (``TINGFENG_WORKER_*`` environment variables)."""

    model_config = SettingsConfigDict(env_prefix="TINGFENG_WORKER_", env_file=".env", extra="ignore")

    concurrency: int = Field(1, ge=1, description="jobs run at once per worker process (threads)")
    heartbeat_seconds: float = Field(10.0, gt=0, description="how often a worker proves it is alive")
    stalled_after_seconds: float = Field(
        60.0, gt=0, description="a worker silent this long is dead: its running jobs are retried"
    )
    recover_every_seconds: int = Field(30, ge=1, le=59, description="how often stalled jobs are looked for")
    score_slots: int = Field(4, ge=1, description="score jobs that may wait at once (≥ workers to use them all)")
    score_batch: int = Field(
        5000, ge=1, description="mentions one score job takes before queueing its successor (keeps jobs short)"
    )
    keep_jobs_hours: int = Field(72, ge=1, description="finished procrastinate jobs kept this long")


def procrastinate_conninfo(url: str) -> str:
    """The libpq URL of a tingfeng ``DATABASE_URL`` (drops SQLAlchemy's ``+psycopg``).

    Raises ``ValueError`` for SQLite: the distributed mode needs PostgreSQL.
    """
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql://" + url[len(prefix):]
    if not url.startswith("postgresql://"):
        raise ValueError("the distributed mode (tingfeng worker) needs PostgreSQL: set DATABASE_URL=postgresql://…")
    return url


@attr.dataclass(frozen=True)
class ZonedPeriodicTask(PeriodicTask):
    """A periodic task whose cron is read in a time zone (procrastinate's reads UTC)."""

    timezone: str = "UTC"

    @cached_property
    def croniter(self) -> croniter.croniter:
        return croniter.croniter(self.cron, datetime.now(ZoneInfo(self.timezone)))


def register_periodic(app: procrastinate.App, task: Any, *, cron: str, periodic_id: str, timezone: str,
                      **configure: Any) -> None:
    """Register ``task`` to be deferred on ``cron`` (in ``timezone``) once per period."""
    periodic = app.periodic_registry.register_task(
        task=task, cron=cron, periodic_id=periodic_id, configure_kwargs=configure  # type: ignore[arg-type]
    )
    app.periodic_registry.periodic_tasks[(task.name, periodic_id)] = ZonedPeriodicTask(
        task=periodic.task, cron=cron, periodic_id=periodic_id, configure_kwargs=periodic.configure_kwargs,
        timezone=timezone,
    )


class Runtime:
    """The per-process state of a worker: settings, and the job Context built on first use."""

    def __init__(self, settings: Settings, catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.catalog = catalog or load_catalog(settings.catalog)
        self._lock = threading.Lock()
        self._ctx: jobs.Context | None = None

    @property
    def ctx(self) -> jobs.Context:
        """The job Context (catalog synced into the DB once per process, one worker at a time)."""
        with self._lock:
            if self._ctx is None:
                ctx = jobs.Context.from_settings(self.settings, sync=False)
                _sync_catalog_exclusively(ctx)
                self._ctx = ctx
            return self._ctx

    def warm_up(self) -> None:
        """Load the sentiment model and the segmenter before taking jobs: loading holds the
        GIL for seconds, which would delay the heartbeats of a worker already running."""
        ctx = self.ctx
        try:
            from nlp import segment

            ctx.model.score(["预热 warm-up"])
            segment.content_words("预热一下分词", [])
        except Exception:  # best effort: the first job loads them otherwise
            log.exception("warm-up failed")

    def close(self) -> None:
        """Release the database connections."""
        if self._ctx is not None:
            self._ctx.db.dispose()


def _sync_catalog_exclusively(ctx: jobs.Context) -> None:
    """Sync the catalog under an advisory lock, so workers starting together do not race."""
    from tingfeng.catalog import sync_catalog

    if ctx.db.dialect != "postgresql":
        sync_catalog(ctx.db, ctx.catalog)
        return
    with ctx.db.engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({CATALOG_SYNC_LOCK})")
        try:
            sync_catalog(ctx.db, ctx.catalog)
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({CATALOG_SYNC_LOCK})")
            conn.commit()


async def _defer_quietly(task: Any, **kwargs: Any) -> int | None:
    """Defer ``task``; None when its queueing lock says one is already waiting."""
    try:
        return await task.defer_async(**kwargs)
    except pexc.AlreadyEnqueued:
        return None


def make_app(settings: Settings, *, worker: WorkerSettings | None = None, catalog: Catalog | None = None,
             runtime: Runtime | None = None) -> procrastinate.App:
    """The procrastinate App of this deployment: tasks and periodic schedules.

    Building it reads the catalog file but opens no connection; ``app.open()`` /
    ``app.run_worker()`` do.
    """
    worker = worker or WorkerSettings()
    runtime = runtime or Runtime(settings, catalog)
    cat = runtime.catalog
    tz = cat.timezone
    connector = procrastinate.PsycopgConnector(conninfo=procrastinate_conninfo(settings.db_url))
    app = procrastinate.App(connector=connector)
    app.runtime = runtime  # type: ignore[attr-defined]  # for the worker command and tests

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, runtime.ctx, *args)

    @app.task(name="tingfeng.score", queue="score")
    async def score(slot: int = 0, backlog: bool = False) -> int:
        """Score up to ``score_batch`` pending mentions in row-locked batches, shared with
        the other score jobs; a full take queues the next job for this slot, so a large
        backlog is worked through in short jobs a stopping worker can finish.

        The rollups → detect chain is queued once the backlog is drained (a take that was
        not full), not after every batch: during a backfill it would otherwise recompute the
        same dirty days over and over on one worker while the others score. The periodic
        ``process`` job still runs on its schedule, so alerts never wait for a long backfill
        to end. ``backlog`` marks a job queued by a full take, so a backlog that was an exact
        multiple of the batch still ends with the chain."""
        scored = await run(jobs.score_pending, worker.score_batch)
        if scored >= worker.score_batch:
            await _defer_quietly(score.configure(queueing_lock=f"score:{slot}"), slot=slot, backlog=True)
        elif scored or backlog:
            await _defer_quietly(process.configure(lock="process", queueing_lock="process"))
        return scored

    async def defer_scoring() -> None:
        for slot in range(worker.score_slots):
            await _defer_quietly(score.configure(queueing_lock=f"score:{slot}"), slot=slot)

    @app.task(name="tingfeng.collect", queue="collect")
    async def collect(source_id: str, timestamp: int | None = None) -> dict[str, Any]:
        """Fetch one source (jobs.collect), then wake the scorers if it brought news."""
        result = await run(jobs.collect, source_id)
        if getattr(result, "items_new", 0):
            await defer_scoring()
        return {"status": getattr(result, "status", None), "new": getattr(result, "items_new", None)}

    @app.task(name="tingfeng.process", queue="process")
    async def process(timestamp: int | None = None) -> dict[str, Any]:
        """The embedded mode's chain (jobs.process): score → rollups → detect → enqueue."""
        result = await run(jobs.process)
        if result.get("queued"):
            await _defer_quietly(deliver.configure(queueing_lock="deliver"))
        return jobs._summary(result)

    @app.task(name="tingfeng.deliver", queue="deliver")
    async def deliver(timestamp: int | None = None) -> Any:
        """Send what is due in the outbox (rows claimed with SKIP LOCKED and a lease)."""
        return jobs._summary(await run(jobs.deliver_notifications))

    @app.task(name="tingfeng.digest", queue="process")
    async def digest(timestamp: int | None = None, week: str | None = None) -> Any:
        """Queue the weekly digest (once per recipient and week), then deliver it."""
        result = await asyncio.to_thread(jobs.send_weekly_digest, runtime.ctx, week)
        await _defer_quietly(deliver.configure(queueing_lock="deliver"))
        return jobs._summary(result)

    @app.task(name="tingfeng.prune", queue="maintenance")
    async def prune(timestamp: int | None = None) -> Any:
        """Remove raw text past ``[retention] raw_text_days`` (jobs.prune_raw_text)."""
        return jobs._summary(await run(jobs.prune_raw_text))

    @app.task(name="tingfeng.recover", queue="maintenance")
    async def recover(timestamp: int | None = None) -> int:
        """Put the running jobs of dead workers (no heartbeat) back in the queue."""
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=worker.stalled_after_seconds)
        for job in stalled:
            try:
                await app.job_manager.retry_job(job)
                log.warning("retrying job %s (%s %s) of a dead worker", job.id, job.task_name, job.task_kwargs)
            except pexc.UniqueViolation:
                # a newer job with the same queueing lock already waits (e.g. the source's
                # next period) and will do this one's work: end this one, releasing its lock
                await app.job_manager.finish_job(job, status=Status.ABORTED, delete_job=False)
                log.warning("job %s (%s %s) of a dead worker superseded by a waiting one: aborted",
                            job.id, job.task_name, job.task_kwargs)
        return len(stalled)

    @app.task(name="tingfeng.cleanup", queue="maintenance")
    async def cleanup(timestamp: int | None = None) -> None:
        """Delete finished jobs older than ``keep_jobs_hours`` (failed ones stay for
        inspection). procrastinate's builtin cleanup cannot take the ``timestamp`` that
        periodic deferral passes, so it failed every night; this wraps the same call."""
        await app.job_manager.delete_old_jobs(nb_hours=worker.keep_jobs_hours, include_aborted=True)

    for source in cat.sources:
        if source.enabled:
            register_periodic(app, collect, cron=source.schedule, periodic_id=f"source:{source.id}", timezone=tz,
                              task_kwargs={"source_id": source.id},
                              lock=f"source:{source.id}", queueing_lock=f"source:{source.id}")
    register_periodic(app, process, cron=cat.schedule.process, periodic_id="process", timezone=tz,
                      lock="process", queueing_lock="process")
    register_periodic(app, deliver, cron=cat.schedule.deliver, periodic_id="deliver", timezone=tz,
                      queueing_lock="deliver")
    register_periodic(app, digest, cron=cat.schedule.digest, periodic_id="digest", timezone=tz,
                      lock="digest", queueing_lock="digest")
    if cat.retention.raw_text_days is not None:
        register_periodic(app, prune, cron=cat.schedule.prune, periodic_id="prune", timezone=tz,
                          lock="prune", queueing_lock="prune")
    register_periodic(app, recover, cron=f"* * * * * */{worker.recover_every_seconds}", periodic_id="recover",
                      timezone="UTC", queueing_lock="recover", priority=100)  # before any waiting job
    register_periodic(app, cleanup, cron="17 3 * * *", periodic_id="cleanup", timezone=tz,
                      queueing_lock="cleanup")
    return app


def worker_options(worker: WorkerSettings, *, queues: list[str] | None = None, name: str | None = None) -> dict[str, Any]:
    """Keyword arguments of ``App.run_worker`` for these settings."""
    return {
        "queues": queues or None,
        "concurrency": worker.concurrency,
        "name": name,
        "update_heartbeat_interval": worker.heartbeat_seconds,
        "stalled_worker_timeout": worker.stalled_after_seconds,
        "shutdown_graceful_timeout": 60.0,
    }


# ---------------------------------------------------------------------------- schema

def schema_applied(conninfo: str) -> bool:
    """Whether procrastinate's tables exist in the database."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        return conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]


def apply_schema(settings: Settings) -> bool:
    """Create procrastinate's tables beside tingfeng's unless present; True if created.

    Safe to run on every deploy (like ``tingfeng db upgrade``), and from several hosts
    at once: a transaction-level advisory lock serialises the check and the creation.
    """
    import psycopg
    from procrastinate.schema import SchemaManager

    conninfo = procrastinate_conninfo(settings.db_url)
    with psycopg.connect(conninfo) as conn:
        conn.execute(f"SELECT pg_advisory_xact_lock({CATALOG_SYNC_LOCK + 1})")
        if conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]:
            return False
        conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
    return True
