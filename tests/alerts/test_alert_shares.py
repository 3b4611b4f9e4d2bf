"""Alerts state negative shares as the dashboard and digest do: corrected, with the 95% interval,
样本不足 for too few mentions (storage.shares) — in the reason, the email, the chat message, and
through the real path detector → outbox → SMTP."""

from __future__ import annotations

import email
import html as htmllib
import re
from datetime import datetime, timedelta, timezone
from email.policy import default

import pytest
from sqlmodel import select

import alerts.outbox as outbox
from alerts.detect import spike_reason
from alerts.outbox import deliver_notifications, enqueue_alert_notifications
from alerts.policy import AlertPolicy
from alerts.render.alert import build_alert_view, render_alert_email, render_alert_markdown
from alerts.render.links import LinkSettings
from storage.models import Alert, ModelRecord, Recipient
from storage.shares import Share, share
from test_detect import run_case
from test_email import smtp_server  # noqa: F401 - fixture

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
TNR, FNR = 0.8, 0.05  # P(labelled negative | negative), P(labelled negative | positive)
NUMBERS = {"window_hours": 6, "negative": 60, "total": 150, "expected_negative": 12.0, "p_value": 1e-9,
           "rarity": "约每 10 年一次的偶然"}
PERCENT = re.compile(r"\d+(?:\.\d+)?%")


def shares(window: tuple[int, int], usual: tuple[int, int], peers: tuple[int, int], corrected=True) -> dict:
    """Evidence ``shares`` as the detector stores them, from (negatives, mentions) per scope."""
    out = {k: share(x, n, TNR, FNR).as_dict() for k, (x, n) in (("window", window), ("usual", usual),
                                                                 ("peers", peers))}
    return {**out, "corrected": corrected}


def spike_alert(numbers: dict, stored: dict | None) -> Alert:
    evidence = {"numbers": numbers, "keywords": ["异味"], "scope_name": "静安寺店", "mention_ids": []}
    if stored is not None:
        evidence["shares"] = stored
    return Alert(id=7, kind="spike", scope_type="store", scope_id="jingan", incident_key="k", severity="critical",
                 title="【严重】静安寺店 差评激增", reason=spike_reason(numbers, [], ["异味"], None, stored),
                 opened_at=NOW, updated_at=NOW, evidence=evidence)


def visible(html: str) -> str:
    """What a mail client shows of ``html``: the body's text, without tags or styles."""
    body = html.split("<body", 1)[1]
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body.split(">", 1)[1]))


def rendered(alert: Alert) -> tuple[str, str, str, list[tuple[str, str]]]:
    """(plain text, visible HTML text, chat markdown, the numbers table) of ``alert``."""
    view = build_alert_view(alert, scope_name="静安寺店", mentions=[], links={}, tz="Asia/Shanghai")
    _, text, html = render_alert_email(view)
    _, markdown = render_alert_markdown(view)
    return text, visible(html), markdown, view.numbers


def test_many_mentions_show_the_corrected_share_with_its_interval_everywhere():
    stored = shares((60, 150), (400, 5000), (3000, 40000))
    text, html, markdown, numbers = rendered(spike_alert(NUMBERS, stored))
    window = share(60, 150, TNR, FNR)
    # 60 of 150 labelled negative (40% raw); corrected (0.40 − 0.05) / 0.75 = 47%
    assert window.display().startswith("47% (") and window.low < window.estimate < window.high
    usual = share(400, 5000, TNR, FNR).display()  # 8% raw → 4%
    assert usual.startswith("4% (")
    assert f"近6小时共 150 条提及，差评占比 {window.display()}；该范围平时差评占比 {usual}，同类范围" in text
    assert dict(numbers)["负面占比"] == window.display() and dict(numbers)["平时负面占比"] == usual
    for body in (text, html, markdown):
        assert window.display() in body and usual in body
        assert "40%" not in body and "8%" not in body  # the raw shares are never shown
        assert "占比已按情感模型的误判率校正，括号内为 95% 区间" in body
    assert "- 负面占比：**47% (" in markdown and "\n\n注：占比已按情感模型的误判率校正" in markdown  # its own paragraph


