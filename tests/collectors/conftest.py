"""A real HTTP server on 127.0.0.1 for integration tests: routes map a path to a
handler returning (status, headers, body); every request is logged."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit

Handler = Callable[["Request"], tuple[int, dict[str, str], bytes]]


@dataclass
class Request:
    path: str
    query: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class LoopbackServer:
    """``with LoopbackServer() as srv: srv.route("/x", handler); srv.url("/x")``."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                parts = urlsplit(self.path)
                request = Request(parts.path, parts.query, {k.lower(): v for k, v in self.headers.items()})
                outer.requests.append(request)
                handler = outer.routes.get(parts.path)
                if handler is None:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
                else:
                    status, headers, body = handler(request)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def static(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8",
               status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.route(path, lambda _r: (status, {"Content-Type": content_type, **(headers or {})}, data))

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


# --------------------------------------------------------------------------- fixtures
import pytest  # noqa: E402

from collectors.http import HttpSettings  # noqa: E402
from storage.models import Source  # noqa: E402

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)


@pytest.fixture
def server():
    """A LoopbackServer on 127.0.0.1."""
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def fast_http() -> HttpSettings:
    """Polite settings scaled down so the suite stays fast."""
    return HttpSettings(connect_timeout=1, read_timeout=1, retries=2, backoff_base=0.01, backoff_max=0.05,
                        max_retry_after=2, per_host_concurrency=4, min_delay_per_host=0.0)


@pytest.fixture
def add_source(db):
    """Insert a Source row: ``add_source("s1", "html", {...}, store_id=...)``."""

    def _add(source_id: str, type_: str, options: dict, **fields) -> Source:
        source = Source(id=source_id, type=type_, options=options, platform=fields.pop("platform", "test"), **fields)
        with db.session() as session:
            session.add(source)
        return source

    return _add
