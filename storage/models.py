"""SQLModel tables: the one schema every stage reads from and writes to.

The flow is ``sources → collector_runs/mentions → mention_analysis/mention_touchpoints
→ rollups → alerts → notifications``; each stage finds its input by a state column
(a ``score_queue`` row, a dirty rollup day, a pending notification) so any stage can be
re-run and a crash loses nothing.

All timestamps are stored as UTC-aware datetimes (``UtcDateTime``): SQLite has no
time-zone type, so naive values coming back are re-tagged as UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, SQLModel


class UtcDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(timezone.utc)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable, index=index))


def _json(default: Any) -> Any:
    factory = (lambda: list(default)) if isinstance(default, list) else (lambda: dict(default))
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


# --------------------------------------------------------------------------- catalog
# Synced from tingfeng.toml by ``tingfeng sync`` (and every job start): the TOML is the
# source of truth, these rows let every stage and the dashboard read it from the DB.


class Brand(SQLModel, table=True):
    __tablename__ = "brands"
    id: str = Field(primary_key=True)
    name: str
    aliases: list[str] = _json([])
    exclude: list[str] = _json([])  # phrases that stop a false brand match ("一点点甜")
    kind: Optional[str] = None  # own (None means own) | competitor: watched for the benchmark only


class Region(SQLModel, table=True):
    __tablename__ = "regions"
    id: str = Field(primary_key=True)
    name: str
    brand_id: Optional[str] = Field(default=None)


class Store(SQLModel, table=True):
    __tablename__ = "stores"
    id: str = Field(primary_key=True)
    brand_id: str = Field(index=True)
    name: str
    city: str = ""
    district: str = ""
    address: str = ""
    region_id: Optional[str] = Field(default=None, index=True)
    aliases: list[str] = _json([])
    platform_ids: dict[str, str] = _json({})  # platform -> shop id on that platform
    opened_on: Optional[date] = None


class Product(SQLModel, table=True):
    __tablename__ = "products"
    id: str = Field(primary_key=True)
    brand_id: str = Field(index=True)
    name: str
    category: str = ""
    aliases: list[str] = _json([])
    launched_on: Optional[date] = None


class Recipient(SQLModel, table=True):
    """Who hears about what: scope is brand ids, region ids and/or store ids."""

    __tablename__ = "recipients"
    id: str = Field(primary_key=True)  # slug of the name
    name: str
    role: str = "manager"  # admin | marketing | hq | area_manager | manager
    email: Optional[str] = None
    channels: dict[str, Any] = _json({})  # {"wecom": {"url":...}, "dingtalk": {...}}
    brands: list[str] = _json([])
    regions: list[str] = _json([])
    stores: list[str] = _json([])
    digest: bool = True
    escalates_to: list[str] = _json([])  # recipient ids
    push_warnings: Optional[bool] = Field(default=False, nullable=True)  # warnings are pushed only on opt-in


class Source(SQLModel, table=True):
    """A configured source plus the state the collector keeps between runs."""

    __tablename__ = "sources"
    id: str = Field(primary_key=True)
    type: str  # registry key: feed | html | json | file | mediacrawler | ...
    name: Optional[str] = None  # display name (catalog ``name`` or storage.source_names' default)
    platform: str = ""  # dianping | weibo | xhs | ... (display and rollups)
    schedule: str = "*/30 * * * *"  # cron, in the catalog's time zone
    enabled: bool = True
    brand_id: Optional[str] = None
    store_id: Optional[str] = None  # a source bound to a store wins when linking
    product_id: Optional[str] = None
    options: dict[str, Any] = _json({})  # type-specific, validated by the collector
    # collector state
    state: dict[str, Any] = _json({})  # etag, last_modified, cursor, seen files ...
    consecutive_failures: int = 0
    last_run_at: Optional[datetime] = _ts()
    last_success_at: Optional[datetime] = _ts()
    last_new_item_at: Optional[datetime] = _ts()
    health: str = "ok"  # ok | failing | blocked | stale


class CollectorRun(SQLModel, table=True):
    __tablename__ = "collector_runs"
    id: Optional[int] = Field(default=None, primary_key=True)
    source_id: str = Field(index=True)
    started_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    finished_at: Optional[datetime] = _ts()
    status: str = "running"  # running | ok | partial | failed | blocked | not_modified
    http_status: Optional[int] = None
    pages: int = 0
    items_seen: int = 0
    items_new: int = 0
    items_duplicate: int = 0
    items_skipped: int = 0
    errors: list[str] = _json([])


class Mention(SQLModel, table=True):
    """One raw post / review / comment as collected. Never modified by later stages, except
    retention (``storage.retention``): past ``[retention] raw_text_days`` its text, title,
    author and extras are blanked and ``pruned_at`` set; its analysis and counts stay."""

    __tablename__ = "mentions"
    __table_args__ = (
        sa.UniqueConstraint("source_id", "external_id", name="uq_mentions_source_external"),
        sa.Index("ix_mentions_published", "published_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    source_id: str  # searched through uq_mentions_source_external, which starts with it
    external_id: str
    platform: str = ""
    kind: str = "post"  # post | review | comment
    url: Optional[str] = None
    author: Optional[str] = None
    title: Optional[str] = None
    text: str
    rating: Optional[float] = None  # 0–5 stars when the platform has them
    published_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    collected_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # hints from the source (bound ids, a shop id or store name on the page)
    brand_hint: Optional[str] = None
    store_hint: Optional[str] = None
    product_hint: Optional[str] = None
    likes: Optional[int] = None
    content_hash: str = Field(index=True)  # sha1 of normalised text: links reposts
    # first mention with that hash; read with its row, never searched by (so no index)
    duplicate_of: Optional[int] = None
    extra: dict[str, Any] = _json({})
    pruned_at: Optional[datetime] = _ts()  # when retention removed the raw text (None: kept)


class ScoreQueue(SQLModel, table=True):
    """A mention the scoring stage has not analysed yet: the pending-work index.

    Filled by database triggers (migration 0002): every insert into ``mentions`` adds a
    row, so no writer can forget it, and deleting a mention removes its row. The scoring
    stage deletes a row in the transaction that writes the mention's analysis. Claiming
    work is then a walk of this small table, not an anti-join of ``mentions`` against
    ``mention_analysis``, whose cost grew with everything ever scored
    (docs/benchmarks.md, "Scale-out"). No foreign key: the triggers keep the two
    tables consistent, and a key check per stored mention slowed bulk imports.
    """

    __tablename__ = "score_queue"
    mention_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class MentionAnalysis(SQLModel, table=True):
    """NLP output for one mention (pending ones are listed in ``score_queue``)."""

    __tablename__ = "mention_analysis"
    __table_args__ = (
        sa.Index("ix_analysis_store_time", "store_id", "published_at"),
        sa.Index("ix_analysis_product_time", "product_id", "published_at"),
        sa.Index("ix_analysis_time", "published_at"),
        # covers the dashboard's filters that no rollup answers (platform × brand/store …)
        sa.Index("ix_analysis_time_cover", "published_at", "counted", "platform", "brand_id", "store_id",
                 "product_id", "label", "urgent", "score"),
    )
    mention_id: int = Field(primary_key=True, foreign_key="mentions.id")
    # denormalised from the mention so rollups and the dashboard need no join
    published_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    platform: str = ""
    brand_id: Optional[str] = None
    region_id: Optional[str] = None
    store_id: Optional[str] = None
    product_id: Optional[str] = None
    link_confidence: float = 0.0
    links: list[dict[str, Any]] = _json([])  # every candidate: {type, id, confidence, via}
    model: str
    model_version: str
    score: float  # probability of positive, 0–1
    label: str  # positive | neutral | negative
    urgent: bool = False
    urgent_terms: list[str] = _json([])
    keywords: list[str] = _json([])
    counted: bool = True  # False for a near-duplicate repost (linked, not double counted)
    scored_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class MentionTouchpoint(SQLModel, table=True):
    __tablename__ = "mention_touchpoints"
    __table_args__ = (sa.Index("ix_touchpoints_mention", "mention_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id")
    touchpoint: str  # product | service | environment | price | delivery | digital
    polarity: str  # positive | neutral | negative
    score: float
    evidence: str  # the clause the touchpoint was found in
    start: int = 0
    end: int = 0


class RollupDirty(SQLModel, table=True):
    """Days (UTC date) whose rollups must be recomputed: written by scoring."""

    __tablename__ = "rollup_dirty"
    day: date = Field(primary_key=True)


class Rollup(SQLModel, table=True):
    """Counts per time bucket and scope.

    ``grain`` is ``hour`` or ``day``; ``bucket`` is the bucket start in UTC (the
    ``day`` grain is cut at Asia/Shanghai midnight, stored as its UTC instant).
    ``scope_type`` is one of brand, region, store, product, store_product, touchpoint,
    store_touchpoint, platform; composite scope ids join parts with ``|``.
    """

    __tablename__ = "rollups"
    # the primary key starts with (grain, bucket): reads of one scope type over a range
    # would scan every scope type of those days without this
    __table_args__ = (
        sa.Index("ix_rollups_scope_bucket", "grain", "scope_type", "bucket", "scope_id"),
        # a year of a few stores: the id first, so the range is read per store
        sa.Index("ix_rollups_scope_id_bucket", "grain", "scope_type", "scope_id", "bucket"),
    )
    grain: str = Field(primary_key=True)
    bucket: datetime = Field(sa_column=Column(UtcDateTime(), primary_key=True))
    scope_type: str = Field(primary_key=True)
    scope_id: str = Field(primary_key=True)
    total: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    score_sum: float = 0.0
    urgent: int = 0


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (sa.Index("ix_alerts_status", "status"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str  # spike | urgent | source_health
    scope_type: str  # brand | region | store | product | store_product | ... | source
    scope_id: str
    incident_key: str = Field(index=True)  # one alert per incident
    severity: str = "warning"  # info | warning | critical
    status: str = "open"  # open | acknowledged | resolved
    title: str
    reason: str = ""
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    window_start: Optional[datetime] = _ts()
    window_end: Optional[datetime] = _ts()
    resolved_at: Optional[datetime] = _ts()
    acknowledged_at: Optional[datetime] = _ts()
    acknowledged_by: Optional[str] = None
    resolved_by: Optional[str] = None
    note: Optional[str] = None
    escalated_at: Optional[datetime] = _ts()
    notified_severity: Optional[str] = None  # highest severity already pushed
    evidence: dict[str, Any] = _json({})  # numbers, baseline, touchpoints, keywords, mention ids


class Notification(SQLModel, table=True):
    """The outbox: written before sending, sent by the delivery job, exactly once."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_status_next", "status", "next_attempt_at"),
        sa.Index("ix_notifications_rate", "channel", "address", "sent_at"),  # per-bot rate limits
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    idempotency_key: str = Field(sa_column=Column(sa.String, unique=True, nullable=False))
    channel: str  # email | wecom | dingtalk | feishu | webhook
    recipient_id: str
    address: str  # email address or webhook URL
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    payload: dict[str, Any] = _json({})  # channel-specific extras (attachments, images)
    alert_id: Optional[int] = Field(default=None, index=True)
    digest_week: Optional[str] = None
    status: str = "pending"  # pending | sending | sent | failed | dead | superseded | cancelled
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    sent_at: Optional[datetime] = _ts()
    last_error: Optional[str] = None
    provider_response: Optional[str] = None


