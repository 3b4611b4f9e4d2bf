"""Run the Streamlit server for ``dashboard/app.py`` and warm it before the first visitor.

``tingfeng dashboard`` execs ``python dashboard/serve.py <address> <port> <streamlit run args…>``:
one process, so SIGTERM still reaches the server itself. Before Streamlit starts, the
modules every page needs are imported; once the server listens, one script run through
Streamlit's script health check (loopback) pays the first session's remaining cost
(compiling the script, the first database check and migration scripts) instead of the
first manager who opens a page. Every accepted connection gets ``TCP_NODELAY``
(:func:`nodelay_on_accepted_sockets`), without which each keep-alive request after a
connection's first waited 40 ms for the browser's delayed ACK.
"""

from __future__ import annotations

import asyncio.base_events
import importlib
import logging
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root holds the packages
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

log = logging.getLogger("tingfeng.dashboard.serve")

# what the pages import and Streamlit does not (pandas and altair are most of it); not
# dashboard.cache or modules importing it: st.cache_data made before the runtime exists
# would bind its cache to a storage manager of its own
PRELOAD = ("pandas", "altair", "sqlmodel", "alembic.script", "dashboard.queries", "dashboard.charts",
           "dashboard.ui")


def preload(modules: tuple[str, ...] = PRELOAD) -> None:
    """Import ``modules`` now, so the first session finds them in ``sys.modules``."""
    for name in modules:
        importlib.import_module(name)


_TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's ``_set_nodelay`` for any TCP stream socket, whatever protocol number it was made with."""
    if sock.family in _TCP_FAMILIES and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def nodelay_on_accepted_sockets() -> None:
    """Turn Nagle's algorithm off on every TCP connection this process's asyncio loops accept.

    asyncio sets ``TCP_NODELAY`` on a new transport only when its socket reports
    ``proto == IPPROTO_TCP``. Streamlit's server binds its listener itself with
    ``socket.socket(family=…)`` (``proto`` 0, inherited by every accepted socket) and hands
    it to uvicorn, so its connections kept Nagle on: a response written as headers then
    body waited for the browser's delayed ACK, 40 ms on Linux, on every keep-alive request
    after the first (and on websocket messages sent back to back). A fresh browser fetches
    ≈180 JS modules over 6 connections, so that was ≈1 s of a first render. The same bug
    in uvicorn's own pre-bound sockets: https://github.com/Kludex/uvicorn/issues/3149.
    """
    asyncio.base_events._set_nodelay = _set_nodelay  # noqa: SLF001 - the hook every selector transport calls


def warm_url(address: str, port: int) -> str:
    """Where this machine reaches the server's script health check."""
    host = "127.0.0.1" if address in ("", "0.0.0.0", "::") else address
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/_stcore/script-health-check"


def warm(url: str, *, timeout: float = 120.0, poll: float = 0.2) -> bool:
    """Wait for the server to answer ``url`` and let it run the app script once; True when it ran cleanly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.status == 200
        except urllib.error.HTTPError as exc:  # 503: the script raised; visitors will see that error
            log.warning("the dashboard script failed its warm-up run (%s %s)", exc.code, exc.reason)
            return False
        except OSError:  # not listening yet
            time.sleep(poll)
    log.warning("the dashboard did not answer %s within %.0f s; first visitor pays the warm-up", url, timeout)
    return False


def _warm_and_report(url: str) -> None:
    started = time.monotonic()
    if warm(url):
        log.info("dashboard warmed up: the app script ran once in %.1f s after start", time.monotonic() - started)


def main(argv: list[str]) -> None:
    """``serve.py ADDRESS PORT STREAMLIT-ARGS…``: preload, warm in the background, then run Streamlit."""
    address, port, streamlit_args = argv[0], int(argv[1]), argv[2:]
    handler = logging.StreamHandler()  # this logger only: alembic's INFO lines would flood the server log
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    nodelay_on_accepted_sockets()
    preload()
    threading.Thread(target=_warm_and_report, args=(warm_url(address, port),), name="dashboard-warm-up", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", *streamlit_args]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
