"""The polite HTTP client every HTTP source type fetches through.

Per host (scheme://host:port): at most ``per_host_concurrency`` requests in flight and
request starts at least ``min_delay_per_host`` seconds apart (robots.txt ``Crawl-delay``
raises it). Retries with exponential backoff and jitter on network errors, 5xx and 429,
honouring ``Retry-After``. Conditional GET with ETag / Last-Modified, a response size
cap, charset detection (see :mod:`collectors.parse.charset`), robots.txt. Redirects are
followed here, hop by hop: one to another host (scheme://host:port) is logged, and
neither the caller's headers (cookies, API keys) nor credential-like query parameters —
nor any parameter the caller added — are carried to it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
import urllib.robotparser
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, Field

from collectors.errors import (
    BlockedError,
    HttpStatusError,
    NetworkError,
    ResponseTooLarge,
    RobotsDisallowed,
)
from collectors.parse.charset import decode
from storage.retry_after import retry_after_seconds  # noqa: F401 - also part of this module's API

log = logging.getLogger(__name__)
BLOCK_STATUSES = frozenset({403, 432, 461})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# query parameter names that carry credentials: a word of the name (split at _ - .) or
# a known compound; "keyword" or "design" are not credentials
CREDENTIAL_PARAM_RE = re.compile(
    r"^(?:.*[_.\-])?(?:(?:access|api|app|auth|client|secret|private)_?(?:token|key|secret)|token|key|secret|"
    r"passw(?:or)?d|pwd|auth|authorization|sign|signature|sig|session(?:_?id)?|sid|ticket|cookie|credentials?)"
    r"(?:[_.\-].*)?$", re.IGNORECASE)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


class HttpSettings(BaseModel):
    """How politely and patiently we fetch; the lead's settings pass one per job."""

    user_agent: str = "tingfeng/0.1 (+brand review monitoring)"
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    retries: int = Field(3, ge=0, description="extra attempts after the first")
    backoff_base: float = Field(1.0, ge=0, description="first retry delay, doubled each time")
    backoff_max: float = Field(60.0, ge=0)
    max_retry_after: float = Field(300.0, ge=0, description="longest Retry-After honoured; longer fails")
    per_host_concurrency: int = Field(2, ge=1)
    min_delay_per_host: float = Field(1.0, ge=0, description="seconds between request starts per host")
    max_response_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(5, ge=0)
    respect_robots: bool = True


@dataclass
class Response:
    """A fetched, size-checked response; ``text`` is decoded on first use."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    _text: str | None = field(default=None, repr=False)
    encoding: str | None = None
    redirects: list[str] = field(default_factory=list)  # the URLs redirected from, in order

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional GET."""
        return self.status == 304

    @property
    def text(self) -> str:
        """The body decoded with the detected charset."""
        if self._text is None:
            self._text, self.encoding = decode(self.content, self.headers.get("content-type"))
        return self._text

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


class _HostGate:
    """Concurrency and spacing for one host."""

    def __init__(self, concurrency: int, min_delay: float) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)
        self.lock = asyncio.Lock()
        self.min_delay = min_delay
        self.next_start = 0.0

    async def wait_turn(self) -> None:
        """Sleep until ``min_delay`` after the previous request's actual start; the
        lock is held while sleeping so starts stay in order and truly spaced."""
        async with self.lock:
            wait = self.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.next_start = time.monotonic() + self.min_delay


