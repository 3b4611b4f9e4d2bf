"""Shared pieces of the scale-out tests and benchmark: a loopback feed site that records
who fetched what (and when), a catalog of feed sources pointing at it, worker processes,
and the end-state checks that must hold in both modes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]

GOOD = ["奶茶很好喝，店员热情", "环境干净，下次还来", "新品不错，甜度刚好", "排队有点久但味道好"]
BAD = ["等了四十分钟还没做好，太慢了", "杯子漏了，服务态度差", "太甜了，不好喝"]
URGENT = ["喝完拉肚子，吃坏了，要投诉", "奶茶里有头发，太恶心了"]


def item_text(source: int, n: int) -> str:
    """The deterministic text of item ``n`` of source ``source`` (a few are urgent)."""
    if n == 0 and source % 3 == 0:
        return URGENT[source % len(URGENT)] + f"（{source}号店）"
    pool = BAD if (source + n) % 4 == 0 else GOOD
    return pool[(source * 7 + n) % len(pool)] + f" #{source}-{n}"


@dataclass
class FeedSite:
    """``/feed/<i>.xml``: an RSS feed of ``items`` posts per source, served on 127.0.0.1.

    Records per source: fetches, the most fetches in flight at once, and the
    User-Agent of each fetch (workers carry their name in it). ``slow`` holds the first
    fetch of that source for ``slow_seconds`` and sets ``slow_started``.
    """

    sources: int
    items: int
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    slow: int | None = None
    slow_seconds: float = 0.0
    fetches: Counter = field(default_factory=Counter)
    agents: dict = field(default_factory=lambda: defaultdict(list))
    max_in_flight: Counter = field(default_factory=Counter)
    slow_started: threading.Event = field(default_factory=threading.Event)
    text: Callable[[int, int], str] = item_text

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: Counter = Counter()
        self._cache: dict[int, bytes] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                site._serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def feed(self, i: int) -> bytes:
        if i not in self._cache:
            entries = []
            for n in range(self.items):
                published = self.now - timedelta(minutes=5 + n % 10_000)
                entries.append(
                    f"<item><guid isPermaLink=\"false\">s{i}-{n}</guid><title>帖子 {n}</title>"
                    f"<description>{escape(self.text(i, n))}</description>"
                    f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate></item>")
            self._cache[i] = (
                '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>feed</title>'
                + "".join(entries) + "</channel></rss>").encode("utf-8")
        return self._cache[i]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0]
        if not (path.startswith("/feed/") and path.endswith(".xml")):
            handler.send_response(404)
            handler.end_headers()
            return
        i = int(path[len("/feed/"):-len(".xml")])
        with self._lock:
            self.fetches[i] += 1
            first = self.fetches[i] == 1
            self.agents[i].append(handler.headers.get("User-Agent", ""))
            self._in_flight[i] += 1
            self.max_in_flight[i] = max(self.max_in_flight[i], self._in_flight[i])
        try:
            if i == self.slow and first:
                self.slow_started.set()
                time.sleep(self.slow_seconds)
            body = self.feed(i)
            handler.send_response(200)
            handler.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._lock:
                self._in_flight[i] -= 1

    def __enter__(self) -> "FeedSite":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def source_id(i: int) -> str:
    return f"feed-{i:04d}"


def write_catalog(path: Path, site: FeedSite, *, schedule: str = "* * * * *", recipients: bool = True) -> Path:
    """A catalog: one brand, one store per source, a feed source per store, and (with
    ``recipients``) a manager with an email address for every third store."""
    lines = ['timezone = "Asia/Shanghai"', "", "[[brands]]", 'id = "tea"', 'name = "清禾茶饮"', 'aliases = ["清禾"]']
    for i in range(site.sources):
        lines += ["", "[[stores]]", f'id = "s{i}"', f'name = "清禾{i}号店"']
    for i in range(site.sources):
        lines += ["", "[[sources]]", f'id = "{source_id(i)}"', 'type = "feed"', 'platform = "weibo"',
                  f'schedule = "{schedule}"', f'store = "s{i}"', f'options = {{ url = "{site.base_url}/feed/{i}.xml" }}']
    for i in range(0, site.sources if recipients else 0, 3):
        lines += ["", "[[recipients]]", f'name = "店长{i}"', f'id = "m{i}"', 'role = "manager"',
                  f'email = "m{i}@tea.example"', f'stores = ["s{i}"]']
    lines += ["", "[schedule]", f'process = "{schedule}"', f'deliver = "{schedule}"', 'digest = "0 9 1 1 *"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def process_env(*, database_url: str, catalog: Path, data_dir: Path, smtp_port: int, agent: str,
                **extra: str) -> dict[str, str]:
    """The environment of a tingfeng process in these tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINGFENG_") and k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=database_url, TINGFENG_CATALOG=str(catalog), TINGFENG_DATA_DIR=str(data_dir),
        TINGFENG_HTTP_USER_AGENT=agent, TINGFENG_HTTP_MIN_DELAY="0", TINGFENG_HTTP_PER_HOST_CONCURRENCY="8",
        TINGFENG_RESPECT_ROBOTS="false", TINGFENG_SMTP_HOST="127.0.0.1", TINGFENG_SMTP_PORT=str(smtp_port),
        TINGFENG_LOG_LEVEL="INFO", PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class Workers:
    """``n`` ``tingfeng worker run`` processes; worker ``k`` fetches as ``tingfeng-test/w<k>``."""

    def __init__(self, n: int, log_dir: Path, **env_args: object) -> None:
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        for k in range(n):
            log = log_dir / f"worker{k}.log"
            env = process_env(agent=f"tingfeng-test/w{k}", **env_args)  # type: ignore[arg-type]
            self.logs.append(log)
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "tingfeng.cli", "worker", "run", "--name", f"w{k}"],
                cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT))

    def kill(self, k: int) -> None:
        self.procs[k].send_signal(signal.SIGKILL)
        self.procs[k].wait(10)

    def stop(self, timeout: float = 60) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()

    def alive(self) -> list[int]:
        return [k for k, p in enumerate(self.procs) if p.poll() is None]

    def tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-chars:]}" for log in self.logs)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop(10)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25, on_fail=lambda: "") -> None:  # noqa: ANN001
    """Poll ``predicate`` until true; fail with ``what`` (and ``on_fail()``) after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{on_fail()}")


# ------------------------------------------------------------------- end-state checks

def counts(engine: sa.Engine) -> dict[str, int]:
    """Rows of the pipeline's tables."""
    q = {
        "mentions": "SELECT count(*) FROM mentions",
        "analyses": "SELECT count(*) FROM mention_analysis",
        "analysed_mentions": "SELECT count(DISTINCT mention_id) FROM mention_analysis",
        "alerts": "SELECT count(*) FROM alerts",
        "notifications": "SELECT count(*) FROM notifications",
        "sent": "SELECT count(*) FROM notifications WHERE status = 'sent'",
        "sent_once": "SELECT count(*) FROM notifications WHERE status = 'sent' AND attempts = 1",
        "rollups": "SELECT count(*) FROM rollups",
        "dirty": "SELECT count(*) FROM rollup_dirty",
    }
    with engine.connect() as conn:
        return {k: conn.exec_driver_sql(sql).scalar_one() for k, sql in q.items()}


