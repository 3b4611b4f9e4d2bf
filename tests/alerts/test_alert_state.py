"""Alert state transitions and signed action links."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from storage.alert_state import (
    AlertNotFound, InvalidActionToken, InvalidTransition, acknowledge, resolve, sign_action, verify_action,
)
from storage.models import Alert

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc)


def add_alert(db, status="open") -> int:
    with db.session() as s:
        alert = Alert(kind="spike", scope_type="store", scope_id="jingan", incident_key=f"k-{status}",
                      status=status, title="静安寺店 负面评价激增", opened_at=T0, updated_at=T0)
        s.add(alert)
        s.flush()
        return alert.id


def get(db, alert_id) -> Alert:
    with db.session() as s:
        return s.get(Alert, alert_id)


def test_open_acknowledged_resolved_with_who_and_note(db):
    alert_id = add_alert(db)
    acknowledge(db, alert_id, "mgr-jingan", "已安排店长排查", now=T1)
    a = get(db, alert_id)
    assert (a.status, a.acknowledged_by, a.acknowledged_at, a.note) == ("acknowledged", "mgr-jingan", T1, "已安排店长排查")
    resolve(db, alert_id, "area-sh", "  已更换供应商  ", now=T1)
    a = get(db, alert_id)
    assert (a.status, a.resolved_by, a.resolved_at, a.note, a.acknowledged_by) == (
        "resolved", "area-sh", T1, "已更换供应商", "mgr-jingan")


def test_repeating_a_transition_is_a_no_op(db):
    alert_id = add_alert(db)
    acknowledge(db, alert_id, "mgr-jingan", now=T0)
    acknowledge(db, alert_id, "someone-else", now=T1)  # a second click on the link
    a = get(db, alert_id)
    assert (a.acknowledged_by, a.acknowledged_at) == ("mgr-jingan", T0)
    resolve(db, alert_id, "mgr-jingan", now=T1)
    resolve(db, alert_id, "other", now=T1)
    assert get(db, alert_id).resolved_by == "mgr-jingan"


def test_open_alert_can_be_resolved_directly_but_resolved_cannot_be_acknowledged(db):
    alert_id = add_alert(db)
    resolve(db, alert_id, "mgr-jingan", "误报")
    assert get(db, alert_id).acknowledged_at is None
    with pytest.raises(InvalidTransition):
        acknowledge(db, alert_id, "mgr-jingan")
    with pytest.raises(AlertNotFound):
        acknowledge(db, 999, "x")


def test_signed_link_round_trip():
    token = sign_action("k", 42, "ack", "mgr-jingan")
    claim = verify_action("k", token, max_age=3600)
    assert (claim.alert_id, claim.action, claim.recipient_id) == (42, "ack", "mgr-jingan")
    assert verify_action("k", sign_action("k", 42, "resolve", "r"), 60).action == "resolve"


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),   # signature changed
    lambda t: sign_action("other-key", 42, "ack", "mgr-jingan"),  # signed with another key
    lambda t: t.split(".")[0] + "x." + ".".join(t.split(".")[1:]),  # payload changed
    lambda t: "",
    lambda t: "not-a-token",
])
def test_tampered_tokens_are_refused(mutate):
    token = sign_action("k", 42, "ack", "mgr-jingan")
    with pytest.raises(InvalidActionToken) as info:
        verify_action("k", mutate(token), max_age=3600)
    assert not info.value.expired


def test_expired_token_is_refused(monkeypatch):
    token = sign_action("k", 42, "ack", "mgr-jingan")
    later = time.time() + 8 * 24 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidActionToken) as info:
        verify_action("k", token, max_age=7 * 24 * 3600)
    assert info.value.expired


def test_unknown_action_and_empty_secret_cannot_be_signed():
    with pytest.raises(ValueError):
        sign_action("k", 1, "delete", "r")
    with pytest.raises(ValueError):
        sign_action("", 1, "ack", "r")
