"""The notification outbox: alerts become ``Notification`` rows, a delivery job sends them.

Two stage functions, both safe to re-run and to run in several processes:

- :func:`enqueue_alert_notifications` — for every unresolved alert whose severity is
  above what was already pushed (``notified_severity``), one row per (recipient,
  channel) with a deterministic ``idempotency_key`` (unique in the table), rendered once
  (email: text + HTML + chart PNG; bots: markdown); escalations for alerts left
  unacknowledged. One transaction per run.
- :func:`deliver_notifications` — claims due rows (``pending``/``failed``, or ``sending``
  whose lease expired because a sender crashed), sends them through the channel's
  notifier, marks them ``sent`` with the provider's answer, or schedules a retry with
  exponential backoff, ``dead`` after ``max_attempts`` or a permanent error. An unsent
  push of an alert whose severity has since risen is marked ``superseded`` (the higher
  one replaces it: no stale warning at 08:00 after the critical at 23:30), and one whose
  alert was resolved before it could go out (held in quiet hours, channel down) is
  ``cancelled`` — the alert stays on the dashboard and in the weekly digest — except
  urgent (food-safety) alerts, which always reach the manager; an escalation whose
  alert was acknowledged in the meantime is cancelled too. Chat bots
  are rate limited per bot URL: pending messages for one bot are merged into one
  markdown message, and what is over the limit waits for the window instead of being
  dropped.

Delivery is at-least-once: a process killed after the provider accepted a message but
before it was marked re-sends it after the lease; email then carries the same
Message-ID (derived from the idempotency key) and webhooks the same
``X-Tingfeng-Idempotency-Key``, so the duplicate is recognisable.
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlmodel import Session, select

from alerts.channels import ChannelSettings, Notifier, OutgoingMessage, make_notifiers
from alerts.channels.base import merge_markdown
from alerts.errors import ChannelError, DeliveryError, RateLimited, ServerUnreachable
from alerts.render.alert import (
    PLATFORM_LABELS, TOUCHPOINT_LABELS, MentionView, build_alert_view, local_time, mention_ids,
    render_alert_email, render_alert_markdown,
)
from alerts.render.charts import to_png, volume_chart
from alerts.render.links import LinkSettings, alert_links
from alerts.routing import (
    Catalog, Route, escalation_due, escalation_targets, named_stores, recipients_for_alert, routes_for, send_at, severity_rank,
    wants_push,
)
from storage.models import (
    Alert, Brand, Mention, MentionAnalysis, Notification, Product, Recipient, Region, Rollup, Store, utcnow,
)

log = logging.getLogger(__name__)

CLAIMABLE = ("pending", "failed", "sending")
KNOWN_CHANNELS = ("email", "wecom", "dingtalk", "feishu", "webhook")
LABELS_ZH = {"positive": "正面", "neutral": "中性", "negative": "负面"}

__all__ = ["ChannelSettings", "DeliverySummary", "LinkSettings", "deliver_notifications", "enqueue_alert_notifications"]


# ============================================================================ enqueue
def alert_key(alert_id: int, tag: str, recipient_id: str, channel: str) -> str:
    """The idempotency key of one alert push: ``alert:{id}:{severity|escalation}:{recipient}:{channel}``."""
    return f"alert:{alert_id}:{tag}:{recipient_id}:{channel}"


def load_catalog(session: Session) -> Catalog:
    """Stores, products and regions by id, for routing."""
    return Catalog(
        stores={s.id: s for s in session.exec(select(Store))},
        products={p.id: p for p in session.exec(select(Product))},
        regions={r.id: r for r in session.exec(select(Region))},
    )


def scope_name(session: Session, catalog: Catalog, scope_type: str, scope_id: str) -> str:
    """The display name of a scope (``静安寺店 × 杨枝甘露``), falling back to its id."""
    def one(kind: str, value: str) -> str:
        if kind == "store":
            return catalog.stores[value].name if value in catalog.stores else value
        if kind == "product":
            return catalog.products[value].name if value in catalog.products else value
        if kind == "region":
            return catalog.regions[value].name if value in catalog.regions else value
        if kind == "brand":
            brand = session.get(Brand, value)
            return brand.name if brand else value
        if kind == "touchpoint":
            return TOUCHPOINT_LABELS.get(value, value)
        if kind == "platform":
            return PLATFORM_LABELS.get(value, value)
        return value

    kinds = {"store_product": ("store", "product"), "store_touchpoint": ("store", "touchpoint")}.get(scope_type, (scope_type,))
    parts = scope_id.split("|")
    return " × ".join(one(k, v) for k, v in zip(kinds, parts)) if len(parts) == len(kinds) else scope_id


def representative_mentions(session: Session, alert: Alert, tz: str, limit: int = 5) -> list[MentionView]:
    """The mentions named in the evidence, else the scope's latest negative ones in the window."""
    ids = mention_ids(alert.evidence or {})[:limit]
    query = select(Mention, MentionAnalysis).join(MentionAnalysis, MentionAnalysis.mention_id == Mention.id)
    if ids:
        rows = {m.id: (m, a) for m, a in session.exec(query.where(Mention.id.in_(ids)))}
        ordered = [rows[i] for i in ids if i in rows]
    elif alert.scope_type in ("store", "store_product", "store_touchpoint", "product", "brand", "region"):
        col = {"brand": MentionAnalysis.brand_id, "region": MentionAnalysis.region_id,
               "product": MentionAnalysis.product_id}.get(alert.scope_type, MentionAnalysis.store_id)
        query = query.where(col == alert.scope_id.split("|")[0], MentionAnalysis.label == "negative")
        if alert.window_start:
            query = query.where(MentionAnalysis.published_at >= alert.window_start)
        ordered = list(session.exec(query.order_by(MentionAnalysis.published_at.desc()).limit(limit)))
    else:
        ordered = []
    return [
        MentionView(text=m.text, url=m.url, platform=PLATFORM_LABELS.get(m.platform, m.platform),
                    published=local_time(m.published_at, tz), label=LABELS_ZH.get(a.label, a.label))
        for m, a in ordered
    ]


