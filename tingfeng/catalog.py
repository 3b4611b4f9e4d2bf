"""The catalog: brands, regions, stores, products, sources, recipients and alert policy.

One TOML file (``tingfeng.toml``) is the source of truth. :func:`load_catalog` parses and
validates it completely — every problem is collected, each with the file, the key path
and the reason — and :func:`sync_catalog` writes it into the database so that every
stage and the dashboard read the same catalog.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlmodel import select

from storage import Database
from storage.models import Brand, CatalogSetting, Product, Recipient, Region, Source, Store
from storage.promotions import SETTING_KEY as PROMOTIONS_KEY, PlannedPromotion, promotions_setting
from storage.source_names import default_source_name
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
    type: Literal["own", "competitor"] = Field("own", description="competitor: watched for the benchmark only")


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
    name: str | None = Field(None, min_length=1, description="display name (default: platform or type in Chinese, "
                                                              "with the store)")
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


TOUCHPOINT_KEYS = ("product", "service", "environment", "price", "delivery", "digital")
DEFAULT_REPLY_TEMPLATES = {
    "product": "您好，非常抱歉{product}没有让您满意！{store}已把您反馈的口味和品质问题转给出品负责人，"
               "会逐杯核对配方和原料。欢迎您再次到店，我们为您重新制作一杯。",
    "service": "您好，非常抱歉这次让您有了不好的服务体验！{store}店长已看到您的反馈，会和当班同事复盘，"
               "加强服务培训，期待下次给您更好的体验。",
    "environment": "您好，感谢您指出门店环境的问题！{store}已安排加强清洁和巡查，座位和卫生我们会持续改进，欢迎您监督。",
    "price": "您好，感谢您对价格的反馈！{store}会把您的意见转达总部，也欢迎关注小程序的会员活动和优惠券。",
    "delivery": "您好，非常抱歉外卖没有让您满意！{store}会检查打包封口，并和配送平台一起核查送达时效，"
                "如需补送或退款请私信我们。",
    "digital": "您好，抱歉小程序/会员使用中给您带来不便！{store}已把问题反馈给技术同事排查，"
               "如积分或订单有误请私信我们，我们会尽快为您处理。",
    "default": "您好，非常抱歉给您带来不好的体验！{store}已收到您的反馈，会认真改进，期待您再次光临。",
}


class RepliesConfig(_Strict):
    """The reply workflow: draft templates per touchpoint and the reply deadline."""

    within_hours: int = Field(24, ge=1, description="reply to a negative review within this long (回复及时率)")
    templates: dict[str, str] = Field(default_factory=dict,
                                      description="touchpoint (or default) -> template with {store} and {product}; "
                                                  "missing keys use the shipped defaults")

    @field_validator("templates")
    @classmethod
    def _templates(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [k for k in value if k not in (*TOUCHPOINT_KEYS, "default")]
        if unknown:
            raise ValueError(f"unknown touchpoints {unknown}; choose from {[*TOUCHPOINT_KEYS, 'default']}")
        for key, text in value.items():
            try:
                text.format(store="", product="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"templates.{key}: only {{store}} and {{product}} can be filled in ({exc})") from exc
        return value

    def all_templates(self) -> dict[str, str]:
        """The shipped defaults overridden by the catalog's templates."""
        return {**DEFAULT_REPLY_TEMPLATES, **self.templates}


class PrivacyConfig(_Strict):
    """Who sees personal data: the dashboard roles shown author names unmasked (pages and exports)."""

    see_authors: list[Literal["admin", "marketing", "manager"]] = Field(
        default_factory=lambda: ["admin"], description="roles that see author names; everyone else sees 张***")


class RetentionConfig(_Strict):
    """How long raw text is kept: ``tingfeng db prune`` blanks text, title, author and link of
    mentions published more than ``raw_text_days`` ago (scores, rollups and alerts stay)."""

    raw_text_days: Optional[int] = Field(None, ge=1, description="days raw text is kept; unset keeps it forever")


_NOT_IN_A_TERM = re.compile(r"[,.!?;:，。！？；：、…\s]")


