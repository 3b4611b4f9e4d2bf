"""The polite client against a real loopback server: retries, Retry-After, timeouts,
redirects, robots.txt, size cap, charset, per-host spacing."""

from __future__ import annotations

import asyncio
import time

import pytest

from collectors.errors import BlockedError, HttpStatusError, NetworkError, ResponseTooLarge, RobotsDisallowed
from collectors.http import HttpSettings, PoliteClient, retry_after_seconds
from collectors.parse.charset import decode


def run(coro):
    return asyncio.run(coro)


async def get(settings: HttpSettings, url: str, **kw):
    async with PoliteClient(settings) as client:
        return await client.get(url, **kw)


def sequence(*answers):
    """A handler answering each request with the next (status, headers, body)."""
    queue = list(answers)

    def handler(_request):
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


def test_429_with_retry_after_is_honoured(server, fast_http) -> None:
    server.route("/x", sequence((429, {"Retry-After": "1"}, b""), (200, {}, b"ok")))
    started = time.monotonic()
    response = run(get(fast_http, server.url("/x"), robots=False))
    assert response.status == 200 and response.content == b"ok"
    hits = server.hits("/x")
    assert len(hits) == 2 and hits[1].at - hits[0].at >= 0.95
    assert time.monotonic() - started < 5


def test_retry_after_longer_than_allowed_fails_fast(server, fast_http) -> None:
    server.route("/x", sequence((429, {"Retry-After": "3600"}, b"")))
    with pytest.raises(HttpStatusError, match="Retry-After"):
        run(get(fast_http, server.url("/x"), robots=False))
    assert len(server.hits("/x")) == 1


def test_500_then_success_and_persistent_500_fails(server, fast_http) -> None:
    server.route("/flaky", sequence((500, {}, b"oops"), (503, {}, b"oops"), (200, {}, b"fine")))
    assert run(get(fast_http, server.url("/flaky"), robots=False)).content == b"fine"
    server.route("/down", sequence((502, {}, b"")))
    with pytest.raises(HttpStatusError) as info:
        run(get(fast_http, server.url("/down"), robots=False))
    assert info.value.status == 502 and len(server.hits("/down")) == fast_http.retries + 1


def test_block_statuses_are_not_retried(server, fast_http) -> None:
    for status in (403, 432, 461):
        server.static(f"/b{status}", "login", status=status)
        with pytest.raises(BlockedError):
            run(get(fast_http, server.url(f"/b{status}"), robots=False))
        assert len(server.hits(f"/b{status}")) == 1
    server.static("/missing", "no", status=404)
    with pytest.raises(HttpStatusError) as info:
        run(get(fast_http, server.url("/missing"), robots=False))
    assert info.value.status == 404 and not isinstance(info.value, BlockedError)


def test_read_timeout_is_retried_then_reported(server) -> None:
    def slow(_request):
        time.sleep(0.6)
        return 200, {}, b"late"

    server.route("/slow", slow)
    settings = HttpSettings(read_timeout=0.2, connect_timeout=0.2, retries=1, backoff_base=0.01, min_delay_per_host=0)
    with pytest.raises(NetworkError, match="Timeout"):
        run(get(settings, server.url("/slow"), robots=False))
    assert len(server.hits("/slow")) == 2


def test_connection_refused_is_a_network_error(fast_http) -> None:
    with pytest.raises(NetworkError):
        run(get(fast_http, "http://127.0.0.1:9/", robots=False))


def test_redirects_are_followed_and_capped(server, fast_http) -> None:
    server.static("/old", "", status=301, headers={"Location": "/new"})
    server.static("/new", "here")
    response = run(get(fast_http, server.url("/old"), robots=False))
    assert response.url == server.url("/new") and response.text == "here"
    server.static("/loop", "", status=302, headers={"Location": "/loop"})
    with pytest.raises(NetworkError, match="TooManyRedirects"):
        run(get(fast_http, server.url("/loop"), robots=False))


def test_robots_disallow_and_switch(server, fast_http) -> None:
    server.static("/robots.txt", "User-agent: *\nDisallow: /private\n", "text/plain")
    server.static("/private/x", "secret")
    server.static("/public", "hello")
    with pytest.raises(RobotsDisallowed):
        run(get(fast_http, server.url("/private/x")))
    assert not server.hits("/private/x")
    assert run(get(fast_http, server.url("/public"))).text == "hello"
    assert run(get(fast_http, server.url("/private/x"), robots=False)).text == "secret"
    relaxed = fast_http.model_copy(update={"respect_robots": False})
    assert run(get(relaxed, server.url("/private/x"))).text == "secret"


