"""Linking a mention to brand, store and product, with a confidence. Pure logic.

Order of evidence, strongest first:

1. the source is bound to a store / product / brand (``Source.store_id`` …): confidence 1.0;
2. a hint found on the page (``Mention.store_hint`` …) equal to a platform shop id, an id,
   a name or an alias: 0.95;
3. the catalog's names (0.9) and aliases (0.8) found in the text, and a store's
   address (0.6). A brand match inside one of the brand's exclusion phrases
   ("一点点甜" for the brand 一点点) does not count. An alias shared by several stores
   is ambiguous: each candidate is recorded with its confidence divided among them and
   none is chosen unless the brand in the text singles one out.

A mention that links to nothing stays brand-level (the bound brand, else the only
brand of the catalog; competitors do not count) — it is never dropped. A text naming a
competitor brand and no store keeps no product of another brand: the competitor's
杨枝甘露 is not ours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable, Mapping

BOUND, HINT, NAME, ALIAS, ADDRESS, INHERITED, DEFAULT = (
    "source", "hint", "name", "alias", "address", "inherited", "default",
)
CONFIDENCE = {BOUND: 1.0, HINT: 0.95, NAME: 0.9, ALIAS: 0.8, ADDRESS: 0.6, DEFAULT: 0.3}
MIN_CONFIDENCE = 0.5  # a candidate below this is recorded but not chosen


@dataclass(frozen=True)
class Entity:
    """One catalog entry: a brand, a store or a product."""

    type: str  # brand | store | product
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    brand_id: str | None = None
    region_id: str | None = None
    exclude: tuple[str, ...] = ()  # brands only
    platform_ids: tuple[str, ...] = ()  # stores only
    address: str = ""  # stores only
    competitor: bool = False  # brands only: watched for the benchmark, never a default


@dataclass(frozen=True)
class Catalog:
    """The brands, stores and products to link against, indexed by id."""

    brands: Mapping[str, Entity] = field(default_factory=dict)
    stores: Mapping[str, Entity] = field(default_factory=dict)
    products: Mapping[str, Entity] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, brands: Iterable[Any], stores: Iterable[Any], products: Iterable[Any]) -> "Catalog":
        """Build from ``storage.models`` rows (or anything with the same attributes)."""
        return cls(
            brands={b.id: Entity("brand", b.id, b.name, tuple(b.aliases or ()), b.id,
                                 exclude=tuple(b.exclude or ()),
                                 competitor=getattr(b, "kind", None) == "competitor") for b in brands},
            stores={s.id: Entity("store", s.id, s.name, tuple(s.aliases or ()), s.brand_id, s.region_id,
                                 platform_ids=tuple(str(v) for v in (s.platform_ids or {}).values()),
                                 address=s.address or "") for s in stores},
            products={p.id: Entity("product", p.id, p.name, tuple(p.aliases or ()), p.brand_id)
                      for p in products},
        )

    @cached_property
    def needles(self) -> dict[str, dict[str, list[tuple[str, str]]]]:
        """kind -> {normalised name / alias / address -> [(entity id, via)]}, built once."""
        out: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for kind, entities in (("brand", self.brands), ("store", self.stores), ("product", self.products)):
            index: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for e in entities.values():
                if _norm(e.name):
                    index[_norm(e.name)].append((e.id, NAME))
                for a in e.aliases:
                    if _norm(a) and _norm(a) != _norm(e.name):
                        index[_norm(a)].append((e.id, ALIAS))
                if len(e.address) >= 4:
                    index[_norm(e.address)].append((e.id, ADDRESS))
            out[kind] = dict(index)
        return out

    def names(self) -> list[str]:
        """Every name and alias in the catalog (for the segmenter's dictionary)."""
        out: list[str] = []
        for group in (self.brands, self.stores, self.products):
            for e in group.values():
                out.extend(n for n in (e.name, *e.aliases) if n)
        return sorted(set(out))


@dataclass(frozen=True)
class Link:
    """One candidate: ``{type, id, confidence, via}`` as stored in ``MentionAnalysis.links``."""

    type: str
    id: str
    confidence: float
    via: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form stored in the database."""
        return {"type": self.type, "id": self.id, "confidence": round(self.confidence, 3), "via": self.via}


@dataclass(frozen=True)
class LinkResult:
    """The chosen brand / region / store / product and every candidate considered."""

    brand_id: str | None = None
    region_id: str | None = None
    store_id: str | None = None
    product_id: str | None = None
    confidence: float = 0.0
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """What the source and the page say beyond the text."""

    brand_id: str | None = None  # bound by the source
    store_id: str | None = None
    product_id: str | None = None
    brand_hint: str | None = None  # found on the page
    store_hint: str | None = None
    product_hint: str | None = None


def _norm(s: str) -> str:
    return s.strip().lower()


def _match_hint(hint: str | None, entities: Mapping[str, Entity]) -> list[Entity]:
    if not hint or not hint.strip():
        return []
    h = _norm(hint)
    exact = [e for e in entities.values() if h == _norm(e.id) or h in {_norm(p) for p in e.platform_ids}]
    if exact:
        return exact
    return [e for e in entities.values() if h in {_norm(n) for n in (e.name, *e.aliases) if n}]


def _spans(text: str, needle: str) -> list[tuple[int, int]]:
    out, start = [], text.find(needle)
    while start >= 0:
        out.append((start, start + len(needle)))
        start = text.find(needle, start + 1)
    return out


def _text_matches(text: str, entities: Mapping[str, Entity],
                  needles: Mapping[str, list[tuple[str, str]]]) -> dict[str, tuple[float, str]]:
    """entity id -> (confidence, via) for the best way each entity occurs in ``text``.

    Longest match wins: an alias found only inside a longer name or alias (万象城 inside
    万象城店) does not count, nor does a brand inside one of its exclusion phrases.
    """
    hits = {n: _spans(text, n) for n in needles if n in text}
    longer = [(a, b) for n, sp in hits.items() for a, b in sp]
    found: dict[str, tuple[float, str]] = {}
    for needle, spans in hits.items():
        alive = [(a, b) for a, b in spans
                 if not any(x <= a and b <= y and (y - x) > (b - a) for x, y in longer)]
        for eid, via in needles[needle]:
            excluded = [s for p in entities[eid].exclude if _norm(p) for s in _spans(text, _norm(p))]
            if not any(not any(x <= a and b <= y for x, y in excluded) for a, b in alive):
                continue
            conf = CONFIDENCE[via] / (len({e for e, _ in needles[needle]}) if via == ALIAS else 1)
            if eid not in found or conf > found[eid][0]:
                found[eid] = (conf, via)
    return found


def _choose(cands: dict[str, tuple[float, str]], entities: Mapping[str, Entity],
            brand: str | None) -> tuple[str, float] | None:
    """The single best candidate above :data:`MIN_CONFIDENCE`, preferring ``brand``'s.

    Inside one brand an alias shared with other brands' entities is no longer ambiguous.
    """
    bound = [(k, v[0]) for k, v in cands.items() if v[1] == BOUND]
    if bound:
        return bound[0]
    if brand:
        same = {k: v for k, v in cands.items() if entities[k].brand_id == brand}
        if same:
            cands = {k: ((max(v[0], CONFIDENCE[ALIAS] / len(same)) if v[1] == ALIAS else v[0]), v[1])
                     for k, v in same.items()}
    if not cands:
        return None
    top = max(v[0] for v in cands.values())
    best = [k for k, v in cands.items() if v[0] == top]
    if len(best) != 1 or top < MIN_CONFIDENCE:
        return None
    return best[0], top


def link(text: str, catalog: Catalog, evidence: Evidence | None = None) -> LinkResult:
    """Link a cleaned mention ``text`` to the catalog (see the module docstring)."""
    ev = evidence or Evidence()
    low = _norm(text)
    links: list[Link] = []
    cands: dict[str, dict[str, tuple[float, str]]] = {}

    for kind, entities, bound, hint in (
        ("brand", catalog.brands, ev.brand_id, ev.brand_hint),
        ("store", catalog.stores, ev.store_id, ev.store_hint),
        ("product", catalog.products, ev.product_id, ev.product_hint),
    ):
        c: dict[str, tuple[float, str]] = {}
        if bound and bound in entities:
            c[bound] = (CONFIDENCE[BOUND], BOUND)
        for e in _match_hint(hint, entities):
            c.setdefault(e.id, (CONFIDENCE[HINT], HINT))
        for eid, v in _text_matches(low, entities, catalog.needles[kind]).items():
            if eid not in c or c[eid][0] < v[0]:
                c[eid] = v
        cands[kind] = c
        links.extend(Link(kind, eid, conf, via) for eid, (conf, via) in sorted(c.items()))

    bound_brand = ev.brand_id if ev.brand_id in catalog.brands else None
    text_brand = bound_brand or _first(_choose(cands["brand"], catalog.brands, None))

    product_pick = _choose(cands["product"], catalog.products, text_brand)
    product = catalog.products[product_pick[0]] if product_pick else None
    store_pick = _choose(cands["store"], catalog.stores, text_brand or (product.brand_id if product else None))
    store = catalog.stores[store_pick[0]] if store_pick else None
    if text_brand and catalog.brands[text_brand].competitor and not store:
        # a competitor's 杨枝甘露 is not ours: keep only the competitor's own products
        if product and product.brand_id != text_brand:
            product_pick, product = None, None
    if product and store and product.brand_id != store.brand_id:  # re-pick within the store's brand
        product_pick = _choose(cands["product"], catalog.products, store.brand_id)
        product = catalog.products[product_pick[0]] if product_pick else None

    brand_id, brand_conf = _brand(text_brand, cands["brand"], store, product, catalog)
    confidence = store_pick[1] if store_pick else product_pick[1] if product_pick else brand_conf
    return LinkResult(
        brand_id=brand_id,
        region_id=store.region_id if store else None,
        store_id=store.id if store else None,
        product_id=product.id if product else None,
        confidence=confidence,
        links=tuple(links),
    )


def _first(pick: tuple[str, float] | None) -> str | None:
    return pick[0] if pick else None


def _brand(text_brand: str | None, cands: dict[str, tuple[float, str]], store: Entity | None,
           product: Entity | None, catalog: Catalog) -> tuple[str | None, float]:
    if store and store.brand_id:
        return store.brand_id, cands.get(store.brand_id, (CONFIDENCE[NAME], INHERITED))[0]
    if product and product.brand_id:
        return product.brand_id, cands.get(product.brand_id, (CONFIDENCE[ALIAS], INHERITED))[0]
    if text_brand:
        return text_brand, cands[text_brand][0]
    own = [b for b in catalog.brands.values() if not b.competitor]
    if len(own) == 1:
        return own[0].id, CONFIDENCE[DEFAULT]
    return None, 0.0
