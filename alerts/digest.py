"""The weekly sentiment digest: one email per recipient, for their scope only.

For the ISO week (Asia/Shanghai by default) and the recipient's scope — their stores
and regions' stores for managers, their brands for marketing/HQ, everything for an
unscoped recipient — the digest shows volume, positive share and net sentiment
((pos − neg)/(pos + neg)) with the week-on-week change, the store leaderboard and the
biggest movers, in a multi-store digest the stores and store × touchpoint pairs below
the chain's standard (``nlp.consistency``), the touchpoint breakdown, the top complaint keywords, 3 negative and
3 positive quotes and the week's alerts with their state; it is an HTML email with
inline charts and an Excel file of the week's negative mentions.

:func:`send_weekly_digest` writes it to the outbox once per (week, recipient) — a
``DigestRun`` row, unique on both, is written in the same transaction as the
``Notification`` — so a job that runs twice sends one digest. :func:`build_digest`
renders without writing (``tingfeng digest preview``).
"""

from __future__ import annotations

import base64
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from alerts.channels.base import OutgoingMessage
from alerts.render.alert import (
    KIND_LABELS, PLATFORM_LABELS, SEVERITY_LABELS, STATUS_LABELS, TOUCHPOINT_LABELS, plain_title,
)
from alerts.render.links import LinkSettings
from storage.handling import Deadlines, StoreHandling, store_handling
from storage.shares import MIN_N as SHARE_MIN_N, SentimentShares, honest_shares
from nlp.consistency import below_standard, touchpoints_below_standard
from nlp import keywords as nlp_keywords
from nlp import vocabulary as nlp_vocabulary
from storage.models import (
    Alert, Brand, DigestRun, Mention, MentionAnalysis, MentionTouchpoint, Notification, Product, Recipient, Region,
    Store, utcnow,
)

log = logging.getLogger(__name__)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class DigestSettings(BaseModel):
    """What the digest needs from the app: links to the dashboard and the business time zone."""

    links: LinkSettings
    timezone: str = "Asia/Shanghai"
    top_keywords: int = Field(default=10, ge=1)
    quotes: int = Field(default=3, ge=0)
    leaderboard_size: int = Field(default=15, ge=1)
    movers: int = Field(default=3, ge=0)
    mover_min_mentions: int = Field(default=3, ge=1)  # in each week, for a store to count as a mover
    max_excel_rows: int = Field(default=5000, ge=1)
    # the handling deadlines (catalog [alerts] escalate_after_minutes / resolve_within_hours, [replies] within_hours)
    acknowledge_minutes: int = Field(default=120, ge=1)
    resolve_hours: int = Field(default=24, ge=1)
    reply_hours: int = Field(default=24, ge=1)


# ============================================================================ weeks
def parse_week(week: str, tz: str = "Asia/Shanghai") -> tuple[datetime, datetime]:
    """``2026-W47`` → (Monday 00:00, next Monday 00:00) in ``tz``, as aware datetimes."""
    m = _WEEK.match(week.strip())
    if not m:
        raise ValueError(f"week must look like 2026-W47; got {week!r}")
    monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    start = datetime.combine(monday, time(0), tzinfo=ZoneInfo(tz))
    return start, start + timedelta(days=7)


def week_label(day: date) -> str:
    """The ISO week containing ``day`` (``2026-W47``)."""
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def last_complete_week(now: datetime, tz: str = "Asia/Shanghai") -> str:
    """The week just ended at ``now``: the ISO week whose Sunday is the latest Sunday on or before today.

    The digest is scheduled on Monday morning (``[schedule] digest = "0 9 * * mon"``) and
    covers Monday–Sunday just before it. Run on a Sunday (a manual run, the demo) it covers
    the week ending that day, not the one before: a Sunday-evening digest a week behind
    would show last week's numbers next to today's alerts.
    """
    today = now.astimezone(ZoneInfo(tz)).date()
    return week_label(today - timedelta(days=(today.weekday() + 1) % 7))


def period_label(start: datetime, end: datetime) -> str:
    """``2026年11月30日（周一）– 12月06日（周日）``: the one place the digest names its period."""
    last = (end - timedelta(days=1)).date()
    return f"{start.date():%Y年%m月%d日}（周一）– {last:%m月%d日}（周日）"


