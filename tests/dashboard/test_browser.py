"""Real-browser test: ``streamlit run dashboard/app.py`` on loopback, driven by Debian's
Chromium through Playwright (no browser download), one screenshot per page.

Screenshots go to the test's tmp dir and are copied to /tmp/tingfeng-shots/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from storage import Database
from tests.dashboard.mock_oidc import MockOIDC
from tests.dashboard.seed import PASSWORD, seed

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
SHOTS = Path("/tmp/tingfeng-shots")
PAGES = [("", "总览"), ("stores", "门店"), ("products", "产品"), ("mentions", "声量明细"),
         ("alerts", "预警"), ("handling", "处理与回复"), ("touchpoints", "触点趋势"), ("benchmark", "竞品对比"),
         ("sources", "数据源"), ("models", "模型"), ("audit", "审计日志")]
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium"),
]
sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_streamlit(db: Database, tmp: Path, auth: str = "none", port: int | None = None,
                     address: str = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    port = port or _free_port()
    env = {**os.environ, "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "TINGFENG_AUTH": auth, "TINGFENG_SECRET_KEY": "browser-test", "PYTHONPATH": str(REPO)}
    log = open(tmp / f"streamlit-{auth}.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"),
         "--server.headless", "true", "--server.address", address, "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         "--client.toolbarMode", "minimal"],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://{address}:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError((tmp / f"streamlit-{auth}.log").read_text())


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright."""
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM,
                               args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                     "--disable-background-networking"])
        yield b
        b.close()


def _settle(page) -> None:  # noqa: ANN001 - playwright Page
    """Wait until the script finished, no skeleton is left and charts had time to draw."""
    page.wait_for_selector(READY, timeout=30_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)
    page.wait_for_timeout(800)
    page.wait_for_selector(READY, timeout=30_000)


def _shot(page, out: Path, name: str) -> None:  # noqa: ANN001
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


