"""Two real `tingfeng run` on one SQLite database: one runs jobs, the other waits and
takes over when the holder is SIGKILLed (short heartbeat and TTL to keep it quick)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from tingfeng.cli import app
from tingfeng.example import EXAMPLE_CATALOG


class Runner:
    """A `tingfeng run` subprocess whose log lines are collected by a thread."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tingfeng.cli", "run"], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def out(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.out:
            assert time.monotonic() < deadline and self.proc.poll() is None, f"no {text!r} in:\n{self.out}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def _jobs_and_lock(db_path: Path) -> tuple[int, int | None]:
    """How many deliver jobs ran, and the pid holding the scheduler lock."""
    engine = sa.create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            runs = conn.execute(sa.text("SELECT count(*) FROM job_runs WHERE job = 'deliver_notifications'")).scalar()
            pid = conn.execute(sa.text("SELECT pid FROM scheduler_locks WHERE name = 'scheduler'")).scalar()
    finally:
        engine.dispose()
    return runs, pid


def test_a_second_runner_waits_and_takes_over_when_the_holder_is_killed(tmp_path: Path) -> None:
    (tmp_path / "tingfeng.toml").write_text(EXAMPLE_CATALOG, "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(TINGFENG_DATA_DIR=str(tmp_path / "var"), TINGFENG_CATALOG=str(tmp_path / "tingfeng.toml"),
               TINGFENG_SCHEDULER_HEARTBEAT_SECONDS="0.3", TINGFENG_SCHEDULER_LOCK_TTL_SECONDS="3")
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    db_path = tmp_path / "var" / "tingfeng.db"

    first = Runner(tmp_path, env)
    second = None
    try:
        first.wait_for("job deliver_notifications ok")  # the holder flushes the outbox as it starts
        second = Runner(tmp_path, env)
        second.wait_for("another scheduler holds the lock: ")
        assert f"pid {first.proc.pid} since " in second.out and ", waiting" in second.out
        # longer than the TTL: the live holder keeps renewing (a TTL of 10 heartbeats, so a holder
        # starved of CPU for a moment on a loaded CI machine still renews in time)
        time.sleep(3.5)
        assert "scheduler started" not in second.out and "job " not in second.out, second.out
        assert second.out.count("another scheduler holds the lock") == 1  # said once, not every heartbeat
        assert _jobs_and_lock(db_path) == (1, first.proc.pid)

        first.proc.send_signal(signal.SIGKILL)  # no release: the lease has to go stale
        first.proc.wait(timeout=10)
        second.wait_for("job deliver_notifications ok")
        assert "scheduler lock acquired" in second.out and "scheduler started with 6 jobs" in second.out
        assert _jobs_and_lock(db_path) == (2, second.proc.pid)

        second.proc.send_signal(signal.SIGTERM)
        second.proc.wait(timeout=30)
        assert second.proc.returncode == 0, second.out
        assert "Traceback" not in second.out, second.out
        assert _jobs_and_lock(db_path) == (2, None)  # released on a clean stop
    finally:
        first.stop()
        if second is not None:
            second.stop()


class Clock:
    def __init__(self) -> None:
        from datetime import datetime, timezone

        self.now = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)

    def __call__(self):  # noqa: ANN204
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


def test_a_runner_paused_past_its_ttl_stops_running_jobs_when_another_took_over(db, caplog) -> None:
    from datetime import timedelta

    from storage.scheduler_lock import Holder, acquire
    from tingfeng.scheduler import LockKeeper

    clock, ttl = Clock(), timedelta(seconds=60)
    keeper = LockKeeper(db, Holder("a" * 32, "host-a", 1), ttl, clock)
    assert keeper.hold() and keeper.hold()
    clock.advance(61)  # e.g. the VM was suspended: no heartbeat for longer than the TTL
    assert acquire(db, Holder("b" * 32, "host-b", 2), now=clock(), ttl=ttl).acquired
    assert not keeper.hold()
    assert "lost the scheduler lock" in caplog.text and "another scheduler holds the lock: host-b pid 2" in caplog.text


def test_a_database_outage_keeps_the_lock_only_while_the_lease_lasts(sqlite_db, caplog) -> None:
    from datetime import timedelta

    from storage.scheduler_lock import Holder
    from tingfeng.scheduler import LockKeeper

    class Down:
        def session(self):  # noqa: ANN202
            raise RuntimeError("connection refused")

    clock, ttl = Clock(), timedelta(seconds=60)
    keeper = LockKeeper(sqlite_db, Holder("a" * 32, "host-a", 1), ttl, clock)
    assert keeper.hold()
    keeper.db = Down()
    clock.advance(30)
    assert keeper.hold()  # our lease still runs: nobody else can have the lock yet
    clock.advance(31)
    assert not keeper.hold()  # past it another runner may take over: stop jobs, never crash
    assert "cannot reach the database" in caplog.text and "could not be renewed before it expired" in caplog.text
    keeper.db = sqlite_db
    assert keeper.hold()  # back: the stale lease is ours to take again


def test_a_lock_ttl_shorter_than_two_heartbeats_is_refused_with_both_variables_named(monkeypatch) -> None:
    import pytest
    from pydantic import ValidationError

    from tingfeng.settings import Settings

    monkeypatch.setenv("TINGFENG_SCHEDULER_HEARTBEAT_SECONDS", "30")
    monkeypatch.setenv("TINGFENG_SCHEDULER_LOCK_TTL_SECONDS", "45")
    with pytest.raises(ValidationError, match="TINGFENG_SCHEDULER_LOCK_TTL_SECONDS.*twice.*HEARTBEAT"):
        Settings()
    monkeypatch.setenv("TINGFENG_SCHEDULER_LOCK_TTL_SECONDS", "90")
    assert Settings().scheduler_lock_ttl_seconds == 90
