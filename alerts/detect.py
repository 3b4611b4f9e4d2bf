"""``detect_alerts(db, policy, now=None)``: spike and urgent alerts from rollups and mentions.

Reads the hourly rollups of the watched scope types over the policy's look-back, runs
:func:`alerts.spikes.assess` and :func:`alerts.spikes.decide` (the same code the
backtest runs) against the scopes' latest spike alerts, and writes the resulting
open / update / resolve changes to ``alerts``. Urgent mentions (``urgent=True`` from
NLP) become immediate ``kind="urgent"`` alerts, one per store and incident.

Idempotent: a second run at the same ``now`` finds nothing to change. It never writes
``notified_severity`` (the outbox owns it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from alerts import evidence as ev
from alerts.attribution import Explained, affected_stores, explain_actions, explained_note, merge_stores
from alerts.calibration import CALENDAR_TABLE, CalibrationTable, load_table, rarity_zh
from alerts.policy import AlertPolicy
from alerts.promotions import load_promotions
from alerts.spikes import (
    HOUR,
    Action,
    Assessment,
    Incident,
    ScopeKey,
    aggregate_children,
    assess_explained,
    decide,
    exclusion_mask,
    family,
    last_bucket,
    local_calendar,
    multiplicity,
    promotion_mask,
    severity_level,
    severity_name,
    since_columns,
)
from storage.db import Database
from storage.models import Alert, Mention, MentionAnalysis, Rollup, Store, utcnow
from storage.shares import honest_shares, stored_display

ACTIVE = ("open", "acknowledged")


@dataclass
class DetectSummary:
    """What one detection run changed."""

    scopes: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    urgent_opened: int = 0
    urgent_updated: int = 0

    @property
    def changed(self) -> int:
        """Alerts created or modified."""
        return self.opened + self.updated + self.resolved + self.urgent_opened + self.urgent_updated


# --------------------------------------------------------------------------- stats text


def spike_numbers(result: Assessment, i: int, key: ScopeKey | None = None,
                  table: CalibrationTable | None = None) -> dict[str, Any]:
    """The numbers of scope ``i``'s assessment, JSON-ready.

    With the calibration ``table``: ``months_between`` — how many months a quiet scope
    of this type and volume waits, on average, for evidence this strong — and
    ``rarity``, the same in words.
    """
    n, x = int(result.total[i]), int(result.negative[i])
    lift = 1.0 if result.promotion_lift is None else float(result.promotion_lift[i])
    months = (table.months_between(key[0], float(result.per_day[i]), float(result.evidence[i]))
              if table is not None and key is not None else None)
    return {
        "evidence": round(float(result.evidence[i]), 2),
        "months_between": None if months is None else float(f"{months:.3g}"),
        "rarity": rarity_zh(months),
        "window_hours": int(result.window[i]),
        "negative": x,
        "total": n,
        "negative_share": round(x / n, 4) if n else None,
        "expected_negative": round(float(result.expected[i]), 2),
        "baseline_share": round(float(result.baseline_share[i]), 4),
        "peer_share": round(float(result.peer_share[i]), 4),
        "peer_window_share": round(float(result.peer_window_share[i]), 4),
        "p_value": float(f"{float(result.p_value[i]):.3g}"),
        "promotion_lift": round(lift, 1) if lift >= 1.05 else None,
    }


# which negative shares an alert states: (evidence key, Assessment counts behind it)
SHARE_SCOPES = (("window", "negative", "total"), ("usual", "baseline_negative", "baseline_total"),
                ("peers", "peer_negative", "peer_total"))


def spike_shares(session: Session, result: Assessment, i: int) -> dict[str, Any]:
    """Scope ``i``'s negative shares — this window, its usual, its peers' — as the dashboard and
    digest state them: corrected for the classifier's error, with the 95% interval, 样本不足 below
    the threshold (:func:`storage.shares.honest_shares`). JSON-ready, for the alert's evidence.

    Only the negative side is read: the rollups the detector loads carry no positive count.
    """
    counts = [(0.0, float(getattr(result, neg)[i]), float(getattr(result, tot)[i])) for _, neg, tot in SHARE_SCOPES]
    rates, shares = honest_shares(session, counts)
    stored: dict[str, Any] = {name: s.negative.as_dict() for (name, _, _), s in zip(SHARE_SCOPES, shares)}
    return {**stored, "corrected": rates.corrected, "model": rates.model}


def spike_title(severity: str, name: str, numbers: dict[str, Any]) -> str:
    """【严重】上海万象城店 差评激增：近6小时差评 8 条（平时约 0.5 条）"""
    return (f"【{ev.SEVERITY_ZH.get(severity, severity)}】{name} 差评激增：近{numbers['window_hours']}小时差评 "
            f"{numbers['negative']} 条（{ev.usual_count_zh(numbers['expected_negative'])}）")


def spike_headline(numbers: dict[str, Any]) -> str:
    """平时约 0.3 条，近 48 小时 7 条，约每 3 年一次的偶然 — observed vs expected, window, how unusual."""
    text = (f"{ev.usual_count_zh(numbers['expected_negative'])}，近 {numbers['window_hours']} 小时 "
            f"{numbers['negative']} 条差评")
    rarity = numbers.get("rarity") or f"偶然出现的概率约 {numbers['p_value']:.1g}"
    return f"{text}，{rarity}"


def spike_reason(numbers: dict[str, Any], touchpoints: list[dict[str, Any]], keywords: list[str],
                 products: list[dict[str, Any]] | None = None, shares: dict[str, Any] | None = None) -> str:
    """A one-paragraph Chinese explanation of why the alert fired.

    Shares are those of :func:`spike_shares` (corrected, with interval, or 样本不足); without
    them the paragraph states counts only — never a raw share.
    """
    volume = f"近{numbers['window_hours']}小时共 {numbers['total']} 条提及"
    window, usual, peers = (stored_display((shares or {}).get(k)) for k, _, _ in SHARE_SCOPES)
    if window is not None:
        volume += f"，差评占比 {window}"
    if usual is not None:
        volume += f"；该范围平时差评占比 {usual}" + (f"，同类范围 {peers}" if peers is not None else "")
    parts = [spike_headline(numbers), volume]
    if numbers.get("promotion_lift"):
        parts.append(f"正值促销（日历中的活动），提及量约为平时的 {numbers['promotion_lift']:g} 倍，"
                     "“平时”已按促销客流计算")
    if keywords:
        parts.append("主要抱怨：" + "、".join(keywords[:5]))
    if touchpoints:
        parts.append("主要问题：" + "、".join(f"{t['name']}（{t['negative']}）" for t in touchpoints))
    if products:
        parts.append("涉及产品：" + "、".join(f"{p['name']}（{p['negative']}）" for p in products))
    return "；".join(parts) + "。"


# --------------------------------------------------------------------------- loading


def load_grid(session: Session, policy: AlertPolicy, now: datetime,
              extra_keys: list[ScopeKey]) -> tuple[list[ScopeKey], datetime, np.ndarray, np.ndarray]:
    """Hourly totals/negatives per watched scope over the look-back ending at ``now``."""
    length = policy.lookback_hours
    end = last_bucket(now)
    first = end - (length - 1) * HOUR
    r = Rollup.__table__.c
    rows = session.execute(
        sa.select(r.scope_type, r.scope_id, r.bucket, r.total, r.negative).where(
            r.grain == "hour", r.scope_type.in_(policy.scope_types), r.bucket >= first, r.bucket <= end)
    ).all()
    keys = sorted({(row.scope_type, row.scope_id) for row in rows} | set(extra_keys))
    index = {k: i for i, k in enumerate(keys)}
    total = np.zeros((len(keys), length))
    negative = np.zeros((len(keys), length))
    for row in rows:
        i, t = index[(row.scope_type, row.scope_id)], int((row.bucket - first) / HOUR)
        total[i, t] += row.total
        negative[i, t] += row.negative
    return keys, first, total, negative


def load_incidents(session: Session, policy: AlertPolicy, now: datetime
                   ) -> tuple[dict[ScopeKey, Incident], dict[ScopeKey, list[tuple[datetime, datetime]]]]:
    """Each scope's latest spike alert (as an Incident) and the windows of its recent ones."""
    horizon = now - timedelta(hours=policy.lookback_hours + policy.cooldown_hours)
    alerts = session.exec(
        select(Alert).where(Alert.kind == "spike", Alert.scope_type.in_(policy.scope_types),
                            sa.or_(Alert.status.in_(ACTIVE), Alert.updated_at >= horizon))
        .order_by(Alert.opened_at, Alert.id)
    ).all()
    latest: dict[ScopeKey, Incident] = {}
    history: dict[ScopeKey, list[tuple[datetime, datetime]]] = defaultdict(list)
    for a in alerts:
        if a.opened_at > now:
            continue
        key = (a.scope_type, a.scope_id)
        resolved = None if a.status in ACTIVE else (a.resolved_at or a.updated_at)
        start, end = a.window_start or a.opened_at, a.window_end or a.updated_at
        latest[key] = Incident(severity_level(a.severity), a.opened_at, start, end, resolved, a.id)
        history[family(key)].append((start, end))
    return latest, history


