"""Complaint handling KPIs (及时率 / 解决率 / 回复率): how fast each store answers.

For alerts opened in a period on a store (store, store × product, store × touchpoint
scopes; urgent alerts included, source health excluded):

- *response* is the first human action: the acknowledgement, or a resolution by a person
  when nobody acknowledged first; **及时率** is the share answered within the
  acknowledge deadline, among the alerts whose deadline has passed or that were answered;
- *resolution* counts only a person's: an alert the detector closed because the wave
  ebbed (``resolved_by = "system"``) was not handled; **解决率** is the share resolved by a
  person within the resolve deadline, among the alerts due or resolved.

For the negative mentions of the store in the period, **回复率** is the share replied to
among those needing a reply (not marked 无需回复), and the reply time runs from the
mention's publication to the reply.

Pure arithmetic over rows read in one query each; the dashboard and the digest both call
:func:`store_handling`, so the two show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from storage.models import Alert, MentionAnalysis, MentionReply, utcnow

STORE_SCOPES = ("store", "store_product", "store_touchpoint")
SYSTEM = "system"


@dataclass(frozen=True)
class Deadlines:
    """The policy's deadlines (catalog ``[alerts]`` and ``[replies]``)."""

    acknowledge_minutes: int = 120
    resolve_hours: int = 24
    reply_hours: int = 24


@dataclass
class StoreHandling:
    """One store's handling numbers over a period (hours as floats; None when nothing to measure)."""

    store_id: str
    alerts: int = 0
    responded: int = 0
    responded_on_time: int = 0
    response_due: int = 0  # denominator of 及时率
    resolved: int = 0
    resolved_on_time: int = 0
    resolve_due: int = 0  # denominator of 解决率
    response_hours: list[float] = field(default_factory=list)
    resolve_hours: list[float] = field(default_factory=list)
    negative: int = 0
    reply_needed: int = 0
    replied: int = 0
    replied_on_time: int = 0
    reply_hours: list[float] = field(default_factory=list)

    @staticmethod
    def _share(n: int, d: int) -> float | None:
        return n / d if d else None

    @property
    def on_time_rate(self) -> float | None:
        """及时率: answered within the acknowledge deadline."""
        return self._share(self.responded_on_time, self.response_due)

    @property
    def resolve_rate(self) -> float | None:
        """解决率: resolved by a person within the resolve deadline."""
        return self._share(self.resolved_on_time, self.resolve_due)

    @property
    def reply_rate(self) -> float | None:
        """回复率: negative mentions replied to, of those needing a reply."""
        return self._share(self.replied, self.reply_needed)

    @property
    def median_response_hours(self) -> float | None:
        return median(self.response_hours) if self.response_hours else None

    @property
    def median_resolve_hours(self) -> float | None:
        return median(self.resolve_hours) if self.resolve_hours else None

    @property
    def median_reply_hours(self) -> float | None:
        return median(self.reply_hours) if self.reply_hours else None


def _hours(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 3600)


def _count(r: StoreHandling, names: tuple[str, str, str, str], opened: datetime, done_at: datetime | None,
           limit: timedelta, now: datetime) -> None:
    """Add one alert to a (done, hours, due, on time) quartet of counters."""
    done, hours, due, on_time = names
    if done_at is not None:
        setattr(r, done, getattr(r, done) + 1)
        getattr(r, hours).append(_hours(opened, done_at))
    if done_at is not None or now - opened >= limit:  # counted once answered or once overdue
        setattr(r, due, getattr(r, due) + 1)
        setattr(r, on_time, getattr(r, on_time) + int(done_at is not None and done_at - opened <= limit))


def store_handling(session: Session, store_ids: Iterable[str] | None, start: datetime, end: datetime,
                   deadlines: Deadlines, now: datetime | None = None) -> dict[str, StoreHandling]:
    """Handling numbers per store for alerts opened and negative mentions published in ``[start, end)``.

    ``store_ids`` None means every store with an alert or a negative mention. ``now``
    decides which deadlines have passed for alerts still waiting.
    """
    now = now or utcnow()
    wanted = None if store_ids is None else set(store_ids)
    out: dict[str, StoreHandling] = {}

    def row(store_id: str) -> StoreHandling:
        return out.setdefault(store_id, StoreHandling(store_id))

    ack_limit = timedelta(minutes=deadlines.acknowledge_minutes)
    resolve_limit = timedelta(hours=deadlines.resolve_hours)
    alerts = session.exec(select(Alert).where(
        Alert.scope_type.in_(STORE_SCOPES), Alert.opened_at >= start, Alert.opened_at < end))
    for a in alerts:
        store_id = a.scope_id.split("|", 1)[0]
        if wanted is not None and store_id not in wanted:
            continue
        r = row(store_id)
        r.alerts += 1
        human_resolved = a.resolved_at if a.resolved_at and a.resolved_by != SYSTEM else None
        answered = a.acknowledged_at or human_resolved
        for done_at, limit, names in ((answered, ack_limit, ("responded", "response_hours", "response_due",
                                                              "responded_on_time")),
                                      (human_resolved, resolve_limit, ("resolved", "resolve_hours", "resolve_due",
                                                                       "resolved_on_time"))):
            _count(r, names, a.opened_at, done_at, limit, now)

    reply_limit = timedelta(hours=deadlines.reply_hours)
    conds = [MentionAnalysis.label == "negative", MentionAnalysis.counted == sa.true(),
             MentionAnalysis.store_id.is_not(None),
             MentionAnalysis.published_at >= start, MentionAnalysis.published_at < end]
    if wanted is not None:
        conds.append(MentionAnalysis.store_id.in_(sorted(wanted)))
    mentions = session.exec(
        select(MentionAnalysis.store_id, MentionAnalysis.published_at, MentionReply.status, MentionReply.replied_at)
        .outerjoin(MentionReply, MentionReply.mention_id == MentionAnalysis.mention_id)
        .where(*conds)
    ).all()
    for store_id, published, status, replied_at in mentions:
        r = row(store_id)
        r.negative += 1
        if status == "not_needed":
            continue
        r.reply_needed += 1
        if status == "replied" and replied_at is not None:
            r.replied += 1
            r.reply_hours.append(_hours(published, replied_at))
            r.replied_on_time += int(replied_at - published <= reply_limit)
    return out


def deadlines_from(value: dict | None) -> Deadlines:
    """The :class:`Deadlines` stored by the catalog sync (``catalog_settings["handling"]``), else the defaults."""
    value = value or {}
    known = {k: int(v) for k, v in value.items() if k in Deadlines.__dataclass_fields__}
    return Deadlines(**known)
