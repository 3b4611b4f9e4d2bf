"""Explain away: one incident, one alert, across the scope hierarchy.

Pure functions over one assessment and the actions :func:`alerts.spikes.decide` asked
for (the live job and the backtest run the same code):

* an aggregate alert (brand, region, product) whose excess negatives come mostly from
  one store is not opened when that store's family is alerting (or opens one now):
  the store alert carries it. When that store is not alerting, the aggregate alert
  stays and names the store that drives it;
* during a product alert (a chain-wide product incident), the store × product rows of
  that product do not open alerts of their own: they are folded under the product
  alert, which names the stores affected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from alerts.spikes import Action, Assessment, Incident, ScopeKey, family

DRIVER_SHARE = 0.6  # a child whose excess is at least this share of its aggregate's excess drives it
AFFECTED_EXCESS = 2.0  # a store × product row with this many extra negatives is named under its product alert
AGGREGATE_TYPES = ("brand", "region", "product")


@dataclass(frozen=True)
class Driver:
    """The child row that drives an aggregate's excess, and how much of it."""

    child: int
    share: float


@dataclass
class Explained:
    """The actions left after explaining away, and what was folded or suppressed."""

    actions: list[Action]
    suppressed: dict[ScopeKey, tuple[ScopeKey, float]] = field(default_factory=dict)  # aggregate -> (store, share)
    drivers: dict[ScopeKey, tuple[ScopeKey, float]] = field(default_factory=dict)  # kept aggregate -> its driver
    folded: dict[ScopeKey, list[tuple[ScopeKey, float]]] = field(default_factory=dict)  # product -> affected rows


def window_excess(negative: np.ndarray, total: np.ndarray, share: np.ndarray, hours: int) -> np.ndarray:
    """Extra negatives per row over the last ``hours`` columns: observed − usual share × mentions."""
    hours = max(int(hours), 1)
    return negative[:, -hours:].sum(1) - share * total[:, -hours:].sum(1)


def dominant_child(aggregate_excess: float, child_excess: dict[int, float],
                   min_share: float = DRIVER_SHARE) -> Driver | None:
    """The child accounting for at least ``min_share`` of the aggregate's excess, if any.

    Nothing drives an aggregate with no excess; a child's share is capped at 1 (the
    rest of the aggregate may be below normal).
    """
    if aggregate_excess <= 0 or not child_excess:
        return None
    child = max(child_excess, key=lambda c: (child_excess[c], -c))
    share = min(child_excess[child] / aggregate_excess, 1.0)
    return Driver(child, share) if share >= min_share else None


def explain_actions(
    keys: Sequence[ScopeKey],
    result: Assessment,
    actions: list[Action],
    total: np.ndarray,
    negative: np.ndarray,
    children: dict[int, list[int]],
    incidents: dict[ScopeKey, Incident],
    min_share: float = DRIVER_SHARE,
) -> Explained:
    """Drop the aggregate opens one alerting store explains and fold store × product opens under product alerts.

    ``total`` / ``negative`` are the assessed hourly grid (rows as ``keys``),
    ``children`` the aggregate rows' store / store × product rows
    (:func:`alerts.spikes.aggregate_children`), ``incidents`` the scopes' latest
    incidents before this run.
    """
    alerting = {family(k) for k, inc in incidents.items() if inc.active}
    alerting |= {family(a.key) for a in actions if a.kind == "open" and a.key[0] not in AGGREGATE_TYPES}
    out = Explained(actions=[])
    live_products: set[int] = {i for i, k in enumerate(keys) if k[0] == "product"
                               and (incidents.get(k) is not None and incidents[k].active)}
    for action in actions:
        i, key = action.index, action.key
        if action.kind == "open" and key[0] in AGGREGATE_TYPES and children.get(i):
            kids = children[i]
            w = int(result.window[i])
            excess = window_excess(negative[kids], total[kids], result.baseline_share[kids], w)
            mine = float(window_excess(negative[[i]], total[[i]], result.baseline_share[[i]], w)[0])
            driver = dominant_child(mine, {c: float(e) for c, e in zip(kids, excess)}, min_share)
            if driver is not None:
                store = family(keys[driver.child])
                if store in alerting:
                    out.suppressed[key] = (store, driver.share)
                    continue
                out.drivers[key] = (store, driver.share)
        if key[0] == "product" and action.kind in ("open", "update"):
            live_products.add(i)
        out.actions.append(action)
    # fold: a live product alert carries the store × product rows of its product
    folded_rows: set[int] = set()
    for p in sorted(live_products):
        kids = [c for c in children.get(p, []) if keys[c][0] == "store_product"]
        if not kids:
            continue
        w = int(result.window[p])
        excess = window_excess(negative[kids], total[kids], result.baseline_share[kids], w)
        affected = [(keys[c], float(e)) for c, e in zip(kids, excess)
                    if result.severity[c] > 0 or e >= AFFECTED_EXCESS]
        folded_rows |= {c for c in kids if result.severity[c] > 0 or
                        float(excess[kids.index(c)]) >= AFFECTED_EXCESS}
        if affected:
            out.folded[keys[p]] = sorted(affected, key=lambda kv: (-kv[1], kv[0]))
    out.actions = [a for a in out.actions
                   if not (a.kind == "open" and a.key[0] == "store_product" and a.index in folded_rows)]
    return out


def store_of(key: ScopeKey) -> str:
    """The store id of a store or store × product scope."""
    return key[1].split("|", 1)[0]


def affected_stores(explained: Explained, key: ScopeKey) -> list[tuple[str, int]]:
    """The stores folded under product alert ``key``: (store id, extra negatives), most first."""
    return [(store_of(k), max(int(round(e)), 0)) for k, e in explained.folded.get(key, [])]


def merge_stores(previous: Sequence[dict], now: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The stores a product alert covers over its incident: every store named so far, its largest excess."""
    most = {p["store"]: int(p["negative"]) for p in previous}
    for store, n in now:
        most[store] = max(most.get(store, 0), n)
    return sorted(most.items(), key=lambda kv: (-kv[1], kv[0]))


def explained_note(key: ScopeKey, explained: Explained, name: Callable[[str], str] = str,
                   stores: Sequence[tuple[str, int]] | None = None, top: int = 8) -> str:
    """The Chinese sentence an aggregate alert adds: which store drives it, which stores it covers.

    ``name`` turns a store id into its display name; ``stores`` overrides the folded
    stores (the live job accumulates them over an incident).
    """
    parts = []
    driver = explained.drivers.get(key)
    if driver is not None:
        parts.append(f"超出部分约 {driver[1]:.0%} 来自{name(store_of(driver[0]))}")
    stores = affected_stores(explained, key) if stores is None else list(stores)
    if stores:
        listed = "、".join(f"{name(s)}（多 {n} 条）" if n > 0 else name(s) for s, n in stores[:top])
        more = f"等 {len(stores)} 家" if len(stores) > top else f"，共 {len(stores)} 家"
        parts.append(f"涉及门店：{listed}{more}，各店不再单独提醒")
    return "".join(f"；{p}" for p in parts)
