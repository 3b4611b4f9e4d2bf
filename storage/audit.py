"""The audit log: who did what, when, on what (``audit_log``, :class:`storage.models.AuditEvent`).

Alert transitions, corrections and reply changes write their event in the transaction
that makes the change (so there is never a change without its line, nor a line without
its change); the dashboard logs logins and exports with :func:`log`. Rows are only
ever appended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.db import Database
from storage.models import AuditEvent, utcnow

LOGIN, LOGIN_FAILED, LOGOUT = "login", "login_failed", "logout"
EXPORT = "export"
ALERT_ACKNOWLEDGE, ALERT_RESOLVE = "alert_acknowledge", "alert_resolve"
CORRECTION, REPLY, PRUNE = "correction", "reply", "prune"
ACTIONS = (LOGIN, LOGIN_FAILED, LOGOUT, EXPORT, ALERT_ACKNOWLEDGE, ALERT_RESOLVE, CORRECTION, REPLY, PRUNE)
_MAX = 500  # a typed-in user name or scope is cut here: the log must not be a way to store a blob


def _short(value: str | None) -> str | None:
    return None if value is None else str(value)[:_MAX]


def record(session: Session, actor: str, action: str, *, target: str | None = None, scope: str | None = None,
           detail: dict[str, Any] | None = None, now: datetime | None = None) -> AuditEvent:
    """Add an event to ``session`` (committed with the change it records)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {ACTIONS}")
    event = AuditEvent(at=now or utcnow(), actor=_short(actor.strip()) or "?", action=action,
                       target=_short(target), scope=_short(scope), detail=dict(detail or {}))
    session.add(event)
    return event


def log(db: Database, actor: str, action: str, **fields: Any) -> AuditEvent:
    """Record an event in its own transaction (a login, an export)."""
    with db.session() as session:
        event = record(session, actor, action, **fields)
        session.flush()
        session.expunge(event)
    return event
