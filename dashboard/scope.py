"""Filters and scope: what a query may read, and which rollups can answer it.

A :class:`Scope` is the global filter bar plus the viewer's :class:`Access`. The
planner (:func:`dashboard.queries.plan`) picks the cheapest table that answers a scope exactly:
brand / platform / product / store / store_product day rollups, or the
``mention_analysis`` rows themselves (``raw``) when no rollup has the needed split
(for example a platform filter combined with a store filter).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dashboard.access import Access


@dataclass(frozen=True)
class Filters:
    """The global filter bar: a business-day range (inclusive) and catalog/platform picks."""

    start: date
    end: date
    brands: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    stores: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        """Number of days in the range."""
        return (self.end - self.start).days + 1

    def previous(self) -> "Filters":
        """The same filters over the equally long period just before."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))


@dataclass(frozen=True)
class Scope:
    """Filters + the viewer's access + the business time zone; hashable for caching."""

    filters: Filters
    access: Access
    tz: str = "Asia/Shanghai"

    def narrowed(self, **changes: object) -> "Scope":
        """A copy with some filter fields replaced (e.g. ``stores=("s1",)`` for a detail view)."""
        return replace(self, filters=replace(self.filters, **changes))

    def previous(self) -> "Scope":
        """The scope of the previous, equally long period."""
        return replace(self, filters=self.filters.previous())

    def bounds(self) -> tuple[datetime, datetime]:
        """``[start, end)`` of the range as UTC instants (days cut in the business zone)."""
        zone = ZoneInfo(self.tz)
        lo = datetime.combine(self.filters.start, time(), zone).astimezone(timezone.utc)
        hi = datetime.combine(self.filters.end + timedelta(days=1), time(), zone).astimezone(timezone.utc)
        return lo, hi

    def utc_offset_hours(self) -> float:
        """The zone's UTC offset at the start of the range (used for SQLite day cuts)."""
        zone = ZoneInfo(self.tz)
        offset = datetime.combine(self.filters.start, time(12), zone).utcoffset() or timedelta()
        return offset.total_seconds() / 3600


@dataclass(frozen=True)
class Plan:
    """Where a scope's counts come from: a rollup ``scope_type`` with ids, or ``raw``."""

    source: str  # brand | platform | product | store | store_product | raw
    ids: tuple[str, ...] | None = None  # None: every id of that scope type
    stores: tuple[str, ...] | None = field(default=None)  # the store universe (None: unrestricted)
