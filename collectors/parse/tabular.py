"""Streaming readers for exported files: CSV (any common encoding), XLSX, JSON Lines,
JSON arrays and SQLite tables. Each yields ``(line_no, row dict)`` one row at a time
so a million-row file is read in bounded memory; ``skip`` rows are passed over
cheaply (resume)."""

from __future__ import annotations

import codecs
import csv
import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from collectors.parse.charset import normalise_charset

Row = dict[str, Any]
csv.field_size_limit(16 * 1024 * 1024)


def sniff_encoding(path: Path, declared: str = "auto") -> str:
    """``declared`` unless "auto": utf-8-sig when the head reads as UTF-8 (see
    :func:`looks_utf8`), else GB18030."""
    if declared != "auto":
        return normalise_charset(declared) or declared
    with path.open("rb") as handle:
        head = handle.read(256 * 1024)
    return "utf-8-sig" if looks_utf8(head) else "gb18030"


def looks_utf8(sample: bytes) -> bool:
    """Whether ``sample`` is UTF-8, judged by all of it: a few bad bytes among many
    well-formed multi-byte characters are damage in a UTF-8 file, not another encoding
    (GB18030 text read as UTF-8 breaks at nearly every character). A character cut at
    the end of the sample does not count."""
    text = sample.decode("utf-8", "surrogateescape")
    bad = len(_ESCAPED_RE.findall(text[:-3] if len(sample) >= 3 else text))
    if not bad:
        return True
    return _UTF8_WIDE_RE.subn("", text)[1] >= 4 * bad


_ESCAPED_RE = re.compile("[\udc80-\udcff]")  # bytes the codec could not read (surrogateescape)
_UTF8_WIDE_RE = re.compile("[^\x00-\x7f\udc80-\udcff]")


def iter_csv(path: Path, *, encoding: str = "auto", delimiter: str = ",",
             skip: int = 0) -> Iterator[tuple[int, Row | Exception]]:
    """Rows of a CSV with a header line, keyed by the stripped header names.
    ``line_no`` is the data row number (1 = first row after the header); a bad row
    yields its exception instead (see :func:`iter_csv_lists`)."""
    return _as_dicts(iter_csv_lists(path, encoding=encoding, delimiter=delimiter, skip=skip))


def iter_csv_lists(path: Path, *, encoding: str = "auto", delimiter: str = ",",
                   skip: int = 0) -> Iterator[tuple[int, list[Any] | Exception]]:
    """Like :func:`iter_csv` but cheaper: first ``(0, header)``, then ``(line_no, values)``
    with the values as a list in header order (possibly shorter or longer).

    A bad row yields a :class:`ValueError` in place of its values, and reading goes on:
    a row with bytes the file's encoding cannot read (the rest of the file is not
    decoded differently because of it), and a quote that never closes into a proper
    row — then the row where it opens is reported and reading resumes on the next
    physical line instead of the quote swallowing the rest of the file."""
    codec = sniff_encoding(path, encoding)
    with path.open("r", encoding=codec, errors="surrogateescape", newline="") as handle:
        lines = _Lines(handle)
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        header = [h.strip().lstrip("\ufeff") for h in _next_record(reader, lines, delimiter) or []]
        yield 0, header
        width = len(header)
        number = 0
        while True:
            lines.start_record()
            try:
                values: list[str] | None = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                values = None if "unexpected end of data" in str(exc) else _single_line_record(lines, delimiter)
                problem: csv.Error | None = exc
            else:
                problem = None
                if len(lines.taken) > 1 and len(values) != width:
                    values = None
            number += 1
            if values is None:
                lines.resume_after_first()
                if number > skip:
                    yield number, _quote_error(lines, problem)
            elif number <= skip or not values:
                continue
            elif lines.undecodable:
                yield number, ValueError(f"bytes that are not valid {codecs.lookup(codec).name.removesuffix('-sig')} "
                                         f"({_show_bad(values)}); row skipped")
            else:
                yield number, values