def alert_chart_png(session: Session, alert: Alert, tz: str, now: datetime) -> bytes | None:
    """Hourly mentions by sentiment for the alert's scope over the 48 h before its window end."""
    end = alert.window_end or now
    start = end - timedelta(hours=48)
    rows = session.exec(
        select(Rollup).where(
            Rollup.grain == "hour", Rollup.scope_type == alert.scope_type, Rollup.scope_id == alert.scope_id,
            Rollup.bucket >= start, Rollup.bucket <= end,
        ).order_by(Rollup.bucket)
    ).all()
    if not rows:
        return None
    by_hour = {r.bucket: r for r in rows}
    hour = rows[0].bucket
    data = []
    while hour <= rows[-1].bucket:  # every hour, so quiet hours show as gaps, not vanish
        r = by_hour.get(hour)
        label = local_time(hour, tz)[5:13] + "时"
        for zh, key in (("负面", "negative"), ("中性", "neutral"), ("正面", "positive")):
            data.append({"时间": label, "情感": zh, "数量": getattr(r, key) if r else 0})
        hour += timedelta(hours=1)
    try:
        return to_png(volume_chart(data, title="近 48 小时提及（按小时）"))
    except Exception:  # a chart is a nicety: never block an alert on it
        log.exception("chart for alert %s failed", alert.id)
        return None


@dataclass
class _AlertContext:
    """Per-alert rendering inputs, computed once and shared by every recipient."""

    alert: Alert
    scope: str
    mentions: list[MentionView]
    chart: bytes | None = None
    notified: tuple[str, ...] = ()  # names of the routed recipients, for escalation messages
    now: datetime | None = None


