"""The local login's signed session cookie: valid while signed, fresh and the password unchanged."""

from __future__ import annotations

import time

from dashboard import queries as q
from dashboard import session
from dashboard.access import hash_password
from storage.models import Account


def test_token_round_trip_tamper_and_expiry() -> None:
    token = session.sign("k", "wang", "abc")
    assert session.verify("k", token, 60) == ("wang", "abc")
    assert session.verify("other-key", token, 60) is None
    assert session.verify("k", token[:-2] + "xx", 60) is None
    assert session.verify("k", "garbage", 60) is None
    old = session.sign("k", "wang", "abc")
    time.sleep(1.1)
    assert session.verify("k", old, 0) is None  # expired: older than max_age (whole seconds)


def test_session_ends_when_the_password_changes_or_the_account_goes(seeded_sqlite) -> None:
    db, _ = seeded_sqlite
    fingerprint = q.account_fingerprint(db, "wang")
    access = q.access_for_session(db, "wang", fingerprint)
    assert access is not None and access.user == "wang" and access.stores == frozenset({"sh-nanjingxi"})
    assert q.access_for_session(db, "wang", "0" * 16) is None and q.access_for_session(db, "nobody", "") is None
    with db.session() as s:
        account = s.get(Account, "wang")
        account.password_hash = hash_password("new-password")
        s.add(account)
    assert q.access_for_session(db, "wang", fingerprint) is None
