"""Dashboard query-layer benchmark: p50/p95 per page on SQLite and PostgreSQL in one run.

Generates (once, reused afterwards) 1,000,000 mentions over a year for 200 stores with
their analyses, touchpoints, day rollups, collector runs and alerts, then times the
exact ``dashboard.queries`` calls each page makes on its first render (no Streamlit,
no cache), for several viewers and filters.

    .venv/bin/python bench/dashboard.py \
        --pg postgresql://postgres@127.0.0.1:55432/postgres   # or TINGFENG_TEST_PG

Options: ``--mentions``, ``--repeat``, ``--regenerate``, ``--no-pg``, ``--scenarios``, ``--pages``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Callable

BENCH_DIR = Path(__file__).resolve().parent
# this file is named like the package it measures: keep bench/ off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
sys.path.insert(0, str(BENCH_DIR.parent))

import sqlalchemy as sa  # noqa: E402

from dashboard import queries as q  # noqa: E402
from dashboard.access import Access, local_admin  # noqa: E402
from dashboard.scope import Filters, Scope  # noqa: E402
from storage import Database, make_url_for_path  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from storage.models import Mention  # noqa: E402

PG_DB = "tingfeng_bench_dashboard"
#: Databases generated before an index joined storage.models (and migration 0001, which a
#: cached database has already passed) lack it: :func:`prepare` creates every model index
#: that is missing, so the cached data sets measure the shipped schema.


def _load_data_module():  # noqa: ANN202 - a module
    spec = importlib.util.spec_from_file_location("dashboard_data", BENCH_DIR / "dashboard_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_data = _load_data_module()
LAST_DAY, generate, ensure_rollup_scopes = _data.LAST_DAY, _data.generate, _data.ensure_rollup_scopes


def page_calls(db: Database, scope: Scope) -> dict[str, Callable[[], object]]:
    """The queries each page runs on first render (app-level calls included in every page)."""

    def app_level() -> None:
        q.filter_options(db, scope.access)
        q.latest_day(db)

    def overview() -> None:
        app_level()
        q.catalog_counts(db)
        q.kpis(db, scope)
        q.daily(db, scope, None)

    def board(entity: str) -> Callable[[], None]:
        def run() -> None:  # the detail section waits for a pick: not part of the first render
            app_level()
            lb = q.leaderboard(db, scope, entity)
            (q.touchpoint_matrix if entity == "store" else q.product_touchpoint_matrix)(db, scope, tuple(lb["id"][:25]))
        return run

    def product_store() -> None:  # 产品's other heatmap, drawn when picked instead of product × touchpoint
        q.product_store_matrix(db, scope)

    def detail(entity: str) -> Callable[[], None]:
        picked: list[str | None] = []

        def run() -> None:  # picking the busiest store / product (its touchpoints come from the page's matrix)
            if not picked:  # once, in the warm-up: the app's rerun after a pick reads the board from its cache
                lb = q.leaderboard(db, scope, entity)
                picked.append(None if lb.empty else lb["id"].iloc[0])
            if picked[0] is None:
                return
            narrowed = scope.narrowed(**{f"{entity}s": (picked[0],)})
            q.daily(db, narrowed, None)
            q.complaint_keywords(db, narrowed)
            q.alerts_table(db, narrowed, ("open", "acknowledged", "resolved"))
            q.mentions_page(db, narrowed, page_size=10)
        return run

    def mentions() -> None:
        app_level()
        q.mentions_page(db, scope, q.MentionFilters(), 1, 50)

    def alerts() -> None:
        app_level()
        page, _ = q.alerts_page(db, scope, ("open", "acknowledged"), (), 1, 20)
        if not page.empty:  # the page shows the newest alert's mentions; others on selection
            q.alert_mentions(db, scope, page.to_dict("records")[0])

    def sources() -> None:
        app_level()
        health = q.source_health(db, scope)
        if not health.empty:
            q.recent_runs(db, scope, health["id"].iloc[0])

    return {"总览 overview": overview, "门店 stores": board("store"), "门店详情 store detail": detail("store"),
            "产品 products": board("product"), "产品×门店 product × store": product_store,
            "产品详情 product detail": detail("product"),
            "声量明细 mentions": mentions, "预警 alerts": alerts, "数据源 sources": sources}


def scenarios() -> dict[str, Scope]:
    """Viewers × filters measured."""
    last30 = Filters(start=LAST_DAY - timedelta(days=29), end=LAST_DAY)
    manager = Access(user="bench-manager", role="manager", stores=frozenset({"s000", "s010", "s020"}))
    return {
        "admin, 30 days": Scope(last30, local_admin()),
        "admin, 365 days": Scope(replace(last30, start=LAST_DAY - timedelta(days=364)), local_admin()),
        "manager (3 stores), 30 days": Scope(last30, manager),
        "admin, region r1, 30 days": Scope(replace(last30, regions=("r1",)), local_admin()),
        "admin, platform weibo + brand b0, 30 days (raw rows)": Scope(
            replace(last30, platforms=("weibo",), brands=("b0",)), local_admin()),
        "mentions keyword search 排队, 30 days": Scope(last30, local_admin()),
    }


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """(p50, p95) wall milliseconds over ``repeat`` runs after one warm-up, and the p50 of this
    process's CPU time (on a shared, loaded machine the wall time includes waiting for a core;
    for SQLite, which runs in-process, CPU time is the work itself)."""
    fn()
    times, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    times.sort()
    return (statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
            statistics.median(cpus))


def ensure_indexes(db: Database) -> None:
    """Create the model indexes a cached database lacks (it was generated before they existed)."""
    with db.engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for index in table.indexes:
                if not sa.inspect(conn).has_index(table.name, index.name):
                    t0 = time.perf_counter()
                    index.create(conn)
                    print(f"{db.dialect}: created {index.name} in {time.perf_counter() - t0:.0f} s", flush=True)


def prepare(db: Database, n: int, regenerate: bool) -> None:
    """Migrate and fill the database unless it already holds the data set; add missing indexes."""
    db.upgrade()
    ensure_indexes(db)
    with db.engine.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(Mention.__table__)).scalar() or 0
    if have == n and not regenerate:
        print(f"{db.dialect}: reusing {have:,} mentions")
        ensure_rollup_scopes(db)
        return
    if have:
        raise SystemExit(f"{db.safe_url} holds {have:,} mentions, not {n:,}: pass --regenerate on a fresh DB")
    t0 = time.perf_counter()
    generate(db, n_mentions=n)
    print(f"{db.dialect}: generated {n:,} mentions in {time.perf_counter() - t0:.0f} s")


def pg_database(url: str, regenerate: bool) -> Database:
    """A dedicated benchmark database on the given server (dropped first with --regenerate)."""
    admin = sa.create_engine(Database(url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DB}).first()
        if exists and regenerate:
            conn.exec_driver_sql(f'DROP DATABASE "{PG_DB}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{PG_DB}"')
    admin.dispose()
    return Database(sa.engine.make_url(Database(url).url).set(database=PG_DB).render_as_string(hide_password=False))


def main() -> None:
    """Parse arguments, prepare both databases, print a Markdown table of p50/p95 per page."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mentions", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--sqlite", type=Path, default=Path("bench/out/dashboard.db"))
    ap.add_argument("--pg", default=os.environ.get("TINGFENG_TEST_PG", ""))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--scenarios", default="", help="comma-separated substrings of scenario names to run")
    ap.add_argument("--pages", default="", help="comma-separated substrings of page names to run")
    args = ap.parse_args()
    if args.regenerate and args.sqlite.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
    dbs = [Database(make_url_for_path(args.sqlite))]
    if args.pg and not args.no_pg:
        dbs.append(pg_database(args.pg, args.regenerate))
    for db in dbs:
        prepare(db, args.mentions, args.regenerate)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    rows = []
    wanted = [w.strip() for w in args.scenarios.split(",") if w.strip()]
    for name, scope in scenarios().items():
        if wanted and not any(w in name for w in wanted):
            continue
        for db in dbs:
            calls = page_calls(db, scope)
            if name.startswith("mentions keyword"):
                calls = {"声量明细 mentions": lambda db=db, scope=scope: q.mentions_page(
                    db, scope, q.MentionFilters(keyword="排队"), 1, 50)}
            pages = [w.strip() for w in args.pages.split(",") if w.strip()]
            for page, fn in calls.items():
                if pages and not any(w in page for w in pages):
                    continue
                p50, p95, cpu = measure(fn, args.repeat)
                rows.append((name, page, db.dialect, p50, p95, cpu))
                print(f"{name:55s} {page:18s} {db.dialect:10s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                      f"cpu {cpu:6.1f} ms", flush=True)
    load = os.getloadavg()[0]
    print(f"\nload average at the end: {load:.1f} on {os.cpu_count()} cores")
    print("\n| scenario | page | backend | p50 ms | p95 ms | client CPU p50 ms |\n| --- | --- | --- | ---: | ---: | ---: |")
    for name, page, dialect, p50, p95, cpu in rows:
        flag = " ⚠" if p95 > 300 else ""
        print(f"| {name} | {page} | {dialect} | {p50:.0f} | {p95:.0f}{flag} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
