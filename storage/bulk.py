"""Bulk inserts of plain column dicts: ``COPY`` on PostgreSQL, executemany elsewhere.

SQLAlchemy's executemany sends PostgreSQL one ``INSERT`` per row (psycopg pipelines
them, but the server still parses and runs each); ``COPY`` streams the rows into one
statement. On SQLite the sqlite3 module's executemany already runs in C, so it is kept.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each a dict with the same keys, values as Python objects) into
    ``table`` inside the session's transaction.

    JSON columns take their Python value (dict, list …); datetimes must be aware, as
    everywhere in this schema. No conflict handling: a duplicate key raises
    :class:`sqlalchemy.exc.IntegrityError` on every backend, as a plain insert does.
    """
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(sa.insert(table), list(rows))
        return
    from psycopg import errors as pg_errors
    from psycopg.types.json import Json

    columns = list(rows[0])
    is_json = [isinstance(table.c[c].type, sa.JSON) for c in columns]
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([Json(row[c]) if j else row[c] for c, j in zip(columns, is_json)])
    except pg_errors.IntegrityError as exc:
        raise sa.exc.IntegrityError(statement, None, exc) from exc