# ============================================================================ scope
@dataclass(frozen=True)
class Scope:
    """A recipient's view: store ids (managers), brand ids (marketing), or everything."""

    label: str
    store_ids: frozenset[str] | None = None
    brand_ids: frozenset[str] | None = None
    key: tuple[str, str] | None = None  # the one catalog scope it equals (a store, region, brand), if any

    def clause(self) -> Any:
        """The SQL filter on ``MentionAnalysis`` rows."""
        if self.store_ids is not None:
            return MentionAnalysis.store_id.in_(sorted(self.store_ids))
        if self.brand_ids is not None:
            return MentionAnalysis.brand_id.in_(sorted(self.brand_ids))
        return sa.true()

    def has_alert(self, alert: Alert, stores: dict[str, Store], brand_of: dict[str, str | None]) -> bool:
        """Whether an alert belongs in this recipient's digest."""
        first = alert.scope_id.split("|", 1)[0]
        if alert.scope_type == "source":
            return self.store_ids is None and self.brand_ids is None
        if alert.scope_type in ("store", "store_product", "store_touchpoint"):
            if self.store_ids is not None:
                return first in self.store_ids
            store = stores.get(first)
            return self.brand_ids is None or (store is not None and store.brand_id in self.brand_ids)
        if self.store_ids is not None:
            return False  # a store manager's digest is about their stores only
        return self.brand_ids is None or brand_of.get(f"{alert.scope_type}:{first}") in self.brand_ids


def recipient_scope(recipient: Recipient, stores: Iterable[Store], brands: dict[str, str]) -> Scope:
    """The scope of a recipient: stores (direct + their regions'), else brands, else all."""
    stores = list(stores)
    if recipient.stores or recipient.regions:
        ids = {s.id for s in stores if s.id in recipient.stores or (s.region_id and s.region_id in recipient.regions)}
        names = [s.name for s in stores if s.id in ids]
        label = "门店：" + "、".join(names[:6]) + (f" 等 {len(names)} 家" if len(names) > 6 else "") if names else "（无门店）"
        key = None
        if len(ids) == 1 and not recipient.regions:
            key = ("store", next(iter(ids)))
        elif len(recipient.regions) == 1 and not recipient.stores:
            key = ("region", recipient.regions[0])
        return Scope(label=label, store_ids=frozenset(ids), key=key)
    if recipient.brands:
        key = ("brand", recipient.brands[0]) if len(recipient.brands) == 1 else None
        return Scope(label="品牌：" + "、".join(brands.get(b, b) for b in recipient.brands),
                     brand_ids=frozenset(recipient.brands), key=key)
    return Scope(label="全部品牌与门店", key=("brand", next(iter(brands))) if len(brands) == 1 else None)


# ============================================================================ data
def net_sentiment(positive: int, negative: int) -> float | None:
    """(pos − neg)/(pos + neg), from −1 to +1; None without any polar mention."""
    polar = positive + negative
    return (positive - negative) / polar if polar else None


@dataclass
class Totals:
    """Counts of one period."""

    total: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    shares: SentimentShares | None = None  # corrected, set by collect_digest (storage.shares.honest_shares)

    def add(self, label: str, n: int) -> None:
        self.total += n
        if label in ("positive", "neutral", "negative"):
            setattr(self, label, getattr(self, label) + n)

    @property
    def positive_share(self) -> float | None:
        """The corrected positive share, None without data or below the 样本不足 threshold."""
        return self.shares.positive.shown if self.shares else None

    @property
    def net(self) -> float | None:
        return net_sentiment(self.positive, self.negative)


def change(now: float | None, before: float | None) -> float | None:
    """``now - before`` when both exist."""
    return None if now is None or before is None else now - before


@dataclass
class StoreRow:
    store_id: str
    name: str
    this: Totals
    prev: Totals

    @property
    def delta_net(self) -> float | None:
        return change(self.this.net, self.prev.net)


@dataclass
class TouchpointRow:
    name: str
    total: int
    positive: int
    negative: int
    shares: SentimentShares | None = None  # corrected, set by collect_digest

    @property
    def negative_share(self) -> float | None:
        """The corrected negative share, None without data or below the 样本不足 threshold."""
        return self.shares.negative.shown if self.shares else None

    @property
    def net(self) -> float | None:
        return net_sentiment(self.positive, self.negative)


