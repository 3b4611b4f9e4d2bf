"""Explain away: one incident, one alert, across the scope hierarchy.

Pure functions over one assessment and the actions :func:`alerts.spikes.decide` asked
for (the live job and the backtest run the same code). "Drives" means: accounts for at
least ``DRIVER_SHARE`` (60 %) of the excess negatives (observed − usual share ×
mentions) over the alert's reported window.

1. **Product alerts** (a product summed over stores): one that a single alerting store
   drives is not opened — the store alert carries it (and lists the product).
2. **Chain product incidents** (a live product alert: open, or opening now): the store
   × product rows of that product do not open alerts of their own, and neither does a
   store whose excess the live products drive (its rows of those products account for
   ≥ 60 % of the store's excess): both are folded under the product alert, which
   names the store. A store with its own excess beyond the product (the product's rows
   under 60 % of it) opens as usual and its reason says how much the product accounts
   for. A product incident that resolved while its window still overlaps the store's
   window folds the store, and that product's store × product rows, too (the late
   tail of the same negatives), without touching the resolved alert.
3. **Brand and region alerts**: one that a single store drives, or a single product
   (that product's rows in the aggregate's stores), gives way to that store's or
   product's alert when it is alerting (open, or opening now and not itself explained
   away); so does one whose excess the live product alerts drive together (their
   rows in its stores ≥ 60 %: those alerts already reach the brand's marketing and HQ).
   When the driver is not alerting, the aggregate alert stays and names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    suppressed: dict[ScopeKey, tuple[ScopeKey, float]] = field(default_factory=dict)  # dropped open -> (carrier, share)
    drivers: dict[ScopeKey, tuple[ScopeKey, float]] = field(default_factory=dict)  # kept aggregate -> its driver
    folded: dict[ScopeKey, list[tuple[ScopeKey, float]]] = field(default_factory=dict)  # product -> affected rows
    beyond: dict[ScopeKey, tuple[list[tuple[str, float]], float]] = field(default_factory=dict)
    alerting_stores: set[str] = field(default_factory=set)  # stores with an alert of their own (open or opening)
    # a store opened beside live products -> ([(product id, its extra negatives here)], the store's extra beyond them)


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


@dataclass
class _Grid:
    """The assessed grid and the excess of any rows over a window."""

    keys: Sequence[ScopeKey]
    result: Assessment
    total: np.ndarray
    negative: np.ndarray

    def excess(self, rows: list[int], hours: int) -> np.ndarray:
        return window_excess(self.negative[rows], self.total[rows], self.result.baseline_share[rows], hours)


def _store_product_rows(keys: Sequence[ScopeKey], children: dict[int, list[int]]
                        ) -> dict[int, dict[str, int]]:
    """Per product row, its store × product rows by store id."""
    out: dict[int, dict[str, int]] = {}
    for p, kids in children.items():
        if keys[p][0] == "product":
            rows = {store_of(keys[c]): c for c in kids if keys[c][0] == "store_product"}
            if rows:
                out[p] = rows
    return out


def _covering(inc: Incident | None, now: datetime | None, hours: int) -> bool:
    """An incident that is open, or resolved with its window reaching into the last ``hours``."""
    if inc is None:
        return False
    if inc.active:
        return True
    return now is not None and inc.window_end >= now - timedelta(hours=hours)


def explain_actions(
    keys: Sequence[ScopeKey],
    result: Assessment,
    actions: list[Action],
    total: np.ndarray,
    negative: np.ndarray,
    children: dict[int, list[int]],
    incidents: dict[ScopeKey, Incident],
    min_share: float = DRIVER_SHARE,
    now: datetime | None = None,
) -> Explained:
    """Apply the three rules of the module docstring to one run's actions.

    ``total`` / ``negative`` are the assessed hourly grid (rows as ``keys``),
    ``children`` the aggregate rows' store / store × product rows
    (:func:`alerts.spikes.aggregate_children`), ``incidents`` the scopes' latest
    incidents before this run, ``now`` the run's time (without it only open product
    incidents fold stores). A store folded under an open product alert that has no
    action this run gets an ``update`` (same severity and window) so the alert can name it.
    """
    g = _Grid(keys, result, total, negative)
    index = {k: i for i, k in enumerate(keys)}
    sp_rows = _store_product_rows(keys, children)
    out = Explained(actions=[])
    opening = {a.key for a in actions if a.kind == "open"}

    # rule 1: product opens one alerting store drives
    alerting = {family(k) for k, inc in incidents.items() if inc.active}
    alerting |= {family(k) for k in opening if k[0] not in AGGREGATE_TYPES}
    kept: list[Action] = []
    for action in actions:
        if action.kind == "open" and action.key[0] == "product" and children.get(action.index):
            if _driven_away(g, action, children[action.index], alerting, min_share, out):
                continue
        kept.append(action)
    live = {p for p in sp_rows if (incidents.get(keys[p]) is not None and incidents[keys[p]].active)}
    opened = {a.index for a in kept if a.key[0] == "product" and a.kind in ("open", "update")}
    live |= opened & set(sp_rows)

    # rule 2: stores and store × product rows under live product alerts — never into a milder
    # one: a critical row under a warning product alert keeps its own (pushed) alert
    level = {p: inc.severity for p in sp_rows if (inc := incidents.get(keys[p])) is not None}
    level |= {a.index: a.severity for a in kept if a.key[0] == "product" and a.kind in ("open", "update")}
    folded: dict[int, dict[int, float]] = {}  # product row -> {store × product row: excess}
    for p in sorted(live):
        kids = sorted(sp_rows[p].values())
        excess = g.excess(kids, int(result.window[p]))
        for c, e in zip(kids, excess):
            if result.severity[c] > level.get(p, 0):
                continue
            if result.severity[c] > 0 or e >= AFFECTED_EXCESS:
                folded.setdefault(p, {})[c] = float(e)
    folded_rows = {c for rows in folded.values() for c in rows}
    kept = [a for a in kept if not (a.kind == "open" and a.key[0] == "store_product" and a.index in folded_rows)]
    resolved = {p for p in sp_rows if p not in live}
    explained: list[Action] = []
    touched: set[int] = set()  # live product rows a store folded into this run
    for action in kept:
        if action.kind == "open" and action.key[0] == "store_product":
            product = index.get(("product", action.key[1].split("|", 1)[1]))
            w = int(result.window[action.index])
            if product in resolved and _covering(incidents.get(keys[product]), now, w):
                out.suppressed[action.key] = (keys[product], 1.0)  # the tail of a product incident just resolved
                continue
        if action.kind == "open" and action.key[0] == "store":
            w = int(result.window[action.index])
            carriers = live | {p for p in resolved if _covering(incidents.get(keys[p]), now, w)}
            if _fold_store(g, action, w, {p for p in carriers if level.get(p, 0) >= action.severity}, sp_rows,
                           live, folded, min_share, out, touched):
                continue
        explained.append(action)
    for p, rows in folded.items():
        out.folded[keys[p]] = sorted(((keys[c], e) for c, e in rows.items()), key=lambda kv: (-kv[1], kv[0]))
    acted = {a.key for a in explained}
    for key in (keys[p] for p in sorted(touched)):  # a store folded under an open alert with nothing to do now
        inc = incidents.get(key)
        if key not in acted and inc is not None and inc.active:
            explained.append(Action("update", key, index[key], inc.severity, inc.window_start, inc.window_end, inc))

    # rule 3: brand / region opens one alerting store or one live product drives
    alerting = {family(k) for k, inc in incidents.items() if inc.active}
    alerting |= {family(a.key) for a in explained if a.kind == "open" and a.key[0] not in AGGREGATE_TYPES}
    out.alerting_stores = {k[1] for k in alerting if k[0] == "store"}
    alerting |= {keys[p] for p in live | opened}
    for action in explained:
        i = action.index
        if action.kind == "open" and action.key[0] in ("brand", "region") and children.get(i):
            stores = [c for c in children[i] if keys[c][0] == "store"]
            own = {store_of(keys[c]) for c in stores}
            by_product = {p: [c for s, c in rows.items() if s in own] for p, rows in sp_rows.items()}
            if _driven_away(g, action, stores, alerting, min_share, out,
                            {p: rows for p, rows in by_product.items() if rows}):
                continue
        out.actions.append(action)
    return out


def _driven_away(g: _Grid, action: Action, kids: list[int], alerting: set[ScopeKey], min_share: float,
                 out: Explained, products: dict[int, list[int]] | None = None) -> bool:
    """Whether an aggregate open gives way to the alert of the one child (or product) driving it.

    Records the carrier in ``out.suppressed``, or a driver that is not alerting in ``out.drivers``.
    """
    i, w = action.index, int(g.result.window[action.index])
    mine = float(g.excess([i], w)[0])
    candidates: list[tuple[ScopeKey, Driver]] = []
    driver = dominant_child(mine, {c: float(e) for c, e in zip(kids, g.excess(kids, w))}, min_share)
    if driver is not None:
        candidates.append((family(g.keys[driver.child]), driver))
    if products:
        sums = {p: float(g.excess(rows, w).sum()) for p, rows in products.items()}
        driver = dominant_child(mine, sums, min_share)
        if driver is not None:
            candidates.append((g.keys[driver.child], driver))
        live = {p: e for p, e in sums.items() if g.keys[p] in alerting and e > 0}
        if live and mine > 0 and sum(live.values()) / mine >= min_share:  # several live products, together
            top = max(live, key=lambda p: (live[p], -p))
            candidates.append((g.keys[top], Driver(top, min(sum(live.values()) / mine, 1.0))))
    if not candidates:
        return False
    for carrier, driver in candidates:
        if carrier in alerting:
            out.suppressed[action.key] = (carrier, driver.share)
            return True
    carrier, driver = max(candidates, key=lambda cd: cd[1].share)
    out.drivers[action.key] = (carrier, driver.share)
    return False


def _fold_store(g: _Grid, action: Action, w: int, carriers: set[int], sp_rows: dict[int, dict[str, int]],
                live: set[int], folded: dict[int, dict[int, float]], min_share: float, out: Explained,
                touched: set[int]) -> bool:
    """Whether a store open folds under the product alerts whose rows at that store drive it.

    Folding names the store under each live product with extra negatives there; a store
    that opens anyway records how much the products account for in ``out.beyond``.
    """
    store = action.key[1]
    rows = {p: sp_rows[p][store] for p in sorted(carriers) if store in sp_rows[p]}
    if not rows:
        return False
    mine = float(g.excess([action.index], w)[0])
    excess = dict(zip(rows, (float(e) for e in g.excess(list(rows.values()), w))))
    covered = sum(max(e, 0.0) for e in excess.values())
    if mine > 0 and covered / mine >= min_share:
        top = max(excess, key=lambda p: (excess[p], -p))
        out.suppressed[action.key] = (g.keys[top], min(covered / mine, 1.0))
        for p, e in excess.items():
            if p in live and (e >= AFFECTED_EXCESS or p == top):
                folded.setdefault(p, {})[rows[p]] = max(e, folded.get(p, {}).get(rows[p], e))
                touched.add(p)
        return True
    named = [(g.keys[p][1], e) for p, e in excess.items() if p in live and e >= AFFECTED_EXCESS]
    if named:
        out.beyond[action.key] = (sorted(named, key=lambda kv: (-kv[1], kv[0])), mine - covered)
    return False


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
                   stores: Sequence[tuple[str, int]] | None = None, top: int = 8,
                   product_name: Callable[[str], str] = str) -> str:
    """The Chinese sentence an alert adds: what drives it, which stores it covers, what it has beyond.

    ``name`` / ``product_name`` turn a store / product id into its display name;
    ``stores`` overrides the folded stores (the live job accumulates them over an incident).
    """
    parts = []
    driver = explained.drivers.get(key)
    if driver is not None:
        what = product_name(driver[0][1]) if driver[0][0] == "product" else name(store_of(driver[0]))
        parts.append(f"超出部分约 {driver[1]:.0%} 来自{what}")
    stores = affected_stores(explained, key) if stores is None else list(stores)
    if stores:
        own = explained.alerting_stores

        def entry(s: str, n: int) -> str:
            notes = [f"多 {n} 条"] * (n > 0) + ["另有门店提醒"] * (s in own)
            return f"{name(s)}（{'，'.join(notes)}）" if notes else name(s)

        listed = "、".join(entry(s, n) for s, n in stores[:top])
        more = f"等 {len(stores)} 家" if len(stores) > top else f"，共 {len(stores)} 家"
        rest = "其余各店" if any(s in own for s, _ in stores) else "各店"
        parts.append(f"涉及门店：{listed}{more}，{rest}不再单独提醒")
    beyond = explained.beyond.get(key)
    if beyond is not None:
        products, rest = beyond
        listed = "、".join(f"{product_name(p)}多 {max(int(round(e)), 0)} 条" for p, e in products)
        parts.append(f"其中{listed}，已在产品提醒中；除此之外本店另多约 {max(int(round(rest)), 0)} 条差评")
    return "".join(f"；{p}" for p in parts)