class VocabularyConfig(_Strict):
    """The chain's own words, added to the shipped lists of ``nlp/data`` (``nlp.vocabulary``)."""

    urgent: list[str] = Field([], description="more urgent terms (food safety, escalation)")
    urgent_exclude: list[str] = Field([], description="harmless phrases that contain an urgent term")
    stopwords: list[str] = Field([], description="words never shown as complaint keywords")
    touchpoints: dict[str, list[str]] = Field({}, description="touchpoint -> more words that put a clause in it")

    @field_validator("urgent", "urgent_exclude", "stopwords")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        for i, word in enumerate(value):
            _check_word(i, word)
        return value

    @field_validator("touchpoints")
    @classmethod
    def _touchpoints(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = [k for k in value if k not in TOUCHPOINT_KEYS]
        if unknown:
            raise ValueError(f"unknown touchpoints {unknown}; choose from {list(TOUCHPOINT_KEYS)}")
        for key, words in value.items():
            for i, word in enumerate(words):
                try:
                    _check_word(i, word)
                except ValueError as exc:
                    raise ValueError(f"{key}{exc}") from exc
        return value

    def conflicts(self) -> list[str]:
        """Stop words that are also urgent or touchpoint words (a stop word hides a complaint)."""
        from nlp.vocabulary import shipped

        vocab = shipped().extended(self.model_dump())
        words = set(vocab.urgent.terms) | {w for _, ws in vocab.touchpoints for w in ws}
        return [f"vocabulary.stopwords[{i}]: {w!r} is an urgent or touchpoint word; a stop word would hide it"
                for i, w in enumerate(self.stopwords) if w.strip() in words]


def _check_word(i: int, word: str) -> None:
    if not word.strip():
        raise ValueError(f"[{i}]: empty word")
    if _NOT_IN_A_TERM.search(word.strip()):
        raise ValueError(f"[{i}]: {word!r} has punctuation or a space; texts are matched clause by clause, "
                         "so it could never match")


class PromotionConfig(_Strict):
    """A promotion marketing has planned (团购、节日活动、新品首发): its hours are left out of
    the stores' norms, and during it the detector expects the promotion's extra volume, so
    a busy promotion is not a spike and a real one inside it is still caught."""

    name: str = ""
    stores: list[str] = Field([], description="the stores it runs in; empty: every store")
    start: datetime | date = Field(description="a date (from its first hour) or a local date and time")
    end: datetime | date = Field(description="a date (through that whole day) or a local date and time (until then)")

    @model_validator(mode="after")
    def _ordered(self) -> "PromotionConfig":
        start, end = promotion_hours(self, "UTC")
        if end <= start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self


def promotion_hours(promo: PromotionConfig, tz: str) -> tuple[datetime, datetime]:
    """The promotion's UTC start and (exclusive) end: dates are whole local days, a date
    ``end`` included; times without an offset are local to the catalog's ``tz``."""
    zone = ZoneInfo(tz)

    def instant(value: datetime | date, day_after: bool) -> datetime:
        if not isinstance(value, datetime):
            value = datetime.combine(value + timedelta(days=1) if day_after else value, time())
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(ZoneInfo("UTC"))

    return instant(promo.start, False), instant(promo.end, True)


class ScheduleConfig(_Strict):
    """When the processing jobs run (cron, catalog time zone)."""

    process: str = Field("*/5 * * * *", description="score → rollups → detect → enqueue")
    deliver: str = Field("* * * * *", description="send what is in the outbox")
    digest: str = Field("0 9 * * mon", description="the weekly digest")
    prune: str = Field("30 3 * * *", description="remove raw text past [retention] raw_text_days")

    @field_validator("process", "deliver", "digest", "prune")
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
    replies: RepliesConfig = RepliesConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    retention: RetentionConfig = RetentionConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    vocabulary: VocabularyConfig = VocabularyConfig()
    promotions: list[PromotionConfig] = []

    def own_brands(self) -> list[BrandConfig]:
        """The chain's own brands (competitors are watched, never the default of a store or source)."""
        return [b for b in self.brands if b.type == "own"]

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
    single_brand = len(cat.own_brands()) <= 1  # none: the missing section is reported on its own

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
    for i, promo in enumerate(cat.promotions):
        for j, s in enumerate(promo.stores):
            ref(f"promotions[{i}].stores[{j}]", s, stores, "store")
    return problems


def recipient_channel_problems(cat: Catalog, environ: Mapping[str, str]) -> list[str]:
    """Chat channels that would deliver nothing in this environment: an unknown channel, no
    address, or an ``*_env`` field naming an unset variable (``check-config`` fails on them)."""
    from alerts.outbox import KNOWN_CHANNELS
    from alerts.routing import channel_problems

    problems = []
    for i, rec in enumerate(cat.recipients):
        for name, config in sorted(rec.channels.items()):
            if name == "email":
                problems.append(f"recipients[{i}].channels.email ({rec.name}): email goes to the recipient's "
                                "`email` field, not a channel")
                continue
            for problem in channel_problems(name, config, environ, KNOWN_CHANNELS):
                problems.append(f"recipients[{i}].channels.{name} ({rec.name}): {problem}")
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


_SECTIONS: tuple[tuple[str, type[_Strict]], ...] = (
    ("brands", BrandConfig), ("regions", RegionConfig), ("stores", StoreConfig), ("products", ProductConfig),
    ("sources", SourceConfig), ("recipients", RecipientConfig), ("promotions", PromotionConfig))
_WITHOUT_ID = ("recipients", "promotions")


def _checks_of_the_rest(raw: dict[str, Any]) -> list[str]:
    """Cross-reference and plug-in problems of a catalog that failed validation, so one
    round of ``check-config`` lists everything: each entry is taken on its own, and one
    that is invalid still counts with its fields (ignoring the bad ones) — a store with
    a typo is not also reported as an unknown store wherever it is used."""
    sections: dict[str, list[Any]] = {}
    for name, model in _SECTIONS:
        entries = raw.get(name)
        kept: list[Any] = []
        for entry in entries if isinstance(entries, list) else []:
            try:
                kept.append(model.model_validate(entry))
            except ValidationError:
                if isinstance(entry, dict) and (isinstance(entry.get("id"), str) or name in _WITHOUT_ID):
                    kept.append(model.model_construct(**{k: v for k, v in entry.items() if k in model.model_fields}))
        sections[name] = kept
    alerts = raw.get("alerts") if isinstance(raw.get("alerts"), dict) else {}
    try:
        return _cross_check(Catalog.model_construct(**sections, alerts=alerts)) + \
            _plugin_checks(Catalog.model_construct(**sections, alerts=alerts))
    except (AttributeError, TypeError, ValueError):  # an entry too broken to look into: its own errors say so
        return []


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
        problems += [p for p in _checks_of_the_rest(raw) if p not in problems]
        raise CatalogError(file, [_with_line(p, text) for p in problems]) from exc
    problems = _cross_check(cat) + _plugin_checks(cat) + cat.vocabulary.conflicts()
    if problems:
        raise CatalogError(file, [_with_line(p, text) for p in problems])
    return cat


_QUOTED = re.compile(r"'([^']+)'")


def _with_line(problem: str, text: str) -> str:
    """``problem`` with the line of the file holding the word it quotes (vocabulary words
    only: elsewhere the key path says where)."""
    m = _QUOTED.search(problem)
    if not problem.startswith("vocabulary") or not m:
        return problem
    for n, line in enumerate(text.splitlines(), 1):
        if f'"{m.group(1)}"' in line or f"'{m.group(1)}'" in line:
            return f"line {n}: {problem}"
    return problem


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
    own = cat.own_brands()
    default_brand = own[0].id if len(own) == 1 else None
    rows: dict[type, list[Any]] = {
        Brand: [Brand(id=b.id, name=b.name, aliases=b.aliases, exclude=b.exclude,
                      kind=None if b.type == "own" else b.type) for b in cat.brands],
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
        store_names = {s.id: s.name for s in cat.stores}
        for src in cat.sources:
            row = existing_sources.pop(src.id, None) or Source(id=src.id, type=src.type)
            row.name = src.name or default_source_name(src.type, src.platform, store_names.get(src.store or ""))
            row.type, row.platform, row.schedule, row.enabled = src.type, src.platform, src.schedule, src.enabled
            row.brand_id = src.brand or default_brand
            row.store_id, row.product_id, row.options = src.store, src.product, src.options
            session.add(row)
        for orphan in existing_sources.values():
            orphan.enabled = False
            session.add(orphan)
        for key, value in _dashboard_settings(cat).items():
            session.merge(CatalogSetting(key=key, value=value))


def _dashboard_settings(cat: Catalog) -> dict[str, dict[str, Any]]:
    """The catalog sections the dashboard reads from the database (it never reads the TOML)."""
    from alerts.policy import AlertPolicy

    policy = AlertPolicy.model_validate({"timezone": cat.timezone, **cat.alerts})
    return {
        "handling": {"acknowledge_minutes": policy.escalate_after_minutes,
                     "resolve_hours": policy.resolve_within_hours, "reply_hours": cat.replies.within_hours},
        "reply_templates": cat.replies.all_templates(),
        "privacy": {"see_authors": list(cat.privacy.see_authors)},
        "vocabulary": cat.vocabulary.model_dump(),  # nlp.vocabulary.SETTING_KEY
        PROMOTIONS_KEY: promotions_setting(
            PlannedPromotion(p.name, tuple(p.stores), *promotion_hours(p, cat.timezone)) for p in cat.promotions),
    }