def test_robots_missing_allows_and_server_error_disallows(server, fast_http) -> None:
    server.static("/page", "ok")
    assert run(get(fast_http, server.url("/page"))).text == "ok"  # /robots.txt is a 404
    server.static("/robots.txt", "boom", status=500)
    with pytest.raises(RobotsDisallowed):
        run(get(fast_http, server.url("/page")))


def test_response_size_cap(server, fast_http) -> None:
    server.static("/big", b"x" * 5000)
    small = fast_http.model_copy(update={"max_response_bytes": 1000})
    with pytest.raises(ResponseTooLarge):
        run(get(small, server.url("/big"), robots=False))


def test_conditional_get_sends_validators(server, fast_http) -> None:
    server.route("/c", lambda r: (304, {}, b"") if r.headers.get("if-modified-since") else (200, {}, b"x"))
    response = run(get(fast_http, server.url("/c"), robots=False, last_modified="Sat, 21 Nov 2026 00:00:00 GMT"))
    assert response.not_modified


def test_min_delay_and_concurrency_per_host(server) -> None:
    server.static("/p", "ok")
    settings = HttpSettings(min_delay_per_host=0.1, per_host_concurrency=2, retries=0)
    starts: list[float] = []

    async def many():
        async with PoliteClient(settings) as client:
            await asyncio.gather(*(client.get(server.url("/p"), robots=False) for _ in range(6)))
            starts.extend(next(iter(client.requests_per_host.values())))

    run(many())
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) == 6 and min(gaps) >= 0.099, gaps
    received = sorted(r.at for r in server.hits("/p"))
    assert received[-1] - received[0] >= 0.3  # the server saw them spread out too (loose: receipt jitters)


def test_charset_detection_forms() -> None:
    text = "茶颜悦色，幽兰拿铁好喝。排队太久了！"
    assert decode(text.encode("gbk"), "text/html; charset=GBK")[0] == text
    assert decode(f'<meta charset="gb2312"><p>{text}</p>'.encode("gb18030"))[0].endswith(f"{text}</p>")
    big5 = "鼎泰豐的小籠包很好吃，服務也親切，值得再訪"
    assert decode(f"<meta charset=big5><p>{big5}</p>".encode("big5"))[0].endswith(f"{big5}</p>")
    assert decode(("<p>" + text * 20 + "</p>").encode("gb18030"))[0].startswith("<p>" + text)
    assert decode("\ufeff好".encode("utf-8"))[0] == "好"


def test_retry_after_http_date() -> None:
    assert retry_after_seconds("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0) == 60.0
    assert retry_after_seconds("7") == 7.0 and retry_after_seconds("soon") is None


def test_redirect_to_another_host_is_logged_and_loses_credentials(server, fast_http, caplog) -> None:
    from tests.collectors.conftest import LoopbackServer

    with LoopbackServer() as other:
        other.static("/landing", "elsewhere")
        target = other.url("/landing?page=2&keyword=k&access_token=T0K&apiKey=K3Y&xsec_token=X&sign=S1G&mine=x")
        server.static("/go", "", status=302, headers={"Location": target})
        server.static("/same", "", status=302, headers={"Location": "/here?access_token=T0K"})
        server.static("/here", "same host")
        with caplog.at_level("WARNING", logger="collectors.http"):
            response = run(get(fast_http, server.url("/go"), robots=False, params={"mine": "x"},
                               headers={"Cookie": "sid=secret", "X-Api-Key": "k"}))
            assert response.text == "elsewhere" and response.redirects == [server.url("/go?mine=x")]
            [hit] = other.hits("/landing")
            assert hit.query == "page=2&keyword=k"  # credential-like names and the caller's own parameter are gone
            assert "cookie" not in hit.headers and "x-api-key" not in hit.headers
            assert "redirect from" in caplog.text and other.base in caplog.text
            assert "access_token, apiKey, mine, sign, xsec_token" in caplog.text
            # within one host nothing is dropped
            run(get(fast_http, server.url("/same"), robots=False, headers={"X-Api-Key": "k"}))
        [same] = server.hits("/here")
        assert same.query == "access_token=T0K" and same.headers["x-api-key"] == "k"


def test_a_redirect_target_is_checked_against_its_robots_txt(server, fast_http) -> None:
    from tests.collectors.conftest import LoopbackServer

    with LoopbackServer() as other:
        other.static("/robots.txt", "User-agent: *\nDisallow: /private\n", "text/plain")
        other.static("/private/x", "secret")
        server.static("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
        server.static("/go", "", status=302, headers={"Location": other.url("/private/x")})
        with pytest.raises(RobotsDisallowed):
            run(get(fast_http, server.url("/go")))
        assert not other.hits("/private/x")
        assert run(get(fast_http, server.url("/go"), robots=False)).text == "secret"