def _render(ctx: _AlertContext, route: Route, links: LinkSettings, tz: str, escalation: bool) -> dict[str, Any]:
    """The Notification fields for one route (pure given the context)."""
    alert = ctx.alert
    link_map = alert_links(links, alert.id, route.recipient_id)
    chart_cid = f"chart-alert-{alert.id}" if (route.channel == "email" and ctx.chart) else None
    view = build_alert_view(alert, scope_name=ctx.scope, mentions=ctx.mentions, links=link_map, tz=tz,
                            chart_cid=chart_cid, escalation=escalation, notified=ctx.notified, now=ctx.now)
    secret = {"secret_env": route.config["secret_env"]} if route.config.get("secret_env") else {}
    if route.channel == "email":
        subject, text, html = render_alert_email(view)
        payload: dict[str, Any] = {}
        if chart_cid:
            payload["images"] = [{"cid": chart_cid, "mime": "image/png", "filename": "chart.png",
                                  "b64": base64.b64encode(ctx.chart).decode("ascii")}]
        return {"subject": subject, "body_text": text, "body_html": html, "payload": payload}
    title, markdown = render_alert_markdown(view)
    payload = {"title": title, "severity": alert.severity, **secret}
    if route.channel == "webhook":
        subject, text, _ = render_alert_email(view)
        payload["data"] = {
            "alert_id": alert.id, "kind": alert.kind, "severity": alert.severity, "status": alert.status,
            "scope_type": alert.scope_type, "scope_id": alert.scope_id, "scope_name": ctx.scope,
            "title": alert.title, "reason": alert.reason, "escalation": escalation,
            "opened_at": alert.opened_at.isoformat(), "evidence": alert.evidence, "links": link_map,
        }
        return {"subject": subject, "body_text": text, "payload": payload}
    return {"subject": title, "body_text": markdown, "payload": payload}


def enqueue_alert_notifications(db: Any, policy: Any, *, links: LinkSettings, now: datetime | None = None) -> int:
    """Write outbox rows for alerts that need a push; returns how many rows were written.

    A push is needed when an unresolved alert's severity is above its
    ``notified_severity`` (then ``notified_severity`` is raised), or when an open alert
    has gone unacknowledged for ``policy.escalate_after_minutes`` (then ``escalated_at``
    is set and the routed recipients' ``escalates_to`` are notified). Chat pushes of
    non-critical alerts during ``policy.quiet_hours`` are scheduled for the end of them.
    Idempotent: keys already in the outbox are skipped, so a re-run writes nothing.
    """
    now = now or utcnow()
    for attempt in range(3):
        try:
            return _enqueue_once(db, policy, links, now)
        except sa.exc.IntegrityError:  # another enqueuer wrote the same keys first: look again
            if attempt == 2:
                raise
            log.info("enqueue collided with a concurrent run; retrying")
    return 0


def _enqueue_once(db: Any, policy: Any, links: LinkSettings, now: datetime) -> int:
    tz = getattr(policy, "timezone", None) or "Asia/Shanghai"
    written = 0
    with db.session() as session:
        alerts = session.exec(select(Alert).where(Alert.status.in_(("open", "acknowledged"))).order_by(Alert.id)).all()
        # a product alert naming a store that joined its incident later owes that store's managers a push
        todo = [a for a in alerts if severity_rank(a.severity) > severity_rank(a.notified_severity)
                or escalation_due(a, policy, now) or (a.notified_severity and named_stores(a))]
        if not todo:
            return 0
        recipients = list(session.exec(select(Recipient).order_by(Recipient.id)))
        catalog = load_catalog(session)
        for alert in todo:
            routed = recipients_for_alert(alert, recipients, catalog)
            plans: list[tuple[Recipient, str, bool]] = []  # (recipient, key tag, escalation?)
            if severity_rank(alert.severity) > severity_rank(alert.notified_severity):
                plans += [(r, alert.severity, False) for r in routed if wants_push(alert, r)]
                alert.notified_severity = alert.severity
            elif named_stores(alert):  # keys already queued are skipped: only newly named stores' managers
                plans += [(r, alert.notified_severity, False) for r in routed if wants_push(alert, r)]
            if escalation_due(alert, policy, now):
                plans += [(r, "escalation", True) for r in escalation_targets(routed, recipients)
                          if wants_push(alert, r)]
                alert.escalated_at = now
            session.add(alert)
            written += _enqueue_plans(session, alert, plans, catalog, links=links, policy=policy, tz=tz, now=now,
                                      notified=tuple(r.name for r in routed))
    return written