# --------------------------------------------------------------------------- spikes


def peer_groups(session: Session, keys: list[ScopeKey]) -> np.ndarray:
    """Peer group per scope: stores (and store × product) of the same brand, else the scope type."""
    brand_of = dict(session.execute(sa.select(Store.id, Store.brand_id)).all())
    labels = []
    for scope_type, scope_id in keys:
        brand = brand_of.get(scope_id.split("|", 1)[0]) if scope_type in ("store", "store_product") else None
        labels.append((scope_type, brand or ""))
    names = sorted(set(labels))
    return np.array([names.index(label) for label in labels], dtype=np.int64)



KEYWORDS_REFRESH = timedelta(hours=3)


def _evidence(db: Database, session: Session, key: ScopeKey, start: datetime, end: datetime,
              numbers: dict[str, Any], previous: dict[str, Any] | None
              ) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """Evidence for an alert; keywords (costly: segmentation) are reused for up to 3 hours."""
    touchpoints = ev.top_touchpoints(session, key[0], key[1], start, end)
    previous = previous or {}
    stamp = previous.get("keywords_at")
    if stamp and end - datetime.fromisoformat(stamp) < KEYWORDS_REFRESH and "keywords" in previous:
        keywords = list(previous["keywords"])
    else:
        keywords, stamp = ev.keywords_for(db, session, key[0], key[1], start, end), end.isoformat()
    quotes = ev.representative_mentions(session, key[0], key[1], start, end)
    evidence = {
        "numbers": numbers,
        "baseline": {"share": numbers["baseline_share"], "expected_negative": numbers["expected_negative"],
                     "peer_share": numbers["peer_share"]},
        "touchpoints": touchpoints,
        "keywords": keywords,
        "keywords_at": stamp,
        "mention_ids": [q["id"] for q in quotes],
        "quotes": quotes,
    }
    return evidence, touchpoints, keywords


