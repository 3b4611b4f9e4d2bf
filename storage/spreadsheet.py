"""The one spreadsheet writer (CSV cells and .xlsx sheets) for every export that leaves the service.

Dashboard downloads and the weekly digest's Excel attachment both write through here, so text
from outside (reviews, posts, keywords) can never reach a recipient as a live formula.
Pure: no database, nothing else of tingfeng's.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading ``'`` (CSV/formula injection); the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: object) -> object:
    value = defuse(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; callers pass local time
    return value


@dataclass(frozen=True)
class SheetLayout:
    """How a sheet looks: column widths, wrapped and date-formatted columns, a coloured header."""

    widths: Mapping[str, float] = field(default_factory=dict)
    wrap: Sequence[str] = ()
    datetime_format: Mapping[str, str] = field(default_factory=dict)
    header_fill: str | None = None
    freeze_header: bool = False
    auto_filter: bool = False


def xlsx_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str,
               title: str | None = None, layout: SheetLayout = SheetLayout()) -> bytes:
    """An .xlsx workbook with one sheet: a header row, then one row per item, every text cell defused."""
    # imported here: openpyxl costs ~0.1 s at import and only a download or digest attachment needs it,
    # so a dashboard server's first session does not pay for it
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([_cell(c) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF") if layout.header_fill else Font(bold=True)
        if layout.header_fill:
            cell.fill = PatternFill("solid", fgColor=layout.header_fill)
    count = 0
    for row in rows:
        ws.append([_cell(v) for v in row])
        count += 1
    for i, name in enumerate(columns, start=1):
        letter = get_column_letter(i)
        if name in layout.widths:
            ws.column_dimensions[letter].width = layout.widths[name]
        for cells in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            for cell in cells:
                if name in layout.wrap:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if name in layout.datetime_format:
                    cell.number_format = layout.datetime_format[name]
    if layout.freeze_header:
        ws.freeze_panes = "A2"
    if layout.auto_filter:
        ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(columns)))}{max(1, count + 1)}"
    if title:
        wb.properties.title = title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
