"""``tingfeng dashboard`` as a real process on loopback: it serves the app on the port it
was given, warms itself with one script run before any visitor, and stops on SIGTERM;
and the connections it accepts have Nagle's algorithm off."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.serve import nodelay_on_accepted_sockets, warm_url
from storage import Database

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read()


def test_warm_url_reaches_a_wildcard_bind_over_loopback() -> None:
    assert warm_url("0.0.0.0", 8501) == "http://127.0.0.1:8501/_stcore/script-health-check"
    assert warm_url("::1", 8502) == "http://[::1]:8502/_stcore/script-health-check"
    assert warm_url("10.0.0.5", 80) == "http://10.0.0.5:80/_stcore/script-health-check"


def _accepted_nodelay() -> int:
    """TCP_NODELAY of a connection accepted by an asyncio server on a listener bound the way
    Streamlit binds its own (``socket.socket(family=…)``: protocol number 0)."""
    async def main() -> int:
        listener = socket.socket(family=socket.AF_INET)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname())
            value = await asyncio.wait_for(accepted, 5)
            writer.close()
        return value

    return asyncio.run(main())


def test_accepted_connections_get_tcp_nodelay(monkeypatch: pytest.MonkeyPatch) -> None:
    # restored after the test: the hook is process-wide
    monkeypatch.setattr(asyncio.base_events, "_set_nodelay", asyncio.base_events._set_nodelay)
    assert _accepted_nodelay() == 0  # asyncio alone leaves Nagle on for such a listener
    nodelay_on_accepted_sockets()
    assert _accepted_nodelay() != 0


def test_dashboard_serves_warms_and_stops_on_sigterm(sqlite_db: Database, tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINGFENG_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=sqlite_db.engine.url.render_as_string(hide_password=False),
               TINGFENG_DATA_DIR=str(tmp_path), TINGFENG_AUTH="none", PYTHONPATH=str(ROOT))
    log = tmp_path / "dashboard.log"
    proc = subprocess.Popen([sys.executable, "-m", "tingfeng.cli", "dashboard", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "dashboard warmed up" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        # the warm-up ran the app script before anyone visited, and it ran cleanly
        assert "failed its warm-up run" not in log.read_text(errors="replace")
        status, body = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"<title>" in body
        assert _get(f"http://127.0.0.1:{port}/_stcore/health") == (200, b"ok")

        proc.send_signal(signal.SIGTERM)
        # one process (the CLI execs the server): SIGTERM reached Streamlit, which exits 0
        assert proc.wait(15) == 0, log.read_text(errors="replace")
        with pytest.raises(OSError):
            _get(f"http://127.0.0.1:{port}/_stcore/health")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
