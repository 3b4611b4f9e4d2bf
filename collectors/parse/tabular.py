"""Streaming readers for exported files: CSV (any common encoding), XLSX, JSON Lines,
JSON arrays and SQLite tables. Each yields ``(line_no, row dict)`` one row at a time
so a million-row file is read in bounded memory; ``skip`` rows are passed over
cheaply (resume)."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any, Iterator

from collectors.parse.charset import normalise_charset

Row = dict[str, Any]
csv.field_size_limit(16 * 1024 * 1024)


def sniff_encoding(path: Path, declared: str = "auto") -> str:
    """``declared`` unless "auto": utf-8-sig when the head decodes as UTF-8, else GB18030."""
    if declared != "auto":
        return normalise_charset(declared) or declared
    head = path.open("rb").read(256 * 1024)
    for codec in ("utf-8-sig", "gb18030"):
        try:
            head.decode(codec)
            return codec
        except UnicodeDecodeError as exc:
            if codec == "utf-8-sig" and exc.start >= len(head) - 4:
                return codec  # a character cut at the sample edge
    return "gb18030"


def iter_csv(path: Path, *, encoding: str = "auto", delimiter: str = ",", skip: int = 0) -> Iterator[tuple[int, Row]]:
    """Rows of a CSV with a header line, keyed by the stripped header names.
    ``line_no`` is the data row number (1 = first row after the header)."""
    return _as_dicts(iter_csv_lists(path, encoding=encoding, delimiter=delimiter, skip=skip))


def iter_csv_lists(path: Path, *, encoding: str = "auto", delimiter: str = ",",
                   skip: int = 0) -> Iterator[tuple[int, list[Any]]]:
    """Like :func:`iter_csv` but cheaper: first ``(0, header)``, then ``(line_no, values)``
    with the values as a list in header order (possibly shorter or longer)."""
    codec = sniff_encoding(path, encoding)
    with path.open("r", encoding=codec, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        yield 0, [h.strip().lstrip("\ufeff") for h in next(reader, [])]
        for number, values in enumerate(reader, start=1):
            if number <= skip or not values:
                continue
            yield number, values


def iter_xlsx(path: Path, *, sheet: str | None = None, skip: int = 0) -> Iterator[tuple[int, Row]]:
    """Rows of an XLSX sheet (first sheet by default), read-only streaming mode."""
    return _as_dicts(iter_xlsx_lists(path, sheet=sheet, skip=skip))


def iter_xlsx_lists(path: Path, *, sheet: str | None = None, skip: int = 0) -> Iterator[tuple[int, list[Any]]]:
    """Like :func:`iter_xlsx`, as :func:`iter_csv_lists` gives a CSV: header first."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        yield 0, [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for number, values in enumerate(rows, start=1):
            if number <= skip or not values or all(v is None for v in values):
                continue
            yield number, list(values)
    finally:
        book.close()


def _as_dicts(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, Row]]:
    _, header = next(rows)
    for number, values in rows:
        yield number, dict(zip(header, values))


def iter_jsonl(path: Path, *, skip: int = 0) -> Iterator[tuple[int, Row | Exception]]:
    """Objects of a JSON Lines file; a bad line yields its exception instead of a row."""
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if number <= skip or not line.strip():
                continue
            try:
                value = json.loads(line)
                yield number, value if isinstance(value, dict) else ValueError("not an object")
            except json.JSONDecodeError as exc:
                yield number, exc


def iter_json_array(path: Path, *, skip: int = 0) -> Iterator[tuple[int, Row | Exception]]:
    """Objects of a file holding one JSON array (MediaCrawler's ``.json`` output)."""
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        data = json.load(handle)
    if isinstance(data, dict):
        data = [data]
    for number, value in enumerate(data, start=1):
        if number > skip:
            yield number, value if isinstance(value, dict) else ValueError("not an object")


def iter_sqlite(path: Path, table: str, *, after_id: int = 0, batch: int = 1000) -> Iterator[tuple[int, Row]]:
    """Rows of ``table`` with ``id`` (or rowid) greater than ``after_id``, in id order;
    the yielded number is that id. The database is opened read-only."""
    uri = f"file:{path.resolve()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    conn.row_factory = sqlite3.Row
    try:
        columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        if not columns:
            return
        key = "id" if "id" in columns else "rowid"
        last = after_id
        while True:
            rows = conn.execute(f'SELECT {key} AS _key, * FROM "{table}" WHERE {key} > ? ORDER BY {key} LIMIT ?',
                                (last, batch)).fetchall()
            if not rows:
                return
            for row in rows:
                last = int(row["_key"])
                data = dict(row)
                data.pop("_key", None)
                yield last, data
    finally:
        conn.close()


def sqlite_tables(path: Path) -> set[str]:
    """Table names of an SQLite database file (read-only)."""
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
