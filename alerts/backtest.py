"""Backtest: the live detector's code run causally over a mentions CSV (or records).

Input CSV columns: ``time`` (ISO 8601 with offset), ``store``, ``product`` (may be
empty), ``platform``, ``score`` (probability of positive, 0–1), optional ``rating``
(0–5 stars, empty when unrated: where clear the stars decide the label, as in the NLP
stage), ``id``, ``text``. Rows that cannot be used are reported with their line number and skipped.

The mentions are binned into the same hourly grid the rollups give the live
detector; then, hour by hour, :func:`alerts.spikes.assess` sees only the buckets
that ended before that hour (no look-ahead) and :func:`alerts.spikes.decide` runs
the same incident state machine. One output row per alert: ``scope_type``,
``scope_id``, ``detected_at`` (the hour it would have fired), ``window_start``,
``window_end``, ``severity`` (the highest it reached), ``reason``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from alerts.attribution import Explained, affected_stores, explain_actions, explained_note, merge_stores
from alerts.calibration import CALENDAR_TABLE, CalibrationTable, load_table, rarity_zh
from alerts.errors import BacktestInputError
from alerts.evidence import SEVERITY_ZH, usual_count_zh
from alerts.policy import AlertPolicy
from alerts.spikes import (
    HOUR,
    Incident,
    Promotion,
    ScopeKey,
    SeriesGrid,
    aggregate_children,
    assess_explained,
    decide,
    exclusion_mask,
    family,
    floor_hour,
    local_calendar,
    multiplicity,
    promotion_mask,
    severity_name,
    since_columns,
)
from nlp.models.base import NEGATIVE, label_for
from nlp.ratings import label_with_rating

REQUIRED = ("time", "store", "product", "platform", "score")
OUTPUT = ("scope_type", "scope_id", "detected_at", "window_start", "window_end", "severity", "reason")
BRAND_ID = "brand"


@dataclass(frozen=True)
class Record:
    """One mention as the backtest needs it."""

    time: datetime
    store: str
    product: str
    platform: str
    negative: bool


@dataclass
class BacktestAlert:
    """One alert the detector would have raised."""

    scope_type: str
    scope_id: str
    detected_at: datetime
    window_start: datetime
    window_end: datetime
    severity: str
    reason: str
    resolved_at: datetime | None = None

    def row(self) -> dict[str, str]:
        """The CSV row."""
        return {
            "scope_type": self.scope_type,
            "scope_id": self.scope_id,
            "detected_at": self.detected_at.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "severity": self.severity,
            "reason": self.reason,
        }


@dataclass
class CsvErrors:
    """Rows skipped while reading, as (line number, message)."""

    rows: list[tuple[int, str]] = field(default_factory=list)


def is_negative(score: float, rating: float | None = None) -> bool:
    """The NLP stage's labelling rule: the stars where they are clear, else negative below
    the model's neutral band."""
    return label_with_rating(label_for(score), rating) == NEGATIVE


def read_mentions_csv(path: Path) -> tuple[list[Record], CsvErrors]:
    """Parse the mentions CSV; unusable rows are collected in ``CsvErrors`` and skipped."""
    errors = CsvErrors()
    records: list[Record] = []
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise BacktestInputError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise BacktestInputError(f"{path}: missing column(s) {', '.join(missing)}; need {', '.join(REQUIRED)}")
        for row in reader:
            line = reader.line_num
            try:
                records.append(_record(row))
            except ValueError as exc:
                errors.rows.append((line, str(exc)))
    return records, errors


def _record(row: dict[str, str | None]) -> Record:
    raw_time = (row.get("time") or "").strip()
    try:
        at = datetime.fromisoformat(raw_time)
    except ValueError:
        raise ValueError(f"time {raw_time!r} is not ISO 8601") from None
    if at.tzinfo is None:
        raise ValueError(f"time {raw_time!r} has no UTC offset")
    store = (row.get("store") or "").strip()
    if not store:
        raise ValueError("store is empty")
    score = _bounded(row, "score", 1.0)
    rating = _bounded(row, "rating", 5.0) if (row.get("rating") or "").strip() else None
    return Record(at.astimezone(timezone.utc), store, (row.get("product") or "").strip(),
                  (row.get("platform") or "").strip(), is_negative(score, rating))


