"""Scoring-stage benchmark: ``nlp.pipeline.score_pending`` throughput on a fresh database.

    .venv/bin/python bench/score_pipeline.py [--mentions 5000] [--batch-size 500] [--pg URL] [--profile]
                                             [--data ../shared/data/sentiment]

Seeds a small catalog (one brand, 20 stores with aliases, 10 products, a store-bound
source and a feed source) and ``--mentions`` mentions whose texts are real reviews and
posts: ``waimai_10k_train.csv`` and ``weibo_senti_100k_dev.csv`` of ``--data``
(default ``../shared/data/sentiment``; text only, labels unused) interleaved in file
order, every third one prefixed with a store and a product name, every 20th a repost
of the one before — so every run scores the same texts. The default
sentiment model and the catalog's tokenizer are loaded before the clock starts. Prints
mentions per CPU-second of this process (SQLite runs in-process, so its time is
included; a PostgreSQL server's own CPU is not) and per wall-second.

SQLite by default (a temporary file); ``--pg`` an admin URL such as
``$TINGFENG_TEST_PG``: a database is created for the run and dropped afterwards
(``bench/scale.py``'s ``fresh_database``).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp import segment  # noqa: E402
from nlp.models import get_model  # noqa: E402
from nlp.pipeline import load_catalog, score_pending  # noqa: E402
from storage import Database  # noqa: E402
from nlp.train import DEFAULT_DATA, read_labelled  # noqa: E402
from storage.models import Brand, Mention, Product, Source, Store  # noqa: E402

START = datetime(2026, 11, 1, tzinfo=timezone.utc)
STORES = ["万象城", "海岸城", "欢乐海岸", "科技园", "南山书城", "福田口岸", "东门", "华强北", "宝安中心", "龙华",
          "前海", "蛇口", "车公庙", "会展中心", "大运", "坂田", "西丽", "香蜜湖", "梅林", "布吉"]
PRODUCTS = ["多肉葡萄", "芝芝莓莓", "烤黑糖波波", "满杯红柚", "芋泥波波", "杨枝甘露", "桂花乌龙", "椰椰芒芒",
            "酷黑莓桑", "芝芝桃桃"]


def texts(data_dir: Path, n: int) -> list[str]:
    """``n`` mention texts: waimai reviews and Weibo posts alternating, some naming a store and product."""
    sources = [[e.text for e in read_labelled(data_dir / name)]
               for name in ("waimai_10k_train.csv", "weibo_senti_100k_dev.csv")]
    out = []
    for i in range(n):
        pool = sources[i % 2]
        text = pool[(i // 2) % len(pool)]
        if i % 3 == 0:
            text = f"{STORES[i % len(STORES)]}店的{PRODUCTS[i % len(PRODUCTS)]}，{text}"
        out.append(text)
    return out


def seed(db: Database, bodies: list[str]) -> None:
    """The catalog and one pending mention per text (every 20th a repost of the one before)."""
    with db.session() as s:
        s.add(Brand(id="xc", name="喜茶", aliases=["heytea"], exclude=[]))
        for i, name in enumerate(STORES):
            s.add(Store(id=f"s{i}", brand_id="xc", name=f"喜茶{name}店", aliases=[f"{name}店"],
                        region_id="south", platform_ids={"dianping": f"H{i}"}))
        for i, name in enumerate(PRODUCTS):
            s.add(Product(id=f"p{i}", brand_id="xc", name=name, aliases=[]))
        s.add(Source(id="dp", type="file", platform="dianping", store_id="s0"))
        s.add(Source(id="wb", type="feed", platform="weibo"))
    rows = []
    for n, body in enumerate(bodies):
        repost = n % 20 == 19
        text = bodies[n - 1] if repost else body
        ts = START + timedelta(minutes=7 * n)
        rows.append({"source_id": "dp" if n % 4 == 0 else "wb", "external_id": str(n), "platform": "", "kind": "post",
                     "text": text, "published_at": ts, "collected_at": ts, "content_hash": str(n - 1 if repost else n),
                     "extra": {}})
    with db.engine.begin() as conn:
        conn.execute(sa.insert(Mention.__table__), rows)
        if len(bodies) >= 20:  # reposts point at their original
            conn.execute(sa.text(
                "UPDATE mentions SET duplicate_of = (SELECT m2.id FROM mentions m2 "
                "WHERE m2.content_hash = mentions.content_hash AND m2.id < mentions.id) "
                "WHERE CAST(external_id AS INTEGER) % 20 = 19"))


@contextmanager
def database(pg: str | None) -> Iterator[Database]:
    """A fresh migrated database: a temporary SQLite file, or a new PostgreSQL database."""
    if not pg:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/bench.db")
            db.upgrade()
            try:
                yield db
            finally:
                db.dispose()
        return
    from scale import fresh_database  # bench/scale.py: a created-and-dropped PostgreSQL database

    with fresh_database(pg) as db:
        yield db


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: seed, warm up, time one ``score_pending`` run, print the rates."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mentions", type=int, default=5000)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--pg", help="PostgreSQL admin URL (default: SQLite in a temporary file)")
    ap.add_argument("--profile", action="store_true", help="print the 25 costliest functions (cumulative)")
    args = ap.parse_args(argv)
    if args.mentions < 1 or args.batch_size < 1:
        ap.error("--mentions and --batch-size must be positive")
    with database(args.pg) as db:
        seed(db, texts(args.data, args.mentions))
        model = get_model()
        model.score(["味道不错"])
        with db.session() as s:
            segment.tokenizer(load_catalog(s).names())  # built once per process, as in a worker
        prof = cProfile.Profile() if args.profile else None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        done = score_pending(db, model=model, batch_size=args.batch_size, now=START + timedelta(days=60))
        if prof:
            prof.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        with db.engine.connect() as conn:
            touch = conn.execute(sa.text("SELECT COUNT(*) FROM mention_touchpoints")).scalar_one()
    print(f"{db.dialect}: {done} mentions ({touch} touchpoint rows) in {cpu:.2f} CPU-s / {wall:.2f} wall-s: "
          f"{done / cpu:,.0f} mentions per CPU-second, {done / wall:,.0f} per wall-second "
          f"(batch size {args.batch_size}, model {model.name} {model.version})")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
