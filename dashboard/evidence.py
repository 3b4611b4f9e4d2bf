"""An alert's evidence in words: the statistics, touchpoints and terms a manager reads.

Pure functions of the stored ``Alert.evidence`` dict. Bookkeeping kept there for the
detector (mention ids, content hashes, when keywords were computed) is never shown.
"""

from __future__ import annotations

from typing import Any

from dashboard.labels import TOUCHPOINTS, label
from dashboard.queries.metrics import share_note, stored_display

_SOURCE_FIELDS = {"consecutive_failures": "连续失败次数", "http_status": "HTTP 状态码", "last_success_at": "上次成功采集",
                  "last_new_item_at": "上次有新内容", "errors": "最近错误"}


def _spike_line(n: dict[str, Any], shares: dict[str, Any]) -> str | None:
    """Counts as counted; shares only as the detector stored them corrected (never a raw share)."""
    if "negative" not in n:
        return None
    window, usual, peers = (stored_display(shares.get(k)) for k in ("window", "usual", "peers"))
    parts = [f"近 {n['window_hours']} 小时" if n.get("window_hours") else "统计窗口内",
             f"差评 {n['negative']} 条" + (f" / 共 {n['total']} 条" if n.get("total") else "")]
    if window is not None:
        parts.append(f"负面占比 {window}")
    if n.get("expected_negative") is not None:
        parts.append(f"平时同期约 {float(n['expected_negative']):.1f} 条")
    if usual is not None:
        parts.append(f"平时负面占比 {usual}")
    if peers is not None:
        parts.append(f"同类范围 {peers}")
    if n.get("p_value") is not None:
        parts.append(f"偶然出现的概率 p = {float(n['p_value']):.2g}")
    return "，".join(parts[:2]) + ("；" + "；".join(parts[2:]) if parts[2:] else "")


def evidence_lines(evidence: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(heading, text) pairs describing an alert's evidence, in reading order."""
    e = evidence or {}
    out: list[tuple[str, str]] = []
    numbers = e.get("numbers") if isinstance(e.get("numbers"), dict) else {}
    shares = e.get("shares") if isinstance(e.get("shares"), dict) else {}
    line = _spike_line(numbers or e, shares)
    if line:
        out.append(("数据", line))
    if any(stored_display(shares.get(k)) is not None for k in ("window", "usual", "peers")):
        out.append(("占比说明", share_note(bool(shares.get("corrected")))))
    if isinstance(e.get("count"), int):
        reposts = f"（另有 {e['reposts']} 条转发）" if e.get("reposts") else ""
        out.append(("提及", f"{e['count']} 条含紧急词{reposts}"))
    tps = [t for t in e.get("touchpoints") or [] if isinstance(t, dict)]
    if tps:
        out.append(("负面触点", "、".join(f"{label(TOUCHPOINTS, t.get('touchpoint'))} {t.get('negative', '')}".strip()
                                      for t in tps)))
    words = [str(w) for w in (e.get("terms") or e.get("keywords") or []) if isinstance(w, str)]
    if words:
        out.append(("紧急词" if e.get("terms") else "投诉词", "、".join(words[:10])))
    for key, name in _SOURCE_FIELDS.items():
        value = e.get(key)
        if isinstance(value, list):
            value = "；".join(str(v) for v in value[-3:])
        elif isinstance(value, str) and key.endswith("_at"):
            value = value[:16].replace("T", " ") + " (UTC)"
        if value not in (None, "", []):
            out.append((name, str(value)))
    return out
