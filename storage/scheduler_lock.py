"""The scheduler lock: at most one process per database runs the scheduled jobs.

A lease in the ``scheduler_locks`` table. The holder renews it every heartbeat; a
holder that died stops renewing and, once ``expires_at`` has passed, the next
:func:`acquire` takes the row over. Every function takes ``now`` from the caller (no
clock of its own), and each is one short transaction, atomic on SQLite (its write
lock) and PostgreSQL (row lock on the conditional ``UPDATE``, primary key on insert).

Expiry compares the holders' clocks: hosts sharing a PostgreSQL database need NTP, and
the TTL must be well above their skew.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.models import SchedulerLock

SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Holder:
    """Who holds (or wants) a lock: a per-start random id, plus host and pid for people."""

    id: str
    host: str
    pid: int

    @classmethod
    def this_process(cls) -> "Holder":
        """A new holder for the current process."""
        return cls(id=uuid.uuid4().hex, host=socket.gethostname(), pid=os.getpid())


@dataclass(frozen=True)
class LockState:
    """The outcome of :func:`acquire`: whether we hold the lock, and the row as it stands."""

    acquired: bool
    holder: Holder | None = None  # the current holder (us when acquired); None when free
    acquired_at: datetime | None = None
    expires_at: datetime | None = None


def _state(row: SchedulerLock | None, me: Holder) -> LockState:
    if row is None:
        return LockState(False)
    holder = Holder(row.holder_id, row.host, row.pid)
    return LockState(holder.id == me.id, holder, row.acquired_at, row.expires_at)


def current(db: Any, name: str = SCHEDULER) -> SchedulerLock | None:
    """The lock row, or None when nobody holds it."""
    with db.session() as session:
        return session.get(SchedulerLock, name)


def acquire(db: Any, me: Holder, *, now: datetime, ttl: timedelta, name: str = SCHEDULER) -> LockState:
    """Take the lock when it is free, expired, or already ours (then it is renewed).

    Refused (``acquired=False``) while another holder's lease runs; the returned state
    names that holder so the caller can say who it waits for.
    """
    lease = {"holder_id": me.id, "host": me.host, "pid": me.pid, "heartbeat_at": now, "expires_at": now + ttl}
    with db.session() as session:
        took = session.execute(
            sa.update(SchedulerLock)
            .where(SchedulerLock.name == name, sa.or_(SchedulerLock.holder_id == me.id, SchedulerLock.expires_at <= now))
            .values(acquired_at=sa.case((SchedulerLock.holder_id == me.id, SchedulerLock.acquired_at), else_=now), **lease)
        ).rowcount
    if not took:
        try:
            with db.session() as session:
                session.add(SchedulerLock(name=name, acquired_at=now, **lease))
        except sa.exc.IntegrityError:  # someone else's row, and still valid
            pass
    return _state(current(db, name), me)


def renew(db: Any, me: Holder, *, now: datetime, ttl: timedelta, name: str = SCHEDULER) -> bool:
    """Extend our lease; False when the lock is no longer ours (it expired and was taken)."""
    with db.session() as session:
        return bool(session.execute(
            sa.update(SchedulerLock).where(SchedulerLock.name == name, SchedulerLock.holder_id == me.id)
            .values(heartbeat_at=now, expires_at=now + ttl)
        ).rowcount)


def release(db: Any, me: Holder, name: str = SCHEDULER) -> bool:
    """Give the lock up (only if it is ours), so a waiting runner takes over at once."""
    with db.session() as session:
        return bool(session.execute(
            sa.delete(SchedulerLock).where(SchedulerLock.name == name, SchedulerLock.holder_id == me.id)
        ).rowcount)