def test_every_page_in_chromium(sqlite_db: Database, tmp_path: Path, browser) -> None:  # noqa: ANN001
    seed(sqlite_db)
    proc, url = _start_streamlit(sqlite_db, tmp_path)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1800}, locale="zh-CN")
        timings = {}
        for path, title in PAGES:
            t0 = time.monotonic()
            page.goto(f"{url}/{path}")
            _settle(page)
            timings[path or "overview"] = round(time.monotonic() - t0 - 0.8, 2)  # minus _settle's pause
            page.get_by_role("heading", name=title).first.wait_for(timeout=15_000)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            text = page.locator('[data-testid="stApp"]').inner_text()
            assert title in text and "筛选" in text and "仅监听本机" in text
            _shot(page, tmp_path / "shots", path or "overview")
        (tmp_path / "shots" / "render-seconds.json").write_text(json.dumps(timings))
        print("first render (s):", timings)
        # a shared link restores the filters, and they follow the user to another page
        page.goto(f"{url}/?store=北京三里屯店")  # bound widgets carry the shown name
        _settle(page)
        kpi = page.locator('[data-testid="stMetricValue"]').first.inner_text()
        assert kpi.strip() == "60"
        page.get_by_role("link", name="声量明细").first.click()
        _settle(page)
        assert "store=" in page.url and "声量明细" in page.locator('[data-testid="stApp"]').inner_text()
        assert "共 60 条提及" in page.locator('[data-testid="stApp"]').inner_text()  # the grid is a canvas
        assert page.locator('[data-testid="stException"]').count() == 0
        _shot(page, tmp_path / "shots", "mentions-filtered")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_local_login_in_chromium(sqlite_db: Database, tmp_path: Path, browser) -> None:  # noqa: ANN001
    seed(sqlite_db)
    proc, url = _start_streamlit(sqlite_db, tmp_path, auth="local")
    try:
        page = browser.new_context(viewport={"width": 1400, "height": 1800}, locale="zh-CN").new_page()
        page.goto(f"{url}/stores")
        _settle(page)
        assert page.locator('[data-testid="stMetricValue"]').count() == 0
        _shot(page, tmp_path / "shots", "login")
        page.get_by_label("用户名").fill("wang")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("heading", name="门店").first.wait_for(timeout=15_000)
        _settle(page)
        text = page.locator('[data-testid="stApp"]').inner_text()
        assert "wang" in text and "仅监听本机" not in text
        assert page.locator('[data-testid="stException"]').count() == 0
        _shot(page, tmp_path / "shots", "stores-manager")
        (cookie,) = [c for c in page.context.cookies() if c["name"] == "tingfeng_session"]
        assert cookie["sameSite"] == "Strict" and cookie["expires"] > time.time() + 3600
        # a reload and an e-mail link in a new tab keep the login (the signed session cookie)
        page.reload()
        page.get_by_role("heading", name="门店").first.wait_for(timeout=15_000)
        _settle(page)
        assert "wang" in page.locator('[data-testid="stApp"]').inner_text()
        link = page.context.new_page()
        link.goto(f"{url}/alerts?alert=1")
        link.get_by_role("heading", name="预警 #1").first.wait_for(timeout=15_000)
        _settle(link)
        assert "上海南京西路店" in link.locator('[data-testid="stApp"]').inner_text()
        _shot(link, tmp_path / "shots", "alert-link-manager")
        # a forged or foreign cookie is no login
        other = browser.new_context(locale="zh-CN")
        other.add_cookies([{**cookie, "value": cookie["value"][:-2] + "xx"}])
        forged = other.new_page()
        forged.goto(f"{url}/stores")
        _settle(forged)
        assert forged.get_by_label("用户名").count() == 1
        other.close()
        # logging out ends it: the next load asks again
        page.get_by_role("button", name="退出登录").click()
        page.get_by_label("用户名").wait_for(timeout=15_000)
        page.wait_for_timeout(500)
        page.reload()
        _settle(page)
        assert page.get_by_label("用户名").count() == 1
        assert not [c for c in page.context.cookies() if c["name"] == "tingfeng_session" and c["value"]]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_oidc_login_against_mock_provider(sqlite_db: Database, tmp_path: Path, browser) -> None:  # noqa: ANN001
    """st.login → mock IdP (discovery, authorize, token, JWKS) → back, scoped by the recipient's e-mail."""
    seed(sqlite_db)
    port = _free_port()
    with MockOIDC(email="wang@example.com", name="王店长") as idp:
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "cookie-secret-for-tests-only-0123456789"\n'
            f'client_id = "{idp.client_id}"\n'
            'client_secret = "mock-secret"\n'
            f'server_metadata_url = "{idp.metadata_url}"\n', encoding="utf-8")
        proc, url = _start_streamlit(sqlite_db, tmp_path, auth="oidc", port=port)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800}, locale="zh-CN")
            page.goto(url)
            _settle(page)
            assert page.locator('[data-testid="stMetricValue"]').count() == 0
            page.get_by_role("button", name="单点登录 (SSO)").click()
            page.get_by_role("heading", name="总览").first.wait_for(timeout=30_000)
            _settle(page)
            assert "POST /token" in idp.requests and "GET /jwks" in idp.requests
            text = page.locator('[data-testid="stApp"]').inner_text()
            assert "wang@example.com" in text and "店长" in text
            page.goto(f"{url}/stores")
            _settle(page)
            assert page.locator('[data-testid="stException"]').count() == 0
            # the manager's filter bar only offers their own store
            page.locator('[data-testid="stMultiSelect"]').nth(2).click()
            options = page.get_by_role("option").all_inner_texts()
            assert options == ["上海南京西路店"], options
            page.keyboard.press("Escape")
            _shot(page, tmp_path / "shots", "stores-oidc-manager")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_without_login_refuses_a_non_loopback_bind(sqlite_db: Database, tmp_path: Path, browser) -> None:  # noqa: ANN001
    """127.0.0.2 is loopback on Linux but not the configured localhost: the app must refuse."""
    seed(sqlite_db)
    proc, url = _start_streamlit(sqlite_db, tmp_path, address="127.0.0.2")
    try:
        page = browser.new_page(locale="zh-CN")
        page.goto(url)
        _settle(page)
        text = page.locator('[data-testid="stApp"]').inner_text()
        assert "只能监听本机地址" in text
        assert page.locator('[data-testid="stMetricValue"]').count() == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
