"""The chain's promotion calendar, as the detector reads it.

``tingfeng sync`` stores the catalog's ``[[promotions]]`` (already in UTC) under the
:data:`SETTING_KEY` catalog setting; :func:`load_promotions` turns them into
:class:`alerts.spikes.Promotion` rows, one per store (``store=None``: every store). With
a calendar the detector uses the thresholds calibrated for it
(:data:`alerts.calibration.CALENDAR_TABLE`): its promotion hours are no longer a source
of false alarms, so the same budgets allow lower thresholds, which would be too low for a
chain whose promotions go unlisted.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from alerts.errors import PolicyError
from alerts.spikes import Promotion
from storage.models import CatalogSetting

SETTING_KEY = "promotions"


def promotions_from(value: dict | None) -> list[Promotion]:
    """Promotions of the stored setting (``{"entries": [{"stores", "start", "end"}, …]}``)."""
    out: list[Promotion] = []
    for i, entry in enumerate((value or {}).get("entries", [])):
        try:
            start, end = datetime.fromisoformat(entry["start"]), datetime.fromisoformat(entry["end"])
            stores = list(entry.get("stores") or [None])
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"catalog setting {SETTING_KEY!r} entries[{i}]: {exc!r}; run `tingfeng sync`") from exc
        out += [Promotion(store, start, end) for store in stores]
    return out


def load_promotions(session: Session) -> list[Promotion]:
    """The promotion calendar ``tingfeng sync`` stored (empty before the first sync)."""
    row = session.get(CatalogSetting, SETTING_KEY)
    return promotions_from(row.value if row is not None else None)