@dataclass
class TouchpointFlag:
    """One store's touchpoint significantly more negative than the chain's on that touchpoint."""

    store: str  # the store's display name
    row: TouchpointRow  # the store's mentions of the touchpoint
    chain: TouchpointRow  # the tested stores' mentions of it together: the standard
    p_value: float


@dataclass
class Quote:
    text: str
    store: str
    platform: str
    published: str
    url: str | None
    score: float


@dataclass
class AlertRow:
    id: int
    title: str
    kind: str
    severity: str
    severity_label: str
    status: str
    opened: str


@dataclass
class HandlingRow:
    """One store's complaint handling in the period (see :mod:`storage.handling`)."""

    name: str
    numbers: StoreHandling


def _handling(session: Session, scope: Scope, stores: dict[str, Store], start: datetime, end: datetime,
              settings: DigestSettings) -> list[HandlingRow]:
    ids = scope.store_ids
    if ids is None and scope.brand_ids is not None:
        ids = frozenset(k for k, s in stores.items() if s.brand_id in scope.brand_ids)
    rows = store_handling(session, ids, start, end, Deadlines(settings.acknowledge_minutes, settings.resolve_hours,
                                                              settings.reply_hours))
    out = [HandlingRow(stores[k].name if k in stores else k, v) for k, v in rows.items() if v.alerts or v.negative]
    return sorted(out, key=lambda r: (2 if r.numbers.on_time_rate is None else r.numbers.on_time_rate,
                                      2 if r.numbers.reply_rate is None else r.numbers.reply_rate, r.name))


@dataclass
class DigestData:
    """Everything the digest shows (pure data, rendered by :mod:`alerts.render.digest`)."""

    week: str
    period: str  # the body's one statement of the period (see period_label)
    period_short: str  # the same dates for the subject line
    recipient_id: str
    recipient_name: str
    scope: str
    this: Totals
    prev: Totals
    daily: list[tuple[str, Totals]]
    leaderboard: list[StoreRow]
    movers: list[StoreRow]
    touchpoints: list[TouchpointRow]
    keywords: list[tuple[str, int]]
    negative_quotes: list[Quote]
    positive_quotes: list[Quote]
    alerts: list[AlertRow]
    negative_rows: list[dict[str, Any]] = field(default_factory=list)
    dashboard_url: str = ""
    handling: list[HandlingRow] = field(default_factory=list)  # per store, worst 及时率 first
    below_standard: list[StoreRow] = field(default_factory=list)  # significantly more negative than the chain
    standard_share: float | None = None  # the chain's pooled negative share they are compared with
    touchpoints_below_standard: list[TouchpointFlag] = field(default_factory=list)  # store × touchpoint, worst first


def _counts_by_store(session: Session, scope: Scope, start: datetime, end: datetime) -> dict[str | None, Totals]:
    rows = session.exec(
        select(MentionAnalysis.store_id, MentionAnalysis.label, sa.func.count())
        .where(scope.clause(), MentionAnalysis.counted == sa.true(),
               MentionAnalysis.published_at >= start, MentionAnalysis.published_at < end)
        .group_by(MentionAnalysis.store_id, MentionAnalysis.label)
    ).all()
    out: dict[str | None, Totals] = defaultdict(Totals)
    for store_id, label, n in rows:
        out[store_id].add(label, int(n))
    return out


def _below_standard(board: list[StoreRow]) -> tuple[list[StoreRow], float | None]:
    """The stores of a multi-store digest significantly more negative than the rest of them this week
    (``nlp.consistency``), worst first, and the pooled share they were compared with."""
    if len(board) < 2:
        return [], None
    standing = below_standard({r.store_id: (r.this.negative, r.this.total) for r in board}, min_n=SHARE_MIN_N)
    flagged = sorted((r for r in board if standing[r.store_id].flagged), key=lambda r: standing[r.store_id].p_value)
    return flagged, next(iter(standing.values())).chain_share


def _attach_shares(session: Session, rows: list[Any]) -> None:
    """Every share the digest shows, corrected in one read of the model's rates (``storage.shares``)."""
    _, shares = honest_shares(session, [(r.positive, r.negative, r.total) for r in rows])
    for r, sh in zip(rows, shares):
        r.shares = sh


def _sum(parts: Iterable[Totals]) -> Totals:
    total = Totals()
    for t in parts:
        for label in ("positive", "neutral", "negative"):
            total.add(label, getattr(t, label))
    return total


