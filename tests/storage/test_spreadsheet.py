"""The one export writer: every text cell that a spreadsheet would run stays text."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pandas as pd
from openpyxl import load_workbook

from dashboard import export
from storage.spreadsheet import SheetLayout, defuse, xlsx_bytes


def test_defuse_prefixes_every_formula_start_and_leaves_the_rest():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert defuse(text) == "'" + text
    assert defuse("好喝=") == "好喝=" and defuse(3) == 3 and defuse(None) is None


def test_xlsx_cells_are_never_formulas_and_local_times_stay_times():
    at = datetime(2026, 11, 20, 12, 30, tzinfo=timezone(timedelta(hours=8)))
    data = xlsx_bytes(["内容", "时间"], [['=HYPERLINK("http://evil.example/x","点我")', at], ["-2", None]],
                      sheet="s", layout=SheetLayout(datetime_format={"时间": "yyyy-mm-dd hh:mm"}))
    ws = load_workbook(io.BytesIO(data)).active
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws["A2"].value == "'=HYPERLINK(\"http://evil.example/x\",\"点我\")" and ws["A3"].value == "'-2"
    assert ws["B2"].value == datetime(2026, 11, 20, 12, 30) and ws["B3"].value is None


def test_dashboard_excel_goes_through_the_same_writer_with_gaps_and_time_zones():
    df = pd.DataFrame({"内容": ["=1+1", None], "得分": [0.5, float("nan")],
                       "时间": pd.to_datetime(["2026-11-01 08:00", None]).tz_localize("Asia/Shanghai")})
    ws = load_workbook(io.BytesIO(export.to_excel_bytes(df))).active
    assert [c.value for c in ws[1]] == ["内容", "得分", "时间"]
    assert [c.value for c in ws[2]] == ["'=1+1", 0.5, datetime(2026, 11, 1, 8, 0)]
    assert [c.value for c in ws[3]] == [None, None, None]
