"""Collector benchmark — one command, prints its figures (issue 3).

    .venv/bin/python bench/collectors.py                 # the issue's sizes
    .venv/bin/python bench/collectors.py --sources 50 --rows 100000   # a quick run

Part 1 (html end to end): a local asyncio server on 127.0.0.1 (``--hosts`` ports,
each port one "host") serves ``--sources`` review listings of ``--pages`` pages ×
``--items`` reviews; every source is collected through ``collect_source_async``
sharing one PoliteClient — fetch, parse, dedup, store in SQLite. Reports items/s,
peak RSS, and requests per host per second against the configured limit
(1 / ``--min-delay``). Baseline, same run: bare httpx fetching the same pages with
no parsing or storage.

Part 2 (file import): a generated ``--rows``-row merchant CSV imported by the
``file`` source into SQLite, and with ``--database-url`` the same file again into
PostgreSQL (a database of its own on that server, dropped afterwards). Reports rows/s
and peak RSS. Baseline, same run: a bare csv.reader pass over the file.

Each part runs in its own process so its peak RSS is its own. Output files go to
bench/out/ (ignored by git) and are removed afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"

HTML_OPTIONS = {
    "item": "li.review",
    "fields": {"id": "@data-id", "author": ".name", "time": ".time", "rating": ".star",
               "text": ".review-words", "store": "@data-shop", "link": "a.permalink@href"},
    "next": 'a:-soup-contains("下一页")',
    "max_pages": 10_000,
}


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def max_rate_per_second(times: list[float]) -> int:
    """Most requests that started within any 1-second window."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# --------------------------------------------------------------------------- part 1
