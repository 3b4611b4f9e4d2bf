"""html: selector-described listings, parsed purely and collected from a loopback server."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import select

from collectors.registry import validate_options
from collectors.run import collect_source
from collectors.sources.html import HtmlOptions, parse_listing
from storage.models import Mention, Source

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)

OPTIONS = {
    "item": "li.review",
    "fields": {
        "id": "@data-id",
        "author": ".name",
        "time": ".time",
        "rating": ".star",
        "text": ".review-words",
        "store": "@data-shop",
        "link": "a.permalink@href",
    },
    "next": 'a:-soup-contains("下一页")',
    "robots": False,
}


def review(rid: int, *, time: str = "2026-11-20 12:30", star: str = "star-40", text: str | None = None,
           shop: str = "H123") -> str:
    words = text if text is not None else f"第{rid}条评价，奶茶很好喝，服务也不错"
    return (f'<li class="review" data-id="r{rid}" data-shop="{shop}"><span class="name">用户{rid}</span>'
            f'<span class="time">{time}</span><span class="star {star}"></span>'
            f'<div class="review-words">{words}</div><a class="permalink" href="/review/{rid}">全文</a></li>')


def listing(ids: list[int], next_href: str | None = None, **kw) -> str:
    nav = f'<div class="pager"><a href="{next_href}">下一页</a></div>' if next_href else ""
    return f"<html><body><ul>{''.join(review(i, **kw) for i in ids)}</ul>{nav}</body></html>"


def opts(**over) -> HtmlOptions:
    return HtmlOptions.model_validate({"url": "https://shop.example/reviews", **OPTIONS, **over})


def test_parse_listing_fields_rating_store_and_next() -> None:
    page = parse_listing(listing([1, 2], "/reviews?p=2"), opts(), base_url="https://shop.example/reviews", now=NOW)
    first = page.items[0]
    assert first.external_id == "r1" and first.author == "用户1" and first.rating == 4.0
    assert first.published_at == datetime(2026, 11, 20, 4, 30, tzinfo=timezone.utc)
    assert first.store_hint == "H123" and first.url == "https://shop.example/review/1"
    assert first.text == "第1条评价，奶茶很好喝，服务也不错"
    assert page.next == "https://shop.example/reviews?p=2"


def test_relative_times_and_rating_forms() -> None:
    html = "".join([
        review(1, time="3分钟前", star="sml-rank-stars sml-str45"),
        review(2, time="昨天 12:30", star="x"),
        review(3, time="2天前"),
    ]).replace('<span class="star x"></span>', '<span class="star">四星半</span>')
    page = parse_listing(f"<ul>{html}</ul>", opts(), base_url="https://a/", now=NOW)
    times = [i.published_at for i in page.items]
    assert times[0] == datetime(2026, 11, 22, 3, 57, tzinfo=timezone.utc)
    assert times[1] == datetime(2026, 11, 21, 4, 30, tzinfo=timezone.utc)
    assert times[2] == datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
    assert [i.rating for i in page.items] == [4.5, 4.5, 4.0]


def test_time_format_option_and_attribute_rating() -> None:
    html = ('<div class="r" data-id="a"><p>好喝好喝好喝</p><time>20/11/2026 08h30</time>'
            '<i class="s" data-score="★★★☆☆"></i></div>')
    options = HtmlOptions.model_validate({
        "url": "https://a/", "item": "div.r", "time_format": "%d/%m/%Y %Hh%M",
        "fields": {"id": "@data-id", "text": "p", "time": "time", "rating": "i.s@data-score"}})
    item = parse_listing(html, options, base_url="https://a/", now=NOW).items[0]
    assert item.published_at == datetime(2026, 11, 20, 0, 30, tzinfo=timezone.utc)
    assert item.rating == 3.0


def test_bad_item_among_good_ones_is_reported_and_skipped() -> None:
    html = f"<html><body><ul>{review(1)}{review(2, time='某天')}{review(3, text='')}{review(4)}</ul></body></html>"
    page = parse_listing(html, opts(), base_url="https://a/", now=NOW)
    assert [i.external_id for i in page.items] == ["r1", "r4"]
    assert page.errors == ["item 2: bad time '某天'", "item 3: empty text"]


def test_malformed_html_still_yields_items() -> None:
    broken = listing([1, 2]).replace("</li>", "", 1).replace("</ul>", "<div><span>")
    page = parse_listing(broken, opts(), base_url="https://a/", now=NOW)
    assert {"r1", "r2"} <= {i.external_id for i in page.items}


def test_option_problems_carry_key_paths() -> None:
    problems = validate_options("html", {"url": "https://a/", "item": "li", "fields": {"text": ".t"}, "colour": 1})
    assert "options.fields.time: field required" in problems
    assert "options.colour: unknown option" in problems
    assert any(p.startswith("options.item") for p in validate_options(
        "html", {"url": "https://a/", "item": "li[[", "fields": {"text": "t", "time": "t"}}))
    assert validate_options("nope", {}) and validate_options("html", {**OPTIONS, "url": "https://a/"}) == []


def test_collect_paginates_stores_hints_and_stops_incrementally(db, server, fast_http, add_source) -> None:
    server.static("/reviews", listing([1, 2, 3], "/reviews?page=2"))
    pages = {"2": listing([4, 5, 6], "/reviews?page=3"), "3": listing([7, 8])}
    server.route("/reviews", lambda r: (200, {"Content-Type": "text/html; charset=utf-8"},
                                        (pages.get(r.query.removeprefix("page="), None)
                                         or listing([1, 2, 3], "/reviews?page=2")).encode()))
    add_source("dp", "html", {**OPTIONS, "url": server.url("/reviews")}, platform="dianping", brand_id="b1")
    run = collect_source(db, "dp", http=fast_http, now=NOW)
    assert (run.status, run.pages, run.items_new) == ("ok", 3, 8)
    with db.session() as s:
        rows = s.exec(select(Mention).order_by(Mention.external_id)).all()
        assert {m.store_hint for m in rows} == {"H123"} and {m.brand_hint for m in rows} == {"b1"}
        assert {m.kind for m in rows} == {"review"} and rows[0].rating == 4.0
    # a new review appears on top: the next run reads page 1 and 2, then stops
    server.route("/reviews", lambda r: (200, {"Content-Type": "text/html"}, (
        pages.get(r.query.removeprefix("page=")) or listing([9, 1, 2], "/reviews?page=2")).encode()))
    before = len(server.requests)
    again = collect_source(db, "dp", http=fast_http, now=NOW)
    assert again.items_new == 1 and again.pages == 2 and len(server.requests) - before == 2
    with db.session() as s:
        assert len(s.exec(select(Mention)).all()) == 9


def test_store_binding_wins_over_page_store(db, server, fast_http, add_source) -> None:
    server.static("/r", listing([1]))
    add_source("s", "html", {**OPTIONS, "url": server.url("/r")}, store_id="store-wuyi")
    collect_source(db, "s", http=fast_http, now=NOW)
    with db.session() as s:
        m = s.exec(select(Mention)).one()
        assert m.store_hint == "store-wuyi" and m.extra["page_store"] == "H123"


def test_page_url_template_and_detail_pages(db, server, fast_http, add_source) -> None:
    server.route("/list", lambda r: (200, {"Content-Type": "text/html"}, (
        listing([1, 2]) if r.query in ("", "p=1") else listing([3]) if r.query == "p=2" else "<ul></ul>").encode()))
    for rid in (1, 2, 3):
        server.static(f"/review/{rid}", f"<div class='full'>完整评价{rid}：奶茶很好喝，就是排队太久</div>")
    add_source("t", "html", {**OPTIONS, "next": None, "url": server.url("/list"),
                             "page_url": server.url("/list?p={page}"), "max_pages": 5, "detail": "div.full"})
    run = collect_source(db, "t", http=fast_http, now=NOW)
    assert run.items_new == 3, run.errors
    with db.session() as s:
        texts = sorted(s.exec(select(Mention.text)).all())
    assert texts[0] == "完整评价1：奶茶很好喝，就是排队太久"
    assert [r.query for r in server.hits("/list")] == ["", "p=2", "p=3"]


def test_gbk_page_without_header_charset(db, server, fast_http, add_source) -> None:
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>'
            + listing([1], text="鍋底很香，服务员态度好，炖得软烂") + "</body></html>")
    server.static("/gbk", html.encode("gbk"), "text/html")
    add_source("g", "html", {**OPTIONS, "url": server.url("/gbk")})
    assert collect_source(db, "g", http=fast_http, now=NOW).items_new == 1
    with db.session() as s:
        assert s.exec(select(Mention.text)).one() == "鍋底很香，服务员态度好，炖得软烂"
        assert s.get(Source, "g").health == "ok"
