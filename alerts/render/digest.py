"""The weekly digest email: subject, text, HTML, inline charts and the Excel attachment."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from alerts.render.charts import bar_chart, to_png, volume_chart
from alerts.render.env import render
from storage.spreadsheet import XLSX_MIME, SheetLayout, xlsx_bytes

if TYPE_CHECKING:
    from alerts.digest import DigestData

log = logging.getLogger(__name__)
COLUMNS = ["时间", "平台", "门店", "产品", "情感得分", "紧急", "关键词", "内容", "链接", "重复转发"]
WIDTHS = {"时间": 17, "平台": 9, "门店": 14, "产品": 12, "情感得分": 9, "紧急": 6, "关键词": 18, "内容": 60, "链接": 36, "重复转发": 9}
LAYOUT = SheetLayout(widths=WIDTHS, wrap=("内容",), datetime_format={"时间": "yyyy-mm-dd hh:mm"}, header_fill="C62828",
                     freeze_header=True, auto_filter=True)


def digest_subject(data: DigestData) -> str:
    """``【听风周报】11月16日–11月22日 · 王店长 · 提及 40 条，负面 12 条（+3）``."""
    delta = data.this.negative - data.prev.negative
    return f"【听风周报】{data.period_short} · {data.recipient_name} · 提及 {data.this.total} 条，负面 {data.this.negative} 条（{delta:+d}）"


def negative_mentions_xlsx(rows: list[dict[str, Any]], title: str) -> bytes:
    """An .xlsx of the week's negative mentions: one row each, header frozen, filterable, formulas defused."""
    return xlsx_bytes(COLUMNS, ([row.get(c, "") for c in COLUMNS] for row in rows), sheet="负面提及", title=title,
                      layout=LAYOUT)


def _charts(data: DigestData) -> list[dict[str, Any]]:
    images = []
    if data.this.total:
        rows = [{"时间": label, "情感": zh, "数量": getattr(t, key)}
                for label, t in data.daily for zh, key in (("负面", "negative"), ("中性", "neutral"), ("正面", "positive"))]
        images.append(("chart-daily", volume_chart(rows, title="每日提及", height=170)))
    if any(t.negative for t in data.touchpoints):
        rows = [{"触点": t.name, "负面提及": t.negative} for t in data.touchpoints if t.negative]
        images.append(("chart-touchpoints", bar_chart(rows, category="触点", value="负面提及", title="各触点负面提及")))
    out = []
    for cid, chart in images:
        try:
            out.append({"cid": cid, "mime": "image/png", "filename": f"{cid}.png", "data": to_png(chart)})
        except Exception:  # a missing chart must not stop the digest
            log.exception("digest chart %s failed", cid)
    return out


def render_digest(data: DigestData) -> tuple[str, str, str, list[dict[str, Any]], list[dict[str, Any]]]:
    """``(subject, text, html, images, attachments)``; images/attachments carry raw ``data`` bytes."""
    images = _charts(data)
    cids = {i["cid"] for i in images}
    subject = digest_subject(data)
    text = render("digest_email.txt", d=data, subject=subject)
    html = render("digest_email.html", d=data, subject=subject, cids=cids)
    attachments = [{
        "filename": f"听风周报_{data.week}_负面提及.xlsx", "mime": XLSX_MIME,
        "data": negative_mentions_xlsx(data.negative_rows, f"{data.week} 负面提及 · {data.recipient_name}"),
    }]
    return subject, text, html, images, attachments


def inline_images(html: str, images: list[dict[str, Any]]) -> str:
    """``cid:`` references replaced by ``data:`` URIs, so a preview opens in any browser."""
    for image in images:
        html = html.replace(f"cid:{image['cid']}", f"data:{image.get('mime', 'image/png')};base64,{image['b64']}")
    return html
