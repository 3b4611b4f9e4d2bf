"""Running one source: the ``collect(source)`` job.

:func:`collect_source` loads the Source, validates its options, lets its collector
fetch and parse, stores each page in one transaction together with the source state
(so a crash resumes where the last committed page left off), records a CollectorRun
and updates source health. Safe to re-run: nothing is stored twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, select

from collectors.base import CommonOptions, EmitResult, HttpOptions, Item, ParsedPage
from collectors.errors import BlockedError, CollectorError, FetchError, OptionsError, SourceNotFound
from collectors.filters import in_range, keyword_match
from collectors.health import apply_health
from collectors.http import HttpSettings, PoliteClient, Response
from collectors.registry import get_collector, option_problems
from collectors.store import PreparedRows, prepare_rows, store_rows
from storage import Database
from storage.job_runs import INTERRUPTED
from storage.models import Brand, CollectorRun, Mention, Source, utcnow

log = logging.getLogger(__name__)
MAX_ERRORS_KEPT = 200
BULK_SQLITE_CACHE_KIB = 128 * 1024  # page cache while importing a file: the indexes' hot pages stay in memory


class RunContext:
    """The :class:`collectors.base.Context` of one run of one source."""

    def __init__(self, db: Database, source: Source, run: CollectorRun, options: CommonOptions,
                 client: PoliteClient, now: datetime) -> None:
        self.db = db
        self.source = source
        self.run = run
        self.options = options
        self.http = client
        self.now = now
        self.tz = ZoneInfo(options.timezone)
        self.state: dict[str, Any] = dict(source.state or {})
        self.was_not_modified = False
        # plain copies of the binding: read once per item, ORM attribute access is slow
        self._binding = (source.brand_id, source.store_id, source.product_id)
        self._include, self._exclude = self._keyword_rules()
        self._bulk_conn: sa.Connection | None = None

    # ----------------------------------------------------------------- fetching
    async def fetch(self, url: str, options: HttpOptions, *, conditional: bool = False,
                    params: dict[str, Any] | None = None) -> Response:
        """GET through the polite client with the source's headers, env secrets and
        params; ``conditional`` sends the validators stored for this URL."""
        headers = dict(options.headers)
        headers.update(_from_env(options.headers_env, "headers_env"))
        query = {**options.params, **_from_env(options.params_env, "params_env"), **(params or {})}
        validators = self.state.get("validators", {}).get(url, {}) if conditional else {}
        try:
            response = await self.http.get(url, headers=headers, params=query or None,
                                           etag=validators.get("etag"), last_modified=validators.get("last_modified"),
                                           robots=options.robots)
        except FetchError as exc:
            self.run.http_status = exc.status
            raise
        self.run.pages += 1
        self.run.http_status = response.status
        return response

    def validators_state(self, url: str, response: Response) -> dict[str, Any]:
        """The ``state`` update that remembers ``response``'s ETag / Last-Modified for ``url``
        (pass it to :meth:`emit` so it is saved only with the items)."""
        validators = dict(self.state.get("validators", {}))
        entry = {k: v for k, v in (("etag", response.etag), ("last_modified", response.last_modified)) if v}
        if entry:
            validators[url] = entry
        else:
            validators.pop(url, None)
        return {"validators": validators}

    def not_modified(self) -> None:
        """Mark the run as answered 304 Not Modified."""
        self.was_not_modified = True

    def log_error(self, message: str) -> None:
        """Record a problem without failing the run."""
        log.warning("source %s: %s", self.source.id, message)
        if len(self.run.errors) < MAX_ERRORS_KEPT:
            self.run.errors = [*self.run.errors, message]

    # ----------------------------------------------------------------- storing
    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many :meth:`emit` calls in a row (a file import): they share one connection,
        and on SQLite that connection gets a large page cache for the duration (the
        default 2 MB cache made every insert into the million-row indexes re-read
        pages), restored afterwards so the pooled connection does not keep it."""
        if self._bulk_conn is not None:
            yield
            return
        conn = self.db.engine.connect()
        sqlite = conn.dialect.name == "sqlite"
        try:
            if sqlite:
                previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
                conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_SQLITE_CACHE_KIB}")
                conn.commit()
            self._bulk_conn = conn
            try:
                yield
            finally:
                self._bulk_conn = None
                if sqlite:
                    conn.rollback()
                    conn.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")
                    conn.commit()
        finally:
            conn.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """One transaction: on the bulk connection when inside :meth:`bulk`."""
        if self._bulk_conn is None:
            with self.db.session() as session:
                yield session
            return
        with Session(bind=self._bulk_conn, expire_on_commit=False) as session, session.begin():
            yield session  # commits on success, rolls back on error

    def screen(self, page: ParsedPage, *, ref: str) -> "ScreenedPage":
        """The part of :meth:`emit` that needs no database: log the page's errors,
        validate, filter and bind its items, and turn the kept ones into insert rows.
        A file import calls it in its parsing thread and hands the result to
        :meth:`emit` in its writer thread."""
        result = EmitResult()
        for error in page.errors:
            self.log_error(f"{ref}: {error}")
        result.skipped = len(page.errors)
        keep: list[Item] = []
        opts = self.options
        for item in page.items:
            result.seen += 1
            problem = _item_problem(item)
            if problem:
                result.skipped += 1
                self.log_error(f"{ref}: item {item.external_id or '?'} skipped: {problem}")
                continue
            if not in_range(item.published_at, opts.since, opts.until):
                result.filtered += 1
                if opts.since is not None and item.published_at < opts.since:
                    result.older_than_since += 1
                continue
            if not keyword_match(item, self._include, self._exclude):
                result.filtered += 1
                continue
            self._apply_binding(item)
            keep.append(item)
        result.seen += len(page.errors)
        rows = prepare_rows(keep, source_id=self.source.id, platform=self.source.platform, collected_at=self.now,
                            dialect=self.db.dialect)
        return ScreenedPage(result, rows)

    def emit(self, page: ParsedPage | ScreenedPage, *, ref: str, state: dict[str, Any] | None = None) -> EmitResult:
        """Validate, filter, dedup and store one page (or one already :meth:`screen`-ed);
        saves ``state`` (merged into the source state) and the run counters in the same
        transaction."""
        screened = page if isinstance(page, ScreenedPage) else self.screen(page, ref=ref)
        result = replace(screened.result)
        if state:
            self.state.update(state)
        with self._session() as session:
            result.new, result.duplicate = store_rows(session, screened.rows)
            run = self.run
            run.items_seen += result.seen
            run.items_new += result.new
            run.items_duplicate += result.duplicate
            run.items_skipped += result.skipped
            # plain UPDATEs (no ORM load/merge): this runs once per page
            if state:
                session.execute(sa.update(Source).where(Source.id == self.source.id).values(state=dict(self.state)))
            session.execute(sa.update(CollectorRun).where(CollectorRun.id == run.id).values(
                pages=run.pages, http_status=run.http_status, items_seen=run.items_seen, items_new=run.items_new,
                items_duplicate=run.items_duplicate, items_skipped=run.items_skipped, errors=list(run.errors)))
        return result

    def known(self, external_ids: list[str]) -> set[str]:
        """Which of these external ids are already stored for this source."""
        if not external_ids:
            return set()
        with self.db.session() as session:
            return set(session.exec(select(Mention.external_id).where(
                Mention.source_id == self.source.id, Mention.external_id.in_(external_ids))).all())

    def stored_urls(self, external_ids: list[str]) -> dict[str, str]:
        """external id -> URL of the mentions of this source stored with these ids and a URL."""
        if not external_ids:
            return {}
        with self.db.session() as session:
            return dict(session.exec(select(Mention.external_id, Mention.url).where(
                Mention.source_id == self.source.id, Mention.external_id.in_(external_ids),
                Mention.url.is_not(None))).all())

    def should_stop(self, result: EmitResult) -> bool:
        """Stop paging when every item of the page was already stored (incremental,
        no date range) or every dated item is older than ``since``."""
        opts = self.options
        if opts.since is not None and result.seen and result.older_than_since == result.seen - result.skipped:
            return True
        if opts.since is not None or opts.until is not None or not opts.incremental:
            return False
        return result.seen > 0 and result.new == 0 and result.duplicate > 0 and result.duplicate == result.seen - result.skipped - result.filtered

    # ----------------------------------------------------------------- helpers
    def _apply_binding(self, item: Item) -> None:
        brand_id, store_id, product_id = self._binding
        if item.store_hint and store_id and item.store_hint != store_id:
            item.extra.setdefault("page_store", item.store_hint)
        item.brand_hint = brand_id or item.brand_hint
        item.store_hint = store_id or item.store_hint
        item.product_hint = product_id or item.product_hint
        if self.options.kind:
            item.kind = self.options.kind

    def _keyword_rules(self) -> tuple[list[str], list[str]]:
        rules = self.options.keywords
        include, exclude = list(rules.include), list(rules.exclude)
        if rules.use_brand_aliases and self.source.brand_id:
            with self.db.session() as session:
                brand = session.get(Brand, self.source.brand_id)
                if brand is not None:
                    include += [brand.name, *brand.aliases]
                    exclude += list(brand.exclude)
        return include, exclude


