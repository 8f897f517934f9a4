"""Writing a table to a file by its extension: .csv (UTF-8 with BOM, formula-guarded), .parquet,
or a plain .xlsx sheet; every write is atomic (output.atomic_write).

Kept apart from `output` so that the workbook writer (`excel`) imports `output` and this module
imports `excel` (only for .xlsx, when asked): no cycle.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .output import atomic_write, csv_safe


def check_output_type(path: Path) -> None:
    if Path(path).suffix.lower() not in (".csv", ".parquet", ".xlsx"):
        raise ValueError(f"{path}: unsupported output type {Path(path).suffix or '(none)'!r}; use .csv, .parquet or .xlsx")


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame by extension: .csv (utf-8-sig, formula-guarded), .parquet, .xlsx."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        safe = csv_safe(df)
        return atomic_write(path, lambda p: safe.to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\n"))
    if suffix == ".parquet":
        return atomic_write(path, lambda p: df.to_parquet(p, index=False))
    if suffix == ".xlsx":
        from .excel import write_sheet  # openpyxl loads only for .xlsx

        return atomic_write(path, lambda p: write_sheet(df, p))
    raise ValueError(f"{path}: unsupported output type {suffix or '(none)'!r}; use .csv, .parquet or .xlsx")
