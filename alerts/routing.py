"""Who hears about an alert, over which channels, and when (pure functions).

- store-level scopes (``store``, ``store_product``, ``store_touchpoint``, ids joined
  by ``|``): the store's managers and area managers — recipients whose ``stores``
  contains the store or whose ``regions`` contains its region; if nobody is
  configured for the store, the brand's marketing team so the alert is not lost;
- brand / product / region / touchpoint / platform scopes: marketing and HQ whose
  ``brands`` is empty (all brands) or contains the scope's brand; a region's alerts
  also go to that region's area managers; a product alert also goes to the managers
  of the stores it names (``evidence["stores"]``: the stores of a chain-wide incident
  folded into it, which get no alert of their own), including stores named later;
- ``source_health`` alerts (scope ``source``): admins;
- escalation: the routed recipients' ``escalates_to`` when an alert is still open
  (unacknowledged) ``policy.escalate_after_minutes`` after it opened;
- quiet hours (``policy.quiet_hours`` in ``policy.timezone``): non-critical pushes to
  chat channels wait until the quiet hours end; email and critical alerts go at once;
- tiers (:func:`wants_push`): a *critical* spike alert is pushed at once; a *warning*
  is a watch item (dashboard and weekly digest) pushed only to recipients who opted in
  (``push_warnings`` in the catalog); urgent (food-safety) and other alerts are pushed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from alerts.channels.base import ENV_ADDRESS
from storage.models import Alert, Product, Recipient, Region, Store

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
STORE_SCOPES = ("store", "store_product", "store_touchpoint")
CHAT_CHANNELS = ("wecom", "dingtalk", "feishu")
STORE_ROLES = ("manager", "area_manager")
MARKETING_ROLES = ("marketing", "hq")
ADDRESS_FIELDS = ("url", "address")
ADDRESS_ENV_FIELDS = ("url_env", "address_env")
ENV_FIELDS = ADDRESS_ENV_FIELDS + ("secret_env",)  # every channel field naming an environment variable


def severity_rank(severity: str | None) -> int:
    """Order of severities; ``None`` (never notified) ranks below everything."""
    return -1 if severity is None else SEVERITY_RANK.get(severity, 0)


@dataclass(frozen=True)
class Catalog:
    """The catalog rows routing needs, keyed by id."""

    stores: dict[str, Store] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """One destination: a recipient over one channel at one address."""

    recipient_id: str
    channel: str
    address: str
    config: dict[str, Any] = field(default_factory=dict)


def _store_of(alert: Alert) -> str | None:
    if alert.scope_type in STORE_SCOPES:
        return alert.scope_id.split("|", 1)[0]
    return None


def brand_of(alert: Alert, catalog: Catalog) -> str | None:
    """The brand an alert's scope belongs to, when the catalog knows it."""
    first = alert.scope_id.split("|", 1)[0]
    if alert.scope_type == "brand":
        return alert.scope_id
    if alert.scope_type in STORE_SCOPES:
        store = catalog.stores.get(first)
        return store.brand_id if store else None
    if alert.scope_type in ("product",):
        product = catalog.products.get(first)
        return product.brand_id if product else None
    if alert.scope_type == "region":
        region = catalog.regions.get(first)
        return region.brand_id if region else None
    return None


def _marketing(recipients: Iterable[Recipient], brand: str | None) -> list[Recipient]:
    return [
        r for r in recipients
        if r.role in MARKETING_ROLES and (not r.brands or brand is None or brand in r.brands)
    ]


def named_stores(alert: Alert) -> list[str]:
    """The stores a product alert names as hit by its chain-wide incident (``evidence["stores"]``)."""
    if alert.scope_type != "product":
        return []
    return [str(s["store"]) for s in (alert.evidence or {}).get("stores", []) if isinstance(s, dict) and s.get("store")]


def _store_staff(recipients: Iterable[Recipient], catalog: Catalog, store_id: str) -> list[Recipient]:
    store = catalog.stores.get(store_id)
    region = store.region_id if store else None
    return [r for r in recipients
            if r.role in STORE_ROLES and (store_id in r.stores or (region is not None and region in r.regions))]


def recipients_for_alert(alert: Alert, recipients: Iterable[Recipient], catalog: Catalog) -> list[Recipient]:
    """The recipients responsible for ``alert`` (see the module docstring), by id order."""
    recipients = list(recipients)
    if alert.kind == "source_health" or alert.scope_type == "source":
        chosen = [r for r in recipients if r.role == "admin"]
    elif (store_id := _store_of(alert)) is not None:
        chosen = _store_staff(recipients, catalog, store_id)
        if not chosen:
            chosen = _marketing(recipients, brand_of(alert, catalog))
    elif alert.scope_type == "region":
        chosen = _marketing(recipients, brand_of(alert, catalog)) + [
            r for r in recipients if r.role == "area_manager" and alert.scope_id in r.regions
        ]
    else:
        chosen = _marketing(recipients, brand_of(alert, catalog))
        chosen += [r for s in named_stores(alert) for r in _store_staff(recipients, catalog, s)]
    return sorted({r.id: r for r in chosen}.values(), key=lambda r: r.id)