def _enqueue_plans(session: Session, alert: Alert, plans: list[tuple[Recipient, str, bool]], catalog: Catalog, *,
                   links: LinkSettings, policy: Any, tz: str, now: datetime, notified: tuple[str, ...] = ()) -> int:
    if not plans:
        return 0
    candidates: list[tuple[Route, str, bool]] = []
    seen_addresses: set[tuple[str, str, str]] = set()
    for recipient, tag, escalation in plans:
        for route in routes_for(recipient, KNOWN_CHANNELS):
            group = (tag, route.channel, route.address)
            if route.channel != "email" and group in seen_addresses:
                continue  # one group bot shared by several recipients gets the alert once
            seen_addresses.add(group)
            candidates.append((route, alert_key(alert.id, tag, route.recipient_id, route.channel), escalation))
    keys = [k for _, k, _ in candidates]
    existing = set(session.exec(select(Notification.idempotency_key).where(Notification.idempotency_key.in_(keys))))
    if not set(keys) - existing:
        return 0
    name = (alert.evidence or {}).get("scope_name") or scope_name(session, catalog, alert.scope_type, alert.scope_id)
    ctx = _AlertContext(alert, str(name),
                        representative_mentions(session, alert, tz), notified=notified, now=now)
    if any(r.channel == "email" for r, k, _ in candidates if k not in existing):
        ctx.chart = alert_chart_png(session, alert, tz, now)
    written = 0
    for route, key, escalation in candidates:
        if key in existing:
            continue
        fields = _render(ctx, route, links, tz, escalation)
        if not escalation:  # an unsent push of a lower severity is now stale: the new one replaces it
            session.execute(
                sa.update(Notification)
                .where(Notification.alert_id == alert.id, Notification.recipient_id == route.recipient_id,
                       Notification.channel == route.channel, Notification.status.in_(("pending", "failed")),
                       Notification.idempotency_key.like(f"alert:{alert.id}:%"),
                       Notification.idempotency_key.notlike(f"alert:{alert.id}:escalation:%"))
                .values(status="superseded", last_error=f"superseded by the {alert.severity} push")
            )
        session.add(Notification(
            idempotency_key=key, channel=route.channel, recipient_id=route.recipient_id, address=route.address,
            alert_id=alert.id, status="pending", attempts=0, created_at=now,
            next_attempt_at=send_at(now, route.channel, alert.severity, policy),
            **fields,
        ))
        written += 1
    return written


