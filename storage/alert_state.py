"""Alert state transitions and signed action tokens, shared by the dashboard and emails.

State machine (who and a note are recorded at each step)::

    open ──acknowledge──► acknowledged ──resolve──► resolved
      └──────────────────────resolve──────────────────┘

Repeating a transition that already happened (a manager clicking the link twice) is a
no-op that returns the alert unchanged; going backwards (acknowledging a resolved
alert) raises :class:`InvalidTransition`.

Email links carry a token made by :func:`sign_action` (itsdangerous, timestamped and
salted) naming the alert, the action and the recipient; :func:`verify_action` refuses
tampered and expired tokens with :class:`InvalidActionToken`.

Imports nothing of tingfeng's outside ``storage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from storage import audit
from storage.errors import StorageError
from storage.models import Alert, utcnow

if TYPE_CHECKING:
    from storage.db import Database

ACTIONS = ("ack", "resolve")
_SALT = "tingfeng.alert-action.v1"


class AlertStateError(StorageError):
    """Base of the alert-state errors."""


class AlertNotFound(AlertStateError, LookupError):
    """No alert with that id."""


class InvalidTransition(AlertStateError):
    """The alert's current status does not allow the requested transition."""


class InvalidActionToken(AlertStateError):
    """A signed action token is tampered, malformed, for an unknown action, or expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class ActionClaim:
    """What a verified token allows: ``action`` on ``alert_id`` by ``recipient_id``."""

    alert_id: int
    action: str
    recipient_id: str


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    return note[:2000] or None


def acknowledge(db: Database, alert_id: int, by: str, note: str | None = None, *, now: datetime | None = None) -> Alert:
    """Mark an open alert acknowledged by ``by`` (a recipient id or username).

    Idempotent on an already acknowledged alert; raises :class:`InvalidTransition` on a
    resolved one and :class:`AlertNotFound` for an unknown id. Returns the updated row.
    """
    return _transition(db, alert_id, "acknowledged", ("open",), by, note, now,
                       "only an open alert can be acknowledged")


def resolve(db: Database, alert_id: int, by: str, note: str | None = None, *, now: datetime | None = None) -> Alert:
    """Mark an open or acknowledged alert resolved by ``by``.

    Idempotent on an already resolved alert; raises :class:`AlertNotFound` for an
    unknown id. Resolving an open alert directly records no acknowledgement.
    """
    return _transition(db, alert_id, "resolved", ("open", "acknowledged"), by, note, now, "it cannot be resolved")


def _transition(db: Database, alert_id: int, to: str, allowed_from: tuple[str, ...], by: str,
                note: str | None, now: datetime | None, refusal: str) -> Alert:
    """Move an alert to ``to`` (recording when, who and the note); a repeat is a no-op."""
    now = now or utcnow()
    with db.session() as session:
        alert = session.get(Alert, alert_id, with_for_update=True)
        if alert is None:
            raise AlertNotFound(f"no alert {alert_id}")
        if alert.status == to:
            return alert
        if alert.status not in allowed_from:
            raise InvalidTransition(f"alert {alert_id} is {alert.status}; {refusal}")
        audit.record(session, by, audit.ALERT_ACKNOWLEDGE if to == "acknowledged" else audit.ALERT_RESOLVE,
                     target=f"alert:{alert_id}", scope=f"{alert.scope_type}:{alert.scope_id}",
                     detail={"from": alert.status, "note": _clean_note(note)}, now=now)
        alert.status = to
        setattr(alert, f"{to}_at", now)
        setattr(alert, f"{to}_by", by)
        alert.note = _clean_note(note) or alert.note
        alert.updated_at = now
        session.add(alert)
        return alert

def _serializer(secret: str) -> URLSafeTimedSerializer:
    if not secret:
        raise ValueError("an empty secret cannot sign action links")
    return URLSafeTimedSerializer(secret, salt=_SALT)


def sign_action(secret: str, alert_id: int, action: str, recipient_id: str) -> str:
    """A URL-safe, timestamped token allowing ``action`` (ack|resolve) on one alert."""
    if action not in ACTIONS:
        raise ValueError(f"unknown alert action {action!r}; expected one of {ACTIONS}")
    return _serializer(secret).dumps({"a": int(alert_id), "x": action, "r": recipient_id})


def verify_action(secret: str, token: str, max_age: int) -> ActionClaim:
    """The claim inside ``token`` if it is authentic and younger than ``max_age`` seconds.

    Raises :class:`InvalidActionToken` (``expired=True`` for a good but old token).
    """
    try:
        data = _serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise InvalidActionToken("this link has expired", expired=True) from exc
    except BadSignature as exc:
        raise InvalidActionToken("this link is not valid") from exc
    if not isinstance(data, dict) or data.get("x") not in ACTIONS:
        raise InvalidActionToken("this link is not valid")
    try:
        return ActionClaim(alert_id=int(data["a"]), action=str(data["x"]), recipient_id=str(data["r"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidActionToken("this link is not valid") from exc
