"""The scheduler lock on both backends: one holder at a time, stale holders lose it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from storage.scheduler_lock import Holder, acquire, current, release, renew

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
TTL = timedelta(seconds=90)
A = Holder("a" * 32, "host-a", 101)
B = Holder("b" * 32, "host-b", 202)


def test_first_acquire_wins_and_a_second_holder_is_refused_with_who_holds_it(db):
    first = acquire(db, A, now=T0, ttl=TTL)
    assert first.acquired and first.holder == A and first.expires_at == T0 + TTL
    second = acquire(db, B, now=T0 + timedelta(seconds=89), ttl=TTL)
    assert not second.acquired
    assert second.holder == A and second.acquired_at == T0
    assert current(db).holder_id == A.id


def test_renewing_keeps_the_lock_past_its_first_ttl(db):
    acquire(db, A, now=T0, ttl=TTL)
    assert renew(db, A, now=T0 + timedelta(seconds=60), ttl=TTL)
    assert not acquire(db, B, now=T0 + timedelta(seconds=120), ttl=TTL).acquired
    again = acquire(db, A, now=T0 + timedelta(seconds=130), ttl=TTL)  # re-acquiring is a renewal
    assert again.acquired and again.acquired_at == T0 and again.expires_at == T0 + timedelta(seconds=220)


def test_a_holder_that_stopped_renewing_loses_the_lock_after_the_ttl(db):
    acquire(db, A, now=T0, ttl=TTL)  # then A is SIGKILLed: no renewal, no release
    taken = acquire(db, B, now=T0 + TTL, ttl=TTL)
    assert taken.acquired and taken.holder == B and taken.acquired_at == T0 + TTL
    # the old holder, if it was only paused, learns it lost the lock and cannot take it back
    assert not renew(db, A, now=T0 + TTL + timedelta(seconds=1), ttl=TTL)
    assert not acquire(db, A, now=T0 + TTL + timedelta(seconds=1), ttl=TTL).acquired
    assert not release(db, A)
    assert current(db).holder_id == B.id


def test_release_frees_the_lock_for_the_next_runner_at_once(db):
    acquire(db, A, now=T0, ttl=TTL)
    assert not release(db, B)  # only the holder can release
    assert release(db, A)
    assert current(db) is None
    assert acquire(db, B, now=T0 + timedelta(seconds=1), ttl=TTL).acquired


def test_runners_starting_together_get_exactly_one_holder(db):
    from concurrent.futures import ThreadPoolExecutor

    holders = [Holder(f"{i:032x}", "host", i) for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        states = list(pool.map(lambda h: acquire(db, h, now=T0, ttl=TTL), holders))
    winners = [s.holder for s in states if s.acquired]
    assert len(winners) == 1 and current(db).holder_id == winners[0].id
    assert all(s.holder in (winners[0], None) for s in states if not s.acquired)