class DigestRun(SQLModel, table=True):
    __tablename__ = "digest_runs"
    __table_args__ = (sa.UniqueConstraint("week", "recipient_id", name="uq_digest_week_recipient"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    week: str  # ISO week, 2026-W47
    recipient_id: str
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    notification_id: Optional[int] = None


class JobRun(SQLModel, table=True):
    """A log line per job execution, for ops and the Sources page."""

    __tablename__ = "job_runs"
    id: Optional[int] = Field(default=None, primary_key=True)
    job: str = Field(index=True)
    started_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    finished_at: Optional[datetime] = _ts()
    status: str = "running"  # running | ok | failed
    detail: dict[str, Any] = _json({})
    # who runs it, and when it last said so: the next run of the job closes a dead one's row
    host: Optional[str] = None
    pid: Optional[int] = None
    heartbeat_at: Optional[datetime] = _ts()


class SchedulerLock(SQLModel, table=True):
    """Which process runs the scheduler: one row per lock, kept alive by heartbeats.

    A holder that dies (SIGKILL, power loss) stops renewing; once ``expires_at`` has
    passed another runner may take the row over (see ``storage.scheduler_lock``).
    """

    __tablename__ = "scheduler_locks"
    name: str = Field(primary_key=True)
    holder_id: str  # a random id per process start: a restarted pid is a new holder
    host: str
    pid: int
    acquired_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    heartbeat_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CatalogSetting(SQLModel, table=True):
    """A catalog section the dashboard needs but cannot read from the TOML: written by sync.

    Keys: ``handling`` (the deadlines of the alert policy and the reply policy) and
    ``reply_templates`` (touchpoint -> reply draft template), ``vocabulary`` (the chain's
    urgent terms, touchpoint words and stop words added to the shipped lists).
    """

    __tablename__ = "catalog_settings"
    key: str = Field(primary_key=True)
    value: dict[str, Any] = _json({})


class MentionReply(SQLModel, table=True):
    """The reply workflow of one (negative) mention: no row means 未回复 (pending)."""

    __tablename__ = "mention_replies"
    mention_id: int = Field(primary_key=True, foreign_key="mentions.id", sa_column_kwargs={"autoincrement": False})
    status: str = "pending"  # pending | replied | not_needed
    text: Optional[str] = None  # the reply as posted (or the edited draft)
    replied_by: Optional[str] = None
    replied_at: Optional[datetime] = _ts()
    updated_by: Optional[str] = None
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class Account(SQLModel, table=True):
    """Local dashboard accounts (argon2 hashes) for teams without an identity provider."""

    __tablename__ = "accounts"
    username: str = Field(primary_key=True)
    password_hash: str
    role: str = "marketing"
    recipient_id: Optional[str] = None  # scope comes from this recipient's catalog scope


# --------------------------------------------------------------------------- model learning
# Written by ``tingfeng nlp adapt`` (the registry) and the dashboard (corrections).


class ModelRecord(SQLModel, table=True):
    """A sentiment model version known to this installation, with its measured figures.

    ``figures`` holds ``validation`` (macro-F1 per domain on the model's own validation
    split, from its artifact) and, for a candidate of ``nlp adapt``, ``cv`` (candidate
    and base macro-F1 on the held-out rated mentions). ``promoted_at`` is set on the
    version scoring uses; the latest promoted row wins. ``artifact_path`` is None for a
    model shipped with the code.
    """

    __tablename__ = "model_registry"
    __table_args__ = (sa.UniqueConstraint("name", "version", name="uq_model_registry_name_version"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    version: str
    artifact_path: Optional[str] = None
    figures: dict[str, Any] = _json({})
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    promoted_at: Optional[datetime] = _ts()


class Correction(SQLModel, table=True):
    """A marketing user's fix of a mention's sentiment or of one of its touchpoints.

    ``kind`` is ``sentiment`` (labels positive | neutral | negative) or ``touchpoint``
    (``touchpoint`` names it; labels are a polarity or ``none``: the mention is not about
    it). ``old_label`` is what was shown when corrected; ``model`` / ``model_version``
    scored it. The latest correction of a (mention, kind, touchpoint) is in force: it is
    written through to ``mention_analysis`` / ``mention_touchpoints`` and re-applied
    after every rescore (``storage.corrections``).
    """

    __tablename__ = "mention_corrections"
    __table_args__ = (sa.Index("ix_corrections_mention", "mention_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id")
    kind: str
    touchpoint: Optional[str] = None
    old_label: str
    new_label: str
    model: str
    model_version: str
    corrected_by: str
    corrected_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


# --------------------------------------------------------------------------- data protection


class AuditEvent(SQLModel, table=True):
    """Who did what and when: logins, exports, alert actions, corrections, prunes (``storage.audit``).

    ``target`` names the thing acted on (``alert:12``, ``mention:5``); ``scope`` what the
    action covered (an export's period and stores, an alert's scope); ``detail`` the rest.
    Only ever appended to.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_at", "at"), sa.Index("ix_audit_action_at", "action", "at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor: str
    action: str  # login | login_failed | logout | export | alert_acknowledge | alert_resolve | correction | prune
    target: Optional[str] = None
    scope: Optional[str] = None
    detail: dict[str, Any] = _json({})
