"""The catalog: brands, regions, stores, products, sources, recipients and alert policy.

One TOML file (``tingfeng.toml``) is the source of truth. :func:`load_catalog` parses and
validates it completely — every problem is collected, each with the file, the key path
and the reason — and :func:`sync_catalog` writes it into the database so that every
stage and the dashboard read the same catalog.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import select

from storage import Database
from storage.models import Brand, Product, Recipient, Region, Source, Store
from storage.types import ZoneName
from tingfeng.errors import CatalogError

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BrandConfig(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    aliases: list[str] = []
    exclude: list[str] = Field([], description="phrases in which the brand name is not the brand")


class RegionConfig(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    brand: str | None = None


class StoreConfig(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    brand: str | None = None
    city: str = ""
    district: str = ""
    address: str = ""
    region: str | None = None
    aliases: list[str] = []
    platform_ids: dict[str, str] = {}
    opened_on: date | None = None


class ProductConfig(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    brand: str | None = None
    category: str = ""
    aliases: list[str] = []
    launched_on: date | None = None


class SourceConfig(_Strict):
    id: str = Field(pattern=_ID)
    type: str
    platform: str = ""
    schedule: str = "*/30 * * * *"
    enabled: bool = True
    brand: str | None = None
    store: str | None = None
    product: str | None = None
    options: dict[str, Any] = {}

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return _check_cron(value)


class RecipientConfig(_Strict):
    name: str = Field(min_length=1)
    id: str | None = Field(None, pattern=_ID)
    role: Literal["admin", "marketing", "hq", "area_manager", "manager"] = "manager"
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")
    channels: dict[str, dict[str, Any]] = {}
    brands: list[str] = []
    regions: list[str] = []
    stores: list[str] = []
    digest: bool = True
    escalates_to: list[str] = []
    push_warnings: bool = Field(False, description="also push warning-tier spike alerts (default: dashboard and "
                                                   "digest only; critical and urgent alerts are always pushed)")


class ScheduleConfig(_Strict):
    """When the processing jobs run (cron, catalog time zone)."""

    process: str = Field("*/5 * * * *", description="score → rollups → detect → enqueue")
    deliver: str = Field("* * * * *", description="send what is in the outbox")
    digest: str = Field("0 9 * * mon", description="the weekly digest")

    @field_validator("process", "deliver", "digest")
    @classmethod
    def _cron(cls, value: str) -> str:
        return _check_cron(value)


class Catalog(_Strict):
    """The whole catalog file, validated."""

    timezone: ZoneName = "Asia/Shanghai"
    brands: list[BrandConfig] = Field(min_length=1)
    regions: list[RegionConfig] = []
    stores: list[StoreConfig] = []
    products: list[ProductConfig] = []
    sources: list[SourceConfig] = []
    recipients: list[RecipientConfig] = []
    alerts: dict[str, Any] = {}
    schedule: ScheduleConfig = ScheduleConfig()

    def recipient_id(self, recipient: RecipientConfig) -> str:
        """The id a recipient is stored under: its explicit id or a slug of its name."""
        return recipient.id or slug(recipient.name)


def slug(text: str) -> str:
    """A stable id for a free-form name (Chinese names keep their characters)."""
    return re.sub(r"[\s/\\|]+", "-", text.strip()).lower()


def _check_cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(f"not a cron expression ({exc})") from exc
    return value


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _cross_check(cat: Catalog) -> list[str]:
    """References between sections: unknown ids, duplicates, missing brands."""
    problems: list[str] = []

    def unique(section: str, ids: list[str]) -> set[str]:
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident in seen:
                problems.append(f"{section}[{i}].id: duplicate id {ident!r}")
            seen.add(ident)
        return seen

    brands = unique("brands", [b.id for b in cat.brands])
    regions = unique("regions", [r.id for r in cat.regions])
    stores = unique("stores", [s.id for s in cat.stores])
    products = unique("products", [p.id for p in cat.products])
    unique("sources", [s.id for s in cat.sources])
    recipients = unique("recipients", [cat.recipient_id(r) for r in cat.recipients])
    single_brand = len(cat.brands) == 1

    def ref(where: str, value: str | None, known: set[str], what: str) -> None:
        if value is not None and value not in known:
            listing = ", ".join(sorted(known)[:8]) or "none defined"
            problems.append(f"{where}: unknown {what} {value!r} (known: {listing})")

    for i, r in enumerate(cat.regions):
        ref(f"regions[{i}].brand", r.brand, brands, "brand")
    for section, items in (("stores", cat.stores), ("products", cat.products)):
        for i, item in enumerate(items):
            if item.brand is None and not single_brand:
                problems.append(f"{section}[{i}].brand: required when the catalog has several brands")
            ref(f"{section}[{i}].brand", item.brand, brands, "brand")
    for i, s in enumerate(cat.stores):
        ref(f"stores[{i}].region", s.region, regions, "region")
    for i, src in enumerate(cat.sources):
        ref(f"sources[{i}].brand", src.brand, brands, "brand")
        ref(f"sources[{i}].store", src.store, stores, "store")
        ref(f"sources[{i}].product", src.product, products, "product")
    for i, rec in enumerate(cat.recipients):
        for j, b in enumerate(rec.brands):
            ref(f"recipients[{i}].brands[{j}]", b, brands, "brand")
        for j, r in enumerate(rec.regions):
            ref(f"recipients[{i}].regions[{j}]", r, regions, "region")
        for j, s in enumerate(rec.stores):
            ref(f"recipients[{i}].stores[{j}]", s, stores, "store")
        for j, e in enumerate(rec.escalates_to):
            ref(f"recipients[{i}].escalates_to[{j}]", slug(e), recipients, "recipient")
        if not rec.email and not rec.channels:
            problems.append(f"recipients[{i}]: {rec.name!r} has neither an email nor a chat channel")
    return problems


def _plugin_checks(cat: Catalog) -> list[str]:
    """Options that belong to a plug-in: source types and the alert policy."""
    from alerts.policy import AlertPolicy
    from collectors.registry import validate_options

    problems: list[str] = []
    for i, src in enumerate(cat.sources):
        for problem in validate_options(src.type, src.options):
            problems.append(f"sources[{i}] ({src.id}): {problem}")
    try:
        AlertPolicy.model_validate(cat.alerts)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(f"alerts.{_path(err['loc'])}: {err['msg']}")
    return problems


def parse_catalog(text: str, *, file: str = "tingfeng.toml") -> Catalog:
    """Validate catalog TOML text; raise CatalogError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(file, [f"not valid TOML: {exc}"]) from exc
    try:
        cat = Catalog.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _path(err["loc"]) or "(top level)"
            value = err.get("input")
            shown = f" (got {value!r})" if not isinstance(value, (dict, list)) and value is not None else ""
            problems.append(f"{where}: {err['msg']}{shown}")
        raise CatalogError(file, problems) from exc
    problems = _cross_check(cat) + _plugin_checks(cat)
    if problems:
        raise CatalogError(file, problems)
    return cat


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogError(str(path), ["file not found: run `tingfeng init` to write an example"]) from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(str(path), [f"not UTF-8 text (byte {exc.start})"]) from exc
    return parse_catalog(text, file=str(path))