def host_key(url: str) -> str:
    """``scheme://host:port`` — the unit politeness limits apply to."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def without_credentials(url: str, also: set[str] = frozenset()) -> tuple[str, list[str]]:
    """(``url`` without the query parameters that look like credentials or are named in
    ``also``, the names dropped)."""
    parts = urlsplit(url)
    kept: list[tuple[str, str]] = []
    dropped: set[str] = set()
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in also or CREDENTIAL_PARAM_RE.search(name):
            dropped.add(name)
        else:
            kept.append((name, value))
    if not dropped:
        return url, []
    return urlunsplit(parts._replace(query=urlencode(kept))), sorted(dropped)


class PoliteClient:
    """An async client enforcing :class:`HttpSettings`; use as ``async with``.

    One instance may be shared by many sources so host limits hold across them.
    ``stats`` counts requests per host (for health evidence and the benchmark).
    """

    def __init__(self, settings: HttpSettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings or HttpSettings()
        s = self.settings
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self.requests_per_host: dict[str, list[float]] = {}

    async def __aenter__(self) -> "PoliteClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection pool."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def _client_for(self, key: str) -> httpx.AsyncClient:
        """One connection pool per host: httpcore scans its whole pool on every
        request, so small per-host pools keep that cheap with many hosts."""
        client = self._clients.get(key)
        if client is None:
            s = self.settings
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
                follow_redirects=False,  # followed hop by hop in get (cross-host rules)
                headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
                transport=self._transport,
                limits=httpx.Limits(max_connections=max(10, 2 * s.per_host_concurrency),
                                    max_keepalive_connections=max(10, 2 * s.per_host_concurrency)),
                trust_env=False,
            )
            self._clients[key] = client
        return client

    def _gate(self, key: str) -> _HostGate:
        gate = self._gates.get(key)
        if gate is None:
            gate = _HostGate(self.settings.per_host_concurrency, self.settings.min_delay_per_host)
            self._gates[key] = gate
        return gate

    async def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
    ) -> Response:
        """GET ``url`` politely. Returns 2xx and 304 responses; raises
        :class:`BlockedError` for 403/432/461, :class:`HttpStatusError` for other errors
        (5xx/429 after the retries), :class:`NetworkError`, :class:`RobotsDisallowed`,
        :class:`ResponseTooLarge`."""
        added = set(params or ())
        if params:
            url = str(httpx.URL(url, params={**dict(httpx.URL(url).params), **params}))
        if robots and self.settings.respect_robots:
            await self._check_robots(url)
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        s = self.settings
        attempt = 0
        while True:
            try:
                response = await self._follow(url, request_headers, added,
                                              robots=robots and self.settings.respect_robots)
            except httpx.RequestError as exc:  # timeouts, resets, refused, too many redirects, bad gzip
                if attempt >= s.retries or isinstance(exc, httpx.TooManyRedirects):
                    raise NetworkError(f"{type(exc).__name__}: {exc or 'no detail'} ({url})", url=url) from exc
                await asyncio.sleep(self._backoff(attempt))
                attempt += 1
                continue
            status = response.status
            if status in RETRY_STATUSES:
                if attempt >= s.retries:
                    raise HttpStatusError(f"HTTP {status} after {attempt + 1} attempts ({url})", url=url, status=status)
                wait = retry_after_seconds(response.headers.get("retry-after"))
                if wait is not None and wait > s.max_retry_after:
                    raise HttpStatusError(
                        f"HTTP {status} with Retry-After {wait:.0f}s > max {s.max_retry_after:.0f}s ({url})",
                        url=url, status=status)
                await asyncio.sleep(wait if wait is not None else self._backoff(attempt))
                attempt += 1
                continue
            if status in BLOCK_STATUSES:
                raise BlockedError(f"HTTP {status}: blocked or login wall ({url})", url=url, status=status)
            if status == 304 or 200 <= status < 300:
                return response
            raise HttpStatusError(f"HTTP {status} ({url})", url=url, status=status)

    async def _follow(self, url: str, headers: dict[str, str], added: set[str], *, robots: bool = False) -> Response:
        """:meth:`_send`, following up to ``max_redirects`` redirects. On a hop to
        another host only the conditional-GET headers go along, and the target loses
        credential-like query parameters and those in ``added``; the hop is logged.
        With ``robots`` every target must be allowed by its host's robots.txt."""
        redirects: list[str] = []
        while True:
            response = await self._send(url, headers)
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                response.redirects = redirects
                return response
            if len(redirects) >= self.settings.max_redirects:
                raise httpx.TooManyRedirects(f"more than {self.settings.max_redirects} redirects from {url}")
            target = urljoin(url, location)
            if host_key(target) != host_key(url):
                target, dropped = without_credentials(target, added)
                headers = {k: v for k, v in headers.items() if k.lower() in ("if-none-match", "if-modified-since")}
                log.warning("redirect from %s to another host: %s%s", url, target,
                            f" (dropped query parameters: {', '.join(dropped)})" if dropped else "")
            if robots:
                await self._check_robots(target)
            redirects.append(url)
            url = target

    def _backoff(self, attempt: int) -> float:
        s = self.settings
        return min(s.backoff_max, s.backoff_base * (2 ** attempt)) * random.uniform(0.5, 1.5)

    async def _send(self, url: str, headers: dict[str, str]) -> Response:
        key = host_key(url)
        gate = self._gate(key)
        async with gate.semaphore:
            await gate.wait_turn()
            self.requests_per_host.setdefault(key, []).append(time.monotonic())
            async with self._client_for(key).stream("GET", url, headers=headers) as raw:
                cap = self.settings.max_response_bytes
                declared = raw.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > cap:
                    raise ResponseTooLarge(f"{declared} bytes > cap {cap} ({url})", url=url, status=raw.status_code)
                chunks: list[bytes] = []
                size = 0
                async for chunk in raw.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise ResponseTooLarge(f"more than {cap} bytes ({url})", url=url, status=raw.status_code)
                    chunks.append(chunk)
                return Response(str(raw.url), raw.status_code, raw.headers, b"".join(chunks))

    async def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        key = host_key(url)
        lock = self._robots_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._robots:
                self._robots[key] = await self._load_robots(f"{parts.scheme}://{parts.netloc}/robots.txt")
        parser = self._robots[key]
        agent = self.settings.user_agent.split("/")[0]
        if parser is None:
            raise RobotsDisallowed(f"robots.txt of {key} unavailable (server error): not fetching {url}", url=url)
        if not parser.can_fetch(agent, url):
            raise RobotsDisallowed(f"robots.txt disallows {url} for {agent}", url=url)

    async def _load_robots(self, robots_url: str) -> urllib.robotparser.RobotFileParser | None:
        """The parsed robots.txt; allow-all when missing (4xx), None (= disallow) on 5xx
        or network failure, as RFC 9309 says."""
        parser = urllib.robotparser.RobotFileParser(robots_url)
        try:
            response = await self._follow(robots_url, {}, set(), robots=False)
        except (httpx.RequestError, ResponseTooLarge):
            return None
        if response.status >= 500:
            return None
        if response.status >= 400:
            parser.parse([])
            return parser
        parser.parse(response.text.splitlines())
        delay = parser.crawl_delay(self.settings.user_agent.split("/")[0])
        if delay:
            gate = self._gate(host_key(robots_url))
            gate.min_delay = max(gate.min_delay, float(delay))
        return parser
