"""The weekly digest: scope, numbers, escaping, Excel attachment, once per week and recipient."""

from __future__ import annotations

import email
import io
from datetime import datetime, timedelta, timezone
from email.policy import default

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from alerts.channels.email import build_email
from alerts.digest import (
    DigestSettings, build_digest, collect_digest, last_complete_week, parse_week, send_weekly_digest,
)
from alerts.outbox import deliver_notifications, make_notifiers
from alerts.render.links import LinkSettings
from storage.models import (
    Alert, Brand, DigestRun, Mention, MentionAnalysis, MentionTouchpoint, Notification, Recipient, Region, Store,
)
from test_email import smtp_server  # noqa: F401 - fixture

SH = timezone(timedelta(hours=8))
SETTINGS = DigestSettings(links=LinkSettings(dashboard_url="https://tf.example.com", secret_key="k"))
WEEK = "2026-W47"  # Monday 16 – Sunday 22 November 2026
MONDAY = datetime(2026, 11, 16, 0, 0, tzinfo=SH)


def seed_digest(db) -> None:
    """Three stores; this week 静安寺店 gets worse, 望京店 better; a brand-wide post; alerts."""
    n = 0

    def mention(s, store, region, label, day, text, *, touch=None, keywords=(), url=None, counted=True):
        nonlocal n
        n += 1
        at = MONDAY + timedelta(days=day, hours=12, minutes=n % 50)
        s.add(Mention(id=n, source_id="dp", external_id=str(n), platform="dianping", text=text, url=url,
                      published_at=at, collected_at=at, content_hash=f"h{n}"))
        s.flush()
        score = {"positive": 0.9, "neutral": 0.5, "negative": 0.1}[label] + (n % 7) / 100
        s.add(MentionAnalysis(mention_id=n, published_at=at, platform="dianping", brand_id="cha", region_id=region,
                              store_id=store, model="t", model_version="1", score=score, label=label,
                              keywords=list(keywords), counted=counted, scored_at=at))
        if touch:
            s.add(MentionTouchpoint(mention_id=n, touchpoint=touch, polarity=label, score=score, evidence=text[:10]))

    with db.session() as s:
        s.add(Brand(id="cha", name="茶颜"))
        s.add(Region(id="sh", name="上海", brand_id="cha"))
        s.add(Region(id="bj", name="北京", brand_id="cha"))
        s.add(Store(id="jingan", brand_id="cha", name="静安寺店", region_id="sh"))
        s.add(Store(id="xujiahui", brand_id="cha", name="徐家汇店", region_id="sh"))
        s.add(Store(id="wangjing", brand_id="cha", name="望京店", region_id="bj"))
        s.add(Recipient(id="mgr-jingan", name="王店长", role="manager", email="wang@example.com", stores=["jingan"]))
        s.add(Recipient(id="area-sh", name="赵经理", role="area_manager", email="zhao@example.com", regions=["sh"]))
        s.add(Recipient(id="hq", name="总部", role="hq", email="hq@example.com"))
        s.add(Recipient(id="quiet", name="不订阅", role="hq", email="q@example.com", digest=False))
        s.add(Recipient(id="noemail", name="无邮箱", role="manager", stores=["jingan"]))
        for day in range(7):  # previous week: jingan fine, wangjing poor
            mention(s, "jingan", "sh", "positive", day - 7, "上周静安寺店的奶茶很好喝")
            mention(s, "wangjing", "bj", "negative", day - 7, "上周望京店出餐太慢了", touch="service", keywords=["出餐慢"])
        for day in range(7):  # this week
            mention(s, "jingan", "sh", "negative", day, f"静安寺店奶茶里有头发<script>x</script> 第{day}天",
                    touch="product", keywords=["头发", "异物", "静安寺店", "茶颜"],
                    url=f"https://www.dianping.com/review/{day}")
            mention(s, "jingan", "sh", "positive", day, f"静安寺店店员态度很好，服务周到，第{day + 1}次来", touch="service")
            mention(s, "xujiahui", "sh", "neutral", day, "徐家汇店今天人很多排队")
            mention(s, "wangjing", "bj", "positive", day, f"望京店新品杨枝甘露超级好喝，打卡第{day + 1}天", touch="product")
        mention(s, "wangjing", "bj", "negative", 2, "望京店外卖洒了一半", touch="delivery", keywords=["洒漏"])
        mention(s, None, None, "negative", 3, "茶颜整个品牌最近都涨价了太贵", touch="price", keywords=["涨价"])
        mention(s, "jingan", "sh", "negative", 3, "转发：静安寺店奶茶里有头发", keywords=["头发"], counted=False)
        at = MONDAY + timedelta(days=2)
        s.add(Alert(kind="spike", scope_type="store", scope_id="jingan", incident_key="a1", severity="critical",
                    status="acknowledged", title="静安寺店 负面评价激增", opened_at=at, updated_at=at))
        s.add(Alert(kind="spike", scope_type="store", scope_id="wangjing", incident_key="a2", severity="warning",
                    status="resolved", title="望京店 出餐慢投诉增多", opened_at=at, updated_at=at, resolved_at=at))
        s.add(Alert(kind="spike", scope_type="brand", scope_id="cha", incident_key="a3", title="茶颜 价格吐槽上升",
                    opened_at=at, updated_at=at))
        s.add(Alert(kind="urgent", scope_type="store", scope_id="jingan", incident_key="later", title="【紧急】周一早上的紧急预警",
                    severity="critical", opened_at=MONDAY + timedelta(days=7, hours=8),
                    updated_at=MONDAY + timedelta(days=7, hours=8)))
        s.add(Alert(kind="spike", scope_type="store", scope_id="jingan", incident_key="old", title="上上周的预警",
                    status="resolved", opened_at=at - timedelta(days=20), updated_at=at, resolved_at=at - timedelta(days=19)))


