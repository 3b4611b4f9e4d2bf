"""Job runs (``job_runs``): start one, keep it alive, finish it, and close the rows that
runs killed mid-way (SIGKILL, OOM, power loss) left ``running``.

A run records its process (host and pid) and renews ``heartbeat_at`` while it works
(:class:`Heartbeat`). When the next run of the same job starts (:func:`start`), each
earlier ``running`` row whose owner is gone is closed as ``failed`` with an
"interrupted" error, the same words collector runs use:

- on this host, its pid no longer runs (caught at once, however fresh its heartbeat);
- on any host, its last heartbeat is older than ``stale_after`` (the scheduler lock's
  TTL: hosts need NTP, as for the lock).

A live run closed by mistake (its heartbeats held up past ``stale_after``) puts its real
outcome back when it finishes: :func:`finish` overwrites the row. Host names must be
unique per pid namespace (containers sharing a name would misjudge each other's pids).
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlmodel import select

from storage.models import JobRun, utcnow

log = logging.getLogger("storage.job_runs")

INTERRUPTED = "interrupted: the run never finished (crash or kill)"


def owner_gone(run: JobRun, *, now: datetime, stale_after: timedelta, host: str,
               pid_alive: Callable[[int], bool]) -> str | None:
    """Why ``run``'s process is gone, or None while it may still be working (pure, given ``pid_alive``)."""
    seen = run.heartbeat_at or run.started_at
    if run.host == host and run.pid is not None and not pid_alive(run.pid):
        return f"process {run.pid} on {host} is no longer running"
    if now - seen > stale_after:
        return (f"no heartbeat since {seen.isoformat(timespec='seconds')} "
                f"(stale after {stale_after.total_seconds():g} s)")
    return None


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):  # no /proc (not Linux): signal 0 is the answer
        return True


def start(db: Any, job: str, *, host: str, pid: int, now: datetime, stale_after: timedelta,
          detail: dict[str, Any] | None = None,
          alive: Callable[[int], bool] = pid_alive) -> tuple[JobRun, list[JobRun]]:
    """Record a new ``running`` run of ``job``, closing the rows of its dead earlier runs.

    Returns the new run and the rows closed (status ``failed``, ``detail.error`` saying
    why), in one transaction.
    """
    closed: list[JobRun] = []
    with db.session() as session:
        for old in session.exec(select(JobRun).where(JobRun.job == job, JobRun.status == "running")).all():
            why = owner_gone(old, now=now, stale_after=stale_after, host=host, pid_alive=alive)
            if why is None:
                continue
            old.status, old.finished_at = "failed", old.heartbeat_at or old.started_at  # last known alive
            old.detail = {**(old.detail or {}), "error": f"{INTERRUPTED}: {why}", "closed_at": now.isoformat()}
            session.add(old)
            closed.append(old)
        run = JobRun(job=job, started_at=now, heartbeat_at=now, host=host, pid=pid, detail=dict(detail or {}))
        session.add(run)
    return run, closed


def heartbeat(db: Any, run_id: int, *, now: datetime) -> None:
    """Say that run ``run_id`` is still working."""
    with db.session() as session:
        session.execute(sa.update(JobRun).where(JobRun.id == run_id).values(heartbeat_at=now))


def finish(db: Any, run: JobRun, status: str, *, now: datetime, **detail: Any) -> None:
    """Record ``run``'s outcome (``ok`` or ``failed``), merging ``detail`` into its detail."""
    run.status, run.finished_at, run.heartbeat_at = status, now, now
    run.detail = {**run.detail, **detail}
    with db.session() as session:
        session.execute(sa.update(JobRun).where(JobRun.id == run.id).values(
            status=run.status, finished_at=now, heartbeat_at=now, detail=run.detail))


class Heartbeat:
    """A thread renewing a run's ``heartbeat_at`` every ``every`` seconds, for a ``with`` block.

    A failed renewal is logged and tried again at the next beat: the job goes on.
    """

    def __init__(self, db: Any, run_id: int, every: float, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.run_id, self.every, self.clock = db, run_id, every, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                heartbeat(self.db, self.run_id, now=self.clock())
            except Exception as exc:  # a busy or unreachable database: the next beat tries again
                log.warning("job run %s: heartbeat not recorded: %s", self.run_id, exc)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every)  # a beat stuck on the database must not hold up the job's end