def mail_keys(sink_dir: Path) -> Counter:
    """How many times each outbox idempotency key reached the SMTP sink."""
    import email
    import email.policy

    keys: Counter = Counter()
    for path in sorted(Path(sink_dir).glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        keys[str(msg.get("X-Tingfeng-Key"))] += 1
    return keys


def check_pipeline_outcome(engine: sa.Engine, site: FeedSite, sink_dir: Path) -> dict[str, int]:
    """What must hold in every mode once the pipeline is quiet: every item stored once
    and scored once, rollups clean, every notification sent once and received once."""
    c = counts(engine)
    assert c["mentions"] == site.sources * site.items, c
    assert c["analyses"] == c["analysed_mentions"] == c["mentions"], c
    assert c["dirty"] == 0 and c["rollups"] > 0, c
    assert c["alerts"] > 0 and c["notifications"] > 0, c
    assert c["sent"] == c["sent_once"] == c["notifications"], c
    keys = mail_keys(sink_dir)
    with engine.connect() as conn:
        expected = {k for (k,) in conn.exec_driver_sql(
            "SELECT idempotency_key FROM notifications WHERE channel = 'email'")}
    assert set(keys) == expected and all(v == 1 for v in keys.values()), keys
    assert all(v == 1 for v in site.max_in_flight.values()), site.max_in_flight
    return c