def data_for(db, recipient_id):
    with db.session() as s:
        return collect_digest(s, s.get(Recipient, recipient_id), WEEK, SETTINGS)


def test_weeks_are_iso_weeks_in_shanghai():
    start, end = parse_week(WEEK)
    assert start == MONDAY and end == MONDAY + timedelta(days=7)
    assert start.astimezone(timezone.utc) == datetime(2026, 11, 15, 16, 0, tzinfo=timezone.utc)
    # Monday 09:00 Shanghai is still Monday 01:00 UTC: the digest is about the week before
    assert last_complete_week(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)) == WEEK
    # a Sunday run (23:30 Shanghai = 15:30 UTC) covers the week ending that day, not the one before
    assert last_complete_week(datetime(2026, 11, 22, 15, 30, tzinfo=timezone.utc)) == WEEK
    # Sunday 00:10 Shanghai is Saturday 16:10 UTC: the Shanghai date decides
    assert last_complete_week(datetime(2026, 11, 21, 16, 10, tzinfo=timezone.utc)) == WEEK
    # midweek it is the week before; Monday 00:05 Shanghai is still the week just ended
    assert last_complete_week(datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)) == "2026-W47"
    assert last_complete_week(datetime(2026, 11, 29, 16, 5, tzinfo=timezone.utc)) == "2026-W48"


def test_manager_digest_shows_only_their_store(db):
    seed_digest(db)
    d = data_for(db, "mgr-jingan")
    assert d.scope == "门店：静安寺店"
    assert [r.name for r in d.leaderboard] == ["静安寺店"]
    assert (d.this.total, d.this.positive, d.this.negative) == (14, 7, 7)  # the repost is not counted
    assert (d.prev.total, d.prev.positive) == (7, 7)
    assert d.this.net == 0.0 and d.prev.net == 1.0
    # the period's alerts only: not 望京, not the brand, not last month's, not next Monday's
    assert [a.title for a in d.alerts] == ["静安寺店 负面评价激增"]
    assert d.keywords[:1] == [("头发", 7)]  # the store's and brand's own names are no complaint
    assert all(k not in ("静安寺店", "茶颜") for k, _ in d.keywords)
    assert all("静安寺店" in q.text for q in d.negative_quotes + d.positive_quotes)
    assert len(d.negative_quotes) == 3 and len(d.positive_quotes) == 3
    assert {r["门店"] for r in d.negative_rows} == {"静安寺店"}
    assert len(d.negative_rows) == 8  # the Excel keeps the repost, flagged
    msg = build_digest(db, SETTINGS, "mgr-jingan", WEEK)
    for other in ("望京店", "徐家汇店", "茶颜 价格吐槽上升", "涨价"):
        assert other not in msg.html and other not in msg.text