def complaint_keywords(session: Session, scope: Scope, start: datetime, end: datetime, top: int,
                       exclude: Iterable[str] = (), db: Any = None) -> list[tuple[str, int]]:
    """The week's complaint phrases with the number of negative mentions using each, most
    used first (``nlp.keywords.filled_complaint_phrases``: over-represented against the
    complaints of the ``HISTORY_DAYS`` before the week, filled up from the complaint lexicon
    when they are few). Catalog names (``exclude``) are never
    keywords: that a complaint names the store says nothing about what went wrong.
    ``db`` is unused (kept for callers)."""
    del db
    target = session.exec(
        select(Mention.id, Mention.text).join(MentionAnalysis, MentionAnalysis.mention_id == Mention.id)
        .where(scope.clause(), MentionAnalysis.counted == sa.true(), MentionAnalysis.label == "negative",
               MentionAnalysis.published_at >= start, MentionAnalysis.published_at < end)
        .order_by(MentionAnalysis.published_at.desc(), Mention.id.desc()).limit(nlp_keywords.TARGET_SAMPLE)
    ).all()
    if not target:
        return []
    background, complaints = nlp_keywords.baseline_texts(
        session, start - timedelta(days=nlp_keywords.HISTORY_DAYS), end, exclude=[mid for mid, _ in target],
        since=start)
    vocab = nlp_vocabulary.from_session(session)
    phrases = nlp_keywords.filled_complaint_phrases([(mid, text or "") for mid, text in target], background, exclude,
                                                    top=top, complaints=complaints, vocab=vocab)
    return [(p.term, p.mentions) for p in phrases]


TouchpointCounts = dict[str, dict[str | None, list[int]]]  # touchpoint → store (None: brand-wide) → [total, pos, neg]


def _touchpoint_counts(session: Session, scope: Scope, start: datetime, end: datetime) -> TouchpointCounts:
    """Mentions of each touchpoint per store in the period, by the polarity of the clause about it."""
    rows = session.exec(
        select(MentionAnalysis.store_id, MentionTouchpoint.touchpoint, MentionTouchpoint.polarity,
               sa.func.count(sa.distinct(MentionTouchpoint.mention_id)))
        .join(MentionAnalysis, MentionAnalysis.mention_id == MentionTouchpoint.mention_id)
        .where(scope.clause(), MentionAnalysis.counted == sa.true(),
               MentionAnalysis.published_at >= start, MentionAnalysis.published_at < end)
        .group_by(MentionAnalysis.store_id, MentionTouchpoint.touchpoint, MentionTouchpoint.polarity)
    ).all()
    acc: TouchpointCounts = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for store_id, touchpoint, polarity, n in rows:
        cell = acc[touchpoint][store_id]
        cell[0] += int(n)
        if polarity == "positive":
            cell[1] += int(n)
        elif polarity == "negative":
            cell[2] += int(n)
    return acc


def _summed(name: str, cells: Iterable[list[int]]) -> TouchpointRow:
    """One touchpoint row of several stores' ``[total, positive, negative]`` together."""
    total = positive = negative = 0
    for t, pos, neg in cells:
        total, positive, negative = total + t, positive + pos, negative + neg
    return TouchpointRow(name, total, positive, negative)


def _touchpoints(counts: TouchpointCounts) -> list[TouchpointRow]:
    """The scope's touchpoints (every store and brand-wide mentions together), most complained about first."""
    out = [_summed(TOUCHPOINT_LABELS.get(k, k), list(by_store.values())) for k, by_store in counts.items()]
    return sorted(out, key=lambda r: (-r.negative, -r.total, r.name))


def _touchpoints_below_standard(counts: TouchpointCounts, board: list[StoreRow]) -> list[TouchpointFlag]:
    """The store × touchpoint pairs of a multi-store digest significantly more negative than the
    scope's stores on that touchpoint (``nlp.consistency.touchpoints_below_standard``), most
    significant first, each with the tested stores' share on the touchpoint it was compared with."""
    if len(board) < 2:
        return []
    names = {r.store_id: r.name for r in board}
    families = {tp: {sid: (c[2], c[0]) for sid, c in by_store.items() if sid in names} for tp, by_store in counts.items()}
    standing = touchpoints_below_standard(families, min_n=SHARE_MIN_N)
    flags = []
    for tp, by_store in standing.items():
        label = TOUCHPOINT_LABELS.get(tp, tp)
        hits = [s for s in by_store.values() if s.flagged]
        if not hits:
            continue
        chain = _summed(label, [counts[tp][s.store_id] for s in by_store.values() if not s.small_sample])
        flags += [TouchpointFlag(names[s.store_id], TouchpointRow(label, *counts[tp][s.store_id]), chain,
                                 float(s.p_value)) for s in hits]
    return sorted(flags, key=lambda f: (f.p_value, f.store, f.row.name))


