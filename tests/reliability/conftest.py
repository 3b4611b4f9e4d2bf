"""Fixtures of the fault suite: the real ``tingfeng`` CLI in child processes against the
``db`` fixture's database (SQLite, and PostgreSQL when ``TINGFENG_TEST_PG`` is set),
loopback servers that can be down, answer errors, or be slow, and helpers to count
what reached them.

The loopback servers are the ones the component tests use (``tests/alerts`` for SMTP,
``tests/collectors`` for HTTP sources); only a scripted POST receiver is new here.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import pytest

from storage import Database

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Deployment:
    """One tingfeng installation: a catalog file, a data dir, and the database under test."""

    root: Path
    db: Database
    env: dict[str, str]

    def write_catalog(self, text: str) -> None:
        (self.root / "tingfeng.toml").write_text(text, encoding="utf-8")

    def invoke(self, *args: str) -> str:
        """Run ``tingfeng ARGS`` inside this process (same code path and environment, no
        start-up cost); returns what it printed. Its log lines go to pytest's ``caplog``."""
        from typer.testing import CliRunner

        from tingfeng.cli import app

        result = CliRunner().invoke(app, list(args), env=self.env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def start(self, *args: str) -> subprocess.Popen:
        """Start ``tingfeng ARGS`` in its own process group (so SIGKILL takes all of it)."""
        return subprocess.Popen([sys.executable, "-m", "tingfeng.cli", *args], cwd=self.root, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], *, timeout: float = 60) -> None:
    """SIGKILL ``proc`` (no handler, no cleanup runs) as soon as ``ready()`` holds.

    Fails the test when the process ends before that: then the fault was never injected.
    """
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the process ended (rc {proc.returncode}) before the kill point:\n{out[-3000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the kill point was never reached")
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    if proc.stdout:
        proc.stdout.close()


@pytest.fixture
def deployment(db: Database, tmp_path: Path) -> Deployment:
    """A data dir and environment for the CLI pointed at ``db``; write its catalog with ``write_catalog``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINGFENG_") and k != "DATABASE_URL"}
    env.update(
        PYTHONPATH=str(REPO),
        DATABASE_URL=db.url,
        TINGFENG_DATA_DIR=str(tmp_path / "var"),
        TINGFENG_CATALOG=str(tmp_path / "tingfeng.toml"),
        TINGFENG_SECRET_KEY=secrets.token_urlsafe(48),
        TINGFENG_HTTP_MIN_DELAY="0",
        TINGFENG_RESPECT_ROBOTS="false",
        TINGFENG_LOG_LEVEL="INFO",
    )
    return Deployment(root=tmp_path, db=db, env=env)


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: dict
    status: int  # what the receiver answered


@dataclass
class ScriptedReceiver:
    """A loopback HTTP endpoint for POSTs that answers from a script: per path, a list of
    ``(status, headers)`` used in turn (the last one repeats); every request is recorded."""

    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    answers = receiver.script.get(self.path, [(200, {})])
                    status, headers = answers.pop(0) if len(answers) > 1 else answers[0]
                    receiver.posts.append(Post(self.path, dict(self.headers), json.loads(raw), status))
                data = json.dumps({"ok": status < 300}).encode()
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def accepted(self, path: str) -> list[Post]:
        """The POSTs to ``path`` that were answered 2xx: what the receiver acted on."""
        return [p for p in self.posts if p.path == path and p.status < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = ScriptedReceiver()
    yield r
    r.close()
