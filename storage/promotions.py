"""The chain's promotion calendar as stored: one catalog setting, written by ``tingfeng sync``.

The one place that knows the stored shape, ``{"entries": [{"name", "stores", "start",
"end"}, …]}`` with UTC ISO instants (end exclusive, ``stores`` empty: every store), under
the ``catalog_settings`` key :data:`SETTING_KEY`; the detector (``alerts.promotions``)
and the dashboard (``dashboard.queries``) parse it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

SETTING_KEY = "promotions"


@dataclass(frozen=True)
class PlannedPromotion:
    """One ``[[promotions]]`` entry of the catalog, in UTC."""

    name: str
    stores: tuple[str, ...]  # empty: every store
    start: datetime
    end: datetime  # exclusive


def promotions_setting(promotions: Iterable[PlannedPromotion]) -> dict[str, Any]:
    """The setting's value for these promotions."""
    return {"entries": [{"name": p.name, "stores": list(p.stores), "start": p.start.isoformat(),
                         "end": p.end.isoformat()} for p in promotions]}


def promotions_from(value: dict[str, Any] | None) -> list[PlannedPromotion]:
    """The promotions of a stored value (none for None); a broken entry is a ValueError naming it."""
    out: list[PlannedPromotion] = []
    for i, entry in enumerate((value or {}).get("entries", [])):
        try:
            out.append(PlannedPromotion(str(entry.get("name") or ""), tuple(entry.get("stores") or ()),
                                        datetime.fromisoformat(entry["start"]), datetime.fromisoformat(entry["end"])))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"catalog setting {SETTING_KEY!r} entries[{i}]: {exc!r}; run `tingfeng sync`") from exc
    return out