def _quotes(session: Session, scope: Scope, start: datetime, end: datetime, label: str, n: int,
            store_names: dict[str, str], tz: str) -> list[Quote]:
    if n <= 0:
        return []
    order = MentionAnalysis.score.asc() if label == "negative" else MentionAnalysis.score.desc()
    rows = session.exec(
        select(Mention, MentionAnalysis)
        .join(MentionAnalysis, MentionAnalysis.mention_id == Mention.id)
        .where(scope.clause(), MentionAnalysis.counted == sa.true(), MentionAnalysis.label == label,
               MentionAnalysis.published_at >= start, MentionAnalysis.published_at < end,
               sa.func.length(Mention.text) >= 8)
        .order_by(order, sa.func.coalesce(Mention.likes, 0).desc(), Mention.id)
        .limit(n * 4)
    ).all()
    picked: list[tuple[Mention, MentionAnalysis]] = []
    seen_text: set[str] = set()
    for m, a in rows:  # no repeated text
        key = "".join(m.text.split())
        if key not in seen_text:
            seen_text.add(key)
            picked.append((m, a))
    # one quote per store first (the n-th quote of a store ranks after every store's first)
    nth: dict[str | None, int] = defaultdict(int)
    order = []
    for i, (_, a) in enumerate(picked):
        order.append((nth[a.store_id], i))
        nth[a.store_id] += 1
    ranked = [i for _, i in sorted(order)]
    quotes = []
    for i in ranked[:n]:
        m, a = picked[i]
        quotes.append(Quote(text=m.text, store=store_names.get(a.store_id or "", "") or "品牌",
                            platform=PLATFORM_LABELS.get(m.platform, m.platform),
                            published=m.published_at.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M"),
                            url=m.url, score=a.score))
    return quotes


def _negative_rows(session: Session, scope: Scope, start: datetime, end: datetime, limit: int,
                   names: dict[str, dict[str, str]], tz: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Mention, MentionAnalysis)
        .join(MentionAnalysis, MentionAnalysis.mention_id == Mention.id)
        .where(scope.clause(), MentionAnalysis.label == "negative",
               MentionAnalysis.published_at >= start, MentionAnalysis.published_at < end)
        .order_by(MentionAnalysis.published_at, Mention.id)
        .limit(limit)
    ).all()
    zone = ZoneInfo(tz)
    return [{
        "时间": m.published_at.astimezone(zone).replace(tzinfo=None),
        "平台": PLATFORM_LABELS.get(m.platform, m.platform),
        "门店": names["store"].get(a.store_id or "", a.store_id or ""),
        "产品": names["product"].get(a.product_id or "", a.product_id or ""),
        "情感得分": round(a.score, 3),
        "紧急": "是" if a.urgent else "",
        "关键词": "、".join(a.keywords or []),
        "内容": m.text,
        "链接": m.url or "",
        "重复转发": "" if a.counted else "是",
    } for m, a in rows]


def _alerts(session: Session, scope: Scope, start: datetime, end: datetime, stores: dict[str, Store], tz: str) -> list[AlertRow]:
    rows = session.exec(  # the period's alerts (opened in it), with their state now
        select(Alert).where(Alert.opened_at >= start, Alert.opened_at < end).order_by(Alert.opened_at)
    ).all()
    brand_of: dict[str, str | None] = {f"product:{p.id}": p.brand_id for p in session.exec(select(Product))}
    brand_of.update({f"region:{r.id}": r.brand_id for r in session.exec(select(Region))})
    brand_of.update({f"brand:{b.id}": b.id for b in session.exec(select(Brand))})
    zone = ZoneInfo(tz)
    return [
        AlertRow(id=a.id, title=plain_title(a.title), kind=KIND_LABELS.get(a.kind, a.kind), severity=a.severity,
                 severity_label=SEVERITY_LABELS.get(a.severity, a.severity), status=STATUS_LABELS.get(a.status, a.status),
                 opened=a.opened_at.astimezone(zone).strftime("%m-%d %H:%M"))
        for a in rows if scope.has_alert(a, stores, brand_of)
    ]


