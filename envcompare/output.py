"""Writing tables to disk: CSV for Excel users (UTF-8 with BOM), Parquet, or a plain .xlsx sheet.

Writes go to a temporary file beside the target and are renamed into place, so an interrupted
run never leaves a half-written output behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def atomic_write(path: Path, write) -> Path:
    """Call write(tmp_path), then rename tmp_path to path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame by extension: .csv (utf-8-sig), .parquet, .xlsx."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return atomic_write(path, lambda p: df.to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\n"))
    if suffix == ".parquet":
        return atomic_write(path, lambda p: df.to_parquet(p, index=False))
    if suffix == ".xlsx":
        from .excel import write_sheet

        return atomic_write(path, lambda p: write_sheet(df, p))
    raise ValueError(f"{path}: unsupported output type {suffix!r}; use .csv, .parquet or .xlsx")
