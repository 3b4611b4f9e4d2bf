"""file: merchant CSV / XLSX exports, presets, watched directories, resume."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from sqlmodel import select

from collectors.registry import validate_options
from collectors.run import RunContext, collect_source
from storage.models import Mention, Source

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=timezone.utc)
MEITUAN_HEADER = ["评价ID", "评价时间", "用户昵称", "星级", "评价内容", "商家回复", "门店ID"]


def write_csv(path: Path, rows: list[list], header=MEITUAN_HEADER, encoding="utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def rows(start: int, n: int) -> list[list]:
    return [[f"m{i}", f"2026-11-{(i % 20) + 1:02d} 12:{i % 60:02d}", f"顾客{i}", "4", f"第{i}条导出评价，出餐快，味道好",
             "已回复" if i % 2 else "", "H1"] for i in range(start, start + n)]


def mentions(db) -> list[Mention]:
    with db.session() as s:
        return s.exec(select(Mention).order_by(Mention.id)).all()


def test_meituan_csv_with_bom_and_reply_state(db, tmp_path, add_source) -> None:
    path = write_csv(tmp_path / "export.csv", rows(1, 3) + [["m9", "not a time", "x", "5", "时间坏了的一条", "", "H1"],
                                                            ["m10", "2026-11-20 10:00", "y", "5", "", "", "H1"]])
    add_source("mt", "file", {"path": str(path), "preset": "meituan"}, platform="meituan")
    run = collect_source(db, "mt", now=NOW)
    assert (run.status, run.items_new, run.items_skipped) == ("partial", 3, 2)
    assert "export.csv: line 4: bad time 'not a time'" in run.errors
    assert "export.csv: item m10 skipped: empty text" in run.errors[-1] or any("empty text" in e for e in run.errors)
    first = mentions(db)[0]
    assert (first.external_id, first.rating, first.author, first.store_hint, first.kind) == ("m1", 4.0, "顾客1", "H1", "review")
    assert first.extra["reply"] == "已回复"
    assert first.published_at == datetime(2026, 11, 2, 4, 1, tzinfo=timezone.utc)
    again = collect_source(db, "mt", now=NOW)
    assert again.items_seen == 0 and len(mentions(db)) == 3  # unchanged file is not read again


def test_gbk_csv_and_explicit_column_map(db, tmp_path, add_source) -> None:
    path = write_csv(tmp_path / "gbk.csv", [["1", "2026/11/20 08:00", "很好吃，下次还来", "好评", "五一店"]],
                     header=["编号", "日期", "顾客留言", "评价等级", "门店"], encoding="gbk")
    add_source("g", "file", {"path": str(path), "columns": {"text": "顾客留言", "time": "日期", "rating": "评价等级"}})
    run = collect_source(db, "g", now=NOW)
    assert run.items_new == 1, run.errors
    [m] = mentions(db)
    assert (m.text, m.rating, m.store_hint, m.external_id) == ("很好吃，下次还来", 5.0, "五一店", "1")


def test_xlsx_export(db, tmp_path, add_source) -> None:
    book = Workbook()
    ws = book.active
    ws.append(["评价编号", "评价时间", "顾客昵称", "总体评分", "评价内容", "店铺ID"])
    ws.append(["e1", datetime(2026, 11, 20, 20, 0), "小张", 3, "外卖洒了一半，包装要改进", "E77"])
    ws.append([None, None, None, None, None, None])
    ws.append(["e2", "2026-11-21 09:30", "小李", 5, "送达很快", "E77"])
    book.save(tmp_path / "eleme.xlsx")
    add_source("e", "file", {"path": str(tmp_path / "eleme.xlsx"), "preset": "eleme"})
    run = collect_source(db, "e", now=NOW)
    assert run.items_new == 2, run.errors
    assert mentions(db)[0].published_at == datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def test_watched_directory_picks_up_new_and_grown_files(db, tmp_path, add_source) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "a.csv", rows(1, 5))
    add_source("w", "file", {"path": str(inbox), "pattern": "*.csv", "preset": "meituan"})
    assert collect_source(db, "w", now=NOW).items_new == 5
    write_csv(inbox / "b.csv", rows(100, 2))
    write_csv(inbox / "a.csv", rows(1, 5) + rows(6, 3))  # appended to
    (inbox / "notes.txt").write_text("ignore me")
    run = collect_source(db, "w", now=NOW)
    assert (run.items_new, run.items_seen) == (5, 5)
    with db.session() as s:
        files = s.get(Source, "w").state["files"]
    assert {Path(k).name for k in files} == {"a.csv", "b.csv"} and all(v["done"] for v in files.values())


def test_crash_mid_file_resumes_without_duplicates_or_gaps(db, tmp_path, add_source, monkeypatch) -> None:
    write_csv(tmp_path / "big.csv", rows(1, 50))
    add_source("b", "file", {"path": str(tmp_path / "big.csv"), "preset": "meituan", "batch_size": 10})
    real_emit = RunContext.emit
    calls = {"n": 0}

    def dying(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_emit(self, *a, **kw)

    monkeypatch.setattr(RunContext, "emit", dying)
    with pytest.raises(KeyboardInterrupt):
        collect_source(db, "b", now=NOW)
    monkeypatch.setattr(RunContext, "emit", real_emit)
    assert len(mentions(db)) == 20
    run = collect_source(db, "b", now=NOW)
    assert (run.items_new, run.items_seen, run.items_duplicate) == (30, 30, 0)
    assert sorted(int(m.external_id[1:]) for m in mentions(db)) == list(range(1, 51))


def test_missing_columns_and_bad_options(db, tmp_path, add_source) -> None:
    write_csv(tmp_path / "odd.csv", [["1", "2"]], header=["foo", "bar"])
    add_source("o", "file", {"path": str(tmp_path / "odd.csv")})
    run = collect_source(db, "o", now=NOW)
    assert run.items_new == 0 and "no column for text, time" in run.errors[0]
    assert validate_options("file", {"path": "x", "columns": {"txt": "a"}}) == [
        "options.columns: Value error, unknown field(s) txt; known: id, text, time, author, rating, store, "
        "product, link, title, likes, reply"]
    add_source("gone", "file", {"path": str(tmp_path / "nope")})
    assert collect_source(db, "gone", now=NOW).status == "failed"


def test_import_uses_one_connection_and_restores_its_sqlite_cache(db, tmp_path, add_source) -> None:
    write_csv(tmp_path / "big.csv", rows(1, 35))
    add_source("c", "file", {"path": str(tmp_path / "big.csv"), "preset": "meituan", "batch_size": 10})
    checkouts = []

    def count(*_):
        checkouts.append(1)

    sa.event.listen(db.engine, "checkout", count)
    try:
        run = collect_source(db, "c", now=NOW)
    finally:
        sa.event.remove(db.engine, "checkout", count)
    assert (run.items_new, run.status) == (35, "ok")
    assert len(checkouts) < 10  # the 4 batches share the import's connection, not one checkout each
    if db.dialect == "sqlite":
        with db.engine.connect() as conn:  # every pooled connection is back to the default cache
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000


def test_import_shortens_the_gil_switch_interval_only_while_it_runs(db, tmp_path, add_source, monkeypatch) -> None:
    import sys

    from collectors.imports import IMPORT_SWITCH_INTERVAL, short_gil_slices

    write_csv(tmp_path / "s.csv", rows(1, 5))
    add_source("s", "file", {"path": str(tmp_path / "s.csv"), "preset": "meituan", "batch_size": 2})
    before = sys.getswitchinterval()
    seen = []
    real_emit = RunContext.emit

    def spying(self, *a, **kw):
        seen.append(sys.getswitchinterval())
        return real_emit(self, *a, **kw)

    monkeypatch.setattr(RunContext, "emit", spying)
    with short_gil_slices():  # another import running in this process
        assert collect_source(db, "s", now=NOW).items_new == 5
        assert sys.getswitchinterval() == IMPORT_SWITCH_INTERVAL  # still in use by the outer one
    assert seen and set(seen) == {IMPORT_SWITCH_INTERVAL} and sys.getswitchinterval() == before


def test_utf8_csv_with_one_bad_byte_stays_utf8_and_reports_that_row(db, tmp_path, add_source) -> None:
    good = write_csv(tmp_path / "x.csv", rows(1, 3) + [["m8", "2026-11-20 10:00", "z", "5", "奶茶好喝", "", "H1"]],
                     encoding="utf-8").read_bytes()
    bad = good.replace("第2条".encode(), "第2".encode() + b"\xff" + "条".encode())  # one byte broken in row 2
    (tmp_path / "broken.csv").write_bytes(bad)
    add_source("u", "file", {"path": str(tmp_path / "broken.csv"), "preset": "meituan"})
    run = collect_source(db, "u", now=NOW)
    assert (run.status, run.items_new, run.items_skipped) == ("partial", 3, 1)
    assert any(e.startswith("broken.csv: line 2: bytes that are not valid utf-8 (near '第2\\xff条") for e in run.errors), \
        run.errors
    texts = {m.external_id: m.text for m in mentions(db)}
    assert texts == {"m1": "第1条导出评价，出餐快，味道好", "m3": "第3条导出评价，出餐快，味道好", "m8": "奶茶好喝"}


def test_gb18030_csv_with_a_bad_byte_is_still_gb18030(db, tmp_path, add_source) -> None:
    good = write_csv(tmp_path / "x.csv", rows(1, 3), encoding="gb18030").read_bytes()
    (tmp_path / "gb.csv").write_bytes(good.replace("第3条".encode("gb18030"), b"\xff" + "第3条".encode("gb18030")))
    add_source("g", "file", {"path": str(tmp_path / "gb.csv"), "preset": "meituan"})
    run = collect_source(db, "g", now=NOW)
    assert (run.items_new, run.items_skipped) == (2, 1), run.errors
    assert [m.text for m in mentions(db)] == ["第1条导出评价，出餐快，味道好", "第2条导出评价，出餐快，味道好"]
    assert "not valid gb18030" in run.errors[0]


def test_unclosed_quote_is_reported_at_its_line_and_the_rows_after_it_kept(db, tmp_path, add_source) -> None:
    header = ",".join(MEITUAN_HEADER)
    lines = [header,
             'm1,2026-11-20 12:00,甲,5,"多行的\n好评",,H1',             # a legal quoted line break
             'm2,2026-11-20 12:01,乙,4,"引号没有关上,,H1',                # the broken one
             'm3,2026-11-20 12:02,丙,5,后面这条要留下,,H1',
             'm4,2026-11-20 12:03,丁,3,"带引号的也要留下",,H1',
             'm5,2026-11-20 12:04,戊,2,最后一条,,H1']
    (tmp_path / "q.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    add_source("q", "file", {"path": str(tmp_path / "q.csv"), "preset": "meituan"})
    run = collect_source(db, "q", now=NOW)
    assert (run.status, run.items_new, run.items_skipped) == ("partial", 4, 1), run.errors
    [error] = run.errors
    assert error.startswith("q.csv: line 2: unclosed quote") and "file line 4" in error
    assert [(m.external_id, m.text) for m in mentions(db)] == [
        ("m1", "多行的\n好评"), ("m3", "后面这条要留下"), ("m4", "带引号的也要留下"), ("m5", "最后一条")]


def test_unclosed_quote_on_the_last_line_and_stray_quotes_in_one_line(db, tmp_path, add_source) -> None:
    header = ",".join(MEITUAN_HEADER)
    lines = [header, 'm1,2026-11-20 12:00,甲,5,"好"喝,,H1', 'm2,2026-11-20 12:01,乙,4,"没关上']
    (tmp_path / "t.csv").write_text("\n".join(lines), encoding="utf-8")
    add_source("t", "file", {"path": str(tmp_path / "t.csv"), "preset": "meituan"})
    run = collect_source(db, "t", now=NOW)
    assert [m.text for m in mentions(db)] == ["好喝"]  # read leniently, as before
    assert len(run.errors) == 1 and run.errors[0].startswith("t.csv: line 2: unclosed quote"), run.errors


def test_nul_bytes_do_not_cut_fields_or_fail_the_batch(db, tmp_path, add_source) -> None:
    (tmp_path / "n.csv").write_text(
        f"{','.join(MEITUAN_HEADER)}\n"
        "m1,2026-11-20 12:00,小\x00明,5,好\x00喝极了，下次还来,已\x00回复,H1\n"
        "m2,2026-11-20 12:01,小红,4,正常的一条,,H1\n", encoding="utf-8")
    add_source("n", "file", {"path": str(tmp_path / "n.csv"), "preset": "meituan"})
    run = collect_source(db, "n", now=NOW)
    assert (run.status, run.items_new) == ("ok", 2), run.errors
    first = mentions(db)[0]
    assert (first.text, first.author, first.extra["reply"]) == ("好喝极了，下次还来", "小明", "已回复")
    with db.session() as s:  # the database's own text functions see the whole value
        assert s.exec(sa.text("SELECT length(text) FROM mentions WHERE external_id = 'm1'")).one()[0] == 9


def eleme_book(path: Path, n: int, bad_time_at: int | None = None, prefix: str = "e") -> Path:
    book = Workbook()
    ws = book.active
    ws.title = "评价"
    ws.append(["评价编号", "评价时间", "顾客昵称", "总体评分", "评价内容", "店铺ID"])
    for i in range(1, n + 1):
        ws.append([f"{prefix}{i}", "某天" if i == bad_time_at else "2026-11-21 09:30", "小李", 5, f"第{i}条 送达很快", "E77"])
    book.save(path)
    return path


def test_xlsx_errors_name_file_sheet_and_row_and_never_stop_the_other_files(db, tmp_path, add_source) -> None:
    import zipfile

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a_junk.xlsx").write_bytes(b"this is not a workbook")
    eleme_book(inbox / "b_rows.xlsx", 5, bad_time_at=3)
    whole = eleme_book(tmp_path / "whole.xlsx", 200, prefix="c")
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(inbox / "c_cut.xlsx", "w") as out:
        for info in src.infolist():
            data = src.read(info)
            out.writestr(info, data[:len(data) // 2] if info.filename == "xl/worksheets/sheet1.xml" else data)
    add_source("x", "file", {"path": str(inbox), "pattern": "*.xlsx", "preset": "eleme"})
    run = collect_source(db, "x", now=NOW)
    assert run.status == "partial", run.errors
    junk, bad_time, cut = run.errors
    assert junk.startswith("a_junk.xlsx: unreadable: not a readable XLSX workbook (BadZipFile")
    assert bad_time == "b_rows.xlsx: sheet '评价' row 4: bad time '某天'"
    assert "Traceback" not in " ".join(run.errors)
    stored = [m.external_id for m in mentions(db)]
    cut_rows = [i for i in stored if i.startswith("c")]
    assert stored[:4] == ["e1", "e2", "e4", "e5"] and cut_rows == [f"c{i}" for i in range(1, len(cut_rows) + 1)]
    assert len(cut_rows) > 50  # the rows before the damage are kept; the error names the Excel row after them
    assert cut.startswith(f"c_cut.xlsx: sheet '评价' row {len(cut_rows) + 2}: unreadable (ParseError"), cut
    add_source("s", "file", {"path": str(inbox / "b_rows.xlsx"), "sheet": "Sheet9", "preset": "eleme"})
    assert collect_source(db, "s", now=NOW).errors == ["b_rows.xlsx: unreadable: no sheet 'Sheet9' (sheets: 评价)"]
