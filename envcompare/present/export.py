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


CSV_ROWS_AT_ONCE = 50_000  # rows handed to pandas' CSV writer at a time (`_write_csv`)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """`df.to_csv` (UTF-8 with BOM, "\\n" line ends, no index), byte for byte, written a block of
    rows at a time with its categorical columns (a fact's sentence) as plain text: pandas writes a
    long categorical column at 0.6x the speed of the same text (facts_all.csv of 10,000 reports:
    10 s against 6), and a block's text is only as long as the block."""
    categorical = [name for name, dtype in df.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        for first in range(0, max(len(df), 1), CSV_ROWS_AT_ONCE):
            block = df.iloc[first:first + CSV_ROWS_AT_ONCE]
            if categorical:
                block = block.assign(**{name: block[name].astype(object) for name in categorical})
            block.to_csv(fh, index=False, header=first == 0, lineterminator="\n")


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame by extension: .csv (utf-8-sig, formula-guarded), .parquet, .xlsx."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        safe = csv_safe(df)
        return atomic_write(path, lambda p: _write_csv(safe, p))
    if suffix == ".parquet":
        return atomic_write(path, lambda p: df.to_parquet(p, index=False))
    if suffix == ".xlsx":
        from .excel import write_sheet  # openpyxl loads only for .xlsx

        return atomic_write(path, lambda p: write_sheet(df, p))
    raise ValueError(f"{path}: unsupported output type {suffix or '(none)'!r}; use .csv, .parquet or .xlsx")
