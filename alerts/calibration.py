"""False-alarm budgets: evidence thresholds calibrated on simulated quiet (null) streams.

A p-value per check does not bound how often a manager is alerted: the detector tests
every hour, five windows plus a CUSUM scan, a store and each of its products, and real
counts are over-dispersed (clumps of cross-posts, day-to-day wobble, a classifier that
puts about 12 % of mentions on the wrong side). So instead of trusting nominal levels,
severity is set by thresholds on the detector's *evidence* — ``−log10`` of the smallest
corrected p-value over its tests (:func:`alerts.spikes.assess`) — chosen so that on
simulated streams without any incident each scope type raises at most its budget of
alert *episodes* per scope-month (an episode: evidence above the threshold after at
least ``gap_hours`` below it, which is how the incident state machine opens alerts).

The table (``alerts/data/alert_calibration.json``) is produced by
``bench/calibrate_alerts.py`` and holds, per scope type and volume band (mentions per
day over the baseline), one threshold for any alert and one for a critical alert.
Scope types missing from the table keep the nominal levels of :class:`AlertPolicy`.
All functions are pure except :func:`load_table`, which reads the shipped file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from alerts.errors import PolicyError

DEFAULT_TABLE = Path(__file__).with_name("data") / "alert_calibration.json"
# fitted with the promotion calendar given (bench/calibrate_alerts.py --calendar): used when the catalog lists promotions
CALENDAR_TABLE = DEFAULT_TABLE.with_name("alert_calibration_calendar.json")
TIERS = ("warning", "critical")


@dataclass(frozen=True)
class CalibrationTable:
    """Evidence thresholds per scope type, tier and volume band."""

    bands: tuple[float, ...]  # upper edges (mentions/day) of all bands but the last
    gap_hours: int
    budgets: dict[str, dict[str, float]]  # scope type -> tier -> episodes per scope-month
    thresholds: dict[str, dict[str, list[float]]]  # scope type -> tier -> one per band
    source: str = ""
    # scope type -> per band (a, b): quiet streams reach evidence ≥ E about exp(a + b·E) times a month
    tails: dict[str, list[list[float]]] | None = None

    def band(self, per_day: np.ndarray) -> np.ndarray:
        """Volume band index of each mentions/day value."""
        return np.searchsorted(np.asarray(self.bands), np.asarray(per_day, np.float64), side="right")

    def to_json(self) -> str:
        """The table as the JSON the shipped file holds."""
        return json.dumps({"bands": list(self.bands), "gap_hours": self.gap_hours, "budgets": self.budgets,
                           "thresholds": self.thresholds, "tails": self.tails or {}, "source": self.source},
                          ensure_ascii=False, indent=1)

    def months_between(self, scope_type: str, per_day: float, evidence: float) -> float | None:
        """How many months a quiet scope like this one waits, on average, for evidence this strong."""
        bands = (self.tails or {}).get(scope_type)
        if not bands:
            return None
        a, b = bands[int(self.band(np.array([per_day]))[0])]
        return float(np.exp(-(a + b * evidence)))


def load_table(path: Path | None = None) -> CalibrationTable:
    """Read a calibration table (the shipped one by default); a broken file is a clear error."""
    path = path or DEFAULT_TABLE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        table = CalibrationTable(tuple(float(b) for b in raw["bands"]), int(raw["gap_hours"]),
                                 {k: {t: float(v) for t, v in d.items()} for k, d in raw["budgets"].items()},
                                 {k: {t: [float(x) for x in v] for t, v in d.items()}
                                  for k, d in raw["thresholds"].items()},
                                 str(raw.get("source", "")),
                                 {k: [[float(x) for x in ab] for ab in v] for k, v in raw.get("tails", {}).items()})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PolicyError(f"alert calibration table {path}: {exc}") from exc
    for scope_type, tiers in table.thresholds.items():
        for tier in TIERS:
            if len(tiers.get(tier, ())) != len(table.bands) + 1:
                raise PolicyError(f"alert calibration table {path}: {scope_type}.{tier} needs "
                                       f"{len(table.bands) + 1} thresholds, one per volume band")
    return table


def row_thresholds(keys: Sequence[tuple[str, str]], per_day: np.ndarray, table: CalibrationTable
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Evidence needed for a warning and for a critical alert, per scope (NaN: not calibrated).

    ``per_day`` is each scope's mean mentions per day over its baseline. A store's
    store × product scopes are calibrated as one family (the largest evidence of any
    of its products), so they use the store's volume band.
    """
    band = table.band(per_day)
    warn = np.full(len(keys), np.nan)
    crit = np.full(len(keys), np.nan)
    for i, (scope_type, _) in enumerate(keys):
        tiers = table.thresholds.get(scope_type)
        if tiers:
            warn[i] = tiers["warning"][band[i]]
            crit[i] = max(tiers["critical"][band[i]], warn[i])
    return warn, crit