# ============================================================================ deliver
@dataclass
class DeliverySummary:
    """What one delivery run did (counts of notification rows)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0  # over a bot's rate limit: left pending for the next window
    cancelled: int = 0  # unsent pushes of alerts handled before they could go out
    messages: int = 0  # messages actually handed to providers (merged bot batches count once)
    errors: list[str] = field(default_factory=list)


def cancel_stale_pushes(db: Any) -> int:
    """Cancel unsent pushes that would only be noise now; returns how many.

    A push of an alert that is already resolved (except urgent alerts: food-safety
    reports are delivered whatever happened since), and an escalation of an alert
    that someone acknowledged or resolved in the meantime. Rows being sent right now
    (``sending``) are left to their sender.
    """
    unsent = Notification.status.in_(("pending", "failed"))
    resolved = select(Alert.id).where(Alert.status == "resolved", Alert.kind != "urgent")
    handled = select(Alert.id).where(Alert.status.in_(("acknowledged", "resolved")))
    with db.session() as session:
        done = session.execute(
            sa.update(Notification)
            .where(unsent, Notification.alert_id.in_(resolved.scalar_subquery()))
            .values(status="cancelled", last_error="the alert was resolved before this push went out")
        ).rowcount
        done += session.execute(
            sa.update(Notification)
            .where(unsent, Notification.alert_id.in_(handled.scalar_subquery()),
                   Notification.idempotency_key.like("alert:%:escalation:%"))
            .values(status="cancelled", last_error="the alert was acknowledged before this escalation went out")
        ).rowcount
    return int(done or 0)


def backoff(attempts: int, settings: ChannelSettings) -> timedelta:
    """Delay before retry number ``attempts`` (1, 2, 4 … × base, capped)."""
    seconds = settings.backoff_base_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, settings.backoff_max_seconds))


def _priority() -> sa.ColumnElement[int]:
    """The claim tier of an outbox row: 0 urgent (food safety), 1 critical, 2 the rest.

    Read from the row's alert (digests have none and rank last), so after an outage the
    backlog drains urgent and critical pushes first, whatever their age.
    """
    return sa.case((Alert.kind == "urgent", 0), (Alert.severity == "critical", 1), else_=2)


def _claim(db: Any, now: datetime, lease_until: datetime, limit: int) -> list[Notification]:
    """Mark up to ``limit`` due rows ``sending`` with a lease and return them (committed).

    Among due rows, urgent and critical alerts first (:func:`_priority`), then the oldest
    due. One ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING id`` statement: atomic
    under SQLite's write lock, and with ``FOR UPDATE OF notifications SKIP LOCKED`` in the
    sub-select on PostgreSQL, so concurrent senders take disjoint rows instead of waiting
    or colliding. Rows are returned in claim order, so they are also sent in it.
    """
    due = (
        select(Notification.id)
        .outerjoin(Alert, Alert.id == Notification.alert_id)
        .where(Notification.status.in_(CLAIMABLE), Notification.next_attempt_at <= now)
        .order_by(_priority(), Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if db.dialect == "postgresql":  # lock only the outbox rows, never the alerts they point to
        due = due.with_for_update(skip_locked=True, of=Notification)
    with db.session() as session:
        claimed = session.execute(
            sa.update(Notification)
            .where(Notification.id.in_(due.scalar_subquery()))
            .values(status="sending", attempts=Notification.attempts + 1, next_attempt_at=lease_until)
            .returning(Notification.id)
        ).scalars().all()
        if not claimed:
            return []
        return list(session.exec(
            select(Notification).outerjoin(Alert, Alert.id == Notification.alert_id)
            .where(Notification.id.in_(claimed)).order_by(_priority(), Notification.id)
        ))


def _as_message(n: Notification) -> OutgoingMessage:
    return OutgoingMessage(
        key=n.idempotency_key, channel=n.channel, recipient_id=n.recipient_id, address=n.address,
        subject=n.subject, text=n.body_text, html=n.body_html, payload=dict(n.payload or {}),
        keys=(n.idempotency_key,),
    )


def _update(db: Any, ids: Iterable[int], **values: Any) -> None:
    with db.session() as session:
        session.execute(sa.update(Notification).where(Notification.id.in_(list(ids)), Notification.status == "sending").values(**values))


def _mark_sent(db: Any, ids: list[int], sent_at: datetime, response: str) -> None:
    """Record a successful send (the step a crash may separate from the send itself)."""
    _update(db, ids, status="sent", sent_at=sent_at, provider_response=response[:4000], last_error=None)


def _recent_sends(db: Any, channel: str, address: str, since: datetime) -> int:
    """Messages already sent to one destination since ``since`` (merged rows share a ``sent_at``)."""
    with db.session() as session:
        return session.exec(
            select(sa.func.count(sa.distinct(Notification.sent_at))).where(
                Notification.channel == channel, Notification.address == address,
                Notification.status == "sent", Notification.sent_at > since,
            )
        ).one()


def _budget(db: Any, notifier: Notifier, channel: str, address: str, now: datetime) -> tuple[int, datetime]:
    """How many more messages may go to a destination now, and when the tightest window frees.

    Counted from the database (each send is marked before the next check), so separate
    runs and processes share the budget.
    """
    budget, free_at = 10**9, now
    for limit in notifier.rate_limits:
        used = _recent_sends(db, channel, address, now - timedelta(seconds=limit.seconds))
        left = limit.count - used
        if left < budget:
            budget, free_at = left, now + timedelta(seconds=limit.seconds)
    return max(0, budget), free_at


def _batches(rows: list[Notification], max_bytes: int) -> list[list[Notification]]:
    """Consecutive groups of rows whose merged markdown stays under ``max_bytes``."""
    if max_bytes <= 0:
        return [[r] for r in rows]
    groups: list[list[Notification]] = []
    size = 0
    for row in rows:
        n = len(row.body_text.encode("utf-8")) + 16
        if groups and size + n <= max_bytes:
            groups[-1].append(row)
            size += n
        else:
            groups.append([row])
            size = n + 64
    return groups


def deliver_notifications(
    db: Any, channels: ChannelSettings, *, now: datetime | None = None, limit: int | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
) -> DeliverySummary:
    """Send due outbox rows; returns a :class:`DeliverySummary`.

    ``notifiers`` overrides the registry (name → notifier), e.g. in tests. Several
    delivery processes may run at once: a row is claimed by exactly one of them (see
    :func:`_claim`).
    """
    now = now or utcnow()
    notifiers = dict(notifiers) if notifiers is not None else make_notifiers(channels)
    summary = DeliverySummary()
    summary.cancelled = cancel_stale_pushes(db)
    rows = _claim(db, now, now + timedelta(seconds=channels.lease_seconds), limit or 200)
    summary.claimed = len(rows)
    groups: dict[tuple[str, str], list[Notification]] = {}
    for row in rows:
        groups.setdefault((row.channel, row.address), []).append(row)
    seq = 0
    started = time.monotonic()
    down: dict[str, datetime] = {}  # channel → when to try again, after ServerUnreachable
    for (channel, address), group in groups.items():
        notifier = notifiers.get(channel)
        if channel in down or time.monotonic() - started > channels.lease_seconds / 2:
            # the server is down, or this run is slow: give the rows back before their lease
            # expires and another sender takes them (no attempt is counted)
            _defer(db, group, down.get(channel, now), None)
            summary.deferred += len(group)
            continue
        if notifier is None:
            _fail(db, group, ChannelError(f"no notifier registered for channel {channel!r}"), channels, now, summary)
            continue
        batches = _batches(group, notifier.batch_max_bytes)
        for i, batch in enumerate(batches):
            if notifier.rate_limits:
                budget, free_at = _budget(db, notifier, channel, address, now)
                if budget <= 0:
                    rest = [r for b in batches[i:] for r in b]
                    _defer(db, rest, free_at, None)
                    summary.deferred += len(rest)
                    break
            message = merge_markdown([_as_message(r) for r in batch]) if len(batch) > 1 else _as_message(batch[0])
            ids = [r.id for r in batch]
            try:
                response = notifier.send(message)
            except RateLimited as exc:
                rest = [r for b in batches[i:] for r in b]
                _defer(db, rest, now + timedelta(seconds=exc.retry_after), str(exc))
                summary.deferred += len(rest)
                summary.errors.append(str(exc))
                break
            except ServerUnreachable as exc:
                _fail(db, batch, exc, channels, now, summary)
                down[channel] = now + backoff(1, channels)
                rest = [r for b in batches[i + 1:] for r in b]  # more rows to this address: back untried
                _defer(db, rest, down[channel], None)
                summary.deferred += len(rest)
                break
            except DeliveryError as exc:
                _fail(db, batch, exc, channels, now, summary)
                continue
            except Exception as exc:  # a notifier bug must not stop the other rows
                log.exception("notifier %s crashed", channel)
                _fail(db, batch, DeliveryError(f"{type(exc).__name__}: {exc}"), channels, now, summary)
                continue
            seq += 1
            summary.messages += 1
            _mark_sent(db, ids, now + timedelta(microseconds=seq), response)
            summary.sent += len(batch)
    return summary


def _defer(db: Any, rows: list[Notification], when: datetime, error: str | None) -> None:
    """Give rows back unsent (not a failed attempt): over a rate limit."""
    for row in rows:
        values: dict[str, Any] = {"status": "pending", "next_attempt_at": when, "attempts": max(0, row.attempts - 1)}
        if error:
            values["last_error"] = error[:2000]
        _update(db, [row.id], **values)


def _fail(db: Any, rows: list[Notification], exc: Exception, settings: ChannelSettings, now: datetime,
          summary: DeliverySummary) -> None:
    message = f"{type(exc).__name__}: {exc}"[:2000]
    summary.errors.append(message)
    for row in rows:
        if isinstance(exc, ChannelError) or row.attempts >= settings.max_attempts:
            _update(db, [row.id], status="dead", last_error=message)
            summary.dead += 1
            log.error("notification %s (%s to %s) is dead after %d attempt(s): %s",
                      row.id, row.channel, row.recipient_id, row.attempts, message)
        else:
            retry_at = now + backoff(row.attempts, settings)
            _update(db, [row.id], status="failed", last_error=message, next_attempt_at=retry_at)
            summary.retried += 1
            log.warning("notification %s (%s to %s) failed, attempt %d, retry at %s: %s",
                        row.id, row.channel, row.recipient_id, row.attempts, f"{retry_at:%Y-%m-%d %H:%M:%S} UTC", message)