def part_http(args: argparse.Namespace, work: Path) -> dict:
    import httpx

    from collectors.http import HttpSettings, PoliteClient
    from collectors.run import collect_source_async
    from storage import Database, make_url_for_path
    from storage.models import Mention, Source

    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "collectors_server.py"),
                               str(args.hosts), str(args.pages), str(args.items)],
                              stdout=subprocess.PIPE, text=True)
    try:
        ports = [int(p) for p in server.stdout.readline().split()]
        db = Database(make_url_for_path(work / "bench.db"))
        db.upgrade()
        with db.session() as session:
            for i in range(args.sources):
                url = f"http://127.0.0.1:{ports[i % len(ports)]}/s{i}/reviews?page=1"
                session.add(Source(id=f"s{i}", type="html", platform="dianping",
                                   options={**HTML_OPTIONS, "url": url}))

        # baseline: bare httpx, same pages, no parsing or storage
        sample = [f"http://127.0.0.1:{ports[i % len(ports)]}/s{i}/reviews?page={p}"
                  for i in range(args.sources) for p in range(1, args.pages + 1)][:args.baseline_pages]

        async def bare() -> float:
            gate = asyncio.Semaphore(args.hosts * args.per_host)
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
            async with httpx.AsyncClient(trust_env=False, limits=limits) as client:
                async def one(url: str) -> None:
                    async with gate:
                        (await client.get(url)).raise_for_status()

                started = time.perf_counter()
                await asyncio.gather(*(one(u) for u in sample))
                return time.perf_counter() - started

        bare_seconds = asyncio.run(bare())

        settings = HttpSettings(min_delay_per_host=args.min_delay, per_host_concurrency=args.per_host,
                                retries=1, backoff_base=0.05, connect_timeout=10, read_timeout=30)
        runs = []

        async def collect_all() -> tuple[float, dict[str, list[float]]]:
            async with PoliteClient(settings) as client:
                gate = asyncio.Semaphore(args.concurrency)

                async def one(source_id: str) -> None:
                    async with gate:
                        runs.append(await collect_source_async(db, source_id, client=client))

                started = time.perf_counter()
                await asyncio.gather(*(one(f"s{i}") for i in range(args.sources)))
                return time.perf_counter() - started, client.requests_per_host

        cpu0 = time.process_time()
        seconds, per_host = asyncio.run(collect_all())
        cpu = time.process_time() - cpu0
        with db.session() as session:
            from sqlmodel import func, select

            stored = session.exec(select(func.count()).select_from(Mention)).one()
        failed = [r for r in runs if r.status not in ("ok", "partial")]
        rates = {host: max_rate_per_second(times) for host, times in per_host.items()}
        requests = sum(len(t) for t in per_host.values())
        return {
            "sources": args.sources, "pages_per_source": args.pages, "items_per_page": args.items,
            "hosts": len(ports), "items_stored": stored, "failed_runs": len(failed),
            "requests": requests, "seconds": round(seconds, 2),
            "items_per_s": round(stored / seconds), "pages_per_s": round(requests / seconds),
            "cpu_seconds": round(cpu, 2), "items_per_cpu_s": round(stored / cpu),
            "max_requests_per_host_per_s": max(rates.values()),
            "mean_requests_per_host_per_s": round(requests / len(per_host) / seconds, 1),
            "limit_requests_per_host_per_s": round(1 / args.min_delay, 1) if args.min_delay else None,
            "per_host_concurrency": args.per_host,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "baseline_bare_fetch_pages_per_s": round(len(sample) / bare_seconds),
            "baseline_bare_fetch_items_per_s": round(len(sample) * args.items / bare_seconds),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


# --------------------------------------------------------------------------- part 2
HEADER = ["评价ID", "评价时间", "用户昵称", "星级", "评价内容", "商家回复", "门店ID"]


def write_csv(path: Path, rows: int) -> None:
    """A merchant-style review export of ``rows`` rows (UTF-8 with BOM, like Excel)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow([f"r{i}", f"2026-{1 + i % 11:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00",
                             f"顾客{i % 5000}", str(1 + i % 5),
                             f"第{i}条：门店{i % 300}的拿铁口感不错，等了{i % 40}分钟，店员态度{'好' if i % 3 else '一般'}。",
                             "已回复" if i % 2 else "", f"H{i % 300}"])


def part_csv(args: argparse.Namespace, work: Path) -> dict:
    from collectors.run import collect_source
    from storage.models import Source

    path = work / "export.csv"
    if not path.exists():  # written once, imported by each backend
        write_csv(path, args.rows)
    started = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        count = sum(1 for _ in csv.reader(handle)) - 1
    bare = time.perf_counter() - started
    with bench_database(args.db, work / "import.db") as db:
        with db.session() as session:
            session.add(Source(id="export", type="file", platform="meituan",
                               options={"path": str(path), "preset": "meituan", "batch_size": args.batch_size}))
        rss_before = peak_rss_mb()
        started, cpu0 = time.perf_counter(), time.process_time()
        run = collect_source(db, "export")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu0
        backend = db.dialect
    return {
        "backend": backend, "rows": count, "batch_size": args.batch_size, "items_new": run.items_new,
        "status": run.status, "seconds": round(seconds, 2),
        "rows_per_s": round(count / seconds), "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(count / cpu),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_import_mb": round(rss_before, 1), "file_mb": round(path.stat().st_size / 2**20, 1),
        "baseline_csv_reader_rows_per_s": round(count / bare),
    }


@contextmanager
def bench_database(url: str, sqlite_path: Path) -> Iterator[Any]:
    """A migrated empty database: the SQLite file ``sqlite_path`` when ``url`` is
    "sqlite", else a database of its own on the PostgreSQL server ``url``, dropped afterwards.
    (PostgreSQL's own CPU time is not in this process's ``cpu_seconds``.)"""
    import sqlalchemy as sa

    from storage import Database, make_url_for_path

    if url == "sqlite":
        db = Database(make_url_for_path(sqlite_path))
        db.upgrade()
        yield db
        db.dispose()
        return
    server = Database(url)
    name = f"tingfeng_bench_{os.getpid()}"
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        db = Database(sa.engine.make_url(server.url).set(database=name).render_as_string(hide_password=False))
        db.upgrade()
        yield db
        db.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# --------------------------------------------------------------------------- driver
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--items", type=int, default=20, help="reviews per page")
    parser.add_argument("--hosts", type=int, default=10, help="loopback ports, each a host for politeness")
    parser.add_argument("--min-delay", type=float, default=0.02, help="HttpSettings.min_delay_per_host (s)")
    parser.add_argument("--per-host", type=int, default=4, help="HttpSettings.per_host_concurrency")
    parser.add_argument("--concurrency", type=int, default=100, help="sources collected at once")
    parser.add_argument("--baseline-pages", type=int, default=2000, help="pages fetched by the bare baseline")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the CSV import")
    parser.add_argument("--batch-size", type=int, default=20_000,
                        help="the file source's batch_size (rows per transaction; 20,000 is the most it allows)")
    parser.add_argument("--database-url", help="also import the CSV into this PostgreSQL server "
                        "(e.g. postgresql://postgres@127.0.0.1:55432/postgres; a database of its own, dropped afterwards)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep bench/out/collectors-* files")
    parser.add_argument("--part", choices=["http", "csv"], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--db", default="sqlite", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.part:
        work = Path(args.work)
        result = part_http(args, work) if args.part == "http" else part_csv(args, work)
        print(json.dumps(result))
        return
    work = OUT / f"collectors-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    passthrough = [a for a in sys.argv[1:] if a not in ("--keep",)]
    targets = {"http": ("items_per_s", 2000), "csv": ("rows_per_s", 20000)}
    print(f"machine: {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f} "
          "(other work on the machine inflates wall-clock times; cpu figures are this process only)")
    parts = [("http", "sqlite"), ("csv", "sqlite")] + ([("csv", args.database_url)] if args.database_url else [])
    try:
        for part, database in parts:
            if getattr(args, f"skip_{part}"):
                continue
            proc = subprocess.run([sys.executable, __file__, *passthrough, "--part", part, "--work", str(work),
                                   "--db", database], capture_output=True, text=True, check=False)
            label = part if database == "sqlite" else f"{part} (postgresql)"
            if proc.returncode != 0:
                print(f"{label}: FAILED\n{proc.stderr[-3000:]}")
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            key, target = targets[part]
            print(f"== {label} ==")
            for name, value in result.items():
                print(f"  {name}: {value}")
            print(f"  target {key} >= {target}: {'met' if result[key] >= target else 'NOT met'}")
            if part == "http" and result["limit_requests_per_host_per_s"]:
                ok = result["max_requests_per_host_per_s"] <= result["limit_requests_per_host_per_s"]
                print(f"  per-host limit respected: {'yes' if ok else 'NO'}")
            if part == "csv":
                print(f"  target peak_rss_mb < 400: {'met' if result['peak_rss_mb'] < 400 else 'NOT met'}")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