def family_volume(keys: Sequence[tuple[str, str]], per_day: np.ndarray) -> np.ndarray:
    """Per scope, the volume that picks its band: a store × product scope takes its store's."""
    store_rate = {k[1]: float(v) for k, v in zip(keys, per_day) if k[0] == "store"}
    return np.array([store_rate.get(k[1].split("|", 1)[0], float(v)) if k[0] == "store_product" else float(v)
                     for k, v in zip(keys, per_day)])


def rarity_zh(months: float | None) -> str:
    """``约每 3 年一次的偶然``: how rarely chance alone gives such a count, in plain Chinese."""
    if months is None or not np.isfinite(months):
        return ""
    days = months * 30
    if days < 1:
        return "平时一天内就可能偶然出现"
    if days < 60:
        return f"约每 {days:.0f} 天一次的偶然"
    if months < 24:
        return f"约每 {months:.0f} 个月一次的偶然"
    years = months / 12
    return f"约每 {years:.0f} 年一次的偶然" if years < 100 else "百年难遇的偶然"


# --------------------------------------------------------------------------- fitting


def tail_fit(grid: np.ndarray, rates: np.ndarray, months: float) -> list[float] | None:
    """(a, b) of log(rate) ≈ a + b·E over the thresholds with at least two null episodes."""
    solid = rates * months >= 2
    if solid.sum() < 3:
        return None
    b, a = np.polyfit(np.asarray(grid)[solid], np.log(np.asarray(rates)[solid]), 1)
    return [round(float(a), 4), round(float(min(b, -0.05)), 4)]


def episode_onsets(above: np.ndarray, gap_hours: int) -> np.ndarray:
    """Indices where ``above`` turns true after at least ``gap_hours`` false hours (or at the start)."""
    hits = np.flatnonzero(above)
    if hits.size == 0:
        return hits
    keep = np.concatenate([[True], np.diff(hits) > gap_hours])
    return hits[keep]


def episode_rates(evidence: Sequence[np.ndarray], bands: Sequence[np.ndarray], n_bands: int,
                  grid: np.ndarray, gap_hours: int) -> tuple[np.ndarray, np.ndarray]:
    """Episodes per scope-month, per band and threshold, over null series.

    ``evidence[j]`` is one scope's hourly evidence, ``bands[j]`` its hourly volume band.
    Returns (rates: n_bands × len(grid), exposure in scope-months per band). An
    episode is charged to the band its scope was in when it started.
    """
    counts = np.zeros((n_bands, grid.size))
    hours = np.zeros(n_bands)
    for e, b in zip(evidence, bands):
        hours += np.bincount(b, minlength=n_bands)[:n_bands]
        for k, tau in enumerate(grid):
            onsets = episode_onsets(e >= tau, gap_hours)
            if onsets.size:
                counts[:, k] += np.bincount(b[onsets], minlength=n_bands)[:n_bands]
    months = hours / (24 * 30)
    return counts / np.maximum(months, 1e-9)[:, None], months


def threshold_for_budget(grid: np.ndarray, rates: np.ndarray, months: float, budget: float) -> float:
    """The smallest threshold whose null episode rate is at most ``budget`` per scope-month.

    Where the budget lies beyond what the null streams can resolve (fewer than three
    episodes expected in ``months``), the tail is extrapolated log-linearly from the
    thresholds that still saw at least two episodes, which is how upper tails of
    evidence (−log10 p) decay; without a usable tail, one unit of evidence above the
    first threshold that saw none. Never beyond the last grid point.
    """
    grid, rates = np.asarray(grid, np.float64), np.asarray(rates, np.float64)
    ok = np.flatnonzero(rates <= budget)
    if not ok.size:
        return float(grid[-1])
    if budget * months >= 3:
        return float(grid[ok[0]])
    counts = rates * months
    solid = counts >= 2
    if solid.sum() >= 3:
        x, y = grid[solid][-8:], np.log(rates[solid][-8:])
        slope, intercept = np.polyfit(x, y, 1)
        if slope < -0.05:
            fitted = (np.log(budget) - intercept) / slope
            return float(min(max(fitted, x[-1]), grid[-1]))
    zero = np.flatnonzero(counts == 0)
    return float(min(grid[zero[0]] + 1.0, grid[-1])) if zero.size else float(grid[-1])
