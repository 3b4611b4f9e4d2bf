"""Alert messages: the email (subject, text, HTML) and the chat markdown, in Chinese.

Pure: the caller loads the alert, the scope's display name and the representative
mentions, and passes them in. Every outside string is escaped by the templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alerts.render.env import render
from storage.models import Alert
from storage.shares import share_note, stored_display
from storage.source_names import PLATFORMS

SEVERITY_LABELS = {"info": "提示", "warning": "预警", "critical": "严重"}
SEVERITY_COLORS = {"info": "#2f6fb5", "warning": "#d98200", "critical": "#c62828"}
KIND_LABELS = {"spike": "负面异常波动", "urgent": "紧急舆情", "source_health": "数据源异常"}
STATUS_LABELS = {"open": "待处理", "acknowledged": "已确认", "resolved": "已解决"}
SCOPE_LABELS = {
    "brand": "品牌", "region": "区域", "store": "门店", "product": "产品", "store_product": "门店×产品",
    "touchpoint": "触点", "store_touchpoint": "门店×触点", "platform": "平台", "source": "数据源",
}
TOUCHPOINT_LABELS = {
    "product": "出品/商品", "service": "服务", "environment": "环境", "price": "价格",
    "delivery": "配送", "digital": "数字渠道",
}
PLATFORM_LABELS = PLATFORMS  # one platform table, shared with the dashboard and source names
NUMBER_LABELS = {
    "negative": "负面数", "total": "总提及数", "positive": "正面数", "neutral": "中性数",
    "negative_share": "负面占比", "share": "负面占比", "expected": "预期负面数", "expected_negative": "平时同期负面数",
    "baseline_share": "平时负面占比", "baseline_negative": "基线负面数", "peer_share": "同类范围负面占比",
    "p_value": "显著性 p 值", "window_hours": "统计窗口（小时）", "urgent": "紧急提及数", "ratio": "倍数",
    "peer_window_share": "同类范围本窗口负面占比", "count": "相关提及数",
    "consecutive_failures": "连续失败次数", "http_status": "HTTP 状态码", "run_id": "采集批次",
    "reposts": "另有转发（不重复计数）",
}
# the detector's corrected shares (evidence["shares"], storage.shares), in the table's order
SHARE_LABELS = (("window", "负面占比"), ("usual", "平时负面占比"), ("peers", "同类范围负面占比"))
# statistical detail kept in the evidence (and the reason text) but not in the message's table;
# raw shares (any key naming a share) never show: a share is shown corrected, from evidence["shares"]
HIDDEN_NUMBERS = frozenset({"p_value", "peer_window_share", "run_id", "evidence", "months_between"})
HEALTH_LABELS = {"failing": "连续失败", "blocked": "被拦截/需登录", "stale": "长时间无新内容", "ok": "正常"}
_TITLE_TAG = re.compile(r"^\s*【[^】]{1,8}】\s*")


@dataclass(frozen=True)
class MentionView:
    """A representative mention as shown in a message."""

    text: str
    url: str | None = None
    platform: str = ""
    published: str = ""
    label: str = ""


@dataclass(frozen=True)
class AlertView:
    """Everything an alert message shows, already formatted for display."""

    id: int
    title: str
    kind: str
    severity: str
    severity_label: str
    color: str
    scope: str
    status: str
    reason: str
    opened: str
    window: str
    numbers: list[tuple[str, str]] = field(default_factory=list)
    touchpoints: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    mentions: list[MentionView] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    chart_cid: str | None = None
    escalation: bool = False
    escalation_note: str = ""  # who was told and how long nobody acknowledged
    share_note: str = ""  # how to read the shares shown (corrected or not, interval, 样本不足)


def _fmt_number(key: str, value: float) -> str:
    if key.endswith("rate") and 0 <= value <= 1:
        return f"{value * 100:.1f}%"
    if key.startswith("p_") or key in ("p", "pvalue"):
        return f"{value:.2g}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _stored_shares(evidence: dict[str, Any]) -> dict[str, Any]:
    shares = evidence.get("shares")
    return shares if isinstance(shares, dict) else {}


def evidence_numbers(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """The scalar numbers of an alert's evidence, labelled, in the detector's order.

    Reads ``evidence["numbers"]`` when the detector nests them there, else the top-level
    scalars plus those of ``evidence["baseline"]``. Shares come last, only as the detector
    stored them corrected (``evidence["shares"]``: with interval, or 样本不足); a raw share is
    never shown.
    """
    nested = evidence.get("numbers")
    if isinstance(nested, dict) and nested:
        sources: list[tuple[Any, str]] = [(nested, "")]
    else:
        sources = [(evidence, ""), (evidence.get("baseline"), "基线 ")]
    rows: list[tuple[str, str]] = []
    for source, prefix in sources:
        if isinstance(source, (int, float)) and not isinstance(source, bool):
            rows.append(("基线", _fmt_number("baseline", float(source))))
            continue
        if not isinstance(source, dict):
            continue
        for key, value in source.items():
            if (isinstance(value, bool) or not isinstance(value, (int, float)) or key in HIDDEN_NUMBERS
                    or "share" in key):
                continue
            label = NUMBER_LABELS.get(key, key)
            rows.append((prefix + label if prefix and not label.startswith("基线") else label, _fmt_number(key, float(value))))
    shares = _stored_shares(evidence)
    for key, label in SHARE_LABELS:
        text = stored_display(shares.get(key))
        if text is not None:
            rows.append((label, text))
    return rows


def _named_counts(value: Any, names: dict[str, str]) -> list[str]:
    """Touchpoints / keywords in any of the shapes evidence uses, as display strings."""
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, str):
                items.append((item, None))
            elif isinstance(item, dict):
                name = item.get("touchpoint") or item.get("keyword") or item.get("word") or item.get("name")
                count = item.get("negative", item.get("count"))
                if name:
                    items.append((str(name), count))
            elif isinstance(item, (list, tuple)) and item:
                items.append((str(item[0]), item[1] if len(item) > 1 else None))
    out = []
    for name, count in items:
        label = names.get(name, name)
        out.append(f"{label}（{count}）" if isinstance(count, (int, float)) and not isinstance(count, bool) else label)
    return out


def mention_ids(evidence: dict[str, Any]) -> list[int]:
    """The representative mention ids named in an alert's evidence, in order."""
    raw = evidence.get("mention_ids") or evidence.get("mentions") or evidence.get("representative") or []
    ids: list[int] = []
    for item in raw if isinstance(raw, list) else []:
        value = item.get("id", item.get("mention_id")) if isinstance(item, dict) else item
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids


def source_facts(evidence: dict[str, Any], tz: str) -> list[tuple[str, str]]:
    """What an admin needs about a failing source: its state, last success, last error."""
    facts = []
    if evidence.get("health"):
        facts.append(("状态", HEALTH_LABELS.get(evidence["health"], str(evidence["health"]))))
    for key, label in (("last_success_at", "上次成功采集"), ("last_new_item_at", "上次有新内容")):
        try:
            facts.append((label, local_time(datetime.fromisoformat(evidence[key]), tz)))
        except (KeyError, TypeError, ValueError):
            continue
    errors = [str(e) for e in evidence.get("errors") or [] if e]
    if errors:
        facts.append(("最近错误", errors[-1][:300]))
    return facts


def plain_title(title: str) -> str:
    """An alert title without the detector's leading 【严重】-style tag (messages add their own)."""
    return _TITLE_TAG.sub("", title) or title


def local_time(value: datetime | None, tz: str) -> str:
    """``2026-11-20 14:05`` in the business time zone."""
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if value else ""


def build_alert_view(
    alert: Alert, *, scope_name: str, mentions: list[MentionView], links: dict[str, str],
    tz: str = "Asia/Shanghai", chart_cid: str | None = None, escalation: bool = False,
    notified: tuple[str, ...] = (), now: datetime | None = None,
) -> AlertView:
    """The display model of ``alert`` (pure)."""
    evidence = alert.evidence or {}
    window = ""
    if alert.window_start and alert.window_end:
        start, end = local_time(alert.window_start, tz), local_time(alert.window_end, tz)
        window = f"{start} – {end[-5:] if end[:10] == start[:10] else end[5:]}"
    keywords = _named_counts(evidence.get("keywords"), {}) or [str(t) for t in evidence.get("terms", [])[:6]]
    numbers = evidence_numbers(evidence)
    shares = _stored_shares(evidence)
    stated = any(stored_display(shares.get(key)) is not None for key, _ in SHARE_LABELS)
    note = share_note(bool(shares.get("corrected"))) if stated else ""
    if alert.kind == "source_health":
        numbers += source_facts(evidence, tz)
    return AlertView(
        id=alert.id or 0, title=plain_title(alert.title), kind=KIND_LABELS.get(alert.kind, alert.kind),
        severity=alert.severity, severity_label=SEVERITY_LABELS.get(alert.severity, alert.severity),
        color=SEVERITY_COLORS.get(alert.severity, "#555555"),
        scope=f"{SCOPE_LABELS.get(alert.scope_type, alert.scope_type)}：{scope_name}",
        status=STATUS_LABELS.get(alert.status, alert.status), reason=alert.reason or "",
        opened=local_time(alert.opened_at, tz), window=window,
        numbers=numbers,
        touchpoints=_named_counts(evidence.get("touchpoints"), TOUCHPOINT_LABELS),
        keywords=keywords,
        mentions=mentions[:5], links=links, chart_cid=chart_cid, escalation=escalation,
        escalation_note=escalation_note(alert, notified, now) if escalation else "",
        share_note=note,
    )


def escalation_note(alert: Alert, notified: tuple[str, ...], now: datetime | None) -> str:
    """``已通知 王店长、赵经理，120 分钟无人确认`` for the next level up."""
    who = "、".join(notified[:5]) + (f" 等 {len(notified)} 人" if len(notified) > 5 else "")
    waited = f"{int((now - alert.opened_at).total_seconds() // 60)} 分钟" if now else "一段时间"
    return f"已通知 {who}，{waited}无人确认" if who else f"{waited}无人确认"


def alert_subject(view: AlertView) -> str:
    """The email subject / chat title, e.g. ``【听风·严重】静安寺店 负面异常波动：…``."""
    prefix = "【听风·升级】" if view.escalation else f"【听风·{view.severity_label}】"
    return f"{prefix}{view.title}"


def render_alert_email(view: AlertView) -> tuple[str, str, str]:
    """``(subject, plain text, HTML)`` of the alert email."""
    return alert_subject(view), render("alert_email.txt", a=view), render("alert_email.html", a=view)


def render_alert_markdown(view: AlertView) -> tuple[str, str]:
    """``(title, markdown)`` for the chat bots (WeCom / DingTalk / Feishu)."""
    return alert_subject(view), render("alert_markdown.txt", a=view)
