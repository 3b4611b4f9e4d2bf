"""What a source type implements and what it is given.

A collector is a class with a ``type`` name, an ``Options`` pydantic model (validated
from ``Source.options``) and an async ``collect(ctx, options)`` that fetches, parses
with pure functions and hands each page of :class:`Item` to ``ctx.emit``. The context
(:class:`collectors.run.RunContext`) filters, dedups, stores, counts and keeps state,
so a collector never touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from storage.types import ZoneName

from collectors.http import PoliteClient, Response


@dataclass
class Item:
    """One mention as parsed, before storage. ``published_at`` is UTC-aware."""

    external_id: str
    text: str
    published_at: datetime
    kind: str = "post"
    url: str | None = None
    author: str | None = None
    title: str | None = None
    rating: float | None = None
    likes: int | None = None
    brand_hint: str | None = None
    store_hint: str | None = None
    product_hint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # (repost hash, long enough to link) of ``text`` when computed ahead of storing
    # (``collectors.store.fingerprint``: the file import does it in its parsing thread)
    fingerprint: tuple[str, bool] | None = field(default=None, repr=False, compare=False)


@dataclass
class ParsedPage:
    """The result of parsing one page / file chunk: good items, one error line per
    skipped bad item, and the next page's URL or cursor if the page gives one."""

    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    next: str | None = None


@dataclass
class EmitResult:
    """What storing one page did."""

    seen: int = 0
    new: int = 0
    duplicate: int = 0
    skipped: int = 0
    filtered: int = 0
    older_than_since: int = 0


class KeywordRules(BaseModel):
    """Brand keyword rules for generic sources (keyword searches, topic feeds).

    An item is kept when its title+text contains any ``include`` phrase (or
    ``include`` is empty) and none of the ``exclude`` phrases. With
    ``use_brand_aliases`` the bound brand's name and aliases are added to ``include``
    and its ``exclude`` phrases to ``exclude``."""

    model_config = ConfigDict(extra="forbid")
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    use_brand_aliases: bool = False


class CommonOptions(BaseModel):
    """Options every source type accepts."""

    model_config = ConfigDict(extra="forbid")
    kind: str | None = Field(None, description="post | review | comment (type default otherwise)")
    timezone: ZoneName = "Asia/Shanghai"
    keywords: KeywordRules = Field(default_factory=KeywordRules)
    since: datetime | None = Field(None, description="backfill: keep only items published at/after")
    until: datetime | None = Field(None, description="backfill: keep only items published before")
    incremental: bool = Field(True, description="stop paging at a page whose items are all stored")
    stale_after_hours: float | None = Field(None, gt=0, description="override of the learnt rhythm")
    max_consecutive_failures: int = Field(3, ge=1)


class HttpOptions(CommonOptions):
    """Options every HTTP source type accepts."""

    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    headers_env: dict[str, str] = Field(
        default_factory=dict, description="header name -> environment variable holding its value")
    params: dict[str, str] = Field(default_factory=dict)
    params_env: dict[str, str] = Field(default_factory=dict)
    robots: bool = Field(True, description="respect robots.txt (HttpSettings.respect_robots must also be on)")
    block_markers: list[str] = Field(
        default_factory=lambda: ["captcha", "验证码", "安全验证", "请登录", "登录后查看", "访问异常", "verify you are human"],
        description="text on a page with no items that means a block / login wall")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class Context(Protocol):
    """What a collector may use during a run (implemented by ``collectors.run.RunContext``)."""

    now: datetime
    tz: tzinfo
    state: dict[str, Any]
    http: PoliteClient

    async def fetch(self, url: str, options: HttpOptions, *, conditional: bool = False,
                    params: dict[str, Any] | None = None) -> Response:
        """GET with the source's headers/params/robots; conditional uses stored validators."""

    def emit(self, page: ParsedPage, *, ref: str, state: dict[str, Any] | None = None) -> EmitResult:
        """Filter, dedup and store ``page``; ``state`` keys are saved in the same transaction."""

    def known(self, external_ids: list[str]) -> set[str]:
        """Which of these external ids are already stored for this source."""

    def stored_urls(self, external_ids: list[str]) -> dict[str, str]:
        """external id -> URL of the mentions of this source stored with these ids and a URL."""

    def should_stop(self, result: EmitResult) -> bool:
        """True when paging further cannot find anything new (incremental / since)."""

    def log_error(self, message: str) -> None:
        """Record a problem in CollectorRun.errors without failing the run."""

    def not_modified(self) -> None:
        """Mark the run as answered 304 Not Modified."""


class Collector(Protocol):
    """A source type: one module under ``collectors/sources``."""

    type: ClassVar[str]
    Options: ClassVar[type[CommonOptions]]

    async def collect(self, ctx: Context, options: Any) -> None:
        """Fetch everything new for one source and pass it page by page to ``ctx.emit``."""