def _apply(db: Database, session: Session, action: Action, result: Assessment, now: datetime,
           summary: DetectSummary, table: CalibrationTable | None = None,
           explained: Explained | None = None) -> None:
    key = action.key
    if action.kind == "resolve":
        alert = session.get(Alert, action.incident.ref)
        alert.status, alert.resolved_at, alert.resolved_by, alert.updated_at = "resolved", now, "system", now
        session.add(alert)
        summary.resolved += 1
        return
    severity = severity_name(action.severity)
    alert = session.get(Alert, action.incident.ref) if action.kind == "update" else None
    fresh = int(result.severity[action.index]) > 0 or alert is None
    numbers = spike_numbers(result, action.index, key, table) if fresh else alert.evidence.get("numbers", {})
    shares = spike_shares(session, result, action.index) if fresh else alert.evidence.get("shares")
    window_start = action.window_start if alert is None else min(alert.window_start or action.window_start,
                                                                  action.window_start)
    evidence, touchpoints, keywords = _evidence(db, session, key, window_start, now, numbers,
                                                alert.evidence if alert is not None else None)
    if shares:
        evidence["shares"] = shares
    name = ev.scope_name(session, *key)
    # the store alert carries the products its incident hit (no separate product alerts for them)
    products = ev.top_products(session, key[1], window_start, now) if key[0] == "store" else []
    if products:
        evidence["products"] = products
    reason = spike_reason(numbers, touchpoints, keywords, products, shares)
    if explained is not None:
        previous_driver = alert.evidence.get("driven_by") if alert is not None else None
        if key not in explained.drivers and previous_driver:
            kind = "product" if "product" in previous_driver else "store"
            explained.drivers[key] = ((kind, previous_driver[kind]), previous_driver["share"])
        if key in explained.drivers:
            driver, share = explained.drivers[key]
            evidence["driven_by"] = {driver[0]: driver[1], "share": round(share, 3)}
        # a product alert carries the stores of its chain-wide incident (no alert per store × product)
        stores = merge_stores(alert.evidence.get("stores", []) if alert is not None else [],
                              affected_stores(explained, key))
        if stores:
            evidence["stores"] = [{"store": s, "name": ev.scope_name(session, "store", s), "negative": n}
                                  for s, n in stores]
        note = explained_note(key, explained, lambda s: ev.scope_name(session, "store", s), stores or None,
                              product_name=lambda p: ev.scope_name(session, "product", p))
        reason = reason[:-1] + note + "。" if note else reason
    values = {
        "severity": severity,
        "title": spike_title(severity, name, numbers),
        "reason": reason,
        "window_start": window_start,
        "window_end": action.window_end,
        "evidence": {**evidence, "scope_name": name},
    }
    if alert is None:
        session.add(Alert(kind="spike", scope_type=key[0], scope_id=key[1], status="open", opened_at=now,
                          updated_at=now, incident_key=f"spike:{key[0]}:{key[1]}:{window_start:%Y%m%dT%H}Z",
                          **values))
        summary.opened += 1
        return
    if any(getattr(alert, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(alert, k, v)
        alert.updated_at = now
        session.add(alert)
        summary.updated += 1


def detect_spikes(db: Database, session: Session, policy: AlertPolicy, now: datetime,
                  summary: DetectSummary) -> None:
    """Assess every watched scope at ``now`` and write the resulting alert changes."""
    incidents, history = load_incidents(session, policy, now)
    keys, first, total, negative = load_grid(session, policy, now, list(incidents))
    summary.scopes = len(keys)
    if not keys:
        return
    groups = peer_groups(session, keys)
    promotions = load_promotions(session)
    table = load_table(CALENDAR_TABLE if promotions else None) if policy.calibrated else None
    hod, dow = local_calendar(first, total.shape[1], policy.timezone)
    stores = session.execute(sa.select(Store.id, Store.brand_id, Store.region_id)).all()
    parents = {s.id: {k: v for k, v in (("brand", s.brand_id), ("region", s.region_id)) if v} for s in stores}
    children = aggregate_children(keys, parents)
    result = assess_explained(keys, total, negative, hod, dow, groups, policy,
                              children=children,
                              active_families={family(k) for k, inc in incidents.items() if inc.active},
                              since=since_columns(keys, incidents, first),
                              exclude=exclusion_mask(keys, history, first, total.shape[1]),
                              multiplicity=multiplicity(keys),
                              table=table,
                              promo=promotion_mask(keys, promotions, first, total.shape[1]) if promotions else None)
    explained = explain_actions(keys, result, decide(keys, result, incidents, now, policy), total, negative,
                                children, incidents, now=now)
    for action in explained.actions:
        _apply(db, session, action, result, now, summary, table, explained)


# --------------------------------------------------------------------------- urgent


def _urgent_scope(row: Any) -> ScopeKey:
    if row.store_id:
        return ("store", row.store_id)
    if row.product_id:
        return ("product", row.product_id)
    return ("brand", row.brand_id or "")


def detect_urgent(db: Database, session: Session, policy: AlertPolicy, now: datetime,
                  summary: DetectSummary) -> None:
    """One ``urgent`` alert per store and incident for mentions NLP flagged urgent.

    A mention joins the store's active urgent alert when it comes within
    ``urgent_dedup_hours`` of that alert's last mention; a repost (same content hash)
    of a mention already in an alert joins that alert whatever its state.
    """
    since = now - timedelta(hours=policy.urgent_lookback_hours)
    c, m = MentionAnalysis.__table__.c, Mention.__table__.c
    rows = session.execute(
        sa.select(c.mention_id, c.published_at, c.store_id, c.product_id, c.brand_id, c.urgent_terms, c.score,
                  c.platform, c.counted, m.text, m.url, m.content_hash)
        .select_from(MentionAnalysis.__table__.join(Mention.__table__, m.id == c.mention_id))
        .where(c.urgent.is_(True), c.published_at >= since, c.published_at <= now)
        .order_by(c.published_at, c.mention_id)
    ).all()
    if not rows:
        return
    alerts = session.exec(
        select(Alert).where(Alert.kind == "urgent",
                            sa.or_(Alert.status.in_(ACTIVE),
                                   Alert.updated_at >= since - timedelta(hours=policy.urgent_dedup_hours)))
        .order_by(Alert.opened_at, Alert.id)
    ).all()
    seen_ids = {i for a in alerts for i in a.evidence.get("all_mention_ids", [])}
    by_hash = {h: a for a in alerts for h in a.evidence.get("content_hashes", [])}
    active = {(a.scope_type, a.scope_id): a for a in alerts if a.status in ACTIVE}
    touched: set[int] = set()
    for row in rows:
        if row.mention_id in seen_ids:
            continue
        key = _urgent_scope(row)
        alert = by_hash.get(row.content_hash)
        if alert is None:
            alert = active.get(key)
            if alert is not None and row.published_at - (alert.window_end or alert.opened_at) > timedelta(
                    hours=policy.urgent_dedup_hours):
                alert = None
        quote = ev.quote(row)
        if alert is None:
            name = ev.scope_name(session, *key)
            alert = Alert(kind="urgent", scope_type=key[0], scope_id=key[1], severity="critical", status="open",
                          incident_key=f"urgent:{key[0]}:{key[1]}:{row.mention_id}", opened_at=now, updated_at=now,
                          window_start=row.published_at, window_end=row.published_at,
                          title="", reason="", evidence={"scope_name": name})
            session.add(alert)
            active[key] = alert
            summary.urgent_opened += 1
        elif id(alert) not in touched and alert.id is not None:
            alert.updated_at = now
            summary.urgent_updated += 1
        touched.add(id(alert))
        e = dict(alert.evidence)
        e["all_mention_ids"] = [*e.get("all_mention_ids", []), row.mention_id]
        e["content_hashes"] = sorted({*e.get("content_hashes", []), row.content_hash})
        e["terms"] = sorted({*e.get("terms", []), *(row.urgent_terms or [])})
        e["quotes"] = [*e.get("quotes", []), quote][:5]
        e["mention_ids"] = [q["id"] for q in e["quotes"]]
        # a repost joins its original's alert but is not another customer: counted like the
        # dashboard counts urgent mentions (counted ones only), reposts said apart
        if row.counted:
            e["count"] = e.get("count", 0) + 1
        else:
            e["reposts"] = e.get("reposts", 0) + 1
        alert.evidence = e
        alert.window_end = max(alert.window_end or row.published_at, row.published_at)
        terms = "、".join(e["terms"][:4]) or "敏感词"
        alert.title = f"【紧急】{e.get('scope_name', key[1])} 出现需立即处理的反馈：{terms}"
        reposts = f"（另有 {e['reposts']} 条转发）" if e.get("reposts") else ""
        alert.reason = (f"{e.get('count', 0)} 条提及含紧急词（{terms}）{reposts}，不论统计结果立即提醒。"
                        f"最新一条：“{quote['text']}”")
        seen_ids.add(row.mention_id)
        by_hash[row.content_hash] = alert
        session.add(alert)


def _one_detector_at_a_time(session: Session, dialect: str) -> None:
    """Serialise alert detection across runners for the rest of the transaction.

    Detection reads the open alerts, then inserts the missing ones; ``incident_key`` is
    not unique, so two ``tingfeng process`` detecting at once could both open the same
    incident. PostgreSQL takes a transaction-scoped advisory lock; SQLite takes the
    database write lock with a write that changes nothing. A second runner waits, then
    reads the first one's alerts and opens nothing twice.
    """
    if dialect == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('tingfeng.detect_alerts'))"))
    else:
        session.execute(sa.delete(Alert).where(sa.false()))


def detect_alerts(db: Database, policy: AlertPolicy | None = None, now: datetime | None = None) -> DetectSummary:
    """Create, update and resolve spike and urgent alerts as of ``now`` (default: the current time)."""
    policy = policy or AlertPolicy()
    now = (now or utcnow()).astimezone(timezone.utc)
    summary = DetectSummary()
    with db.session() as session:
        _one_detector_at_a_time(session, db.dialect)
        detect_spikes(db, session, policy, now, summary)
        if policy.urgent:
            detect_urgent(db, session, policy, now, summary)
    return summary