def sync_catalog(db: Database, cat: Catalog) -> None:
    """Write the catalog into the database.

    Entities removed from the file are removed from the tables, except sources, which
    are disabled so their run history and collected mentions stay explained.
    """
    default_brand = cat.brands[0].id if len(cat.brands) == 1 else None
    rows: dict[type, list[Any]] = {
        Brand: [Brand(id=b.id, name=b.name, aliases=b.aliases, exclude=b.exclude) for b in cat.brands],
        Region: [Region(id=r.id, name=r.name, brand_id=r.brand or default_brand) for r in cat.regions],
        Store: [
            Store(
                id=s.id, brand_id=s.brand or default_brand, name=s.name, city=s.city, district=s.district,
                address=s.address, region_id=s.region, aliases=s.aliases, platform_ids=s.platform_ids,
                opened_on=s.opened_on,
            )
            for s in cat.stores
        ],
        Product: [
            Product(
                id=p.id, brand_id=p.brand or default_brand, name=p.name, category=p.category,
                aliases=p.aliases, launched_on=p.launched_on,
            )
            for p in cat.products
        ],
        Recipient: [
            Recipient(
                id=cat.recipient_id(r), name=r.name, role=r.role, email=r.email, channels=r.channels,
                brands=r.brands, regions=r.regions, stores=r.stores, digest=r.digest,
                escalates_to=[slug(e) for e in r.escalates_to], push_warnings=r.push_warnings,
            )
            for r in cat.recipients
        ],
    }
    with db.session() as session:
        for model, wanted in rows.items():
            keep = {row.id for row in wanted}
            for existing in session.exec(select(model)).all():
                if existing.id not in keep:
                    session.delete(existing)
            for row in wanted:
                session.merge(row)
        existing_sources = {s.id: s for s in session.exec(select(Source)).all()}
        for src in cat.sources:
            row = existing_sources.pop(src.id, None) or Source(id=src.id, type=src.type)
            row.type, row.platform, row.schedule, row.enabled = src.type, src.platform, src.schedule, src.enabled
            row.brand_id = src.brand or default_brand
            row.store_id, row.product_id, row.options = src.store, src.product, src.options
            session.add(row)
        for orphan in existing_sources.values():
            orphan.enabled = False
            session.add(orphan)
