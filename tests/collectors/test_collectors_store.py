"""store_items: insert-or-ignore, repost linking within and across batches, and the
SQLite fast path writing exactly what the ORM writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import select

from collectors.base import Item
from collectors.store import store_items
from storage.models import Mention, ScoreQueue

AT = datetime(2026, 11, 20, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=8)))
NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)


def item(ext: str, text: str, **kw) -> Item:
    return Item(external_id=ext, text=text, published_at=AT, **kw)


def test_insert_or_ignore_and_linking(db) -> None:
    repost = "茶颜悦色五一广场店排队两个小时，太夸张了"
    with db.session() as s:
        assert store_items(s, source_id="a", platform="wb", collected_at=NOW,
                           items=[item("1", repost), item("2", repost + "!!"), item("1", "dup in batch"),
                                  item("3", "好喝")]) == (3, 1)
    with db.session() as s:
        assert store_items(s, source_id="a", platform="wb", collected_at=NOW,
                           items=[item("1", repost), item("4", "好喝")]) == (1, 1)
        assert store_items(s, source_id="b", platform="xhs", collected_at=NOW, items=[item("1", repost)]) == (1, 0)
    with db.session() as s:
        rows = {(m.source_id, m.external_id): m for m in s.exec(select(Mention)).all()}
    first = rows[("a", "1")]
    assert first.duplicate_of is None
    assert rows[("a", "2")].duplicate_of == first.id  # repost within the same batch
    assert rows[("b", "1")].duplicate_of == first.id  # repost from another source
    assert rows[("a", "4")].duplicate_of is None  # short texts are never linked
    with db.session() as s:  # every new mention, and only those, waits for scoring (a trigger's work)
        queued = sorted(s.exec(select(ScoreQueue.mention_id)).all())
    assert queued == sorted(m.id for m in rows.values())


def test_round_trip_is_identical_to_the_orm(db) -> None:
    extra = {"reply": "已回复", "n": [1, 2]}
    with db.session() as s:
        store_items(s, source_id="fast", platform="p", collected_at=NOW,
                    items=[item("x", "味道不错", rating=4.5, likes=3, author="甲", extra=extra)])
        s.add(Mention(source_id="orm", external_id="x", platform="p", text="味道不错", rating=4.5, likes=3,
                      author="甲", published_at=AT, collected_at=NOW, content_hash="h", extra=extra))
    with db.session() as s:
        fast, orm = (s.exec(select(Mention).where(Mention.source_id == sid)).one() for sid in ("fast", "orm"))
        assert fast.published_at == orm.published_at == AT
        assert fast.published_at.tzinfo is not None and fast.collected_at == NOW
        assert (fast.extra, fast.rating, fast.likes, fast.author, fast.kind) == (extra, 4.5, 3, "甲", "post")
        raw = s.connection().execute(sa.text("SELECT published_at, collected_at FROM mentions ORDER BY source_id")).all()
    assert raw[0] == raw[1]  # same stored representation, so range queries compare alike


def test_repeated_extras_are_stored_each_as_given(db) -> None:
    # the SQLite path dumps equal string-only extras once per batch; 1, 1.0 and True are equal keys in
    # Python but different JSON, so they must not share a cached dump
    extras = [{"reply": "已回复", "store": "H1"}, {"reply": "已回复", "store": "H1"}, {"store": "H1", "reply": "已回复"},
              {"n": 1}, {"n": 1.0}, {"n": True}, {}, {"reply": "已回复"}]
    with db.session() as s:
        store_items(s, source_id="x", platform="p", collected_at=NOW,
                    items=[item(str(i), f"第{i}条不同的评价内容足够长", extra=e) for i, e in enumerate(extras)])
    with db.session() as s:
        stored = {m.external_id: m.extra for m in s.exec(select(Mention)).all()}
        raw = dict(s.connection().execute(sa.text("SELECT external_id, extra FROM mentions")).all())
    assert [stored[str(i)] for i in range(len(extras))] == extras
    assert [type(stored[str(i)]["n"]) for i in (3, 4, 5)] == [int, float, bool]
    assert list(stored["2"]) == ["store", "reply"]  # key order kept
    if db.dialect == "sqlite":
        assert raw["0"] == raw["1"] != raw["2"]


def test_a_large_batch_is_stored_whole_and_linked(db) -> None:
    # 2,245 rows: on SQLite several multi-row statements of different sizes plus single rows;
    # on PostgreSQL one COPY, then a second one for the reposts of rows of this batch
    texts = [f"第{i}条评价，内容各不相同，足够长" for i in range(2245)]
    texts[2244] = texts[2100] = texts[5]  # reposts of row 5, one in the single-row tail
    with db.session() as s:
        store_items(s, source_id="old", platform="p", collected_at=NOW, items=[item("o", texts[7])])
    items = [item(str(i), t, rating=i % 5, extra={"i": str(i % 3)}) for i, t in enumerate(texts)]
    with db.session() as s:
        assert store_items(s, source_id="big", platform="p", collected_at=NOW, items=items + items[:3]) == (2245, 3)
    with db.session() as s:
        stored = {m.external_id: m for m in s.exec(select(Mention).where(Mention.source_id == "big")).all()}
        old = s.exec(select(Mention).where(Mention.source_id == "old")).one()
    assert len(stored) == 2245
    assert [stored[str(i)].text for i in range(2245)] == texts
    assert stored["5"].duplicate_of is None
    assert stored["2100"].duplicate_of == stored["2244"].duplicate_of == stored["5"].id
    assert stored["7"].duplicate_of == old.id
    assert (stored["2243"].rating, stored["2243"].extra, stored["2243"].published_at) == (3, {"i": "2"}, AT)
    assert sorted(stored, key=lambda e: stored[e].id)[:3] == ["0", "1", "2"]  # ids follow the batch order
