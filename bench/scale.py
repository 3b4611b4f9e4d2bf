"""Scale-out benchmark: collect + score + rollup throughput with 1, 2 and 4 procrastinate
worker processes on one PostgreSQL, against the embedded mode (one process) on SQLite
and on PostgreSQL.

Each run gets a fresh database and a loopback feed site serving ``--sources`` feeds of
``--items`` review-length posts each (no urgent terms, no recipients: the run measures
collection, scoring and rollups, not e-mail rendering). Workers are started and warmed
up (model loaded) first; the clock starts when a collect job per source is queued and
stops when every mention is analysed, no rollup day is dirty and no job is waiting.

    .venv/bin/python bench/scale.py                      # 1/2/4 workers + embedded, 20k mentions
    .venv/bin/python bench/scale.py --workers 2 --sources 100 --items 1000   # a 100k backfill

PostgreSQL: ``$TINGFENG_TEST_PG`` (an admin URL; databases are created and dropped), by
default the one ``.ci/start-postgres`` starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "scale")]

from scale_harness import FeedSite, Workers, write_catalog  # noqa: E402

from storage import Database  # noqa: E402

PHRASES = [
    "周末下午去了门店，排队大概二十分钟", "芝士奶盖很厚，茶底有点淡", "店员小姐姐态度很好，还提醒我少冰",
    "新出的桂花乌龙味道清爽，不会太甜", "环境一般，座位比较少，适合外带", "价格比别家贵一点，但是用料扎实",
    "外卖送到的时候已经不冰了，有点失望", "珍珠煮得软糯，分量也足", "小程序点单很方便，取餐很快",
    "这次的杨枝甘露芒果很新鲜", "杯子设计好看，拍照出片", "等了好久才叫号，高峰期人手不够",
]


def review(source: int, n: int) -> str:
    """A review-length text (40–80 characters) made of a few phrases."""
    k = 3 + (source + n) % 3
    return "，".join(PHRASES[(source * 5 + n * 7 + j * 3) % len(PHRASES)] for j in range(k)) + f"。#{source}-{n}"


@contextmanager
def fresh_database(admin_url: str) -> Iterator[Database]:
    """A new empty migrated database with procrastinate's schema, dropped afterwards."""
    from tingfeng.settings import Settings
    from tingfeng.tasks import apply_schema

    name = f"tingfeng_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(Database(admin_url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    db = Database(sa.engine.make_url(Database(admin_url).url).set(database=name).render_as_string(hide_password=False))
    try:
        db.upgrade()
        apply_schema(Settings(database_url=db.url))
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def progress(engine: sa.Engine) -> tuple[int, int, int, int]:
    """(mentions stored by finished collector runs, mentions waiting to be scored, dirty
    rollup days, tingfeng jobs waiting or running).

    Every figure is read from a small table: the poll runs on the machine being measured,
    and counting ``mentions`` and ``mention_analysis`` four times a second cost the
    server ~10 % of a core at 100k mentions and grew with the table.
    """
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT (SELECT coalesce(sum(items_new), 0) FROM collector_runs WHERE finished_at IS NOT NULL),"
            " (SELECT count(*) FROM score_queue), (SELECT count(*) FROM rollup_dirty),"
            " (SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            "   AND task_name IN ('tingfeng.collect', 'tingfeng.score', 'tingfeng.process'))").one()