def collect_digest(session: Session, recipient: Recipient, week: str, settings: DigestSettings,
                   db: Any = None) -> DigestData:
    """Query everything the digest of ``recipient`` for ``week`` shows (reads only).

    ``db`` (the ``Database``) lets nlp's keyword ranker run; without it keywords are counted.
    """
    tz = settings.timezone
    start, end = parse_week(week, tz)
    prev_start = start - timedelta(days=7)
    stores = {s.id: s for s in session.exec(select(Store).order_by(Store.id))}
    brands = {b.id: b.name for b in session.exec(select(Brand))}
    products = {p.id: p.name for p in session.exec(select(Product))}
    store_names = {k: v.name for k, v in stores.items()}
    scope = recipient_scope(recipient, stores.values(), brands)
    # product names too: a complaint naming 榴莲冰沙 says nothing about what went wrong
    catalog_names = {*brands.values(), *brands, *(n for s in stores.values() for n in (s.name, *s.aliases)),
                     *(n for p in session.exec(select(Product)) for n in (p.name, *(p.aliases or ())))}

    this_by_store = _counts_by_store(session, scope, start, end)
    prev_by_store = _counts_by_store(session, scope, prev_start, start)
    this, prev = _sum(this_by_store.values()), _sum(prev_by_store.values())

    board = [
        StoreRow(sid, store_names.get(sid, sid), this_by_store.get(sid, Totals()), prev_by_store.get(sid, Totals()))
        for sid in sorted((set(this_by_store) | set(prev_by_store) | (scope.store_ids or set())) - {None})
        if scope.store_ids is None or sid in scope.store_ids
    ]
    # worst first: the store that needs attention heads the list; no polar mention ranks last
    leaderboard = sorted((r for r in board if r.this.total),
                         key=lambda r: (r.this.net if r.this.net is not None else 2, -r.this.total, r.name))
    movers = sorted(
        (r for r in board if r.delta_net is not None and r.this.total >= settings.mover_min_mentions
         and r.prev.total >= settings.mover_min_mentions),
        key=lambda r: (-abs(r.delta_net), r.name),
    )[: settings.movers]

    daily_rows = session.exec(
        select(MentionAnalysis.published_at, MentionAnalysis.label)
        .where(scope.clause(), MentionAnalysis.counted == sa.true(),
               MentionAnalysis.published_at >= start, MentionAnalysis.published_at < end)
    ).all()
    zone = ZoneInfo(tz)
    days = [(start + timedelta(days=i)).date() for i in range(7)]
    per_day: dict[date, Totals] = {d: Totals() for d in days}
    for published, label in daily_rows:
        per_day[published.astimezone(zone).date()].add(label, 1)
    weekday = "一二三四五六日"
    daily = [(f"{d.month}/{d.day} 周{weekday[d.weekday()]}", per_day[d]) for d in days]

    touchpoint_counts = _touchpoint_counts(session, scope, start, end)
    touchpoints = _touchpoints(touchpoint_counts)
    touchpoint_flags = _touchpoints_below_standard(touchpoint_counts, board)
    _attach_shares(session, [this, prev, *(t for r in board for t in (r.this, r.prev)), *touchpoints,
                             *(t for f in touchpoint_flags for t in (f.row, f.chain))])
    below, standard_share = _below_standard(board)

    return DigestData(
        week=week, period=period_label(start, end),
        period_short=f"{start.date():%m月%d日}–{(end - timedelta(days=1)).date():%m月%d日}",
        recipient_id=recipient.id, recipient_name=recipient.name, scope=scope.label,
        this=this, prev=prev, daily=daily,
        leaderboard=leaderboard[: settings.leaderboard_size], movers=movers,
        touchpoints=touchpoints,
        keywords=complaint_keywords(session, scope, start, end, settings.top_keywords, exclude=catalog_names, db=db),
        negative_quotes=_quotes(session, scope, start, end, "negative", settings.quotes, store_names, tz),
        positive_quotes=_quotes(session, scope, start, end, "positive", settings.quotes, store_names, tz),
        alerts=_alerts(session, scope, start, end, stores, tz),
        negative_rows=_negative_rows(session, scope, start, end, settings.max_excel_rows,
                                     {"store": store_names, "product": products}, tz),
        dashboard_url=settings.links.dashboard_url.rstrip("/"),
        handling=_handling(session, scope, stores, start, end, settings),
        below_standard=below, standard_share=standard_share, touchpoints_below_standard=touchpoint_flags,
    )


