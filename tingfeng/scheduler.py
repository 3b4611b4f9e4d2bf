"""The embedded mode: one long-running APScheduler 3.x process running every job on the
catalog's schedules, in the catalog's time zone, until SIGTERM/SIGINT.

Only the holder of the database's scheduler lock (``storage.scheduler_lock``) runs jobs:
a second ``tingfeng run`` on the same database waits, renewing nothing, and takes over
when the holder stops (it releases the lock) or dies (its lease goes stale after
``scheduler_lock_ttl_seconds``).
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from storage import scheduler_lock
from storage.models import utcnow
from storage.scheduler_lock import Holder
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
    """A scheduler with every job registered, coalescing missed runs, one instance each.

    ``deliver`` also runs as soon as the scheduler starts: a runner taking over from a
    dead one flushes the outbox (urgent alerts first) at once, not at the next tick.
    """
    scheduler = BackgroundScheduler(
        timezone=ctx.catalog.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job_id, cron, body in plan(ctx):
        first = {"next_run_time": utcnow()} if job_id == "deliver" else {}
        scheduler.add_job(body, CronTrigger.from_crontab(cron, timezone=ctx.catalog.timezone), id=job_id, name=job_id,
                          **first)
    return scheduler


class LockKeeper:
    """Holds the scheduler lock for one runner: take it, keep it, say who has it, give it back.

    :meth:`hold` never raises: a database error counts as "still held" only while our
    last lease has not run out (past that another runner may already have taken over).
    """

    def __init__(self, db: Any, holder: Holder, ttl: timedelta, clock: Callable[[], datetime]) -> None:
        self.db, self.holder, self.ttl, self.clock = db, holder, ttl, clock
        self.held_until: datetime | None = None
        self._waiting_for: str | None = None

    def hold(self) -> bool:
        """Acquire or renew the lock; whether this runner may run jobs until the next call."""
        now = self.clock()
        try:
            if self.held_until is not None and scheduler_lock.renew(self.db, self.holder, now=now, ttl=self.ttl):
                self.held_until = now + self.ttl
                return True
            if self.held_until is not None:
                log.error("lost the scheduler lock (it went stale and another runner took it): stopping jobs")
                self.held_until = None
            state = scheduler_lock.acquire(self.db, self.holder, now=now, ttl=self.ttl)
        except Exception as exc:  # a database hiccup must not kill the runner
            log.warning("cannot reach the database for the scheduler lock: %s", exc)
            if self.held_until is not None and now >= self.held_until:
                log.error("the scheduler lock could not be renewed before it expired: stopping jobs")
                self.held_until = None
            return self.held_until is not None
        if state.acquired:
            self.held_until, self._waiting_for = now + self.ttl, None
            log.info("scheduler lock acquired (%s pid %d)", self.holder.host, self.holder.pid)
            return True
        if state.holder is not None and state.holder.id != self._waiting_for:  # say it once per holder
            self._waiting_for = state.holder.id
            log.warning("another scheduler holds the lock: %s pid %d since %s, waiting (it is stale after %s "
                        "unless renewed)", state.holder.host, state.holder.pid, _iso(state.acquired_at),
                        _iso(state.expires_at))
        return False

    def release(self) -> None:
        """Give the lock back so a waiting runner takes over without waiting for the TTL."""
        if self.held_until is None:
            return
        try:
            scheduler_lock.release(self.db, self.holder)
        except Exception as exc:
            log.warning("could not release the scheduler lock (it goes stale by itself): %s", exc)
        self.held_until = None


def _iso(when: datetime | None) -> str:
    return when.isoformat(timespec="seconds") if when else "?"


def run_forever(ctx: Context, stop: threading.Event | None = None, holder: Holder | None = None) -> None:
    """Run jobs while holding the scheduler lock, until SIGTERM or SIGINT (or ``stop`` is set).

    Every ``scheduler_heartbeat_seconds`` the lock is renewed (or, while another runner
    holds it, tried again); the scheduler starts when the lock is taken and stops if it
    is lost. On exit running jobs finish and the lock is released. The signal handler
    only sets an event: shutting down from inside a handler races with the scheduler's
    own start-up, and a second signal must not interrupt the wait.
    """
    stop = stop or threading.Event()
    settings = ctx.settings
    keeper = LockKeeper(ctx.db, holder or Holder.this_process(),
                        timedelta(seconds=settings.scheduler_lock_ttl_seconds), utcnow)  # wall time, never a job clock

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("received %s, shutting down after running jobs finish", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    scheduler: BackgroundScheduler | None = None
    try:
        while not stop.is_set():
            if keeper.hold():
                if scheduler is None:
                    scheduler = build_scheduler(ctx)
                    scheduler.start()
                    log.info("scheduler started with %d jobs (tz %s)", len(scheduler.get_jobs()), ctx.catalog.timezone)
            elif scheduler is not None:
                scheduler.shutdown(wait=False)  # its running jobs finish; the new holder runs the next ones
                scheduler = None
            stop.wait(settings.scheduler_heartbeat_seconds)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        keeper.release()
    log.info("scheduler stopped")
