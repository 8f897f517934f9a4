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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def check_output_type(path: Path) -> None:
    if Path(path).suffix.lower() not in (".csv", ".parquet", ".xlsx"):
        raise ValueError(f"{path}: unsupported output type {Path(path).suffix or '(none)'!r}; use .csv, .parquet or .xlsx")


FORMULA_START = ("=", "+", "@", "\t", "\r")


def guard_text(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV
    injection). '-8.6%' stays as written: a minus before a digit is a number, not a formula."""
    if isinstance(value, str) and value and (
        value.startswith(FORMULA_START) or (value[0] == "-" and not value[1:2].isdigit())
    ):
        return "'" + value
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or pd.api.types.is_object_dtype(out[col]):
            out[col] = out[col].map(guard_text, na_action="ignore").astype(out[col].dtype)
    return out


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame by extension: .csv (utf-8-sig, formula-guarded), .parquet, .xlsx."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        safe = csv_safe(df)
        return atomic_write(path, lambda p: safe.to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\n"))
    if suffix == ".parquet":
        return atomic_write(path, lambda p: df.to_parquet(p, index=False))
    if suffix == ".xlsx":
        from .excel import write_sheet

        return atomic_write(path, lambda p: write_sheet(df, p))
    raise ValueError(f"{path}: unsupported output type {suffix or '(none)'!r}; use .csv, .parquet or .xlsx")
