"""The jobs: one function per stage, each reading its input from the database and
writing its output there, idempotent and safe to re-run.

The same functions serve the CLI (run once), the embedded APScheduler process and the
distributed workers; a :class:`Context` carries the settings, the database and the
validated catalog, built once per process.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Callable

from storage import Database, job_runs
from storage.models import Source, utcnow
from storage.scheduler_lock import Holder
from tingfeng.catalog import Catalog, load_catalog, sync_catalog
from tingfeng.settings import Settings

log = logging.getLogger("tingfeng.jobs")


@dataclass
class Context:
    """Everything a job needs, built once and passed down."""

    settings: Settings
    db: Database
    catalog: Catalog
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def from_settings(cls, settings: Settings, *, sync: bool = True) -> "Context":
        """Load the catalog, check the schema, and (by default) sync the catalog in."""
        catalog = load_catalog(settings.catalog)
        db = Database(settings.db_url)
        db.require_migrated()
        ctx = cls(settings=settings, db=db, catalog=catalog)
        if sync:
            sync_catalog(db, catalog)
        return ctx

    @cached_property
    def policy(self) -> Any:
        """The alert policy from the catalog's ``[alerts]`` table."""
        from alerts.policy import AlertPolicy

        return AlertPolicy.model_validate({"timezone": self.catalog.timezone, **self.catalog.alerts})

    @cached_property
    def http(self) -> Any:
        """Polite HTTP defaults for collectors."""
        from collectors.http import HttpSettings

        s = self.settings
        return HttpSettings(
            user_agent=s.http_user_agent,
            per_host_concurrency=s.http_per_host_concurrency,
            min_delay_per_host=s.http_min_delay,
            respect_robots=s.respect_robots,
        )

    @cached_property
    def channels(self) -> Any:
        """Delivery channel settings (SMTP and chat webhooks)."""
        from alerts.channels.base import ChannelSettings

        s = self.settings
        return ChannelSettings(
            smtp_host=s.smtp_host,
            smtp_port=s.smtp_port,
            smtp_user=s.smtp_user,
            smtp_password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            smtp_starttls=s.smtp_starttls,
            smtp_ssl=s.smtp_ssl,
            smtp_from=s.smtp_from,
            smtp_timeout=s.smtp_timeout,
        )

    @cached_property
    def signing_key(self) -> Any:
        """The key that signs action links (``storage.signing_key.SigningKey``), resolved once."""
        return self.settings.signing_key()

    @cached_property
    def links(self) -> Any:
        """How alert emails link back to the dashboard (signed action links)."""
        from alerts.outbox import LinkSettings

        return LinkSettings(
            dashboard_url=self.settings.dashboard_url,
            secret_key=self.signing_key.value,
        )

    @cached_property
    def model(self) -> Any:
        """The sentiment model in force (the promoted one, see ``nlp.registry``; lazy: loading costs time).

        Recorded in the model registry on first use, so the dashboard can show its figures.
        """
        from nlp.registry import current_model, ensure_registered

        model = current_model(self.db, self.settings.sentiment_model)
        ensure_registered(self.db, model)
        return model


def _logged(name: str, fn: Callable[[], Any], ctx: Context, **detail: Any) -> Any:
    """Run ``fn`` as job ``name``, recording a JobRun row (kept alive by heartbeats) and a log line.

    Starting the run closes the rows earlier runs of ``name`` left ``running`` when their
    process died (``storage.job_runs``); the heartbeat period and staleness are the
    scheduler lock's.
    """
    me, s = Holder.this_process(), ctx.settings
    run, closed = job_runs.start(ctx.db, name, host=me.host, pid=me.pid, now=utcnow(), detail=detail,
                                 stale_after=timedelta(seconds=s.scheduler_lock_ttl_seconds))
    for dead in closed:
        log.warning("job %s: run %s (started %s) marked failed: %s", name, dead.id,
                    dead.started_at.isoformat(timespec="seconds"), dead.detail["error"])
    t0 = time.perf_counter()
    try:
        with job_runs.Heartbeat(ctx.db, run.id, s.scheduler_heartbeat_seconds):
            result = fn()
    except Exception as exc:
        job_runs.finish(ctx.db, run, "failed", now=utcnow(), error=f"{type(exc).__name__}: {exc}")
        log.exception("job %s failed", name)
        raise
    job_runs.finish(ctx.db, run, "ok", now=utcnow(), result=_summary(result), seconds=round(time.perf_counter() - t0, 3))
    log.info("job %s ok in %.2fs: %s", name, time.perf_counter() - t0, _summary(result))
    return result


