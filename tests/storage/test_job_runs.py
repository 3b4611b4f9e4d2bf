"""Job runs on both backends: the next run of a job closes the rows its dead runs left
``running``, and leaves a live run's row alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from storage import job_runs
from storage.models import JobRun

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
STALE = timedelta(seconds=60)
HERE, OTHER = "host-here", "host-other"


def alive_except(*dead: int):
    return lambda pid: pid not in dead


def start(db, job="deliver_notifications", *, now, host=HERE, pid=1000, alive=alive_except()):
    return job_runs.start(db, job, host=host, pid=pid, now=now, stale_after=STALE, alive=alive)


def rows(db) -> dict[int, JobRun]:
    with db.session() as s:
        return {r.id: r for r in s.exec(select(JobRun))}


def test_a_stale_running_row_is_closed_with_why_when_the_next_run_starts(db):
    old, _ = start(db, now=T0, host=OTHER, pid=7)
    job_runs.heartbeat(db, old.id, now=T0 + timedelta(seconds=40))
    new, closed = start(db, now=T0 + timedelta(seconds=101))  # 61 s after its last heartbeat
    assert [c.id for c in closed] == [old.id]
    got = rows(db)
    assert got[old.id].status == "failed" and got[old.id].finished_at == T0 + timedelta(seconds=40)
    assert got[old.id].detail["error"] == ("interrupted: the run never finished (crash or kill): "
                                           "no heartbeat since 2026-12-07T08:00:40+00:00 (stale after 60 s)")
    assert got[new.id].status == "running" and (got[new.id].host, got[new.id].pid) == (HERE, 1000)


def test_a_fresh_row_of_a_live_run_is_not_touched(db):
    live, _ = start(db, now=T0, host=OTHER, pid=7)
    job_runs.heartbeat(db, live.id, now=T0 + timedelta(seconds=50))
    same_host, _ = start(db, now=T0 + timedelta(seconds=55), pid=8)
    _, closed = start(db, now=T0 + timedelta(seconds=109), pid=9)  # 59 s after the other host's heartbeat
    assert closed == []
    assert [r.status for r in rows(db).values()] == ["running"] * 3
    assert rows(db)[same_host.id].finished_at is None


def test_a_dead_pid_on_this_host_is_closed_at_once_however_fresh_its_heartbeat(db):
    killed, _ = start(db, now=T0, pid=4242)
    _, closed = start(db, now=T0 + timedelta(seconds=1), pid=4243, alive=alive_except(4242))
    assert [c.id for c in closed] == [killed.id]
    assert rows(db)[killed.id].detail["error"].endswith("process 4242 on host-here is no longer running")


def test_only_the_same_jobs_rows_are_closed(db):
    other_job, _ = start(db, "collect", now=T0, host=OTHER)
    _, closed = start(db, now=T0 + timedelta(hours=1))
    assert closed == [] and rows(db)[other_job.id].status == "running"


def test_a_row_from_before_heartbeats_is_judged_by_its_start(db):
    with db.session() as s:
        s.add(JobRun(job="deliver_notifications", started_at=T0))  # no host, pid or heartbeat
    _, closed = start(db, now=T0 + timedelta(seconds=30))
    assert closed == []
    _, closed = start(db, now=T0 + timedelta(seconds=61))
    assert len(closed) == 1 and "no heartbeat since 2026-12-07T08:00:00+00:00" in closed[0].detail["error"]


def test_a_live_run_closed_by_mistake_puts_its_outcome_back_when_it_finishes(db):
    slow, _ = start(db, now=T0, host=OTHER)
    _, closed = start(db, now=T0 + timedelta(seconds=90))  # its heartbeats were held up
    assert [c.id for c in closed] == [slow.id]
    job_runs.finish(db, slow, "ok", now=T0 + timedelta(seconds=95), seconds=95.0)
    got = rows(db)[slow.id]
    assert (got.status, got.finished_at, got.detail) == ("ok", T0 + timedelta(seconds=95), {"seconds": 95.0})


def test_the_heartbeat_thread_renews_while_the_block_runs(db):
    run, _ = start(db, now=T0)
    clock = iter(T0 + timedelta(seconds=i) for i in range(1, 10_000))
    with job_runs.Heartbeat(db, run.id, every=0.02, clock=lambda: next(clock)):
        deadline = time.monotonic() + 10
        while rows(db)[run.id].heartbeat_at < T0 + timedelta(seconds=2) and time.monotonic() < deadline:
            time.sleep(0.02)
    assert rows(db)[run.id].heartbeat_at >= T0 + timedelta(seconds=2)


def test_pid_alive_knows_this_process_a_reaped_one_and_an_unreaped_zombie():
    assert job_runs.pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while job_runs.pid_alive(child.pid) and time.monotonic() < deadline:  # exited, not yet waited for
        time.sleep(0.01)
    assert not job_runs.pid_alive(child.pid)
    child.wait()
    assert not job_runs.pid_alive(child.pid)
