"""Source health: failure counting, staleness against the source's own rhythm, and
exactly one ``source_health`` Alert per incident, resolved when the source recovers.

The decisions are pure functions; :func:`apply_health` writes Source and Alert rows.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage.models import Alert, CollectorRun, Mention, Source
from storage.source_names import default_source_name

FAILURE_STATUSES = frozenset({"failed", "blocked"})
MIN_STALE = timedelta(hours=24)
STALE_FACTOR = 5
RHYTHM_SAMPLE = 20
RHYTHM_MIN_ITEMS = 5


def stale_threshold(published: list[datetime], override_hours: float | None = None) -> timedelta | None:
    """How long without a new item is "much longer than normal": the override, else
    max(24 h, 5 × the median gap between the latest items); None when too few items
    to know the rhythm."""
    if override_hours is not None:
        return timedelta(hours=override_hours)
    if len(published) < RHYTHM_MIN_ITEMS:
        return None
    ordered = sorted(published)[-RHYTHM_SAMPLE:]
    gaps = [(b - a).total_seconds() for a, b in zip(ordered, ordered[1:])]
    return max(MIN_STALE, timedelta(seconds=STALE_FACTOR * statistics.median(gaps)))


def decide_health(previous: str, status: str, failures: int, max_failures: int, stale: bool) -> str:
    """The new ``Source.health``: blocked | failing | stale | ok."""
    if status == "blocked":
        return "blocked"
    if status in FAILURE_STATUSES:
        if failures >= max_failures:
            return "failing"
        return previous if previous in ("blocked", "failing") else "ok"
    return "stale" if stale else "ok"


def apply_health(session: Session, source: Source, run: CollectorRun, *, now: datetime,
                 max_failures: int = 3, stale_after_hours: float | None = None) -> None:
    """Update the source's counters and health after ``run`` and open / update /
    resolve its single source_health alert."""
    source.last_run_at = now
    if run.status in FAILURE_STATUSES:
        source.consecutive_failures += 1
        stale = False
    else:
        source.consecutive_failures = 0
        source.last_success_at = now
        if run.items_new:
            source.last_new_item_at = now
        stale = _is_stale(session, source, now, stale_after_hours)
    source.health = decide_health(source.health, run.status, source.consecutive_failures, max_failures, stale)
    session.add(source)
    alert = session.exec(
        select(Alert).where(Alert.incident_key == f"source:{source.id}", Alert.status != "resolved")
        .order_by(Alert.id)
    ).first()
    if source.health == "ok":
        if alert is not None:
            alert.status = "resolved"
            alert.resolved_at = now
            alert.updated_at = now
            alert.resolved_by = "collector"
            alert.note = f"source recovered in run {run.id}"
            session.add(alert)
        return
    title, reason = _describe(source, run, now)
    evidence = {
        "health": source.health,
        "run_id": run.id,
        "run_status": run.status,
        "http_status": run.http_status,
        "consecutive_failures": source.consecutive_failures,
        "errors": list(run.errors[-5:]),
        "last_success_at": source.last_success_at.isoformat() if source.last_success_at else None,
        "last_new_item_at": source.last_new_item_at.isoformat() if source.last_new_item_at else None,
        "platform": source.platform,
    }
    if alert is None:
        alert = Alert(kind="source_health", scope_type="source", scope_id=source.id,
                      incident_key=f"source:{source.id}", severity="warning", status="open",
                      title=title, reason=reason, opened_at=now, updated_at=now, evidence=evidence)
    else:
        alert.title, alert.reason, alert.evidence, alert.updated_at = title, reason, evidence, now
    session.add(alert)


def _describe(source: Source, run: CollectorRun, now: datetime) -> tuple[str, str]:
    last_error = run.errors[-1] if run.errors else ""
    shown = source.name or default_source_name(source.type, source.platform)  # the id stays in the reason
    if source.health == "blocked":
        return (f"数据源被拦截/需要登录: {shown}",
                f"source {source.id} returned a block page or login wall (HTTP {run.http_status}): {last_error}")
    if source.health == "failing":
        return (f"数据源连续失败 {source.consecutive_failures} 次: {shown}",
                f"source {source.id} failed {source.consecutive_failures} runs in a row: {last_error}")
    since = source.last_new_item_at
    hours = (now - since).total_seconds() / 3600 if since else 0
    return (f"数据源长时间无新内容: {shown}",
            f"source {source.id} has had no new item for {hours:.0f} h, much longer than its usual rhythm")


def _is_stale(session: Session, source: Source, now: datetime, override_hours: float | None) -> bool:
    published = list(session.exec(
        select(Mention.published_at).where(Mention.source_id == source.id)
        .order_by(Mention.published_at.desc()).limit(RHYTHM_SAMPLE)
    ).all())
    threshold = stale_threshold(published, override_hours)
    if threshold is None:
        return False
    reference = source.last_new_item_at or (max(published) if published else None)
    return reference is not None and now - reference > threshold