def test_area_manager_sees_region_and_movers(db):
    seed_digest(db)
    d = data_for(db, "area-sh")
    assert {r.name for r in d.leaderboard} == {"静安寺店", "徐家汇店"}
    assert [r.name for r in d.movers] == ["静安寺店"]  # 徐家汇 has no previous week to compare
    assert d.movers[0].delta_net == -1.0


def test_hq_digest_covers_the_brand_with_movers_and_touchpoints(db):
    seed_digest(db)
    d = data_for(db, "hq")
    # worst first: 静安寺店 (net 0) above 望京店 (+0.75); neutral only ranks last, not as zero
    assert [r.name for r in d.leaderboard] == ["静安寺店", "望京店", "徐家汇店"]
    assert d.leaderboard[2].this.net is None
    assert {r.name: r.delta_net for r in d.movers} == {"望京店": 1.75, "静安寺店": -1.0}
    assert d.this.total == 7 * 4 + 2
    tp = {t.name: (t.total, t.negative) for t in d.touchpoints}
    assert tp["出品/商品"] == (14, 7) and tp["价格"] == (1, 1) and tp["配送"] == (1, 1)
    assert {a.title for a in d.alerts} == {"静安寺店 负面评价激增", "望京店 出餐慢投诉增多", "茶颜 价格吐槽上升"}


def test_digest_email_escapes_user_text_and_has_charts_and_excel(db):
    seed_digest(db)
    msg = build_digest(db, SETTINGS, "王店长", WEEK)  # by name as well as id
    assert msg.subject.startswith("【听风周报】11月16日–11月22日 · 王店长")
    assert "<script>" not in msg.html and "&lt;script&gt;" in msg.html
    assert "<script>" in msg.text  # plain text is not HTML: shown as typed
    assert 'href="https://tf.example.com/alerts?alert=1"' in msg.html  # each alert opens in the dashboard
    cids = {i["cid"] for i in msg.payload["images"]}
    assert cids == {"chart-daily", "chart-touchpoints"}
    assert all(f'src="cid:{c}"' in msg.html for c in cids)
    mime = email.message_from_bytes(build_email(msg, "听风 <a@tingfeng.example>").as_bytes(), policy=default)
    xlsx = next(p for p in mime.iter_attachments() if p.get_filename().endswith(".xlsx"))
    assert xlsx.get_filename() == "听风周报_2026-W47_负面提及.xlsx"
    ws = load_workbook(io.BytesIO(xlsx.get_payload(decode=True))).active
    rows = list(ws.values)
    assert rows[0][:4] == ("时间", "平台", "门店", "产品") and len(rows) == 9
    assert any("<script>x</script>" in (r[7] or "") for r in rows[1:])  # data kept verbatim in Excel


def test_digest_is_queued_once_per_week_and_recipient(db, smtp_server):
    seed_digest(db)
    now = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    first = send_weekly_digest(db, SETTINGS, now=now)
    assert first.week == WEEK and first.queued == 3 and first.no_email == 1
    assert sorted(first.recipients) == ["area-sh", "hq", "mgr-jingan"]
    again = send_weekly_digest(db, SETTINGS, now=now + timedelta(minutes=5))
    assert (again.queued, again.already_sent) == (0, 3)
    with db.session() as s:
        runs = s.exec(select(DigestRun)).all()
        notes = s.exec(select(Notification)).all()
    assert len(runs) == 3 and len(notes) == 3
    assert {n.idempotency_key for n in notes} == {f"digest:{WEEK}:{r}:email" for r in ("area-sh", "hq", "mgr-jingan")}
    assert all(n.digest_week == WEEK for n in notes)
    summary = deliver_notifications(db, smtp_server.settings(), now=now, notifiers=make_notifiers(smtp_server.settings()))
    assert summary.sent == 3
    assert sorted(smtp_server.mailbox.by_recipient()) == ["hq@example.com", "wang@example.com", "zhao@example.com"]


