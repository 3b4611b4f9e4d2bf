"""CSV and Excel bytes of a mentions frame, safe to open in Excel/WPS (cells defused by ``storage.spreadsheet``)."""

from __future__ import annotations

import pandas as pd

from storage.spreadsheet import SheetLayout, defuse, xlsx_bytes


def _safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(defuse)
        elif isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a BOM so Excel shows the Chinese text correctly."""
    return _safe(df).to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(df: pd.DataFrame, sheet: str = "声量明细") -> bytes:
    """An .xlsx workbook with one sheet, written by the same writer as the digest's attachment."""
    safe = _safe(df).astype(object)
    safe = safe.where(pd.notna(safe), None)
    dates = {str(c): "yyyy-mm-dd hh:mm" for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])}
    return xlsx_bytes([str(c) for c in df.columns], safe.itertuples(index=False, name=None), sheet=sheet,
                      layout=SheetLayout(datetime_format=dates, freeze_header=True))
