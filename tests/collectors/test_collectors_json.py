"""json: field paths and page / cursor / next-URL pagination against a loopback API."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs

from sqlmodel import select

from collectors.registry import validate_options
from collectors.run import collect_source
from collectors.sources.jsonapi import JsonOptions, parse_json_page
from storage.models import Mention

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)
FIELDS = {"id": "reviewId", "text": "content", "time": "addTime", "author": "user.nickName",
          "rating": "star", "store": "shop.id", "likes": "stats.likes"}


def entry(n: int, **over) -> dict:
    base = {"reviewId": n, "content": f"第{n}条 JSON 评价，味道正宗", "addTime": 1763600000000 + n * 1000,
            "user": {"nickName": f"u{n}"}, "star": 45, "shop": {"id": "H9"}, "stats": {"likes": "1.2万"}}
    return {**base, **over}


def as_json(data) -> tuple[int, dict, bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(data, ensure_ascii=False).encode()


def test_parse_paths_scale_and_bad_item() -> None:
    options = JsonOptions.model_validate({"url": "https://api.example/r", "items": "data.list", "fields": FIELDS,
                                          "rating_scale": 50, "link_template": "https://dp.example/review/{id}"})
    data = {"data": {"list": [entry(1), entry(2, addTime="garbage"), entry(3, content=None)]}}
    page = parse_json_page(data, options, base_url="https://api.example/r", now=NOW)
    [item] = page.items
    assert (item.external_id, item.author, item.rating, item.likes, item.store_hint) == ("1", "u1", 4.5, 12000, "H9")
    assert item.published_at == datetime(2025, 11, 20, 0, 53, 21, tzinfo=timezone.utc)
    assert item.url == "https://dp.example/review/1"
    assert page.errors == ["item 2: bad time 'garbage'", "item 3: empty text"]


def test_validation_of_pagination_options() -> None:
    problems = validate_options("json", {"url": "https://a/", "fields": {"id": "a", "text": "b", "time": "c"},
                                         "pagination": "cursor"})
    assert problems == ["options: Value error, pagination = 'cursor' needs cursor_path"]
    assert validate_options("json", {"url": "https://a/", "fields": {"id": "a"}}) == [
        "options.fields.text: field required", "options.fields.time: field required"]


def test_page_pagination_with_env_secret_and_incremental_stop(db, server, fast_http, add_source, monkeypatch) -> None:
    pages = {1: [entry(5), entry(4)], 2: [entry(3), entry(2)], 3: [entry(1)], 4: []}

    def api(request):
        q = parse_qs(request.query)
        if request.headers.get("authorization") != "tok" or q.get("city") != ["cs"]:
            return 401, {}, b""
        return as_json({"code": 0, "data": {"list": pages[int(q["pageNo"][0])]}})

    server.route("/api/reviews", api)
    monkeypatch.setenv("DIANPING_TOKEN", "tok")
    add_source("api", "json", {"url": server.url("/api/reviews"), "items": "data.list", "fields": FIELDS,
                               "pagination": "page", "page_param": "pageNo", "params": {"city": "cs"},
                               "headers_env": {"Authorization": "DIANPING_TOKEN"}, "robots": False})
    run = collect_source(db, "api", http=fast_http, now=NOW)
    assert (run.status, run.items_new, run.pages) == ("ok", 5, 4)
    pages[1] = [entry(6), entry(5)]
    pages[2] = [entry(4), entry(3)]
    again = collect_source(db, "api", http=fast_http, now=NOW)
    assert (again.items_new, again.pages) == (1, 2)
    with db.session() as s:
        assert len(s.exec(select(Mention)).all()) == 6


def test_cursor_pagination_until_has_more_false(db, server, fast_http, add_source) -> None:
    chain = {"": ([entry(3), entry(2)], "c2", True), "c2": ([entry(1)], "c3", False)}

    def api(request):
        cursor = parse_qs(request.query).get("max_cursor", [""])[0]
        items, nxt, more = chain[cursor]
        return as_json({"items": items, "cursor": nxt, "has_more": more})

    server.route("/c", api)
    add_source("c", "json", {"url": server.url("/c"), "items": "items", "fields": FIELDS, "pagination": "cursor",
                             "cursor_param": "max_cursor", "cursor_path": "cursor", "has_more_path": "has_more",
                             "robots": False})
    run = collect_source(db, "c", http=fast_http, now=NOW)
    assert (run.items_new, run.pages) == (3, 2)


def test_next_url_pagination_and_top_level_list(db, server, fast_http, add_source) -> None:
    server.route("/n1", lambda r: as_json({"results": [entry(1)], "next": "/n2"}))
    server.route("/n2", lambda r: as_json({"results": [entry(2)], "next": None}))
    add_source("n", "json", {"url": server.url("/n1"), "items": "results", "fields": FIELDS,
                             "pagination": "next_url", "next_url_path": "next", "robots": False})
    assert collect_source(db, "n", http=fast_http, now=NOW).items_new == 2
    server.route("/flat", lambda r: as_json([entry(7)]))
    add_source("f", "json", {"url": server.url("/flat"), "fields": FIELDS, "robots": False})
    assert collect_source(db, "f", http=fast_http, now=NOW).items_new == 1


def test_invalid_json_fails_and_login_wall_blocks(db, server, fast_http, add_source) -> None:
    server.static("/bad", "{oops", "application/json")
    server.static("/wall", "<html>请登录后查看</html>")
    add_source("b", "json", {"url": server.url("/bad"), "fields": FIELDS, "robots": False})
    add_source("w", "json", {"url": server.url("/wall"), "fields": FIELDS, "robots": False})
    bad = collect_source(db, "b", http=fast_http, now=NOW)
    assert bad.status == "failed" and "invalid JSON" in bad.errors[-1]
    assert collect_source(db, "w", http=fast_http, now=NOW).status == "blocked"
