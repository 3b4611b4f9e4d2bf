"""SIGKILL of ``tingfeng collect`` in the middle of a many-page source on a loopback
HTTP server, then a re-run: no mention stored twice, none lost, no half page.

The in-process version (an exception raised between pages) is
``tests/collectors/test_collectors_run.py::test_resume_after_crash_has_no_gaps_or_duplicates``;
here the process really dies, so nothing of ours runs after the kill: no handler, no
rollback, no "interrupted" bookkeeping.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlmodel import select

from storage.models import CollectorRun, Mention, ScoreQueue, Source
from tests.collectors.conftest import LoopbackServer
from tests.reliability.conftest import kill_when

PER_PAGE = 10
CATALOG = """\
timezone = "Asia/Shanghai"

[[brands]]
id = "cha"
name = "茶颜"

[[sources]]
id = "reviews"
type = "html"
platform = "dianping"
brand = "cha"
[sources.options]
url = "{url}"
item = "li.r"
next = "a.next@href"
max_pages = 100
robots = false
time_format = "%Y-%m-%d %H:%M"
[sources.options.fields]
id = "@data-id"
time = ".t"
text = "p"
"""


def listing(reviews: list[int], n: int) -> bytes:
    """Page ``n`` of a newest-first listing, ``PER_PAGE`` reviews a page, with a next link."""
    chunk = reviews[(n - 1) * PER_PAGE:n * PER_PAGE]
    items = "".join(f'<li class="r" data-id="r{i}"><span class="t">2026-11-20 {i % 24:02d}:{i % 60:02d}</span>'
                    f"<p>第{i}条点评：茶颜的幽兰拿铁{'很好喝' if i % 3 else '太甜了，排队还要四十分钟'}</p></li>"
                    for i in chunk)
    nav = f'<a class="next" href="/l?p={n + 1}">下一页</a>' if n * PER_PAGE < len(reviews) else ""
    return f"<html><ul>{items}</ul>{nav}</html>".encode()


def stored(db) -> list[str]:
    with db.session() as s:
        return list(s.exec(select(Mention.external_id)).all())


def test_sigkill_mid_collect_then_rerun_stores_every_review_exactly_once(deployment):
    db = deployment.db
    reviews = list(range(300, 0, -1))  # 30 pages

    def handler(request):
        time.sleep(0.03)  # a real site is not instant: the kill lands between pages, not after the last
        return 200, {"Content-Type": "text/html; charset=utf-8"}, listing(reviews, int(request.query[2:] or 1))

    with LoopbackServer() as server:
        server.route("/l", handler)
        deployment.write_catalog(CATALOG.format(url=server.url("/l?p=1")))
        proc = deployment.start("collect", "reviews")
        kill_when(proc, lambda: len(stored(db)) >= 5 * PER_PAGE)

        after_kill = stored(db)
        assert 5 * PER_PAGE <= len(after_kill) < len(reviews)
        assert len(after_kill) % PER_PAGE == 0  # a page is stored whole or not at all
        assert len(set(after_kill)) == len(after_kill)
        with db.session() as s:
            resume = s.get(Source, "reviews").state["resume"]
            [killed] = s.exec(select(CollectorRun)).all()
        assert resume["ref"].endswith(f"/l?p={len(after_kill) // PER_PAGE + 1}")  # saved with the last page
        assert killed.status == "running" and killed.finished_at is None  # nothing ran after the kill

        reviews[:0] = [303, 302, 301]  # new reviews meanwhile push every page down by three
        assert "reviews: ok" in deployment.invoke("collect", "reviews")

    ids = stored(db)
    assert sorted(ids) == sorted(f"r{i}" for i in range(1, 304))  # nothing lost, nothing twice
    with db.session() as s:
        runs = s.exec(select(CollectorRun).order_by(CollectorRun.id)).all()
        queued = s.exec(select(sa.func.count()).select_from(ScoreQueue)).one()
        assert s.get(Source, "reviews").state["resume"] is None
    assert queued == 303  # each stored mention waits for scoring once
    assert [r.status for r in runs] == ["failed", "ok"]
    assert "interrupted" in runs[0].errors[-1]  # the next run says what happened to the killed one
    assert runs[1].items_new == 303 - len(after_kill)
