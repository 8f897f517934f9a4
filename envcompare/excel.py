"""Excel output with openpyxl. Report text is untrusted: it is always written as text, never a formula."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def set_text(cell: Cell, value: str) -> None:
    """Write a string so Excel never evaluates it (OWASP CSV/formula injection)."""
    cell.value = value
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True


def write_value(cell: Cell, value: object) -> None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        cell.value = None
    elif isinstance(value, str):
        set_text(cell, value)
    elif isinstance(value, bool):
        cell.value = bool(value)
    elif isinstance(value, (int, float)):
        cell.value = value
    elif hasattr(value, "item"):
        cell.value = value.item()
    else:
        set_text(cell, str(value))


def fill_sheet(ws, df: pd.DataFrame) -> None:
    """Header row (bold, frozen, filtered) and the table's values, written safely."""
    from openpyxl.styles import Font

    for j, name in enumerate(df.columns, start=1):
        c = ws.cell(row=1, column=j)
        set_text(c, str(name))
        c.font = Font(bold=True)
    for i, row in enumerate(df.itertuples(index=False), start=2):
        for j, value in enumerate(row, start=1):
            write_value(ws.cell(row=i, column=j), value)
    ws.freeze_panes = "A2"
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{max(1, len(df) + 1)}"
    for j, name in enumerate(df.columns, start=1):
        width = max([len(str(name))] + [len(str(v)) for v in df.iloc[:200, j - 1].tolist()])
        ws.column_dimensions[get_column_letter(j)].width = min(60, max(8, width * 1.2 + 2))


def write_sheet(df: pd.DataFrame, path: Path, title: str = "data") -> None:
    """A one-sheet workbook of a table."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    fill_sheet(ws, df)
    wb.properties.creator = "envcompare"
    wb.save(path)
