"""The chain's promotion calendar, as the detector reads it.

``tingfeng sync`` stores the catalog's ``[[promotions]]`` in UTC (:mod:`storage.promotions`);
:func:`promotions_from` turns them into :class:`alerts.spikes.Promotion` rows, one per
store (``store=None``: every store). With a calendar the detector uses the thresholds
calibrated for it (:data:`alerts.calibration.CALENDAR_TABLE`): its promotion hours are no
longer a source of false alarms, so the same budgets allow lower thresholds, which would
be too low for a chain whose promotions go unlisted.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from alerts.errors import PolicyError
from alerts.spikes import Promotion
from storage.models import CatalogSetting
from storage.promotions import SETTING_KEY
from storage.promotions import promotions_from as stored_promotions

__all__ = ["SETTING_KEY", "load_promotions", "promotions_from"]


def promotions_from(value: dict[str, Any] | None) -> list[Promotion]:
    """The detector's promotions of a stored setting value; a broken entry is a :class:`PolicyError`."""
    try:
        planned = stored_promotions(value)
    except ValueError as exc:  # the stored setting is broken: a calendar the detector cannot use
        raise PolicyError(str(exc)) from exc
    return [Promotion(store, p.start, p.end) for p in planned for store in (p.stores or (None,))]


def load_promotions(session: Session) -> list[Promotion]:
    """The promotion calendar ``tingfeng sync`` stored (empty before the first sync)."""
    row = session.get(CatalogSetting, SETTING_KEY)
    return promotions_from(row.value if row is not None else None)