@dataclass
class ScreenedPage:
    """A page after :meth:`RunContext.screen`: what storing it will count, and its rows."""

    result: EmitResult
    rows: PreparedRows


def _item_problem(item: Item) -> str | None:
    if not item.external_id:
        return "no id"
    if not item.text or not item.text.strip():
        return "empty text"
    if item.published_at is None or item.published_at.tzinfo is None:
        return "no time"
    return None


def _from_env(names: dict[str, str], key: str) -> dict[str, str]:
    values = {}
    for name, variable in names.items():
        value = os.environ.get(variable)
        if value is None:
            raise OptionsError([f"options.{key}.{name}: environment variable {variable} is not set"])
        values[name] = value
    return values


# --------------------------------------------------------------------------- entry points
def collect_source(db: Database, source_id: str, *, http: HttpSettings | None = None,
                   now: datetime | None = None) -> CollectorRun:
    """Run one source now (sync; runs its own event loop) and return the finished CollectorRun."""
    coro = collect_source_async(db, source_id, http=http, now=now)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # called from inside an event loop: run in a worker thread with its own loop
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def collect_many(db: Database, source_ids: Iterable[str], *, http: HttpSettings | None = None,
                 concurrency: int = 20, now: datetime | None = None) -> list[CollectorRun]:
    """Run several sources concurrently sharing one polite client (host limits hold
    across sources)."""

    async def main() -> list[CollectorRun]:
        async with PoliteClient(http) as client:
            gate = asyncio.Semaphore(concurrency)

            async def one(source_id: str) -> CollectorRun:
                async with gate:
                    return await collect_source_async(db, source_id, client=client, now=now)

            return list(await asyncio.gather(*(one(s) for s in source_ids)))

    return asyncio.run(main())


