"""Importing row streams (files, crawler output) in batches with a resumable offset.

Each batch is stored by ``ctx.emit`` together with the file's progress in
``Source.state["files"][key]``, so a crash resumes after the last stored batch; a bad
row is logged with its file and line number and skipped."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator

from collectors.base import Context, Item, ParsedPage
from collectors.store import fingerprint

RowStream = Iterator[tuple[int, Any]]


def file_signature(path: Path) -> dict[str, Any]:
    """Size and mtime: how a watched file is recognised as changed."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime": stat.st_mtime}


def progress_of(state: dict[str, Any], key: str, path: Path) -> int | None:
    """Rows already imported from ``path`` (0 for a new or rewritten file), or None
    when it is unchanged since it was finished."""
    entry = state.get("files", {}).get(key)
    signature = file_signature(path)
    if not entry:
        return 0
    if entry.get("done") and entry.get("size") == signature["size"] and entry.get("mtime") == signature["mtime"]:
        return None
    if signature["size"] < entry.get("size", 0):
        return 0  # truncated or replaced: read again, dedup keeps it idempotent
    return int(entry.get("rows", 0))


def import_rows(ctx: Context, *, key: str, path: Path, rows: RowStream, to_item: Callable[[Any], Item],
                batch_size: int = 1000, start: int = 0, where: Callable[[int], str] | None = None) -> int:
    """Convert and store ``rows`` in batches; returns the number of rows read. A bad
    row is logged as ``{file}: {where(number)}: {problem}`` (``line {number}`` by default).

    Batches are stored by one writer thread, in order, while this thread converts the
    next batch: the database's own work (SQLite's B-tree inserts and commit, a
    PostgreSQL round trip) releases the GIL, so it overlaps the row parsing. Python
    work stays in this thread (repost hash, and with ``ctx.screen`` validation,
    filtering and the insert rows), so the writer mostly waits on the database. At
    most one batch waits to be stored (memory stays bounded); each is committed with
    the offset of its last row, so a crash still resumes right after the last stored
    batch. An error in the writer stops the import with that error."""
    label = os.path.basename(key)
    where = where or _line
    items: list[Item] = []
    errors: list[str] = []
    last = start
    count = 0
    pending: list[Future[Any]] = []

    screen = getattr(ctx, "screen", None)  # RunContext's database-free half of emit

    def store(page: Any, rows_done: int, done: bool) -> None:
        files = dict(ctx.state.get("files", {}))
        files[key] = {**file_signature(path), "rows": rows_done, "done": done}
        ctx.emit(page, ref=label, state={"files": files})

    def flush(writer: ThreadPoolExecutor, done: bool) -> None:
        nonlocal items, errors
        page = ParsedPage(items=items, errors=errors)
        if screen is not None:
            page = screen(page, ref=label)  # here, not in the writer: validation and row building are Python
        if pending:
            pending.pop().result()  # the previous batch is stored (or its error raised) first
        pending.append(writer.submit(store, page, last, done))
        items, errors = [], []

    bulk = getattr(ctx, "bulk", None)
    with (bulk() if bulk else nullcontext()), short_gil_slices(), \
            ThreadPoolExecutor(1, thread_name_prefix="import-writer") as writer:
        for number, row in rows:
            count += 1
            last = number
            if isinstance(row, Exception):
                errors.append(f"{where(number)}: {row}")
            else:
                try:
                    item = to_item(row)
                    item.fingerprint = fingerprint(item.text)  # here, not in the writer: it is the busier thread
                    items.append(item)
                except (ValueError, TypeError, KeyError, OverflowError) as exc:
                    errors.append(f"{where(number)}: {exc}")
            if len(items) + len(errors) >= batch_size:
                flush(writer, False)
        flush(writer, True)
        pending.pop().result()
        # on an error above, leaving the executor waits for the batch being written
    return count


def _line(number: int) -> str:
    return f"line {number}"


IMPORT_SWITCH_INTERVAL = 0.0005  # s; CPython's default is 0.005
_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


@contextmanager
def short_gil_slices() -> Iterator[None]:
    """A shorter GIL switch interval (``sys.setswitchinterval``) while imports run.

    Each database call of the writer thread releases the GIL; to take it back while
    the parsing thread runs Python it waits for that thread's time slice to end — 5 ms
    by default, some twenty times per batch — and the database sits idle meanwhile.
    1M-row import at load 1.2, two runs each: 51.7 / 52.8 s with 5 ms, 42.2 / 41.7 s
    with 0.5 ms. The interval is process-wide: it is restored when the last import
    running in this process ends."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, IMPORT_SWITCH_INTERVAL))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


def watched_files(root: Path, pattern: str) -> list[Path]:
    """``root`` itself when it is a file, else its files matching ``pattern`` (glob,
    ``**`` recursive), oldest first so a directory is replayed in order."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    files = [p for p in root.glob(pattern) if p.is_file() and not p.name.startswith((".", "~$"))]
    return sorted(files, key=lambda p: (p.stat().st_mtime, str(p)))
