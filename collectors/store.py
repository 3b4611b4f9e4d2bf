"""Writing items as Mention rows: insert-or-ignore on (source_id, external_id) and
linking reposts by content hash — identical on SQLite and PostgreSQL.

A page or an import batch is written in bulk on the raw driver connection (inside the
caller's transaction): on SQLite a few multi-row ``INSERT … VALUES`` statements, each a
single ``sqlite3_step`` that runs without the GIL (so a file import's parsing thread
keeps working meanwhile); on PostgreSQL ``COPY`` into a temporary table and one
``INSERT … SELECT … ON CONFLICT DO NOTHING``. The lookups (earliest mention per
content hash) are one query per batch, not one per item."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from sqlmodel import Session

from collectors.base import Item
from collectors.parse.text import hash_normalised, normalise_for_hash

MIN_LINK_CHARS = 8  # shorter texts ("好喝", "默认好评") are not treated as reposts
_COLUMNS = ("source_id", "external_id", "platform", "kind", "url", "author", "title", "text", "rating",
            "published_at", "collected_at", "brand_hint", "store_hint", "product_hint", "likes",
            "content_hash", "duplicate_of", "extra")
_DUPLICATE_OF = _COLUMNS.index("duplicate_of")
_EXTRA = _COLUMNS.index("extra")
# Rows per multi-row INSERT (also bounded by the driver's variable limit). A few fixed
# sizes, not one per batch length: sqlite3 caches a prepared statement per SQL text,
# and a 2,000-row statement is a large program. Fewer rows than the smallest go
# through executemany: a web page's 20 items stored that way took 0.75 ms against
# 0.95 ms as one 20-row statement, and nothing runs in parallel with them anyway.
_SQLITE_INSERT_SIZES = (2000, 200)
_IN_SIZES = (10, 100, 1000, 10000)  # lookup lists are padded to one of these, for the same reason


def fingerprint(text: str) -> tuple[str, bool]:
    """(repost hash of ``text``, whether it is long enough to be linked as a repost)."""
    normalised = normalise_for_hash(text)
    return hash_normalised(normalised), len(normalised) >= MIN_LINK_CHARS


@dataclass
class PreparedRows:
    """A page's items as insert rows (``_COLUMNS`` order) converted for one backend,
    with each row's (repost hash, linkable). Built outside the transaction: a file
    import builds them in its parsing thread, so the thread holding the transaction
    only links and inserts."""

    dialect: str
    rows: list[tuple[list[Any], str, bool]] = field(default_factory=list)
    repeated: int = 0  # items dropped because their id came earlier in the same page

    @property
    def count(self) -> int:
        """How many items the page had."""
        return len(self.rows) + self.repeated


def prepare_rows(items: list[Item], *, source_id: str, platform: str, collected_at: datetime,
                 dialect: str) -> PreparedRows:
    """``items`` as rows for ``dialect`` (``sqlite`` or ``postgresql``); the same id twice
    in one page keeps the first. On SQLite the values are pre-converted exactly as
    ``UtcDateTime`` and ``JSON`` would store them (naive UTC ``YYYY-MM-DD HH:MM:SS.ffffff``,
    ``json.dumps``): SQLAlchemy's per-row bind processing was a quarter of a million-row
    import. On PostgreSQL only ``extra`` is dumped (COPY takes the datetimes as they are)."""
    prepared = PreparedRows(dialect)
    sqlite = dialect == "sqlite"
    collected: Any = sqlite_datetime(collected_at) if sqlite else collected_at
    extras: dict[tuple[Any, ...], str] = {}  # extras repeat (reply state, store): dump each once
    dumps = json.dumps
    seen: set[str] = set()
    for item in items:
        if item.external_id in seen:
            prepared.repeated += 1
            continue
        seen.add(item.external_id)
        extra = item.extra
        if all(type(v) is str for v in extra.values()):  # 1 == 1.0 == True: cache only strings
            key = (*extra.keys(), *extra.values())
            dumped = extras.get(key) or extras.setdefault(key, dumps(extra))
        else:
            dumped = dumps(extra)
        digest, ok = item.fingerprint or fingerprint(item.text)
        published: Any = sqlite_datetime(item.published_at) if sqlite else item.published_at
        row = [source_id, item.external_id, platform, item.kind, item.url, item.author, item.title,
               item.text, item.rating, published, collected, item.brand_hint, item.store_hint,
               item.product_hint, item.likes, digest, None, dumped]
        if "\x00" in item.text or "\\u0000" in dumped or _has_nul(item):
            row = _without_nul(row, extra)
        prepared.rows.append((row, digest, ok))
    return prepared


def _has_nul(item: Item) -> bool:
    return any(value is not None and "\x00" in value for value in (
        item.external_id, item.url, item.author, item.title, item.brand_hint, item.store_hint, item.product_hint))


def _without_nul(row: list[Any], extra: dict[str, Any]) -> list[Any]:
    """``row`` with NUL characters removed from its strings and its ``extra``: SQLite's
    text functions stop at a NUL (``length``, ``substr``, ``LIKE`` see a cut value) and
    PostgreSQL rejects the whole batch; the characters around it are kept."""
    cleaned = [value.replace("\x00", "") if isinstance(value, str) else value for value in row]
    cleaned[_EXTRA] = json.dumps(_strip_nul(extra))
    return cleaned


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


def store_items(session: Session, *, source_id: str, platform: str, items: list[Item],
                collected_at: datetime) -> tuple[int, int]:
    """Insert the items not yet stored for this source; returns (new, duplicate).
    :func:`prepare_rows` then :func:`store_rows`."""
    dialect = session.connection().dialect.name
    return store_rows(session, prepare_rows(items, source_id=source_id, platform=platform,
                                            collected_at=collected_at, dialect=dialect))


def store_rows(session: Session, prepared: PreparedRows) -> tuple[int, int]:
    """Insert the prepared rows not yet stored; returns (new, duplicate).

    A new row whose normalised text (≥ MIN_LINK_CHARS) equals an earlier mention's —
    of another source or external id — gets ``duplicate_of`` = that mention's id.
    Rows already stored are left alone by the insert's ``ON CONFLICT DO NOTHING``;
    what was not inserted is counted as duplicate.
    """
    if not prepared.count:
        return 0, 0
    conn = session.connection()
    if conn.dialect.name != prepared.dialect:
        raise ValueError(f"rows prepared for {prepared.dialect}, stored into {conn.dialect.name}")
    writer = _SqliteWriter(conn) if prepared.dialect == "sqlite" else _PostgresWriter(conn)
    earliest = writer.earliest_ids({digest for _, digest, ok in prepared.rows if ok})
    leaders: list[list[Any]] = []
    followers: list[tuple[list[Any], str]] = []
    leader_hashes: set[str] = set()
    for row, digest, ok in prepared.rows:
        if ok and digest in earliest:
            row[_DUPLICATE_OF] = earliest[digest]
            leaders.append(row)
        elif ok and digest in leader_hashes:
            followers.append((row, digest))
        else:
            leader_hashes.add(digest)
            leaders.append(row)
    inserted = writer.insert(leaders)
    if followers:
        # reposts of an item first seen in this very batch: link to its new id
        new_ids = writer.earliest_ids({digest for _, digest in followers})
        rows = []
        for row, digest in followers:
            row[_DUPLICATE_OF] = new_ids.get(digest)
            rows.append(row)
        inserted += writer.insert(rows)
    return inserted, prepared.count - inserted


def sqlite_datetime(value: datetime) -> str:
    """A UTC-aware datetime as SQLAlchemy stores it in SQLite (naive UTC, microseconds)."""
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.isoformat(" ", "microseconds")[:26]


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class _SqliteWriter:
    """Bulk statements on the sqlite3 connection under ``conn``."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn.connection.driver_connection
        limit = self.raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        # multi-row INSERT sizes, largest first; fewer rows than the smallest go one by one
        self.insert_sizes = sorted({min(size, limit // len(_COLUMNS)) for size in _SQLITE_INSERT_SIZES}, reverse=True)
        self.in_sizes = sorted({min(size, limit) for size in _IN_SIZES})

    def earliest_ids(self, hashes: set[str]) -> dict[str, int]:
        """content_hash -> smallest mention id having it, for these hashes."""
        found: dict[str, int] = {}
        cursor = self.raw.cursor()
        try:
            for chunk in _padded(sorted(hashes), self.in_sizes):
                found.update(cursor.execute(
                    f"SELECT content_hash, min(id) FROM mentions WHERE content_hash IN ({_marks(len(chunk))}) "
                    "GROUP BY content_hash", chunk).fetchall())
        finally:
            cursor.close()
        return found

    def insert(self, rows: list[list[Any]]) -> int:
        """INSERT … ON CONFLICT DO NOTHING of prepared ``rows``; the number inserted."""
        if not rows:
            return 0
        raw = self.raw
        cursor = raw.cursor()
        try:
            # rowcount, not total_changes: the latter also counts the score_queue trigger's rows
            inserted, start = 0, 0
            for size in self.insert_sizes:
                # one statement per chunk: sqlite3 binds it, then runs it in one step without the GIL
                while len(rows) - start >= size:
                    cursor.execute(_sqlite_insert(size), [value for row in rows[start:start + size] for value in row])
                    inserted += cursor.rowcount
                    start += size
            if start < len(rows):
                cursor.executemany(_sqlite_insert(1), rows[start:])
                inserted += cursor.rowcount
            return inserted
        finally:
            cursor.close()


def _padded(values: list[Any], sizes: list[int]) -> Iterable[list[Any]]:
    """``values`` in chunks of one of ``sizes`` (ascending), the last one padded with a
    repeated value (harmless in an ``IN`` list)."""
    for chunk in _chunks(values, sizes[-1]):
        size = next(s for s in sizes if s >= len(chunk))
        yield chunk + [chunk[0]] * (size - len(chunk))


def _marks(count: int) -> str:
    return ", ".join("?" * count)


_SQLITE_INSERTS: dict[int, str] = {}


def _sqlite_insert(rows: int) -> str:
    """The multi-row INSERT text for ``rows`` rows (the same object each time: the
    driver's statement cache then compiles it once per connection)."""
    text = _SQLITE_INSERTS.get(rows)
    if text is None:
        one = f"({_marks(len(_COLUMNS))})"
        text = _SQLITE_INSERTS.setdefault(rows, f"INSERT INTO mentions ({', '.join(_COLUMNS)}) VALUES "
                                                f"{', '.join([one] * rows)} "
                                                "ON CONFLICT (source_id, external_id) DO NOTHING")
    return text


class _PostgresWriter:
    """Bulk statements on the psycopg connection under ``conn``: ``= ANY(array)``
    lookups, and ``COPY`` into a session-local staging table followed by one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (a unique clash inside COPY itself
    would abort the whole batch)."""

    STAGING = "tingfeng_mentions_staging"

    def __init__(self, conn: Any) -> None:
        self.raw = conn.connection.driver_connection

    def earliest_ids(self, hashes: set[str]) -> dict[str, int]:
        """content_hash -> smallest mention id having it, for these hashes."""
        if not hashes:
            return {}
        with self.raw.cursor() as cursor:
            cursor.execute("SELECT content_hash, min(id) FROM mentions WHERE content_hash = ANY(%s) "
                           "GROUP BY content_hash", (sorted(hashes),))
            return dict(cursor.fetchall())

    def insert(self, rows: list[list[Any]]) -> int:
        """COPY ``rows`` (``_COLUMNS`` order) to the staging table, then insert what is
        new, in the rows' order; the number inserted."""
        if not rows:
            return 0
        columns = ", ".join(_COLUMNS)
        with self.raw.cursor() as cursor:
            # temporary: private to this connection; emptied at the end of each transaction
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.STAGING} ON COMMIT DELETE ROWS AS "
                           f"SELECT 0::bigint AS ord, {columns} FROM mentions WITH NO DATA")
            cursor.execute(f"DELETE FROM {self.STAGING}")  # rows of an earlier insert in this transaction
            with cursor.copy(f"COPY {self.STAGING} (ord, {columns}) FROM STDIN") as copy:
                for number, values in enumerate(rows):
                    copy.write_row((number, *values))
            cursor.execute(f"INSERT INTO mentions ({columns}) SELECT {columns} FROM {self.STAGING} ORDER BY ord "
                           "ON CONFLICT (source_id, external_id) DO NOTHING")
            return max(cursor.rowcount, 0)