def test_few_mentions_say_small_sample_and_give_no_percentage():
    numbers = {**NUMBERS, "negative": 8, "total": 11}
    stored = shares((8, 11), (5, 15), (9, 18))  # a new store in a small chain: nothing has 20 mentions
    text, html, markdown, rows = rendered(spike_alert(numbers, stored))
    assert "差评占比 样本不足 (n=11)；该范围平时差评占比 样本不足 (n=15)，同类范围 样本不足 (n=18)" in text
    assert {label: value for label, value in rows if "占比" in label} == {
        "负面占比": "样本不足 (n=11)", "平时负面占比": "样本不足 (n=15)", "同类范围负面占比": "样本不足 (n=18)"}
    for body in (text, html, markdown):
        assert PERCENT.findall(body) == ["95%"], body  # only the reading guide's "95% 区间"
        assert "8 条差评" in body or "8 条" in body  # the counts still carry the alert


def test_uncorrected_shares_say_so_and_evidence_without_shares_shows_counts_only():
    text, *_ = rendered(spike_alert(NUMBERS, shares((60, 150), (400, 5000), (3000, 40000), corrected=False)))
    assert "占比未校正（尚无带误判率的上线模型）" in text
    legacy = {**NUMBERS, "negative_share": 0.4, "baseline_share": 0.08, "peer_share": 0.075}
    text, html, markdown, rows = rendered(spike_alert(legacy, None))  # written before shares were stored
    for body in (text, html, markdown):
        assert not PERCENT.findall(body), body
        assert "近6小时共 150 条提及" in body
    assert ("负面数", "60") in rows and not [label for label, _ in rows if "占比" in label]


def test_a_stored_share_reads_back_as_the_same_share():
    s = share(60, 150, TNR, FNR)
    back = Share.from_dict(s.as_dict())
    assert back.display() == s.display() and back.n == 150 and not back.small_sample
    assert Share.from_dict(share(3, 8).as_dict()).display() == "样本不足 (n=8)"
    assert Share.from_dict(None) is None and Share.from_dict({"estimate": 0.4}) is None


# --------------------------------------------------------------------------- the real path


@pytest.mark.parametrize("per_day,extra,small", [(40, (15, 6), False), (2, (8, 4), True)],
                         ids=["busy store", "quiet store"])
def test_the_received_alert_email_states_the_detectors_corrected_share(db, smtp_server, per_day, extra, small):
    with db.session() as s:
        s.add(ModelRecord(name="ngram-lr", version="t", created_at=NOW, promoted_at=NOW,
                          figures={"rates": {"tpr": 0.9, "fpr": 0.1, "tnr": TNR, "fnr": FNR}}))
        s.add(Recipient(id="mgr", name="王店长", role="manager", email="wang@example.com", stores=["s1"],
                        push_warnings=True))  # a warning is pushed only to who asked
    (alert,) = run_case(db, per_day, extra)
    n = alert.evidence["numbers"]
    expected = share(n["negative"], n["total"], TNR, FNR)
    assert expected.small_sample is small and alert.evidence["shares"]["model"] == "ngram-lr t"
    now = alert.opened_at + timedelta(minutes=1)
    enqueue_alert_notifications(db, AlertPolicy(), links=LinkSettings(dashboard_url="https://tf.example.com",
                                                                      secret_key="s3cret"), now=now)
    settings = smtp_server.settings()
    sent = deliver_notifications(db, settings, now=now, notifiers={"email": outbox.make_notifiers(settings)["email"]})
    assert sent.sent >= 1
    raws = [raw for rcpts, raw in smtp_server.mailbox.received if rcpts == ["wang@example.com"]]
    assert len(raws) == 1
    body = email.message_from_bytes(raws[0], policy=default).get_body(("plain",)).get_content()
    assert f"- 负面占比：{expected.display()}" in body and f"差评占比 {expected.display()}" in body
    usual = dict(line[2:].split("：", 1) for line in body.splitlines() if line.startswith("- "))["平时负面占比"]
    assert re.fullmatch(r"\d+% \(\d+%–\d+%\)|样本不足 \(n=\d+\)", usual), usual
    assert "占比已按情感模型的误判率校正" in body
    if small:
        assert "%" not in body.split("差评占比 ")[1].split("；")[0]
    else:
        raw = f"{n['negative'] / n['total']:.0%}"
        assert raw != f"{expected.estimate:.0%}" and f"差评占比 {raw}" not in body
    with db.session() as s:
        assert s.exec(select(Alert).where(Alert.id == alert.id)).one().evidence["shares"]["window"]["n"] == n["total"]