async def collect_source_async(db: Database, source_id: str, *, http: HttpSettings | None = None,
                               client: PoliteClient | None = None, now: datetime | None = None) -> CollectorRun:
    """The async form of :func:`collect_source`; ``client`` may be shared between sources."""
    clock0 = time.monotonic()
    started = now or utcnow()
    with db.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise SourceNotFound(f"no source {source_id!r}")
        for stale_run in session.exec(select(CollectorRun).where(
                CollectorRun.source_id == source_id, CollectorRun.status == "running")).all():
            stale_run.status = "failed"  # the process died during that run; its pages stay stored
            stale_run.errors = [*stale_run.errors, INTERRUPTED]
            session.add(stale_run)
        run = CollectorRun(source_id=source_id, started_at=started, status="running")
        session.add(run)
        session.flush()
        session.refresh(run)
    options: CommonOptions | None = None
    try:
        collector = get_collector(source.type)
        try:
            options = collector.Options.model_validate(source.options or {})
        except ValidationError as exc:
            raise OptionsError(option_problems(exc)) from exc
        own_client = client is None
        active = client or PoliteClient(http)
        try:
            ctx = RunContext(db, source, run, options, active, started)
            await collector.collect(ctx, options)
        finally:
            if own_client:
                await active.aclose()
        if ctx.was_not_modified and run.items_seen == 0:
            run.status = "not_modified"
        else:
            run.status = "partial" if run.items_skipped or run.errors else "ok"
    except BlockedError as exc:
        run.status = "blocked"
        _append_error(run, str(exc))
    except CollectorError as exc:
        run.status = "failed"
        _append_error(run, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a bug or an unexpected library error: record it, never crash the scheduler
        log.exception("source %s: collector crashed", source_id)
        run.status = "failed"
        _append_error(run, f"{type(exc).__name__}: {exc} | {traceback.format_exc(limit=3)[-500:]}")
    run.finished_at = utcnow() if now is None else now + timedelta(seconds=time.monotonic() - clock0)
    with db.session() as session:
        row = session.get(Source, source_id)
        run = session.merge(run)
        if row is not None:
            apply_health(session, row, run, now=run.finished_at,
                         max_failures=options.max_consecutive_failures if options else 3,
                         stale_after_hours=options.stale_after_hours if options else None)
    return run


def _append_error(run: CollectorRun, message: str) -> None:
    run.errors = [*run.errors, message][-MAX_ERRORS_KEPT:]