def test_preview_command_writes_eml_and_html_without_sending(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from storage import Database, make_url_for_path
    from tingfeng.cli import app
    from tingfeng.example import EXAMPLE_CATALOG

    (tmp_path / "tingfeng.toml").write_text(EXAMPLE_CATALOG, encoding="utf-8")
    monkeypatch.setenv("TINGFENG_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TINGFENG_CATALOG", str(tmp_path / "tingfeng.toml"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    Database(make_url_for_path(tmp_path / "var" / "tingfeng.db")).upgrade()
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["digest", "preview", "--week", WEEK, "--recipient", "王店长", "-o", str(out)])
    assert result.exit_code == 0, result.output
    eml = out / "digest_2026-W47_王店长.eml"
    mime = email.message_from_bytes(eml.read_bytes(), policy=default)
    assert mime["Subject"].startswith("【听风周报】11月16日–11月22日 · 王店长") and mime["To"] == "wang@example.com"
    html = (out / "digest_2026-W47_王店长.html").read_text(encoding="utf-8")
    assert "本期没有收集到您负责范围内的顾客提及" in html and "cid:" not in html
    with Database(make_url_for_path(tmp_path / "var" / "tingfeng.db")).session() as s:
        assert s.exec(select(Notification)).all() == [] and s.exec(select(DigestRun)).all() == []
    bad = CliRunner().invoke(app, ["digest", "preview", "--week", WEEK, "--recipient", "nobody", "-o", str(out)])
    assert bad.exit_code == 1 and "no recipient 'nobody'" in bad.output


def test_keywords_are_complaint_phrases_in_count_order_without_names(db):
    import alerts.digest as digest

    seed_digest(db)
    with db.session() as s:
        manager = digest.collect_digest(s, s.get(Recipient, "mgr-jingan"), WEEK, SETTINGS, db=db)
        hq = digest.collect_digest(s, s.get(Recipient, "hq"), WEEK, SETTINGS, db=db)
    # the store's week: hair in the tea, 7 mentions; its name, the brand and 奶茶 (said by happy
    # customers too) are not the reason
    assert manager.keywords[0] == ("头发", 7)
    words = [w for w, _ in manager.keywords]
    assert not {"静安寺店", "静安寺", "奶茶", "茶颜"} & set(words)
    counts = [n for _, n in hq.keywords]
    assert counts == sorted(counts, reverse=True) and "头发" in [w for w, _ in hq.keywords]



def _period_seed(db) -> None:
    """Two stores over W48 and W49 (Mon 11-30 .. Sun 12-06) and alerts on both sides of 12-07."""
    w49 = datetime(2026, 11, 30, 0, 0, tzinfo=SH)
    with db.session() as s:
        s.add(Brand(id="cha", name="茶颜"))
        s.add(Store(id="good", brand_id="cha", name="好评店"))
        s.add(Store(id="bad", brand_id="cha", name="差评店"))
        s.add(Recipient(id="hq", name="总部", role="hq", email="hq@example.com"))
        n = 0
        for week_start, bad_label in ((w49 - timedelta(days=7), "positive"), (w49, "negative")):
            for day in range(7):
                for store, label in (("good", "positive"), ("bad", bad_label)):
                    n += 1
                    at = week_start + timedelta(days=day, hours=13)
                    s.add(Mention(id=n, source_id="dp", external_id=str(n), platform="dianping",
                                  text=f"{store} 第{n}条评价内容", published_at=at, collected_at=at, content_hash=f"h{n}"))
                    s.flush()
                    s.add(MentionAnalysis(mention_id=n, published_at=at, platform="dianping", brand_id="cha",
                                          store_id=store, model="t", model_version="1",
                                          score=0.9 if label == "positive" else 0.1, label=label, scored_at=at))
        for key, title, opened in (
            ("w48", "上周的预警", w49 - timedelta(days=3)),
            ("w49", "差评店 负面评价激增", datetime(2026, 12, 6, 20, 0, tzinfo=SH)),
            ("w50", "周一的新预警", datetime(2026, 12, 7, 8, 0, tzinfo=SH)),
        ):
            s.add(Alert(kind="spike", scope_type="store", scope_id="bad", incident_key=key, title=title,
                        opened_at=opened, updated_at=opened))


def test_digest_on_sunday_or_monday_covers_the_week_just_ended(db):
    """Fixed clocks: Sunday 12-06 22:00 and Monday 12-07 09:00 Shanghai both send W49 (11-30 .. 12-06)."""
    _period_seed(db)
    sunday = datetime(2026, 12, 6, 22, 0, tzinfo=SH)
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=SH)
    assert last_complete_week(sunday) == last_complete_week(monday) == "2026-W49"
    summary = send_weekly_digest(db, SETTINGS, now=monday)
    assert summary.week == "2026-W49" and summary.queued == 1
    with db.session() as s:
        note = s.exec(select(Notification)).one()
        data = collect_digest(s, s.get(Recipient, "hq"), "2026-W49", SETTINGS)
    assert data.period == "2026年11月30日（周一）– 12月06日（周日）"
    assert [r.name for r in data.leaderboard] == ["差评店", "好评店"]  # worst first
    assert [a.title for a in data.alerts] == ["差评店 负面评价激增"]  # not W48's, not Monday's
    assert note.subject.startswith("【听风周报】11月30日–12月06日 · 总部")
    # the email as read: the period stated once, no ISO week code, alerts of the period only
    for body in (note.body_html.split("</head>", 1)[1], note.body_text):
        assert body.count("11月30日") == 1 and "W49" not in body and "W48" not in body
        assert "差评店 负面评价激增" in body and "上周的预警" not in body and "周一的新预警" not in body
        assert body.index("差评店") < body.index("好评店")


def test_digest_shows_handling_per_store(db):
    """及时率 / 解决率 / 回复率 per store in the period, worst first, in the rendered email."""
    from storage.replies import set_reply

    seed_digest(db)
    with db.session() as s:  # 静安寺店's alert was acknowledged 30 minutes after it opened
        a = s.exec(select(Alert).where(Alert.incident_key == "a1")).one()
        a.acknowledged_at, a.acknowledged_by = a.opened_at + timedelta(minutes=30), "王店长"
        s.add(a)
        negative = s.exec(select(MentionAnalysis.mention_id).where(
            MentionAnalysis.store_id == "jingan", MentionAnalysis.label == "negative",
            MentionAnalysis.counted == True)).all()  # noqa: E712
    set_reply(db, negative[0], "replied", "王店长", now=MONDAY + timedelta(days=1))
    d = data_for(db, "hq")
    by = {h.name: h.numbers for h in d.handling}
    # both answered on time; 望京店 replied to none of its complaints, so it comes first
    assert [h.name for h in d.handling][:2] == ["望京店", "静安寺店"]
    assert by["望京店"].on_time_rate == by["静安寺店"].on_time_rate == 1.0 and by["望京店"].reply_rate == 0.0
    assert by["静安寺店"].negative == 7 and by["静安寺店"].reply_rate == pytest.approx(1 / 7)
    msg = build_digest(db, SETTINGS, "hq", WEEK)
    assert "投诉处理时效" in msg.html and "投诉处理时效" in msg.text
    assert "静安寺店：预警 1，及时率 100%，解决率 0%，负面 7，回复率 14%" in msg.text


def test_digest_excel_keeps_a_formula_looking_review_as_plain_text(db):
    """A review typed as a spreadsheet formula must reach every recipient's Excel as text, never a live formula."""
    seed_digest(db)
    evil = '=HYPERLINK("http://evil.example/x","点我")'
    at = MONDAY + timedelta(days=4, hours=15)
    with db.session() as s:
        for i, text in enumerate((evil, "+1 差评", "@所有人 有虫子")):
            mid = 900 + i
            s.add(Mention(id=mid, source_id="dp", external_id=f"x{mid}", platform="dianping", text=text,
                          published_at=at, collected_at=at, content_hash=f"evil{mid}"))
            s.flush()
            s.add(MentionAnalysis(mention_id=mid, published_at=at, platform="dianping", brand_id="cha", region_id="sh",
                                  store_id="jingan", model="t", model_version="1", score=0.05, label="negative",
                                  keywords=["-退款"], counted=True, scored_at=at))
    msg = build_digest(db, SETTINGS, "mgr-jingan", WEEK)
    mime = email.message_from_bytes(build_email(msg, "听风 <a@tingfeng.example>").as_bytes(), policy=default)
    xlsx = next(p for p in mime.iter_attachments() if p.get_filename().endswith("_负面提及.xlsx"))
    ws = load_workbook(io.BytesIO(xlsx.get_payload(decode=True))).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    content = {c.value for c in cells if c.column == 8}
    assert "'" + evil in content and "'+1 差评" in content and "'@所有人 有虫子" in content


def test_digest_email_shows_corrected_shares_and_small_sample_for_a_small_store(db):
    from storage.models import ModelRecord
    from storage.shares import share

    seed_digest(db)
    with db.session() as s:
        s.add(ModelRecord(name="ngram-lr", version="t", created_at=MONDAY, promoted_at=MONDAY,
                          figures={"rates": {"tpr": 0.9, "fpr": 0.1, "tnr": 0.8, "fnr": 0.05}}))
    msg = build_digest(db, SETTINGS, "hq", WEEK)
    # the brand's week: 30 mentions, 14 labelled positive (47% raw); corrected (14/30 − 0.1)/0.8 = 46%
    corrected = share(14, 30, 0.9, 0.1).display()
    assert corrected.startswith("46% (")
    assert f"正面占比（校正）：{corrected}" in msg.text and corrected in msg.html
    assert "47%" not in msg.text.split("\n")[4]
    # each store has 14 or 7 mentions this week: no percentage, 样本不足 with the count
    board = msg.text[msg.text.index("门店排行"):msg.text.index("变化最大的门店")]
    assert "静安寺店　提及 14　负面 7　负面占比 样本不足 (n=14)" in board
    assert "%" not in board
    assert "样本不足 (n=14)" in msg.html and "样本不足 (n=7)" in msg.html


def _plain_mentions(s, n: int, store_id: str, total: int, negative: int, touchpoint: str | None = None) -> int:
    """``total`` mentions of a store spread over the week, the first ``negative`` of them negative and
    the rest positive (ids from ``n + 1``; on ``touchpoint`` when given); returns the last id."""
    for k in range(total):
        n += 1
        at = MONDAY + timedelta(days=k % 7, hours=10, minutes=k % 50)
        label = "negative" if k < negative else "positive"
        s.add(Mention(id=n, source_id="dp", external_id=str(n), platform="dianping", text=f"第{n}条",
                      published_at=at, collected_at=at, content_hash=f"h{n}"))
        s.add(MentionAnalysis(mention_id=n, published_at=at, platform="dianping", brand_id="cha",
                              store_id=store_id, model="t", model_version="1", score=0.5, label=label,
                              counted=True, scored_at=at))
        if touchpoint:
            s.add(MentionTouchpoint(mention_id=n, touchpoint=touchpoint, polarity=label, score=0.5, evidence=f"第{n}条"))
    return n


def test_hq_digest_names_the_store_below_the_chain_standard_and_not_a_small_noisy_one(db):
    with db.session() as s:
        s.add(Brand(id="cha", name="茶颜"))
        s.add(Recipient(id="hq", name="总部", role="hq", email="hq@example.com"))
        n = 0
        plan = {f"ok{i}": (40, 8) for i in range(8)}  # eight ordinary stores: 20% negative
        plan["bad"] = (40, 24)  # 60% negative: far below the chain
        plan["tiny"] = (5, 4)  # 80% negative, but 5 mentions
        for sid, (total, negative) in plan.items():
            s.add(Store(id=sid, brand_id="cha", name=f"{sid}店"))
            n = _plain_mentions(s, n, sid, total, negative)
    d = data_for(db, "hq")
    assert [r.store_id for r in d.below_standard] == ["bad"]
    msg = build_digest(db, SETTINGS, "hq", WEEK)
    section = msg.text[msg.text.index("低于连锁标准的门店"):]
    assert "bad店：负面 24/40" in section and "tiny店" not in section.split("（单侧检验")[0]
    assert "低于连锁标准的门店" in msg.html and "bad店" in msg.html


def _touchpoint_chain(db) -> None:
    """Nine stores with 40 服务 and 40 出品 mentions each this week: 服务 20% negative and 出品 15%
    everywhere except 服务 at 坏店 (60% negative); a manager of 坏店 and one of 好店0."""
    with db.session() as s:
        s.add(Brand(id="cha", name="茶颜"))
        s.add(Recipient(id="hq", name="总部", role="hq", email="hq@example.com"))
        s.add(Recipient(id="mgr-bad", name="坏店店长", role="manager", email="b@example.com", stores=["bad"]))
        s.add(Recipient(id="mgr-ok0", name="好店店长", role="manager", email="o@example.com", stores=["ok0"]))
        n = 0
        plan = {f"ok{i}": {"service": 8, "product": 6} for i in range(8)}
        plan["bad"] = {"service": 24, "product": 6}
        for sid, negatives in plan.items():
            s.add(Store(id=sid, brand_id="cha", name=("坏店" if sid == "bad" else f"好店{sid[2:]}")))
            for touchpoint, negative in negatives.items():
                n = _plain_mentions(s, n, sid, 40, negative, touchpoint)


def test_hq_digest_names_the_store_touchpoint_below_the_chain_standard(db):
    _touchpoint_chain(db)
    d = data_for(db, "hq")
    assert [(f.store, f.row.name) for f in d.touchpoints_below_standard] == [("坏店", "服务")]
    flag = d.touchpoints_below_standard[0]
    assert (flag.row.negative, flag.row.total) == (24, 40)
    assert (flag.chain.negative, flag.chain.total) == (8 * 8 + 24, 9 * 40)  # every tested store on 服务
    assert flag.row.shares.negative.display() == "60% (45%–74%)"
    msg = build_digest(db, SETTINGS, "hq", WEEK)
    section = msg.text[msg.text.index("低于连锁标准的门店触点"):]
    section = section[:section.index("（每个触点单侧检验")]
    assert "坏店 · 服务：负面 24/40，负面占比 60% (45%–74%)，全部门店合计 24% (20%–29%)" in section
    assert "好店" not in section and "出品" not in section
    assert "低于连锁标准的门店触点" in msg.html and "<b>坏店</b> · 服务" in msg.html


def test_store_manager_digest_has_no_touchpoint_standard_block(db):
    _touchpoint_chain(db)
    for recipient in ("mgr-bad", "mgr-ok0"):
        assert data_for(db, recipient).touchpoints_below_standard == []
        msg = build_digest(db, SETTINGS, recipient, WEEK)
        assert "连锁标准" not in msg.text and "连锁标准" not in msg.html


def test_touchpoint_standard_block_renders_escaped_in_text_and_html():
    from alerts.digest import DigestData, Totals, TouchpointFlag, TouchpointRow
    from alerts.render.env import render
    from storage.shares import sentiment_shares

    row = TouchpointRow("服务", 40, 10, 24, sentiment_shares(10, 24, 40))
    chain = TouchpointRow("服务", 360, 200, 88, sentiment_shares(200, 88, 360))
    data = DigestData(week=WEEK, period="2026年11月16日（周一）– 11月22日（周日）", period_short="11月16日–11月22日",
                      recipient_id="hq", recipient_name="总部", scope="全部品牌与门店", this=Totals(), prev=Totals(),
                      daily=[], leaderboard=[], movers=[], touchpoints=[], keywords=[], negative_quotes=[],
                      positive_quotes=[], alerts=[],
                      touchpoints_below_standard=[TouchpointFlag("<b>坏</b>店", row, chain, 0.001)])
    text = render("digest_email.txt", d=data, subject="s")
    assert ("低于连锁标准的门店触点（某一触点的负面占比显著高于本期全部门店在该触点的合计）：\n"
            "- <b>坏</b>店 · 服务：负面 24/40，负面占比 60% (45%–74%)，全部门店合计 24% (20%–29%)\n") in text
    assert "Benjamini–Hochberg" in text.split("低于连锁标准的门店触点")[1]
    html = render("digest_email.html", d=data, subject="s", cids=set())
    assert "&lt;b&gt;坏&lt;/b&gt;店" in html and "<b>坏</b>店" not in html
    assert "负面占比 60% (45%–74%)，全部门店合计 24% (20%–29%)" in html
    data.touchpoints_below_standard = []
    assert "门店触点" not in render("digest_email.txt", d=data, subject="s")
    assert "门店触点" not in render("digest_email.html", d=data, subject="s", cids=set())