def _bounded(row: dict[str, str | None], name: str, high: float) -> float:
    """The row's ``name`` as a number in 0–``high``; ValueError naming the field otherwise."""
    raw = (row.get(name) or "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a number") from None
    if not 0.0 <= value <= high:
        raise ValueError(f"{name} {value} is outside 0–{high:g}")
    return value


def scope_ids(record: Record, scope_type: str) -> str | None:
    """The record's id in a scope type (None when it has none there)."""
    if scope_type == "brand":
        return BRAND_ID
    if scope_type == "store":
        return record.store
    if scope_type == "product":
        return record.product or None
    if scope_type == "store_product":
        return f"{record.store}|{record.product}" if record.product else None
    if scope_type == "platform":
        return record.platform or None
    return None


def build_grid(records: Sequence[Record], scope_types: Iterable[str], pad_hours: int) -> SeriesGrid:
    """Hourly totals/negatives per scope, with ``pad_hours`` empty hours before the first mention."""
    if not records:
        raise BacktestInputError("no usable mentions")
    first = floor_hour(min(r.time for r in records)) - pad_hours * HOUR
    last = floor_hour(max(r.time for r in records))
    length = int((last - first) / HOUR) + 1
    cols = np.array([int((r.time - first) / HOUR) for r in records])
    neg = np.array([r.negative for r in records], dtype=np.float64)
    keys: list[ScopeKey] = []
    totals, negatives = [], []
    for scope_type in scope_types:
        ids = [scope_ids(r, scope_type) for r in records]
        present = np.array([i is not None for i in ids])
        if not present.any():
            continue
        names, inverse = np.unique(np.array([i for i in ids if i is not None]), return_inverse=True)
        tot = np.zeros((names.size, length))
        ng = np.zeros((names.size, length))
        np.add.at(tot, (inverse, cols[present]), 1.0)
        np.add.at(ng, (inverse, cols[present]), neg[present])
        keys += [(scope_type, str(n)) for n in names]
        totals.append(tot)
        negatives.append(ng)
    return SeriesGrid(keys, first, np.vstack(totals), np.vstack(negatives))


def backtest_reason(key: ScopeKey, severity: str, window: int, x: int, n: int, expected: float,
                    rarity: str = "") -> str:
    """The Chinese one-liner written in the output (same numbers as a live alert's headline)."""
    return (f"【{SEVERITY_ZH.get(severity, severity)}】{key[1]} 差评激增：{usual_count_zh(expected)}，"
            f"近 {window} 小时 {x} 条差评（共 {n} 条提及）" + (f"，{rarity}" if rarity else ""))