class _Lines:
    """The physical lines of a text file for :mod:`csv`, remembering those of the
    current record so a broken record can be re-read from its second line."""

    def __init__(self, handle: Iterator[str]) -> None:
        self._handle = handle
        self._back: list[str] = []  # lines to hand out again, last first
        self.taken: list[str] = []
        self.undecodable = False
        self.next_line = 1  # physical number of the line handed out next
        self.record_line = 1  # ... of the current record's first line

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self._back.pop() if self._back else next(self._handle)
        self.next_line += 1
        self.taken.append(line)
        if not self.undecodable and _ESCAPED_RE.search(line):
            self.undecodable = True
        return line

    def start_record(self) -> None:
        """Forget the lines of the previous record."""
        self.taken = []
        self.undecodable = False
        self.record_line = self.next_line

    def resume_after_first(self) -> None:
        """Hand out again every line of the current record but its first."""
        self._back.extend(reversed(self.taken[1:]))
        self.taken = self.taken[:1]
        self.next_line = self.record_line + 1


def _next_record(reader: Iterator[list[str]], lines: _Lines, delimiter: str) -> list[str] | None:
    lines.start_record()
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error:
        return _single_line_record(lines, delimiter)


def _single_line_record(lines: _Lines, delimiter: str) -> list[str] | None:
    """A one-line record the strict reader refused (``"a"b``, a stray quote): read the
    lenient way as before; None when the record spans lines (a quote left open)."""
    if len(lines.taken) != 1:
        return None
    return next(csv.reader(lines.taken, delimiter=delimiter), [])


def _quote_error(lines: _Lines, exc: csv.Error | None) -> ValueError:
    first = lines.taken[0] if lines.taken else ""
    detail = f" ({exc})" if exc else ""
    return ValueError(f"unclosed quote{detail}: the quoted field opened on file line {lines.record_line} "
                      f"({_clip(first)!r}) never closes into a row; row skipped, reading on from the next line")


def _show_bad(values: list[str]) -> str:
    """Where the first unreadable byte of a row is, bytes shown as ``\\xff``."""
    for value in values:
        match = _ESCAPED_RE.search(value)
        if match:
            around = value[max(match.start() - 8, 0):match.end() + 8]
            return "near '" + _ESCAPED_RE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", around) + "'"
    return "in the row"


def _clip(text: str, size: int = 40) -> str:
    text = text.rstrip("\r\n").encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if len(text) <= size else text[:size] + "…"


def iter_xlsx(path: Path, *, sheet: str | None = None, skip: int = 0) -> Iterator[tuple[int, Row]]:
    """Rows of an XLSX sheet (first sheet by default), read-only streaming mode."""
    return _as_dicts(iter_xlsx_lists(path, sheet=sheet, skip=skip))


def iter_xlsx_lists(path: Path, *, sheet: str | None = None, skip: int = 0,
                    on_open: Callable[[str], None] | None = None) -> Iterator[tuple[int, list[Any] | Exception]]:
    """Like :func:`iter_xlsx`, as :func:`iter_csv_lists` gives a CSV: header first.

    ``on_open`` is told the sheet's name once it is open. A file that is no workbook, or
    lacks ``sheet``, raises ValueError saying so; a sheet whose XML breaks off part way
    yields a ValueError for the row where it broke, after every row read before it.
    Row numbers count data rows (1 = the row after the header; Excel shows it as 2)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is not a workbook
        raise ValueError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    try:
        if sheet and sheet not in book.sheetnames:
            raise ValueError(f"no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
        ws = book[sheet] if sheet else book.worksheets[0]
        if on_open is not None:
            on_open(ws.title)
        rows = ws.iter_rows(values_only=True)
        try:
            header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        except Exception as exc:
            raise ValueError(f"sheet {ws.title!r}: unreadable ({type(exc).__name__}: {exc})") from exc
        yield 0, header
        number = 0
        try:
            for number, values in enumerate(rows, start=1):
                if number <= skip or not values or all(v is None for v in values):
                    continue
                yield number, list(values)
        except Exception as exc:  # a damaged sheet part: nothing after this point can be read
            yield number + 1, ValueError(f"unreadable ({type(exc).__name__}: {exc}); the rows after it are lost")
    finally:
        book.close()


def _as_dicts(rows: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Row | Exception]]:
    _, header = next(rows)
    for number, values in rows:
        yield number, values if isinstance(values, Exception) else dict(zip(header, values))


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
