"""Writing items as Mention rows: insert-or-ignore on (source_id, external_id) and
linking reposts by content hash — identical on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from collectors.base import Item
from collectors.parse.text import hash_normalised, normalise_for_hash
from storage.models import Mention

MIN_LINK_CHARS = 8  # shorter texts ("好喝", "默认好评") are not treated as reposts
_TABLE = Mention.__table__


def _insert(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["source_id", "external_id"])
    if dialect == "sqlite":
        return sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["source_id", "external_id"])
    return sa.insert(_TABLE)


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def fingerprint(text: str) -> tuple[str, bool]:
    """(repost hash of ``text``, whether it is long enough to be linked as a repost)."""
    normalised = normalise_for_hash(text)
    return hash_normalised(normalised), len(normalised) >= MIN_LINK_CHARS


def store_items(session: Session, *, source_id: str, platform: str, items: list[Item],
                collected_at: datetime) -> tuple[int, int]:
    """Insert the items not yet stored for this source; returns (new, duplicate).

    A new item whose normalised text (≥ MIN_LINK_CHARS) equals an earlier mention's —
    of another source or external id — gets ``duplicate_of`` = that mention's id.
    """
    if not items:
        return 0, 0
    conn = session.connection()
    existing = _existing_ids(conn, source_id, [item.external_id for item in items])
    fresh: list[tuple[Item, str, bool]] = []
    for item in items:
        if item.external_id in existing:
            continue
        existing.add(item.external_id)
        digest, ok = item.fingerprint or fingerprint(item.text)
        fresh.append((item, digest, ok))
    duplicates = len(items) - len(fresh)
    if not fresh:
        return 0, duplicates
    earliest = _earliest_ids(conn, sorted({h for _, h, ok in fresh if ok}))
    leaders: list[list[Any]] = []
    followers: list[tuple[list[Any], str]] = []
    leader_hashes: set[str] = set()
    for item, digest, ok in fresh:
        row = _row(item, source_id, platform, digest, collected_at)
        if ok and digest in earliest:
            row[_DUPLICATE_OF] = earliest[digest]
            leaders.append(row)
        elif ok and digest in leader_hashes:
            followers.append((row, digest))
        else:
            leader_hashes.add(digest)
            leaders.append(row)
    inserted = _execute_many(conn, leaders)
    if followers:
        # reposts of an item first seen in this very batch: link to its new id
        new_ids = _earliest_ids(conn, sorted({digest for _, digest in followers}))
        rows = []
        for row, digest in followers:
            row[_DUPLICATE_OF] = new_ids.get(digest)
            rows.append(row)
        inserted += _execute_many(conn, rows)
    return inserted, duplicates + (len(fresh) - inserted)


def _existing_ids(conn: Any, source_id: str, external_ids: list[str]) -> set[str]:
    """Which of ``external_ids`` are already stored for ``source_id``."""
    existing: set[str] = set()
    if conn.dialect.name == "sqlite":
        for chunk in _chunks(external_ids):
            existing.update(r[0] for r in _sqlite_select(
                conn, "SELECT external_id FROM mentions WHERE source_id = ? AND external_id IN ({})",
                [source_id], chunk))
        return existing
    for chunk in _chunks(external_ids):
        existing.update(conn.execute(
            sa.select(_TABLE.c.external_id).where(_TABLE.c.source_id == source_id, _TABLE.c.external_id.in_(chunk))
        ).scalars())
    return existing


def _execute_many(conn: Any, rows: list[list[Any]]) -> int:
    """executemany of one cached statement; the number of rows actually inserted.

    On SQLite the rows go straight to the driver, pre-converted exactly as
    ``UtcDateTime`` and ``JSON`` would (naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``,
    ``json.dumps``): SQLAlchemy's per-row bind processing was a quarter of a
    million-row import. PostgreSQL goes through SQLAlchemy."""
    if not rows:
        return 0
    if conn.dialect.name == "sqlite":
        return _sqlite_execute_many(conn, rows)
    insert = _insert(conn.dialect.name)
    inserted = 0
    for chunk in _chunks(rows, 2000):
        result = conn.execute(insert, [dict(zip(_COLUMNS, row)) for row in chunk])
        count = result.rowcount
        inserted += len(chunk) if count is None or count < 0 else count
    return inserted


_COLUMNS = ("source_id", "external_id", "platform", "kind", "url", "author", "title", "text", "rating",
                   "published_at", "collected_at", "brand_hint", "store_hint", "product_hint", "likes",
                   "content_hash", "duplicate_of", "extra")
_DUPLICATE_OF = _COLUMNS.index("duplicate_of")
_SQLITE_INSERT = (f"INSERT INTO mentions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
                  "ON CONFLICT (source_id, external_id) DO NOTHING")


def sqlite_datetime(value: datetime) -> str:
    """A UTC-aware datetime as SQLAlchemy stores it in SQLite (naive UTC, microseconds)."""
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_execute_many(conn: Any, rows: list[list[Any]]) -> int:
    collected: dict[datetime, str] = {}  # one collection time per batch: convert once
    extras: dict[tuple[Any, ...], str] = {}  # extras repeat (reply state, store): dump each once
    dumps = json.dumps
    for values in rows:
        values[9] = sqlite_datetime(values[9])
        stamp = values[10]
        values[10] = collected.get(stamp) or collected.setdefault(stamp, sqlite_datetime(stamp))
        extra = values[17]
        if all(type(v) is str for v in extra.values()):  # 1 == 1.0 == True: cache only strings
            key = (*extra.keys(), *extra.values())
            values[17] = extras.get(key) or extras.setdefault(key, dumps(extra))
        else:
            values[17] = dumps(extra)
    raw = conn.connection.driver_connection
    cursor = raw.cursor()
    try:
        before = raw.total_changes
        cursor.executemany(_SQLITE_INSERT, rows)
        return raw.total_changes - before
    finally:
        cursor.close()


def _sqlite_select(conn: Any, sql: str, head: list[Any], values: list[Any]) -> list[tuple[Any, ...]]:
    """``sql`` with its ``IN ({})`` filled with one ``?`` per value, on the raw driver:
    the same text for every full chunk, so sqlite3's statement cache compiles it once."""
    cursor = conn.connection.driver_connection.cursor()
    try:
        return cursor.execute(sql.format(", ".join("?" * len(values))), [*head, *values]).fetchall()
    finally:
        cursor.close()


def _earliest_ids(conn: Any, hashes: list[str]) -> dict[str, int]:
    """content_hash -> smallest mention id having it, for these hashes."""
    found: dict[str, int] = {}
    for chunk in _chunks(hashes):
        if conn.dialect.name == "sqlite":
            rows = _sqlite_select(conn, "SELECT content_hash, min(id) FROM mentions WHERE content_hash IN ({}) "
                                  "GROUP BY content_hash", [], chunk)
        else:
            rows = conn.execute(
                sa.select(_TABLE.c.content_hash, sa.func.min(_TABLE.c.id)).where(_TABLE.c.content_hash.in_(chunk))
                .group_by(_TABLE.c.content_hash)
            ).all()
        found.update({h: i for h, i in rows})
    return found


def _row(item: Item, source_id: str, platform: str, digest: str, collected_at: datetime) -> list[Any]:
    """The insert's values in ``_COLUMNS`` order."""
    return [source_id, item.external_id, platform, item.kind, item.url, item.author, item.title, item.text,
            item.rating, item.published_at, collected_at, item.brand_hint, item.store_hint, item.product_hint,
            item.likes, digest, None, item.extra]
