"""collect_source end to end: health alerts, resume after a crash, repost linking,
keyword rules, date ranges, secrets from the environment, bad configuration."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from collectors.errors import SourceNotFound
from collectors.run import RunContext, collect_source
from storage.models import Alert, Brand, CollectorRun, Mention, Source

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)


def review(rid: int, text: str | None = None, time: str = "2026-11-20 12:30") -> str:
    text = text or f"第{rid}条：奶茶很好喝，服务也不错"
    return (f'<li class="r" data-id="r{rid}"><span class="t">{time}</span>'
            f'<p>{text}</p></li>')


def page(ids, nxt=None, **kw) -> bytes:
    nav = f'<a class="next" href="{nxt}">下一页</a>' if nxt else ""
    return f"<ul>{''.join(review(i, **kw) for i in ids)}</ul>{nav}".encode()


OPTS = {"item": "li.r", "fields": {"id": "@data-id", "time": ".t", "text": "p"}, "next": "a.next", "robots": False}


def alerts(db):
    with db.session() as s:
        return s.exec(select(Alert).order_by(Alert.id)).all()


def test_blocked_source_raises_one_alert_and_recovery_resolves_it(db, server, fast_http, add_source) -> None:
    state = {"mode": "blocked"}
    server.route("/l", lambda r: (461, {}, b"") if state["mode"] == "blocked" else (
        (200, {"Content-Type": "text/html"}, "<html><p>请完成安全验证</p></html>".encode())
        if state["mode"] == "captcha" else (200, {"Content-Type": "text/html"}, page([1]))))
    add_source("dp", "html", {**OPTS, "url": server.url("/l")})
    first = collect_source(db, "dp", http=fast_http, now=NOW)
    assert first.status == "blocked" and first.http_status == 461
    state["mode"] = "captcha"
    second = collect_source(db, "dp", http=fast_http, now=NOW)
    assert second.status == "blocked"
    [alert] = alerts(db)
    assert (alert.kind, alert.scope_type, alert.scope_id, alert.incident_key, alert.status) == (
        "source_health", "source", "dp", "source:dp", "open")
    assert alert.evidence["health"] == "blocked" and "安全验证" in alert.reason
    with db.session() as s:
        assert s.get(Source, "dp").health == "blocked"
    state["mode"] = "ok"
    assert collect_source(db, "dp", http=fast_http, now=NOW).status == "ok"
    [alert] = alerts(db)
    assert alert.status == "resolved" and alert.resolved_at is not None
    with db.session() as s:
        src = s.get(Source, "dp")
        assert (src.health, src.consecutive_failures) == ("ok", 0)


def test_failing_alert_only_after_n_consecutive_failures(db, server, fast_http, add_source) -> None:
    server.static("/down", "x", status=500)
    add_source("s", "feed", {"url": server.url("/down"), "robots": False})
    for n in range(1, 5):
        run = collect_source(db, "s", http=fast_http, now=NOW)
        assert run.status == "failed" and "HTTP 500" in run.errors[-1]
        assert len(alerts(db)) == (0 if n < 3 else 1)
    [alert] = alerts(db)
    assert alert.evidence["consecutive_failures"] == 4 and "4" in alert.title
    assert alert.title.endswith(": RSS") and "source s failed" in alert.reason  # named for people, the id kept in the reason


def test_stale_source_alert_uses_its_rhythm(db, server, fast_http, add_source) -> None:
    hours = [0, 1, 2, 3, 4, 5]
    items = "".join(review(h, text=f"第{h}条点评内容足够长", time=(NOW - timedelta(hours=h + 1)).strftime("%Y-%m-%dT%H:%M:%S+00:00"))
                    for h in hours)
    server.static("/l", f"<ul>{items}</ul>")
    add_source("s", "html", {**OPTS, "url": server.url("/l")})
    assert collect_source(db, "s", http=fast_http, now=NOW).items_new == 6
    # hourly rhythm → threshold max(24 h, 5 h) = 24 h: quiet for 10 h is fine
    collect_source(db, "s", http=fast_http, now=NOW + timedelta(hours=10))
    assert alerts(db) == []
    collect_source(db, "s", http=fast_http, now=NOW + timedelta(hours=30))
    [alert] = alerts(db)
    assert alert.status == "open" and alert.evidence["health"] == "stale"
    server.static("/l", f"<ul>{items}{review(99, text='新的一条评价来了，好喝')}</ul>")
    collect_source(db, "s", http=fast_http, now=NOW + timedelta(hours=31))
    assert alerts(db)[0].status == "resolved"


def test_resume_after_crash_has_no_gaps_or_duplicates(db, server, fast_http, add_source, monkeypatch) -> None:
    # listing newest first, 3 per page, 12 reviews: 12..1
    reviews = list(range(12, 0, -1))

    def handler(request):
        n = int(request.query.removeprefix("p=") or 1)
        chunk = reviews[(n - 1) * 3:n * 3]
        return 200, {"Content-Type": "text/html"}, page(chunk, f"/l?p={n + 1}" if n * 3 < len(reviews) else None)

    server.route("/l", handler)
    add_source("s", "html", {**OPTS, "url": server.url("/l"), "max_pages": 50})
    real_emit = RunContext.emit
    calls = {"n": 0}

    def dying_emit(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")  # the process dies after two stored pages
        return real_emit(self, *args, **kwargs)

    monkeypatch.setattr(RunContext, "emit", dying_emit)
    with pytest.raises(KeyboardInterrupt):
        collect_source(db, "s", http=fast_http, now=NOW)
    monkeypatch.setattr(RunContext, "emit", real_emit)
    with db.session() as s:
        assert len(s.exec(select(Mention)).all()) == 6
        assert s.get(Source, "s").state["resume"]["ref"].endswith("/l?p=3")
    reviews[:0] = [15, 14, 13, 16]  # four new reviews pushed everything down meanwhile
    run = collect_source(db, "s", http=fast_http, now=NOW)
    with db.session() as s:
        ids = sorted(int(x[1:]) for x in s.exec(select(Mention.external_id)).all())
        runs = s.exec(select(CollectorRun).order_by(CollectorRun.id)).all()
        assert s.get(Source, "s").state["resume"] is None
    assert ids == list(range(1, 17))
    assert run.items_new == 10 and run.status == "ok"
    assert runs[0].status == "failed" and "interrupted" in runs[0].errors[-1]


def test_reposts_across_sources_are_linked_not_lost(db, server, fast_http, add_source) -> None:
    text = "茶颜悦色五一广场店今天排队两个小时，太夸张了"
    server.static("/a", f"<ul>{review(1, text=text)}{review(2, text='好喝')}</ul>")
    server.static("/b", f"<ul>{review(7, text=text + '！！ https://t.cn/xyz')}{review(8, text='好喝')}</ul>")
    add_source("a", "html", {**OPTS, "url": server.url("/a")})
    add_source("b", "html", {**OPTS, "url": server.url("/b")})
    collect_source(db, "a", http=fast_http, now=NOW)
    collect_source(db, "b", http=fast_http, now=NOW)
    with db.session() as s:
        rows = {(m.source_id, m.external_id): m for m in s.exec(select(Mention)).all()}
    assert rows[("b", "r7")].duplicate_of == rows[("a", "r1")].id
    assert rows[("b", "r7")].content_hash == rows[("a", "r1")].content_hash
    assert rows[("a", "r1")].duplicate_of is None
    assert rows[("b", "r8")].duplicate_of is None  # too short to call it a repost


def test_keyword_rules_and_brand_aliases(db, server, fast_http, add_source) -> None:
    server.static("/k", "<ul>" + review(1, text="茶颜悦色的幽兰拿铁真好喝") + review(2, text="一点点甜的奶茶不错啊")
                  + review(3, text="茶颜悦色招聘店员，待遇优厚") + review(4, text="今天天气很好适合出门") + "</ul>")
    with db.session() as s:
        s.add(Brand(id="chayan", name="茶颜悦色", aliases=["茶颜", "一点点"], exclude=["一点点甜"]))
    add_source("k", "html", {**OPTS, "url": server.url("/k"),
                             "keywords": {"exclude": ["招聘"], "use_brand_aliases": True}}, brand_id="chayan")
    run = collect_source(db, "k", http=fast_http, now=NOW)
    with db.session() as s:
        assert s.exec(select(Mention.external_id)).all() == ["r1"]
    assert run.items_seen == 4 and run.items_new == 1


def test_date_range_backfill_stops_at_older_pages(db, server, fast_http, add_source) -> None:
    days = {1: "2026-11-20 10:00", 2: "2026-11-10 10:00", 3: "2026-10-01 10:00", 4: "2026-09-01 10:00"}
    server.route("/d", lambda r: (200, {"Content-Type": "text/html"}, page(
        [int(r.query[2:] or 1)], f"/d?p={int(r.query[2:] or 1) + 1}", time=days[int(r.query[2:] or 1)])))
    add_source("d", "html", {**OPTS, "url": server.url("/d"), "since": "2026-11-01T00:00:00+08:00",
                             "until": "2026-11-15T00:00:00+08:00", "max_pages": 4})
    run = collect_source(db, "d", http=fast_http, now=NOW)
    with db.session() as s:
        assert s.exec(select(Mention.external_id)).all() == ["r2"]
    assert run.pages == 3  # page 3 is wholly older than since: stop there


def test_secret_headers_from_environment(db, server, fast_http, add_source, monkeypatch) -> None:
    server.route("/api", lambda r: (200, {"Content-Type": "text/html"}, page([1])) if r.headers.get(
        "authorization") == "Bearer s3cret" else (401, {}, b""))
    add_source("e", "html", {**OPTS, "url": server.url("/api"), "headers_env": {"Authorization": "TF_TEST_TOKEN"}})
    missing = collect_source(db, "e", http=fast_http, now=NOW)
    assert missing.status == "failed" and "TF_TEST_TOKEN" in missing.errors[-1]
    monkeypatch.setenv("TF_TEST_TOKEN", "Bearer s3cret")
    assert collect_source(db, "e", http=fast_http, now=NOW).items_new == 1
    with db.session() as s:
        assert "s3cret" not in str(s.get(Source, "e").state)


def test_bad_configuration_fails_the_run_with_key_paths(db, add_source, fast_http) -> None:
    add_source("bad", "html", {"url": "ftp://x", "item": "li"})
    run = collect_source(db, "bad", http=fast_http, now=NOW)
    assert run.status == "failed"
    assert "options.url" in run.errors[-1] and "options.fields: field required" in run.errors[-1]
    add_source("odd", "carrier-pigeon", {})
    assert "unknown source type" in collect_source(db, "odd", http=fast_http, now=NOW).errors[-1]
    with pytest.raises(SourceNotFound):
        collect_source(db, "nope", http=fast_http, now=NOW)


def test_collect_many_shares_one_polite_client(db, server, fast_http, add_source) -> None:
    from collectors.run import collect_many

    for n in range(3):
        server.static(f"/m{n}", page([10 * n + 1, 10 * n + 2]))
        add_source(f"m{n}", "html", {**OPTS, "url": server.url(f"/m{n}")})
    runs = collect_many(db, ["m0", "m1", "m2"], http=fast_http, concurrency=2, now=NOW)
    assert [(r.source_id, r.status, r.items_new) for r in runs] == [("m0", "ok", 2), ("m1", "ok", 2), ("m2", "ok", 2)]


def test_feed_answered_by_a_captcha_page_is_blocked(db, server, fast_http, add_source) -> None:
    server.static("/rss", "<html><body><div id='captcha'>请完成验证码</div></body></html>")
    add_source("f", "feed", {"url": server.url("/rss"), "robots": False})
    run = collect_source(db, "f", http=fast_http, now=NOW)
    assert run.status == "blocked" and "captcha" in run.errors[-1]
    assert alerts(db)[0].evidence["health"] == "blocked"


def test_source_respects_robots_unless_switched_off(db, server, fast_http, add_source) -> None:
    server.static("/robots.txt", "User-agent: *\nDisallow: /shop/\n", "text/plain")
    server.static("/shop/1", page([1]))
    opts = {k: v for k, v in OPTS.items() if k != "robots"}
    add_source("polite", "html", {**opts, "url": server.url("/shop/1")})
    add_source("allowed", "html", {**opts, "url": server.url("/shop/1"), "robots": False})
    run = collect_source(db, "polite", http=fast_http, now=NOW)
    assert run.status == "failed" and "robots.txt disallows" in run.errors[-1] and not server.hits("/shop/1")
    assert collect_source(db, "allowed", http=fast_http, now=NOW).items_new == 1


@pytest.mark.parametrize("paging", ["page_url", "next"])
def test_a_listing_that_repeats_its_page_stops_at_the_repeat(paging, db, server, fast_http, add_source) -> None:
    # the site ignores the page number / hands out a new next link to the same items
    server.route("/l", lambda r: (200, {"Content-Type": "text/html"},
                                  page([3, 2, 1], f"/l?cursor={len(server.requests)}")))
    options = {**OPTS, "url": server.url("/l"), "max_pages": 10, "incremental": False}
    if paging == "page_url":
        options = {**{k: v for k, v in options.items() if k != "next"}, "page_url": server.url("/l?p={page}")}
    add_source("s", "html", options)
    run = collect_source(db, "s", http=fast_http, now=NOW)
    assert len(server.hits("/l")) == 2 and run.items_new == 3
    assert len(run.errors) == 1 and "page 2 repeats page 1 (the same 3 items): paging stopped" in run.errors[0]
    with db.session() as s:
        assert s.get(Source, "s").state["resume"] is None