def run_backtest(grid: SeriesGrid, policy: AlertPolicy, warmup_days: int = 7,
                 table: CalibrationTable | None = None, explain: bool = True,
                 promotions: Sequence[Promotion] = ()) -> list[BacktestAlert]:
    """Step the detector hour by hour over ``grid``; returns every alert it would have raised.

    The first evaluation is ``warmup_days`` after the first data; at each hour boundary
    only complete buckets before it are visible. ``table`` defaults to the shipped
    calibration when ``policy.calibrated``. ``explain=False`` skips
    :func:`alerts.attribution.explain_actions` (the benchmark measures what it saves).
    ``promotions``: the chain's promotion calendar (see :func:`alerts.spikes.promotion_mask`);
    the default table is then the one calibrated with a calendar.
    """
    if table is None and policy.calibrated:
        table = load_table(CALENDAR_TABLE if promotions else None)
    length = policy.lookback_hours
    hod, dow = local_calendar(grid.start, grid.total.shape[1], policy.timezone)
    data_start = int(np.argmax(grid.total.sum(0) > 0))
    incidents: dict[ScopeKey, Incident] = {}
    history: dict[ScopeKey, list[tuple[datetime, datetime]]] = {}
    out: list[BacktestAlert] = []
    base: dict[int, str] = {}  # alert -> its reason without the stores note
    covered: dict[int, list[dict]] = {}  # alert -> the stores named so far in its incident
    first_eval = max(length, data_start + warmup_days * 24)
    siblings = multiplicity(grid.keys)
    stores = {k[1] for k in grid.keys if k[0] == "store"}
    children = aggregate_children(grid.keys, {s: {"brand": BRAND_ID} for s in stores})
    promo = promotion_mask(grid.keys, promotions, grid.start, grid.total.shape[1]) if promotions else None
    for end in range(first_eval, grid.total.shape[1] + 1):
        lo = end - length
        now = grid.start + end * HOUR
        first = grid.start + lo * HOUR
        past = {**history}
        for key, inc in incidents.items():
            if inc.active:
                past[family(key)] = [*past.get(family(key), []), (inc.window_start, inc.window_end)]
        result = assess_explained(grid.keys, grid.total[:, lo:end], grid.negative[:, lo:end], hod[lo:end],
                                  dow[lo:end], grid.groups, policy, children=children,
                                  active_families={family(k) for k, inc in incidents.items() if inc.active},
                                  since=since_columns(grid.keys, incidents, first),
                                  exclude=exclusion_mask(grid.keys, past, first, length) if past else None,
                                  multiplicity=siblings, table=table,
                                  promo=None if promo is None else promo[:, lo:end])
        actions = decide(grid.keys, result, incidents, now, policy)
        explained = (explain_actions(grid.keys, result, actions, grid.total[:, lo:end], grid.negative[:, lo:end],
                                     children, incidents, now=now) if explain else Explained(actions))
        for action in explained.actions:
            i, key = action.index, action.key
            if action.kind == "open":
                sev = severity_name(action.severity)
                reason = backtest_reason(key, sev, int(result.window[i]), int(result.negative[i]),
                                         int(result.total[i]), float(result.expected[i]),
                                         rarity_zh(table.months_between(
                                             key[0], float(result.per_day[i]), float(result.evidence[i])))
                                         if table is not None else "")
                alert = BacktestAlert(key[0], key[1], now, action.window_start, now, sev,
                                      reason + explained_note(key, explained))
                out.append(alert)
                base[id(alert)] = reason
                covered[id(alert)] = [{"store": s, "negative": n} for s, n in affected_stores(explained, key)]
                incidents[key] = Incident(action.severity, now, action.window_start, now, None, alert)
            elif action.kind == "update":
                inc = action.incident
                inc.severity, inc.window_end = action.severity, action.window_end
                was, inc.ref.severity = inc.ref.severity, severity_name(action.severity)
                inc.ref.window_end = action.window_end
                if was != inc.ref.severity:  # the label leads the reason: it rises with the alert, as a live title does
                    label = (f"【{SEVERITY_ZH.get(was, was)}】", f"【{SEVERITY_ZH.get(inc.ref.severity)}】")
                    inc.ref.reason = inc.ref.reason.replace(*label, 1)
                    base[id(inc.ref)] = base[id(inc.ref)].replace(*label, 1)
                if key in explained.folded:  # stores that join a product incident later, as the live job names them
                    named = merge_stores(covered.get(id(inc.ref), []), affected_stores(explained, key))
                    covered[id(inc.ref)] = [{"store": s, "negative": n} for s, n in named]
                    inc.ref.reason = base[id(inc.ref)] + explained_note(key, explained, stores=named)
            else:
                inc = action.incident
                inc.resolved_at = now
                inc.ref.resolved_at = now
                history.setdefault(family(key), []).append((inc.window_start, inc.window_end))
    return out


def write_alerts_csv(alerts: Sequence[BacktestAlert], path: Path) -> None:
    """Write the alerts, one row each, in detection order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=OUTPUT)
        writer.writeheader()
        for alert in sorted(alerts, key=lambda a: (a.detected_at, a.scope_type, a.scope_id)):
            writer.writerow(alert.row())


def backtest_csv(src: Path, dest: Path, policy: AlertPolicy) -> tuple[list[BacktestAlert], CsvErrors]:
    """Read ``src``, run the detector, write ``dest``; returns the alerts and the skipped rows."""
    records, errors = read_mentions_csv(src)
    grid = build_grid(records, policy.scope_types, policy.lookback_hours)
    alerts = run_backtest(grid, policy)
    write_alerts_csv(alerts, dest)
    return alerts, errors
