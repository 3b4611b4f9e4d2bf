"""Marking rollup days dirty: shared by the scoring stage and by label corrections."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Iterable

from sqlmodel import Session, select

from storage.models import RollupDirty


def utc_day(ts: datetime) -> date:
    """The UTC calendar date of an aware timestamp."""
    return ts.astimezone(timezone.utc).date()


def mark_dirty(session: Session, days: Iterable[date]) -> None:
    """Insert each day into ``rollup_dirty`` unless present (idempotent, SQLite and PostgreSQL)."""
    values = [{"day": d} for d in sorted(set(days))]
    if not values:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        session.execute(insert(RollupDirty).values(values).on_conflict_do_nothing(index_elements=["day"]))
        return
    have = set(session.exec(select(RollupDirty.day).where(RollupDirty.day.in_([v["day"] for v in values]))).all())
    for v in values:
        if v["day"] not in have:
            session.add(RollupDirty(day=v["day"]))
