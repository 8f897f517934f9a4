"""Writing files safely: atomic writes, and text cells guarded for CSV and spreadsheets.
(Tables by extension: `export.write_table`.)

Writes go to a temporary file beside the target, are flushed to disk and renamed into place, so
an interrupted run (an exception, Ctrl-C, a killed process, a full disk) never leaves a half-written
output behind: the previous file stays as it was. The new file gets the permissions of the file it
replaces, or the usual ones for a new file (0666 less the umask), not the temporary file's 0600.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd


@lru_cache(maxsize=1)
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _final_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def atomic_write(path: Path, write, durable: bool = True) -> Path:
    """Call write(tmp_path), flush it to disk, then rename tmp_path to path.

    `durable=False` skips the flush (the rename still never shows a half-written file): for
    thousands of small pages, where the caller flushes once at the end.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    os.close(fd)
    try:
        write(Path(tmp))
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, _final_mode(path))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


FORMULA_START = ("=", "+", "@", "\t", "\r", "\n")
# a negative number as text ("-8.6%", "-1,200"): a spreadsheet reads it as a number, not a formula
NEGATIVE_NUMBER = re.compile(r"-(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?")


def formula_like(text: str) -> bool:
    """True for text a spreadsheet would run as a formula (OWASP CSV injection: = + - @ tab CR LF
    at the start). '-8.6%' is not: a minus before a number that is the whole cell is a number;
    '-2+3' or '-cmd' are. The one rule of both guards: CSV cells (`guard_text`) and workbook
    cells (excel.set_text)."""
    return bool(text) and (text.startswith(FORMULA_START) or (text[0] == "-" and not NEGATIVE_NUMBER.fullmatch(text)))


def guard_text(value: object) -> object:
    """Text that a spreadsheet would run as a formula (`formula_like`) gets a leading apostrophe."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def csv_text(value: object) -> object:
    """A text cell as CSV can hold it: formula-guarded, and a carriage return written as a line
    feed (a bare CR is not quoted by the csv module when lines end in LF, and every reader then
    takes it for the end of the row)."""
    value = guard_text(value)
    if isinstance(value, str) and "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell as `csv_text` makes it. Vectorised: only the cells that
    start with a formula character or a minus, or hold a carriage return, can change, and only
    those (a few in a table of thousands) go through `csv_text`, which decides."""
    out = df.copy(deep=False)
    for col in out.columns:
        column = out[col]
        if isinstance(column.dtype, pd.CategoricalDtype):
            out[col] = _safe_categories(column)
        elif pd.api.types.is_string_dtype(column) or pd.api.types.is_object_dtype(column):
            rows = np.flatnonzero(_may_change(column))
            if len(rows):
                guarded = column.copy()
                guarded.iloc[rows] = [csv_text(v) for v in column.iloc[rows].tolist()]
                out[col] = guarded
    return out


def _safe_categories(column: pd.Series) -> pd.Series:
    """A categorical text column (a sentence shared by its figures) guarded by its categories:
    each distinct text once. Where guarding would make two categories one, every cell is guarded."""
    categories = pd.Series(column.cat.categories)
    rows = np.flatnonzero(_may_change(categories))
    if not len(rows):
        return column
    guarded = categories.astype(object)
    guarded.iloc[rows] = [csv_text(v) for v in categories.iloc[rows].tolist()]
    if guarded.is_unique:
        return column.cat.rename_categories(guarded.tolist())
    return csv_safe(column.astype(object).to_frame()).iloc[:, 0]


SUSPECT_START = (*FORMULA_START, "-")  # what `csv_text` may change starts so, or holds a CR


def _may_change(column: pd.Series) -> np.ndarray:
    """True where `csv_text` may change the cell (more cells than it changes, never fewer): text,
    or any other value as text, that starts with a formula character or a minus or holds a CR."""
    text = column if isinstance(column.dtype, pd.StringDtype) else column.astype("str")
    starts = text.str.startswith(SUSPECT_START).to_numpy(dtype=bool, na_value=False)
    return starts | text.str.contains("\r", regex=False).to_numpy(dtype=bool, na_value=False)