def wants_push(alert: Alert, recipient: Recipient) -> bool:
    """Whether ``recipient`` is pushed ``alert``: warning-tier spikes only on opt-in."""
    if alert.kind != "spike" or severity_rank(alert.severity) >= SEVERITY_RANK["critical"]:
        return True
    return bool(getattr(recipient, "push_warnings", False))


def escalation_targets(routed: Iterable[Recipient], recipients: Iterable[Recipient]) -> list[Recipient]:
    """The recipients named in ``escalates_to`` of ``routed``, minus those already routed."""
    routed = list(routed)
    by_id = {r.id: r for r in recipients}
    already = {r.id for r in routed}
    targets = {t for r in routed for t in r.escalates_to if t not in already and t in by_id}
    return [by_id[t] for t in sorted(targets)]


def routes_for(recipient: Recipient, known_channels: Iterable[str]) -> list[Route]:
    """Every (channel, address) a recipient can be reached on, among ``known_channels``."""
    known = set(known_channels)
    routes = []
    if recipient.email and "email" in known:
        routes.append(Route(recipient.id, "email", recipient.email))
    for name, config in sorted((recipient.channels or {}).items()):
        if name == "email" or name not in known or not isinstance(config, dict):
            continue
        address = channel_address(config)
        if address:
            routes.append(Route(recipient.id, name, address, dict(config)))
    return routes


def channel_address(config: Mapping[str, Any]) -> str | None:
    """A chat channel's destination: ``url``/``address`` as written, or ``env:NAME`` for
    ``url_env``/``address_env`` (resolved from the environment when the message is sent)."""
    for key in ADDRESS_FIELDS:
        if config.get(key):
            return str(config[key]).strip()
    for key in ADDRESS_ENV_FIELDS:
        if config.get(key):
            return ENV_ADDRESS + str(config[key]).strip()
    return None


def channel_problems(channel: str, config: Any, environ: Mapping[str, str], known_channels: Iterable[str]) -> list[str]:
    """Why a recipient's ``[recipients.channels.<channel>]`` cannot deliver (empty when it can):
    an unknown channel, no address, or an environment variable it names that is unset."""
    if channel not in set(known_channels):
        return [f"unknown channel (known: {', '.join(sorted(set(known_channels) - {'email'}))})"]
    if not isinstance(config, Mapping):
        return ["must be a table such as { url_env = \"HOOK_A\" }"]
    if channel_address(config) is None:
        fields = " / ".join(ADDRESS_FIELDS + ADDRESS_ENV_FIELDS)
        return [f"no address: set one of {fields}"]
    problems = []
    for key in ENV_FIELDS:
        name = config.get(key)
        if name and not str(environ.get(str(name).strip(), "")).strip():
            problems.append(f"{key} = {str(name)!r}: environment variable {name} is not set")
    return problems


def escalation_due(alert: Alert, policy: Any, now: datetime) -> bool:
    """True when an open (unacknowledged) alert has waited long enough to escalate."""
    minutes = getattr(policy, "escalate_after_minutes", None)
    if not minutes or alert.status != "open" or alert.escalated_at is not None:
        return False
    if severity_rank(alert.severity) < SEVERITY_RANK["warning"]:
        return False
    return now - alert.opened_at >= timedelta(minutes=float(minutes))


def _as_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    hours, _, minutes = str(value).strip().partition(":")
    return time(int(hours) % 24, int(minutes or 0))


def parse_quiet_hours(value: Any) -> tuple[time, time] | None:
    """``"22:00-08:00"``, ``("22:00", "08:00")``, an object with ``start``/``end``, or None."""
    if not value:
        return None
    if isinstance(value, str):
        start, sep, end = value.partition("-")
        if not sep:
            raise ValueError(f"quiet hours {value!r} must look like 22:00-08:00")
        return _as_time(start), _as_time(end)
    if hasattr(value, "start") and hasattr(value, "end"):
        return _as_time(value.start), _as_time(value.end)
    start, end = value
    return _as_time(start), _as_time(end)


def quiet_until(now: datetime, policy: Any) -> datetime | None:
    """When the current quiet period ends (UTC-aware), or None outside quiet hours."""
    window = parse_quiet_hours(getattr(policy, "quiet_hours", None))
    if window is None or window[0] == window[1]:
        return None
    tz = ZoneInfo(getattr(policy, "timezone", None) or "Asia/Shanghai")
    local = now.astimezone(tz)
    start, end = window
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_local = datetime.combine(local.date(), end, tzinfo=tz)
    if end_local <= local:
        end_local = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return end_local.astimezone(now.tzinfo)


def send_at(now: datetime, channel: str, severity: str, policy: Any) -> datetime:
    """When a push of ``severity`` over ``channel`` may go out: now, or after quiet hours."""
    if channel not in CHAT_CHANNELS or severity == "critical":
        return now
    return quiet_until(now, policy) or now