def _summary(result: Any) -> Any:
    if result is None or isinstance(result, (int, float, str, bool)):
        return result
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json")
    if isinstance(result, dict):
        return {k: v for k, v in result.items() if isinstance(v, (int, float, str, bool, type(None)))}
    if hasattr(result, "__dict__"):
        return {k: v for k, v in vars(result).items() if isinstance(v, (int, float, str, bool, type(None)))}
    return str(result)


def collect(ctx: Context, source_id: str) -> Any:
    """Fetch one source (incrementally) into ``mentions``."""
    from collectors.run import collect_source

    return _logged(
        "collect", lambda: collect_source(ctx.db, source_id, http=ctx.http, now=ctx.clock()), ctx, source=source_id
    )


def enabled_sources(ctx: Context) -> list[Source]:
    """Sources that are switched on in the catalog."""
    from sqlmodel import select

    with ctx.db.session() as session:
        return list(session.exec(select(Source).where(Source.enabled == True).order_by(Source.id)))  # noqa: E712


def collect_all(ctx: Context) -> dict[str, Any]:
    """Collect every enabled source once; one failing source does not stop the others."""
    results: dict[str, Any] = {}
    for source in enabled_sources(ctx):
        try:
            results[source.id] = collect(ctx, source.id)
        except Exception as exc:  # logged by _logged; the run goes on with the next source
            results[source.id] = exc
    return results


def score_pending(ctx: Context, limit: int | None = None) -> int:
    """Score mentions that have no analysis yet (at most ``limit``; all when None)."""
    from nlp.pipeline import score_pending as run

    return _logged("score_pending", lambda: run(ctx.db, model=ctx.model, now=ctx.clock(), limit=limit), ctx)


def update_rollups(ctx: Context) -> int:
    """Recompute the hourly/daily rollups of every day that changed; returns rows written."""
    from alerts.rollups import update_rollups as run

    return _logged("update_rollups", lambda: run(ctx.db, tz=ctx.catalog.timezone), ctx)


def detect_alerts(ctx: Context) -> Any:
    """Open, update and resolve alerts from the rollups and urgent mentions."""
    from alerts.detect import detect_alerts as run

    return _logged("detect_alerts", lambda: run(ctx.db, ctx.policy, now=ctx.clock()), ctx)


def enqueue_notifications(ctx: Context) -> int:
    """Write a notification per recipient and channel for alerts not yet pushed."""
    from alerts.outbox import enqueue_alert_notifications

    return _logged(
        "enqueue_notifications",
        lambda: enqueue_alert_notifications(ctx.db, ctx.policy, links=ctx.links, now=ctx.clock()),
        ctx,
    )


def deliver_notifications(ctx: Context) -> Any:
    """Send what is due in the outbox, with retries."""
    from alerts.outbox import deliver_notifications as run

    return _logged("deliver_notifications", lambda: run(ctx.db, ctx.channels, now=ctx.clock()), ctx)


def digest_settings(ctx: Context) -> Any:
    """The digest's settings: dashboard links, time zone and the catalog's handling deadlines."""
    from alerts.digest import DigestSettings

    return DigestSettings(links=ctx.links, timezone=ctx.catalog.timezone,
                          acknowledge_minutes=ctx.policy.escalate_after_minutes,
                          resolve_hours=ctx.policy.resolve_within_hours, reply_hours=ctx.catalog.replies.within_hours)


def send_weekly_digest(ctx: Context, week: str | None = None) -> Any:
    """Queue the weekly digest for every recipient (once per recipient and week)."""
    from alerts.digest import send_weekly_digest as run

    settings = digest_settings(ctx)
    return _logged("send_weekly_digest", lambda: run(ctx.db, settings, week=week, now=ctx.clock()), ctx, week=week)


def prune_raw_text(ctx: Context, days: int | None = None, *, dry_run: bool = False) -> Any:
    """Remove raw text past ``days`` (default ``[retention] raw_text_days``); None when retention is off."""
    from storage.retention import prune_raw_text as run

    days = days or ctx.catalog.retention.raw_text_days
    if days is None:
        return None
    return _logged("prune_raw_text", lambda: run(ctx.db, days, dry_run=dry_run, now=ctx.clock()), ctx,
                   days=days, dry_run=dry_run)


def process(ctx: Context) -> dict[str, Any]:
    """The processing chain after collection: score → rollups → detect → enqueue."""
    return {
        "scored": score_pending(ctx),
        "rollup_rows": update_rollups(ctx),
        "detect": detect_alerts(ctx),
        "queued": enqueue_notifications(ctx),
    }
