"""The reply workflow of a mention: 未回复 (pending) → 已回复 (replied) / 无需回复 (not_needed).

A mention without a ``mention_replies`` row is pending. :func:`set_reply` records the
status, the text and who did it; marking a mention replied keeps the first reply time
when it is edited later, so reply times are not reset by a correction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from storage import audit
from storage.errors import StorageError
from storage.models import Mention, MentionReply, utcnow

if TYPE_CHECKING:
    from storage.db import Database

STATUSES = ("pending", "replied", "not_needed")


class ReplyError(StorageError):
    """A reply status that does not exist, or a mention that does not."""


def set_reply(db: Database, mention_id: int, status: str, by: str, text: str | None = None,
              *, now: datetime | None = None) -> MentionReply:
    """Set the reply status of a mention; ``text`` is the reply as posted (kept on later changes when None)."""
    if status not in STATUSES:
        raise ReplyError(f"unknown reply status {status!r}; expected one of {STATUSES}")
    now = now or utcnow()
    with db.session() as session:
        if session.get(Mention, mention_id) is None:
            raise ReplyError(f"no mention {mention_id}")
        row = session.get(MentionReply, mention_id) or MentionReply(mention_id=mention_id, updated_at=now)
        if status == "replied":
            if row.status != "replied" or row.replied_at is None:
                row.replied_at, row.replied_by = now, by
        else:
            row.replied_at = row.replied_by = None
        audit.record(session, by, audit.REPLY, target=f"mention:{mention_id}",
                     detail={"from": row.status, "to": status}, now=now)
        row.status = status
        if text is not None:
            row.text = text.strip()[:2000] or None
        row.updated_at, row.updated_by = now, by
        session.add(row)
        session.flush()
        return row
