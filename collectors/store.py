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


def store_items(session: Session, *, source_id: str, platform: str, items: list[Item],
                collected_at: datetime) -> tuple[int, int]:
    """Insert the items not yet stored for this source; returns (new, duplicate).

    A new item whose normalised text (≥ MIN_LINK_CHARS) equals an earlier mention's —
    of another source or external id — gets ``duplicate_of`` = that mention's id.
    """
    if not items:
        return 0, 0
    conn = session.connection()
    existing: set[str] = set()
    for chunk in _chunks([item.external_id for item in items]):
        existing.update(conn.execute(
            sa.select(_TABLE.c.external_id).where(_TABLE.c.source_id == source_id, _TABLE.c.external_id.in_(chunk))
        ).scalars())
    fresh: list[tuple[Item, str, bool]] = []
    for item in items:
        if item.external_id in existing:
            continue
        existing.add(item.external_id)
        normalised = normalise_for_hash(item.text)
        fresh.append((item, hash_normalised(normalised), len(normalised) >= MIN_LINK_CHARS))
    duplicates = len(items) - len(fresh)
    if not fresh:
        return 0, duplicates
    earliest = _earliest_ids(conn, sorted({h for _, h, ok in fresh if ok}))
    leaders: list[dict[str, Any]] = []
    followers: list[tuple[dict[str, Any], str]] = []
    leader_hashes: set[str] = set()
    for item, digest, ok in fresh:
        row = _row(item, source_id, platform, digest, collected_at)
        if ok and digest in earliest:
            row["duplicate_of"] = earliest[digest]
            leaders.append(row)
        elif ok and digest in leader_hashes:
            followers.append((row, digest))
        else:
            leader_hashes.add(digest)
            leaders.append(row)
    insert = _insert(conn.dialect.name)
    inserted = 0
    for chunk in _chunks(leaders, 2000):
        inserted += _execute_many(conn, insert, chunk)
    if followers:
        # reposts of an item first seen in this very batch: link to its new id
        new_ids = _earliest_ids(conn, sorted({digest for _, digest in followers}))
        rows = []
        for row, digest in followers:
            row["duplicate_of"] = new_ids.get(digest)
            rows.append(row)
        for chunk in _chunks(rows, 2000):
            inserted += _execute_many(conn, insert, chunk)
    return inserted, duplicates + (len(fresh) - inserted)


def _execute_many(conn: Any, insert: Any, rows: list[dict[str, Any]]) -> int:
    """executemany of one cached statement; the number of rows actually inserted.

    On SQLite the rows go straight to the driver, pre-converted exactly as
    ``UtcDateTime`` and ``JSON`` would (naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``,
    ``json.dumps``): SQLAlchemy's per-row bind processing was a quarter of a
    million-row import. PostgreSQL goes through SQLAlchemy."""
    if conn.dialect.name == "sqlite":
        return _sqlite_execute_many(conn, rows)
    result = conn.execute(insert, rows)
    count = result.rowcount
    return len(rows) if count is None or count < 0 else count


_SQLITE_COLUMNS = ("source_id", "external_id", "platform", "kind", "url", "author", "title", "text", "rating",
                   "published_at", "collected_at", "brand_hint", "store_hint", "product_hint", "likes",
                   "content_hash", "duplicate_of", "extra")
_SQLITE_INSERT = (f"INSERT INTO mentions ({', '.join(_SQLITE_COLUMNS)}) VALUES ({', '.join('?' * len(_SQLITE_COLUMNS))}) "
                  "ON CONFLICT (source_id, external_id) DO NOTHING")


def sqlite_datetime(value: datetime) -> str:
    """A UTC-aware datetime as SQLAlchemy stores it in SQLite (naive UTC, microseconds)."""
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_execute_many(conn: Any, rows: list[dict[str, Any]]) -> int:
    params = []
    collected: dict[datetime, str] = {}  # one collection time per batch: convert once
    for row in rows:
        values = [row[c] for c in _SQLITE_COLUMNS]
        values[9] = sqlite_datetime(values[9])
        stamp = values[10]
        values[10] = collected.get(stamp) or collected.setdefault(stamp, sqlite_datetime(stamp))
        values[17] = json.dumps(values[17])
        params.append(tuple(values))
    cursor = conn.connection.driver_connection.cursor()
    try:
        before = conn.connection.driver_connection.total_changes
        cursor.executemany(_SQLITE_INSERT, params)
        return conn.connection.driver_connection.total_changes - before
    finally:
        cursor.close()


def _earliest_ids(conn: Any, hashes: list[str]) -> dict[str, int]:
    """content_hash -> smallest mention id having it, for these hashes."""
    found: dict[str, int] = {}
    for chunk in _chunks(hashes):
        rows = conn.execute(
            sa.select(_TABLE.c.content_hash, sa.func.min(_TABLE.c.id)).where(_TABLE.c.content_hash.in_(chunk))
            .group_by(_TABLE.c.content_hash)
        ).all()
        found.update({h: i for h, i in rows})
    return found


def _row(item: Item, source_id: str, platform: str, digest: str, collected_at: datetime) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "external_id": item.external_id,
        "platform": platform,
        "kind": item.kind,
        "url": item.url,
        "author": item.author,
        "title": item.title,
        "text": item.text,
        "rating": item.rating,
        "published_at": item.published_at,
        "collected_at": collected_at,
        "brand_hint": item.brand_hint,
        "store_hint": item.store_hint,
        "product_hint": item.product_hint,
        "likes": item.likes,
        "content_hash": digest,
        "duplicate_of": None,
        "extra": item.extra,
    }