def check_stored(engine: sa.Engine, expected: int) -> None:
    """The end-state check, once the clock has stopped: every mention stored and analysed."""
    with engine.connect() as conn:
        found = tuple(conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM mention_analysis)").one())
    if found != (expected, expected):
        raise RuntimeError(f"end state: (mentions, analyses) = {found}, expected {expected} each")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by these processes (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def pg_backend_cpu_seconds(engine: sa.Engine) -> float | None:
    """CPU time of the PostgreSQL backends serving this database (server on this machine)."""
    with engine.connect() as conn:
        pids = [r[0] for r in conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    try:
        return cpu_seconds(pids)
    except (FileNotFoundError, PermissionError, IndexError):
        return None


def wait_started(workers: Workers, timeout: float = 180) -> None:
    """Until every worker logged that it started taking jobs (after its warm-up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("Starting worker" in log.read_text(errors="replace") for log in workers.logs):
            return
        if len(workers.alive()) < len(workers.procs):
            raise RuntimeError(workers.tail())
        time.sleep(0.5)
    raise RuntimeError("workers did not start\n" + workers.tail())


def run_distributed(n_workers: int, args: argparse.Namespace, tmp: Path) -> dict:
    """Throughput of ``n_workers`` worker processes draining a fresh backlog."""
    from tingfeng.settings import Settings
    from tingfeng.tasks import _defer_quietly, make_app

    expected = args.sources * args.items
    with fresh_database(args.pg) as db, FeedSite(args.sources, args.items, text=review) as site:
        catalog = write_catalog(tmp / f"w{n_workers}.toml", site, schedule="0 0 1 1 *", recipients=False)
        env = {"TINGFENG_WORKER_SCORE_SLOTS": str(max(4, n_workers)), "TINGFENG_WORKER_CONCURRENCY": "1"}
        logs = tmp / f"logs-{n_workers}"
        logs.mkdir(exist_ok=True)
        with Workers(n_workers, logs, database_url=db.url, catalog=catalog, data_dir=tmp, smtp_port=25,
                     **env) as workers:
            wait_started(workers)
            app = make_app(Settings(database_url=db.url, catalog=catalog))

            async def defer_all() -> None:
                async with app.open_async():
                    collect = app.tasks["tingfeng.collect"]
                    for source in app.runtime.catalog.sources:
                        await _defer_quietly(collect.configure(lock=f"source:{source.id}",
                                                               queueing_lock=f"source:{source.id}"),
                                             source_id=source.id)

            pids = [p.pid for p in workers.procs]
            cpu0, pg0 = cpu_seconds(pids), pg_backend_cpu_seconds(db.engine)
            t0 = time.perf_counter()
            asyncio.run(defer_all())
            collected_at = None
            while True:
                collected, pending, dirty, busy = progress(db.engine)
                if collected_at is None and collected >= expected:
                    collected_at = time.perf_counter() - t0
                if collected >= expected and pending == 0 and dirty == 0 and busy == 0:
                    break
                if len(workers.alive()) < n_workers:
                    raise RuntimeError(workers.tail())
                if time.perf_counter() - t0 > args.timeout:
                    raise RuntimeError(f"timeout: {collected=} {pending=} {dirty=} {busy=}\n{workers.tail()}")
                time.sleep(0.25)
            elapsed = time.perf_counter() - t0
            cpu = cpu_seconds(pids) - cpu0
            pg1 = pg_backend_cpu_seconds(db.engine)  # backends opened during the run count whole
            pg_cpu = round(pg1 - (pg0 or 0), 1) if pg1 is not None else None
            workers.stop()
            check_stored(db.engine, expected)
    return {"mode": f"distributed, {n_workers} worker(s)", "workers": n_workers, "mentions": expected,
            "seconds": round(elapsed, 1), "collected_after_s": round(collected_at or 0, 1),
            "mentions_per_s": round(expected / elapsed, 1), "cpu_s": round(cpu, 1),
            "mentions_per_cpu_s": round(expected / cpu, 1), "pg_cpu_s": pg_cpu}


def run_embedded(backend: str, args: argparse.Namespace, tmp: Path) -> dict:
    """Throughput of the embedded mode: one process running collect_all then process."""
    from tingfeng import jobs
    from tingfeng.jobs import Context
    from tingfeng.settings import Settings

    expected = args.sources * args.items
    with FeedSite(args.sources, args.items, text=review) as site, \
            (fresh_database(args.pg) if backend == "postgresql" else _sqlite(tmp)) as db:
        catalog = write_catalog(tmp / f"embedded-{backend}.toml", site, schedule="0 0 1 1 *", recipients=False)
        settings = Settings(database_url=db.url, catalog=catalog, data_dir=tmp, http_min_delay=0.0,
                            respect_robots=False, http_per_host_concurrency=8)
        ctx = Context.from_settings(settings)
        ctx.model.score(["预热"])  # warm, as the workers are
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        jobs.collect_all(ctx)
        collected = time.perf_counter() - t0
        jobs.process(ctx)
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0  # includes the feed site's threads (small)
        check_stored(db.engine, expected)
        ctx.db.dispose()
    return {"mode": f"embedded, {backend}", "workers": 1, "mentions": expected, "seconds": round(elapsed, 1),
            "collected_after_s": round(collected, 1), "mentions_per_s": round(expected / elapsed, 1),
            "cpu_s": round(cpu, 1), "mentions_per_cpu_s": round(expected / cpu, 1)}


@contextmanager
def _sqlite(tmp: Path) -> Iterator[Database]:
    from storage import make_url_for_path

    db = Database(make_url_for_path(tmp / f"bench-{uuid.uuid4().hex[:6]}.db"))
    db.upgrade()
    yield db
    db.dispose()


def report(results: list[dict]) -> str:
    """A markdown table, with per-worker efficiency against the 1-worker run."""
    base = next((r["mentions_per_s"] for r in results if r.get("workers") == 1 and r["mode"].startswith("distributed")), None)
    lines = ["| mode | mentions | seconds | collected after (s) | mentions/s | speed-up | per-worker efficiency "
             "| worker CPU s | mentions per CPU s | PostgreSQL CPU s | load avg |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        dist = r["mode"].startswith("distributed")
        speed = r["mentions_per_s"] / base if base and dist else None
        eff = speed / r["workers"] if speed else None
        lines.append(f"| {r['mode']} | {r['mentions']:,} | {r['seconds']} | {r['collected_after_s']} | "
                     f"{r['mentions_per_s']} | {f'{speed:.2f}×' if speed else '–'} | {f'{eff:.0%}' if eff else '–'} | "
                     f"{r['cpu_s']} | {r['mentions_per_cpu_s']} | {r.get('pg_cpu_s') or '–'} | {r['load']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to run (comma-separated)")
    parser.add_argument("--embedded", default="sqlite,postgresql", help="embedded backends to run ('' for none)")
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--items", type=int, default=500, help="posts per source feed")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--pg", default=os.environ.get("TINGFENG_TEST_PG", "postgresql://postgres@127.0.0.1:55432/postgres"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("TINGFENG_LOG_LEVEL", "WARNING")
    import logging

    logging.basicConfig(level="WARNING")
    results = []
    with tempfile.TemporaryDirectory(prefix="tingfeng-bench-") as tmp_name:
        tmp = Path(tmp_name)
        runs = [(run_embedded, b) for b in args.embedded.split(",") if b]
        runs += [(run_distributed, int(n)) for n in args.workers.split(",") if n]
        for run, what in runs:
            load0 = os.getloadavg()[0]
            result = run(what, args, tmp)
            # 1-minute load average before → after: other work on the machine competes for its cores
            result["load"] = f"{load0:.1f}→{os.getloadavg()[0]:.1f}"
            results.append(result)
            print(json.dumps(result, ensure_ascii=False), flush=True)
    from nlp.models import get_model

    print(f"\ncpus: {os.cpu_count()}, sources: {args.sources}, items per source: {args.items}, "
          f"model: {get_model().name}\n")
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