# ============================================================================ build / send
def digest_key(week: str, recipient_id: str) -> str:
    """The outbox idempotency key of one digest email."""
    return f"digest:{week}:{recipient_id}:email"


def build_digest(db: Any, settings: DigestSettings, recipient: Recipient | str, week: str) -> OutgoingMessage:
    """The rendered digest email of one recipient and week, without writing anything."""
    from alerts.render.digest import render_digest

    with db.session() as session:
        if isinstance(recipient, str):
            recipient = find_recipient(session, recipient)
        data = collect_digest(session, recipient, week, settings, db=db)
    subject, text, html, images, attachments = render_digest(data)
    return OutgoingMessage(
        key=digest_key(week, recipient.id), channel="email", recipient_id=recipient.id,
        address=recipient.email or "", subject=subject, text=text, html=html,
        payload={"images": [_b64(i) for i in images], "attachments": [_b64(a) for a in attachments]},
    )


def _b64(part: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in part.items() if k != "data"}, "b64": base64.b64encode(part["data"]).decode("ascii")}


def find_recipient(session: Session, name: str) -> Recipient:
    """A recipient by id, else by exact name (``LookupError`` when unknown)."""
    recipient = session.get(Recipient, name)
    if recipient is None:
        recipient = session.exec(select(Recipient).where(Recipient.name == name)).first()
    if recipient is None:
        known = ", ".join(r.id for r in session.exec(select(Recipient).order_by(Recipient.id)))
        raise LookupError(f"no recipient {name!r}; known: {known or '(none: run tingfeng sync)'}")
    return recipient


@dataclass
class DigestSummary:
    """What one digest run did."""

    week: str
    queued: int = 0
    already_sent: int = 0
    no_email: int = 0
    recipients: list[str] = field(default_factory=list)


def send_weekly_digest(db: Any, settings: DigestSettings, *, week: str | None = None,
                       now: datetime | None = None) -> DigestSummary:
    """Queue the digest of ``week`` (default: the last complete week) for every recipient
    with ``digest=True`` and an email address, once per (week, recipient).

    The email goes to the outbox; ``deliver_notifications`` sends it.
    """
    now = now or utcnow()
    week = week or last_complete_week(now, settings.timezone)
    parse_week(week, settings.timezone)  # validate early
    summary = DigestSummary(week=week)
    with db.session() as session:
        recipients = list(session.exec(select(Recipient).where(Recipient.digest == sa.true()).order_by(Recipient.id)))
        done = set(session.exec(select(DigestRun.recipient_id).where(DigestRun.week == week)))
    for recipient in recipients:
        if not recipient.email:
            summary.no_email += 1
            continue
        if recipient.id in done:
            summary.already_sent += 1
            continue
        message = build_digest(db, settings, recipient, week)
        if _queue(db, message, week, now):
            summary.queued += 1
            summary.recipients.append(recipient.id)
        else:
            summary.already_sent += 1
    return summary


def _queue(db: Any, message: OutgoingMessage, week: str, now: datetime) -> bool:
    """Write the DigestRun and the Notification together; False when another run won."""
    try:
        with db.session() as session:
            if session.exec(select(DigestRun).where(DigestRun.week == week, DigestRun.recipient_id == message.recipient_id)).first():
                return False
            notification = Notification(
                idempotency_key=message.key, channel="email", recipient_id=message.recipient_id,
                address=message.address, subject=message.subject, body_text=message.text, body_html=message.html,
                payload=message.payload, digest_week=week, status="pending", next_attempt_at=now, created_at=now,
            )
            session.add(notification)
            session.flush()
            session.add(DigestRun(week=week, recipient_id=message.recipient_id, created_at=now,
                                  notification_id=notification.id))
        return True
    except sa.exc.IntegrityError:
        log.info("digest %s for %s was queued by another run", week, message.recipient_id)
        return False
