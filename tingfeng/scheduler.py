"""The embedded mode: one long-running APScheduler 3.x process running every job on the
catalog's schedules, in the catalog's time zone, until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from tingfeng import jobs
from tingfeng.jobs import Context

log = logging.getLogger("tingfeng.scheduler")


def _guarded(name: str, fn: Callable[[], Any]) -> Callable[[], None]:
    """A job body that logs failures instead of killing the scheduler thread."""

    def run() -> None:
        try:
            fn()
        except Exception:  # already recorded in job_runs by jobs._logged
            log.warning("job %s failed; it runs again at its next time", name)

    run.__name__ = name
    return run


def plan(ctx: Context) -> list[tuple[str, str, Callable[[], None]]]:
    """The (job id, cron, body) triples the scheduler registers: pure, testable."""
    sched = ctx.catalog.schedule
    entries: list[tuple[str, str, Callable[[], None]]] = []
    for source in jobs.enabled_sources(ctx):
        entries.append(
            (f"collect:{source.id}", source.schedule, _guarded(f"collect:{source.id}", lambda s=source.id: jobs.collect(ctx, s)))
        )
    entries.append(("process", sched.process, _guarded("process", lambda: jobs.process(ctx))))
    entries.append(("deliver", sched.deliver, _guarded("deliver", lambda: jobs.deliver_notifications(ctx))))
    entries.append(("digest", sched.digest, _guarded("digest", lambda: jobs.send_weekly_digest(ctx))))
    if ctx.catalog.retention.raw_text_days is not None:
        entries.append(("prune", sched.prune, _guarded("prune", lambda: jobs.prune_raw_text(ctx))))
    return entries


def build_scheduler(ctx: Context) -> BackgroundScheduler:
    """A scheduler with every job registered, coalescing missed runs, one instance each."""
    scheduler = BackgroundScheduler(
        timezone=ctx.catalog.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job_id, cron, body in plan(ctx):
        scheduler.add_job(body, CronTrigger.from_crontab(cron, timezone=ctx.catalog.timezone), id=job_id, name=job_id)
    return scheduler


def run_forever(ctx: Context, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM or SIGINT (or ``stop`` is set), let running jobs finish, exit.

    The signal handler only sets an event: shutting down from inside a handler races
    with the scheduler's own start-up, and a second signal must not interrupt the wait.
    """
    stop = stop or threading.Event()
    scheduler = build_scheduler(ctx)

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("received %s, shutting down after running jobs finish", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler.start()
    log.info("scheduler started with %d jobs (tz %s)", len(scheduler.get_jobs()), ctx.catalog.timezone)
    while not stop.wait(1.0):
        pass
    scheduler.shutdown(wait=True)
    log.info("scheduler stopped")
