"""The handling, touchpoint-trend and benchmark pages in real Chromium, with a screenshot each."""

from __future__ import annotations

from pathlib import Path

from storage import Database
from tests.dashboard.handling_seed import add_handling
from tests.dashboard.seed import seed
from tests.dashboard.test_browser import _settle, _shot, _start_streamlit, browser, pytestmark  # noqa: F401

# data grids are canvases: the text checked is headings, metrics and the picked review (AppTest reads the grids)
PAGES = [("handling", "处理与回复", ("及时率", "差评回复", "北京三里屯店 · 微博 · 状态：未回复", "标记已回复")),
         ("touchpoints", "触点趋势", ("全部范围：各触点净情感（按周）", "各触点汇总（最差在前）")),
         ("benchmark", "竞品对比", ("整体口碑", "各触点净情感：我方与竞品并排"))]


def test_handling_pages_in_chromium(sqlite_db: Database, tmp_path: Path, browser) -> None:  # noqa: ANN001, F811
    add_handling(sqlite_db, seed(sqlite_db))
    proc, url = _start_streamlit(sqlite_db, tmp_path)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1800}, locale="zh-CN")
        for path, title, shown in PAGES:
            page.goto(f"{url}/{path}")
            _settle(page)
            page.get_by_role("heading", name=title).first.wait_for(timeout=15_000)
            assert page.locator('[data-testid="stException"]').count() == 0, path
            text = page.locator('[data-testid="stApp"]').inner_text()
            for words in shown:
                assert words in text, (path, words)
            _shot(page, tmp_path / "shots", path)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
