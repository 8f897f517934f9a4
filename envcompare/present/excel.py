"""Excel output with openpyxl. Report text is untrusted: it is always written as text, never a formula.

`write_workbook` writes the comparison workbook of an analysis (`comparison.analyse`: every table
already computed; the workbook computes none of them, it lays them out). Its sheets are the
workbook's entry of the outputs registry (`outputs.WORKBOOK_SHEETS`), each drawn by the writer of
its table. The same facts always give the same bytes (fixed document properties and zip
timestamps, no current time inside). Sheets are written in openpyxl's
write-only mode; a table's rows are made as sheet XML directly (`SheetRows`: the XML openpyxl's
cells would give, at a fraction of the cost), a chunk at a time into a temporary file, so memory
does not grow with the number of cells. A table longer than a sheet holds (1,048,576 rows with the header) goes
on numbered sheets ("Facts", "Facts 2", ...), each with its header; the About sheet says so.
"""

from __future__ import annotations

import io
import math
import os
import re
import tempfile
import unicodedata
import weakref
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.constants import ARC_CORE
from openpyxl.xml.functions import tostring

from ..memory import gc_paused
from ..version import __version__
from ..vocab.catalog import in_catalog_order
from .output import atomic_write, formula_like
from .outputs import Sheet, workbook_sheets

if TYPE_CHECKING:
    from ..comparison.analysis import Analysis, Comparison, DomainComparison

MAX_TEXT = 32767  # characters an xlsx cell holds
BOOLEAN_FORMAT = '"TRUE";"TRUE";"FALSE"'  # LibreOffice shows xlsx booleans as 1/0 without it
HEADER_WIDTH = 24  # wrapped header lines wider than this wrap instead of widening the column
MAX_ROWS = 1_048_576  # rows of an xlsx sheet, the header included

# Fixed document time and zip entry time: a workbook's bytes depend on its facts only.
FIXED_TIME = datetime(2020, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

NUMBER_FORMATS: Mapping[str, str] = {
    "%": "0.0",
    "pp": "0.0",
    "day": "0",
    "count": "0",
    "yuan": "#,##0",
    "ug/m3": "0.0",
    "mg/m3": "0.0",
    "index": "0.00",
}
COMPARATOR_SIGNS: Mapping[str, str] = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}
ARROWS: Mapping[str, str] = {"higher_better": " ↑", "lower_better": " ↓"}

RED, YELLOW, GREEN = "FFF8696B", "FFFFEB84", "FF63BE7B"
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
NEUTRAL_FILL = PatternFill("solid", fgColor="EDEDED")
YEAR_FILL = PatternFill("solid", fgColor="FFEB9C")
TARGET_FONT = Font(italic=True, color="1F4E79")
OTHER_YEAR_FONT = Font(italic=True, color="9C5700")
GOOD_WORDS = ("met", "meets", "better")
BAD_WORDS = ("not met", "exceeds", "worse", "falls short")


def set_text(cell: Cell, value: str) -> None:
    """Write a string so Excel never evaluates it (OWASP CSV/formula injection).

    Control characters that the xlsx format cannot hold become U+FFFD (visible, not silent)."""
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    # what openpyxl's value setter would store (it truncates to the xlsx limit and scans the text
    # again for the characters just replaced), with the type fixed to text: never a formula
    cell._value = value[:MAX_TEXT]
    cell.data_type = "s"
    if formula_like(value):
        cell.quotePrefix = True


def write_value(cell: Cell, value: object) -> None:
    """Write one value: numbers as numbers, missing as empty, everything else as guarded text."""
    kind = type(value)  # the common cases first: a workbook has hundreds of thousands of cells
    if kind is str:
        set_text(cell, value)
    elif kind is float:
        cell.value = None if value != value else value  # NaN: empty
    elif kind is int:
        cell.value = value
    elif value is None or (not isinstance(value, str) and pd.isna(value)):
        cell.value = None
    elif isinstance(value, str):
        set_text(cell, value)
    elif isinstance(value, bool):
        cell.value = bool(value)
    elif isinstance(value, (int, float)):
        cell.value = value
    elif hasattr(value, "item"):
        write_value(cell, value.item())
    else:
        set_text(cell, str(value))


def display_width(text: str) -> int:
    """Characters as Excel shows them: CJK and full-width count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def number_format(unit: object, comparator: object = None) -> str:
    """The Excel number format for a unit; a target's comparator is shown before the number."""
    fmt = NUMBER_FORMATS.get(unit, "General") if isinstance(unit, str) else "General"
    sign = COMPARATOR_SIGNS.get(comparator) if isinstance(comparator, str) else None
    return f'"{sign}"{fmt}' if sign else fmt


Style = dict  # a cell's font / fill / number_format, applied as the cell is made


def fill_sheet(
    ws,
    df: pd.DataFrame,
    headers: Sequence[str] | None = None,
    number_formats: Mapping[str, str | Sequence[str | None]] | None = None,
    freeze: str = "A2",
    styles: Mapping[tuple[int, int], Style] | None = None,
    first: int = 0,
) -> None:
    """Header row (bold, frozen, filtered) and the table's values, written safely, on a write-only
    worksheet: everything about the sheet is set before its first row, and it takes no row after.

    headers: labels to show instead of the column names (may hold a line break);
    number_formats: per column, one format or one per row; styles: (row, column) of the table
    (0-based) -> the cell's font, fill or number format; first: the table's rows start at this
    row of `df`'s numbering (a table split over several sheets). The header goes through openpyxl;
    the rows are written as sheet XML by `SheetRows` (openpyxl's cell objects and its XML writer
    cost ~40 microseconds a cell), the same XML openpyxl would write.
    """
    labels = [str(h) for h in (headers if headers is not None else df.columns)]
    wrap = any("\n" in h for h in labels)
    head = df.iloc[:WIDTH_ROWS]
    _size_columns(ws, labels, [column.tolist() for _, column in head.items()], wrap)
    _frame_sheet(ws, df, freeze)
    header = _header_cells(ws, labels, wrap)
    print_setup(ws)  # a write-only sheet takes its page setup before its first row
    ws.append(header)
    if len(df):
        SheetRows.write(ws, df, _column_formats(df, number_formats), styles or {}, first)


WIDTH_ROWS = 200  # a column is as wide as its header and its first 200 values
MAX_WIDTH = 60  # the widest a column gets
# a value this many characters long (each at least one wide) makes its column as wide as it gets:
# (53 * 1.1 + 2 > MAX_WIDTH), so no more of a value is measured
WIDEST_VALUE = math.ceil((MAX_WIDTH - 2) / 1.1)


class ColumnFormats(NamedTuple):
    """Number formats by column position: one for the whole column, or one per row."""

    fixed: dict[int, str]
    per_row: dict[int, Sequence[str | None]]


def _size_columns(ws, labels: list[str], columns: list[list], wrap: bool) -> None:
    """Column widths from the header and the first values; header height for wrapped lines."""
    for j, label in enumerate(labels, start=1):
        lines = [display_width(line) for line in label.split("\n")]
        widths = [min(max(lines), HEADER_WIDTH) if wrap else max(lines)]
        widths += [display_width(str(v)[:WIDEST_VALUE]) for v in columns[j - 1][:WIDTH_ROWS] if not _missing(v)]
        ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, max(8, max(widths) * 1.1 + 2))
    if wrap:  # room for every header line, long ones wrapped at HEADER_WIDTH
        ws.row_dimensions[1].height = 15 * max(
            sum(max(1, math.ceil(display_width(line) / HEADER_WIDTH)) for line in h.split("\n")) for h in labels
        )


def _missing(value: object) -> bool:
    """`pd.isna` of one value, the common cases (text, numbers, NA) without calling it."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return False
    if kind is float:
        return value != value
    return value is None or value is pd.NA or bool(pd.isna(value))


def _frame_sheet(ws, df: pd.DataFrame, freeze: str) -> None:
    """Frozen panes, the filter over the whole table, and (write-only) the sheet's dimension."""
    ws.freeze_panes = freeze
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{max(1, len(df) + 1)}"
        if not hasattr(type(ws), "calculate_dimension"):  # write-only: the size is known before the rows
            dimension = f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}"
            ws.calculate_dimension = lambda: dimension


def _header_cells(ws, labels: list[str], wrap: bool) -> list[WriteOnlyCell]:
    header = []
    for label in labels:
        c = WriteOnlyCell(ws)
        set_text(c, label)
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=wrap, vertical="top")
        header.append(c)
    return header


def _column_formats(df: pd.DataFrame, number_formats: Mapping[str, str | Sequence[str | None]] | None) -> ColumnFormats:
    formats = {list(df.columns).index(k): v for k, v in (number_formats or {}).items() if k in df.columns}
    return ColumnFormats({j: f for j, f in formats.items() if isinstance(f, str)},
                         {j: f for j, f in formats.items() if not (isinstance(f, str) or f is None)})


# --- a sheet's rows as sheet XML --------------------------------------------------------------

XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})  # element text, as ElementTree escapes it


class CellBody(NamedTuple):
    """A cell's XML after its style attribute (None: no cell), and what its value asks of its
    style: the number format of a boolean, True for text a spreadsheet would run (quote prefix),
    "number" for a number (its column's format), None for nothing."""

    xml: str | None
    needs: str | bool | None


MISSING = CellBody(None, None)
EMPTY_TEXT = CellBody(' t="inlineStr" />', None)


def cell_body(value: object) -> CellBody:
    """One value as `write_value` writes it: numbers as numbers, missing as no cell, text (and
    anything else) as guarded inline text, in the XML openpyxl writes for it."""
    kind = type(value)  # the common cases first
    if kind is str:
        return _text_body(value)
    if kind is float:
        return MISSING if value != value else _number_body(value)
    if kind is int:
        return _number_body(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, str):
        return _text_body(str(value))
    if isinstance(value, (bool, np.bool_)):
        return CellBody(f' t="b"><v>{int(value)}</v></c>', BOOLEAN_FORMAT)
    if isinstance(value, (int, float)):
        return _number_body(value)
    if hasattr(value, "item"):
        return cell_body(value.item())
    return _text_body(str(value))


def _number_body(value: float) -> CellBody:
    shown = "" if math.isinf(value) else "%.16g" % value  # openpyxl's safe_string
    return CellBody(f' t="n"><v>{shown}</v></c>' if shown else ' t="n"><v /></c>', "number")


def _text_body(value: str) -> CellBody:
    """Text as `set_text` stores it (illegal characters replaced, cut to the xlsx limit)."""
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    kept = value[:MAX_TEXT]
    if not kept:
        return EMPTY_TEXT
    stripped = kept.strip()
    space = ' xml:space="preserve"' if stripped and kept != stripped else ""
    return CellBody(f' t="inlineStr"><is><t{space}>{kept.translate(XML_ESCAPES)}</t></is></c>', formula_like(value))


class ColumnCells(NamedTuple):
    """One column's cells of a chunk of rows: its distinct styles (a style's key -> the first row
    that has it), each cell's style as its number in that order, and each cell's value XML."""

    first_rows: dict[tuple, int]
    styles: list[int]
    bodies: list[str | None]


QUOTED = object()  # a text cell whose style is the quote prefix (text a spreadsheet would run)


def _style_base(fmt: object) -> tuple | None:
    """What a value asks of its cell's style: the quote prefix, a number format, or nothing."""
    if fmt is QUOTED:
        return ("quotePrefix", True)
    return ("number_format", fmt) if fmt else None


def _column_cells(column: pd.Series, index: int, fixed: str | None, per_row: Sequence[str | None] | None,
                  styles: Mapping[int, Style], texts: dict[str, CellBody]) -> ColumnCells:
    """One column's cells (rows `index`, `index` + 1, ... of the table): each one's style (what
    its value asks, then the table's style of the cell) and its value's XML. A style is numbered
    once per column; the common cells (text, numbers of the column's format) cost a dict look-up,
    and a column of one format without styled cells is done per distinct value (`_distinct_cells`)."""
    if not styles and per_row is None and _by_distinct_value(column):
        return _distinct_cells(column, fixed, texts)
    values = column.tolist()
    first_rows: dict[tuple, int] = {}
    number_of: dict[tuple, int] = {}  # a style's key -> its number in this column

    def numbered(key: tuple, i: int) -> int:
        number = number_of.get(key)
        if number is None:
            number = number_of[key] = len(number_of)
            first_rows[key] = i
        return number

    plain: dict[object, int] = {}  # what an unstyled cell asks (a number format, QUOTED) -> its style number
    numbers: list[int] = []
    bodies: list[str | None] = []
    for i, value in enumerate(values):
        kind = type(value)  # the common cases first
        if kind is str:
            body = _cached_text(value, texts)
        elif kind is float:
            body = MISSING if value != value else _number_body(value)
        elif kind is int:
            body = _number_body(value)
        elif value is pd.NA or value is None:
            body = MISSING
        else:
            body = cell_body(value)
        fmt = _asked_format(body, fixed if per_row is None else per_row[index + i])
        style = styles.get(index + i) if styles else None
        if style:
            key = (_style_base(fmt), tuple((attr, v if isinstance(v, str) else id(v)) for attr, v in style.items()))
            numbers.append(numbered(key, i))
        else:
            number = plain.get(fmt)
            if number is None:
                number = plain[fmt] = numbered((_style_base(fmt), ()), i)
            numbers.append(number)
        bodies.append(body.xml)
    return ColumnCells(first_rows, numbers, bodies)


def _cached_text(value: str, texts: dict[str, CellBody]) -> CellBody:
    """A text cell's body, made once per text (`texts`: those made so far)."""
    body = texts.get(value)
    if body is None:
        body = texts[value] = _text_body(value)
    return body


def _asked_format(body: CellBody, number_format: str | None) -> object:
    """What a cell's value asks of its style: the column's (or row's) number format for a number,
    the quote prefix for text a spreadsheet would run, a boolean's format, or nothing."""
    needs = body.needs
    if needs == "number":
        return number_format
    return QUOTED if needs is True else needs


def _by_distinct_value(column: pd.Series) -> bool:
    """Whether equal values of the column (as pandas factorizes them) are always the same cell:
    text, integers, booleans, and floats without a negative zero (-0.0 equals 0.0 but is
    written "-0"); not object columns (1, 1.0 and True are equal there, and written apart)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.api.types.is_string_dtype(dtype.categories.dtype) and not pd.api.types.is_object_dtype(dtype.categories.dtype)
    if isinstance(dtype, (pd.StringDtype, pd.Int64Dtype, pd.BooleanDtype)):
        return True
    if dtype == np.int64:
        return True
    if dtype == np.float64:
        values = column.to_numpy()
        return not bool(np.any((values == 0) & np.signbit(values)))
    return False


def _distinct_cells(column: pd.Series, fixed: str | None, texts: dict[str, CellBody]) -> ColumnCells:
    """`_column_cells` of a column without styled cells, one format for its numbers: each distinct
    value's XML and style made once, in the order of the value's first row (the order the cells
    would number the styles in), then handed to each row by its value's code."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)  # uniques in order of first appearance
    values = list(uniques.tolist()) + [None]  # code -1 (missing: no cell) is the last entry
    codes = np.where(codes < 0, len(values) - 1, codes)
    present, first_row = np.unique(codes, return_index=True)
    first_rows: dict[tuple, int] = {}
    number_of: dict[tuple, int] = {}
    style_of = np.zeros(len(values), dtype=np.int64)
    body_of = np.empty(len(values), dtype=object)
    for code, row in sorted(zip(present.tolist(), first_row.tolist(), strict=True), key=lambda pair: pair[1]):
        value = values[code]
        body = _cached_text(value, texts) if type(value) is str else cell_body(value)
        key = (_style_base(_asked_format(body, fixed)), ())
        if key not in number_of:
            number_of[key] = len(number_of)
            first_rows[key] = row
        style_of[code] = number_of[key]
        body_of[code] = body.xml
    return ColumnCells(first_rows, style_of[codes].tolist(), body_of[codes].tolist())


class SheetRows:
    """A write-only sheet's data rows as sheet XML in a temporary file, put into the sheet's part
    of the workbook when it is saved (`save_workbook`): each value's XML is made once, and each
    distinct style once (by one cell object, not one per cell), in the order openpyxl would meet
    them (row by row), so that the workbook's styles come out as openpyxl would number them."""

    CHUNK = 5_000  # rows made at a time: memory does not grow with the table

    pending: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # sheet -> its rows file

    def __init__(self, ws) -> None:
        self.ws = ws
        self.style_attrs: dict[tuple, str] = {(None, ()): ""}  # a cell's style -> its s="..." attribute

    @classmethod
    def write(cls, ws, df: pd.DataFrame, formats: ColumnFormats, styles: Mapping[tuple[int, int], Style],
              first: int) -> None:
        """Rows 2, 3, ... of the sheet: the table's values, number formats and styles."""
        if ws in cls.pending:
            raise ValueError(f"sheet {ws.title!r} already has its rows")
        rows = cls(ws)
        out = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (kept open until the workbook is saved)
        letters = [get_column_letter(j + 1) for j in range(len(df.columns))]
        by_column: dict[int, dict[int, Style]] = {}
        for (i, j), style in styles.items():
            by_column.setdefault(j, {})[i] = style
        for start in range(0, len(df), cls.CHUNK):
            part = df.iloc[start : start + cls.CHUNK]
            tails = rows._chunk_tails(part, first + start, formats, by_column)
            out.write("".join(
                f'<row r="{r}">' + "".join([f'<c r="{letter}{r}"{tail}' for letter, tail in zip(letters, row, strict=True)
                                            if tail is not None]) + "</row>"
                for r, row in enumerate(zip(*tails, strict=True), start=start + 2)))
        cls.pending[ws] = out

    def _chunk_tails(self, part: pd.DataFrame, index: int, formats: ColumnFormats,
                     by_column: Mapping[int, Mapping[int, Style]]) -> list[list[str | None]]:
        """Per column, the cells of rows `index`, `index` + 1, ... of the table: the style attribute
        and the value's XML, after the cell reference (None: no cell)."""
        columns: list[ColumnCells] = []
        first_seen: dict[tuple, tuple[int, int]] = {}  # a style not met before -> its first cell
        texts: dict[str, CellBody] = {}  # each text's XML made once per chunk (names, units, kinds repeat)
        for j, (_, column) in enumerate(part.items()):
            cells = _column_cells(column, index, formats.fixed.get(j), formats.per_row.get(j),
                                  by_column.get(j, {}), texts)
            for key, i in cells.first_rows.items():
                if key not in self.style_attrs and (key not in first_seen or first_seen[key] > (i, j)):
                    first_seen[key] = (i, j)
            columns.append(cells)
        for key in sorted(first_seen, key=first_seen.__getitem__):  # row by row, as openpyxl writes
            i, j = first_seen[key]
            self.style_attrs[key] = self._style_attr(key[0], by_column.get(j, {}).get(index + i, {}))
        tails = []
        for cells in columns:
            attrs = [self.style_attrs[key] for key in cells.first_rows]  # by the column's style number
            without_value = [f'{attr} t="n" />' if attr else None for attr in attrs]
            tails.append([without_value[n] if body is None else attrs[n] + body
                          for n, body in zip(cells.styles, cells.bodies, strict=True)])
        return tails

    def _style_attr(self, base: tuple | None, style: Style) -> str:
        """The s="..." attribute of a style, made once, by a cell that carries it (the workbook
        records its font, fill and number format as openpyxl does for every styled cell)."""
        cell = WriteOnlyCell(self.ws)
        if base is not None:
            setattr(cell, base[0], base[1])
        for attr, v in style.items():
            setattr(cell, attr, v)
        return f' s="{cell.style_id}"' if cell.has_style else ""

    @classmethod
    def splice(cls, ws, part: bytes, dst: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
        """Write the sheet's part into `dst` with its rows inside sheetData, streamed."""
        rows = cls.pending.pop(ws)
        at = part.index(b"</sheetData>")
        with dst.open(entry, "w") as sink:
            sink.write(part[:at])
            rows.seek(0)
            while chunk := rows.read(1 << 20):
                sink.write(chunk.encode("utf-8"))
            sink.write(part[at:])
        rows.close()


def fill_sheets(
    wb: Workbook,
    name: str,
    taken: set[str],
    df: pd.DataFrame,
    notes: list[str] | None = None,
    sheet=None,
    **options,
) -> list:
    """`fill_sheet` on as many sheets as the table needs: "Facts", "Facts 2", ... past the row limit
    of a sheet (the split is noted in `notes`). Returns the sheets."""
    per_sheet = MAX_ROWS - 1
    parts = max(1, math.ceil(len(df) / per_sheet))
    sheets = []
    for k in range(parts):
        title = name if k == 0 else f"{name} {k + 1}"
        ws = sheet(wb, title, taken) if sheet else wb.create_sheet(_sheet_name(title, taken))
        part = df.iloc[k * per_sheet : (k + 1) * per_sheet] if parts > 1 else df
        fill_sheet(ws, part, first=k * per_sheet, **options)
        sheets.append(ws)
    if parts > 1 and notes is not None:
        notes.append(f"{name}: {len(df):,} rows, more than a sheet holds; split over {parts} sheets "
                     f"({', '.join(ws.title for ws in sheets)})")
    return sheets


def save_workbook(wb: Workbook, path: str | os.PathLike) -> None:
    """Save with fixed document times and zip entry times: same workbook, same bytes."""
    props = wb.properties
    props.creator = "envcompare"
    props.lastModifiedBy = None
    props.created = FIXED_TIME
    buf = io.BytesIO()
    # what wb.save() does, without compressing: every part is compressed once, below. Its core.xml
    # is replaced below too (wb.save would stamp `modified` with the current time).
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as staged:
        ExcelWriter(wb, staged).save()
    props.modified = FIXED_TIME
    core = tostring(props.to_tree())
    with_rows = {ws.path[1:]: ws for ws in wb.worksheets if ws in SheetRows.pending}  # parts known once written
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            if info.filename in with_rows:
                SheetRows.splice(with_rows[info.filename], src.read(info.filename), dst, entry)
            else:
                dst.writestr(entry, core if info.filename == ARC_CORE else src.read(info.filename))


def write_sheet(df: pd.DataFrame, path: Path, title: str = "data") -> None:
    """A one-sheet workbook of a table."""
    with gc_paused():
        wb = Workbook(write_only=True)
        notes: list[str] = []
        fill_sheets(wb, title, set(), df, notes)
        save_workbook(wb, path)


# --- the comparison workbook ------------------------------------------------------------------

LEGEND = (
    ("↑ / ↓ in a header", "higher is better / lower is better; no arrow: neither (counts of cases, fines)"),
    ("green … red fill", "better … worse within the column, whichever way the indicator points"),
    ("italic brown number", "a figure from an older year than the newest row of the sheet: years differ across rows"),
    ("amber year cell", "this row's year is not the newest year in the sheet"),
    ("blue italic number with ≥ ≤ > <", "a target (the comparator is part of the number format), not an actual"),
    ("status green / red", "met, meets, better / not met, exceeds, worse"),
)


def _header(column: str, info: pd.Series | None) -> str:
    """Chinese name, English name, [unit] and the direction arrow, one per line."""
    if info is None:
        return column
    names = [n for n in (info["name_zh"], info["name_en"]) if isinstance(n, str)] or [column]
    indicator = str(info["indicator"]) if "indicator" in info and isinstance(info["indicator"], str) else column
    suffix = column[len(indicator):].strip() if column.startswith(indicator) else ""
    if suffix:  # its qualifier or statistic, and the unit when it comes in several: say which
        names.append(suffix)
    return "\n".join([*names, f"[{info['unit']}]{ARROWS.get(info['direction'], '')}"])


def _colour_scale(ws, col: int, first: int, last: int, direction: str) -> None:
    """Direction-aware colour scale on one column's rows: better green, worse red."""
    if direction not in ARROWS or last < first:
        return
    low, high = (RED, GREEN) if direction == "higher_better" else (GREEN, RED)
    letter = get_column_letter(col)
    ws.conditional_formatting.add(
        f"{letter}{first}:{letter}{last}",
        ColorScaleRule(start_type="min", start_color=low, mid_type="percentile", mid_value=50, mid_color=YELLOW,
                       end_type="max", end_color=high),
    )


def _status_colours(ws, df: pd.DataFrame, column: str) -> None:
    if column not in df.columns or not len(df):
        return
    letter = get_column_letter(list(df.columns).index(column) + 1)
    ref = f"{letter}2:{letter}{len(df) + 1}"
    for words, fill in ((GOOD_WORDS, GOOD_FILL), (BAD_WORDS, BAD_FILL)):
        for w in words:
            ws.conditional_formatting.add(ref, CellIsRule(operator="equal", formula=[f'"{w}"'], fill=fill))


class WideTable(NamedTuple):
    """A Comparison-style sheet's content: the table (city, year, latest|kind, then one column per
    indicator), its column info (indexed by column) and the comparator of each target cell."""

    table: pd.DataFrame
    info: pd.DataFrame
    comparators: Mapping[tuple, str]  # (city, year, column) -> comparator


def _wide_sheet(ws, wide: WideTable) -> None:
    """A Comparison-style sheet: city, year, latest|kind, then one column per indicator; targets in
    the target font with their comparator, figures of an older year marked."""
    table, info = wide.table, wide.info
    columns = list(table.columns[3:])
    units = {c: info.loc[c, "unit"] for c in columns}
    directions = {c: info.loc[c, "direction"] for c in columns}
    headers = list(table.columns[:3]) + [_header(c, info.loc[c]) for c in columns]
    years = table["year"].dropna()
    newest = years.max() if len(years) else None
    mixed = years.nunique() > 1
    kinds = table.iloc[:, 2].tolist() if table.columns[2] == "kind" else ["actual"] * len(table)
    cities, row_years = table.iloc[:, 0].tolist(), table.iloc[:, 1].tolist()
    filled = table.iloc[:, 3:].notna().to_numpy()  # the cells written with a value
    styles: dict[tuple[int, int], Style] = {}
    for i in range(len(table)):
        other_year = mixed and row_years[i] != newest
        if other_year:
            styles[(i, 1)] = {"fill": YEAR_FILL}
        for j in np.flatnonzero(filled[i]):
            col = columns[j]
            if kinds[i] == "target":
                comparator = wide.comparators.get((cities[i], row_years[i], col))
                styles[(i, int(j) + 3)] = {"number_format": number_format(units[col], comparator), "font": TARGET_FONT}
            elif other_year:
                styles[(i, int(j) + 3)] = {"font": OTHER_YEAR_FONT}
    fill_sheet(ws, table, headers=headers, number_formats={c: number_format(units[c]) for c in columns}, freeze="D2",
               styles=styles)
    actual_rows = [i for i, k in enumerate(kinds, start=2) if k == "actual"]
    if actual_rows:  # actual rows come first: one contiguous range per column
        for j, col in enumerate(columns, start=4):
            _colour_scale(ws, j, min(actual_rows), max(actual_rows), directions[col])


def _comparison_table(comparison: Comparison) -> WideTable:
    """The Comparison sheet: city, year, latest, indicators."""
    table = pd.concat([comparison.rows[["latest"]], comparison.values], axis=1).reset_index()
    return WideTable(table, comparison.indicators.set_index("column"), {})


def _domain_table(domain: DomainComparison) -> WideTable:
    """One domain's sheet: its actual rows, then its target rows (city, year, kind, indicators in
    catalog order), and the comparator of every target cell."""
    tables, infos, comparators = [], [], {}
    for kind, comparison in (("actual", domain.actual), ("target", domain.target)):
        if not len(comparison.values):
            continue
        rows = comparison.values.reset_index()
        rows.insert(2, "kind", pd.array([kind] * len(rows), dtype="string"))
        tables.append(rows)
        infos.append(comparison.indicators)
        if kind == "target":
            for c in comparison.cells.itertuples(index=False):
                if isinstance(c.comparator, str):
                    comparators[(c.city, c.year, c.column)] = c.comparator
    if not tables:
        return WideTable(pd.DataFrame(columns=["city", "year", "kind"]), pd.DataFrame(), {})
    info = pd.concat(infos).drop_duplicates("column").set_index("column")
    columns = in_catalog_order(info.index, indicator_of=lambda c: info.loc[c, "indicator"])
    table = pd.concat(tables, ignore_index=True)
    return WideTable(table[["city", "year", "kind", *columns]], info, comparators)


def _per_row_formats(df: pd.DataFrame, columns: Sequence[str], comparator: str | None = None) -> dict[str, list[str]]:
    """Per-row number formats from each row's `unit` (and, for targets, its comparator column)."""
    comps = df[comparator].tolist() if comparator else [None] * len(df)
    return {
        c: [number_format(u if isinstance(u, str) else None, k if isinstance(k, str) else None)
            for u, k in zip(df["unit"].tolist(), comps, strict=True)]
        for c in columns
        if c in df.columns
    }


def _target_styles(df: pd.DataFrame, column: str) -> dict[tuple[int, int], Style]:
    """The target font on the cells of `column` written with a value."""
    if column not in df.columns:
        return {}
    j = list(df.columns).index(column)
    return {(int(i), j): {"font": TARGET_FONT} for i in np.flatnonzero(df[column].notna().to_numpy())}


def _sheet_name(name: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    base, n = name, 2
    while name.lower() in taken:
        name = f"{base[:28]} {n}"
        n += 1
    taken.add(name.lower())
    return name


@dataclass
class _Book:
    """A workbook being written: its sheet names so far, and notes for the About sheet."""

    wb: Workbook
    taken: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def sheet(self, name: str):
        return _sheet(self.wb, name, self.taken)

    def sheets(self, name: str, df: pd.DataFrame, **options) -> list:
        """`fill_sheets` for a table that may need several sheets."""
        return fill_sheets(self.wb, name, self.taken, df, sheet=_sheet, **options)


Tables = Mapping[str, pd.DataFrame]  # a build's tables by name (outputs.OUTPUTS `table`)
SheetWriter = Callable[[_Book, Sheet, "Analysis", Tables], None]


def _about_sheet(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """What each sheet is, the notes, the colours, the documents, indicators and references."""
    ws = book.sheet(sheet.name)
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 60
    ws.column_dimensions["C"].width = 40  # English names and references whole (PM2.5 concentration)
    for letter in "DE":
        ws.column_dimensions[letter].width = 16
    print_setup(ws)

    def line(*values: object, bold: bool = False, font: Font | None = None) -> None:
        cells = []
        for v in values:
            c = WriteOnlyCell(ws)
            write_value(c, v)
            if bold or font is not None:
                c.font = font or Font(bold=True)
            cells.append(c)
        ws.append(cells)

    line(f"envcompare {__version__}: figures from Chinese city environmental reports, side by side",
         font=Font(bold=True, size=14))
    line("Every number points back to the characters it came from (Facts: doc, start, end, evidence).")
    for note in book.notes:
        line(f"Note: {note}")
    line()
    line("Sheet", "What it holds", bold=True)
    for entry in workbook_sheets():
        line(", ".join(analysis.domains) if entry.table == "domains" else entry.name, entry.note)
    line()
    line("How to read it", "", bold=True)
    for mark, meaning in LEGEND:
        line(mark, meaning)
    line()
    line("Documents used", "city", "type", "year", "title", bold=True)
    for d in tables["documents"].itertuples(index=False):
        line(getattr(d, "doc", None), getattr(d, "city", None), getattr(d, "doc_type", None),
             getattr(d, "report_year", None), getattr(d, "title", None))
    line()
    line("Indicators", "name", "English", "unit", "direction", bold=True)
    for r in analysis.indicators.itertuples(index=False):
        line(r.indicator, r.name_zh, r.name_en, r.unit, r.direction)
    line()
    line("Reference lines", "source", bold=True)
    for level, source in analysis.references[["level", "source"]].drop_duplicates().itertuples(index=False):
        line(level, source)


def _comparison_sheet(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    _wide_sheet(book.sheet(sheet.name), _comparison_table(analysis.comparison))


def _scores_sheet(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """Scores to two decimals, each score column coloured from worst to best."""
    score = analysis.scores
    ws = book.sheet(sheet.name)
    score_cols = [c for c in score.columns if c.startswith("score ") or c.endswith(" score")]
    fill_sheet(ws, score, number_formats={c: "0.00" for c in score_cols}, freeze="D2")
    for c in score_cols:
        _colour_scale(ws, list(score.columns).index(c) + 1, 2, len(score) + 1, "higher_better")


def _weights_sheet(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    weights = analysis.weights
    fill_sheet(book.sheet(sheet.name), weights, number_formats={c: "0.000" for c in weights.columns if c.endswith("weight")})


def _plain_sheets(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """A table as it is, on as many sheets as it needs."""
    book.sheets(sheet.name, _table(sheet, analysis, tables))


def _domain_sheets(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """One sheet per domain, named after it."""
    for name, domain in analysis.domains.items():
        _wide_sheet(book.sheet(name), _domain_table(domain))


def _judgement_sheets(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """Targets or benchmarks: targets in the target font with their comparator, status coloured."""
    table = _table(sheet, analysis, tables)
    formats = _per_row_formats(table, ["target"], comparator="comparator") | _per_row_formats(table, ["actual", "gap"])
    for ws in book.sheets(sheet.name, table, number_formats=formats, styles=_target_styles(table, "target")):
        _status_colours(ws, table, "status")


def _references_sheets(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    table = analysis.against_references
    formats = {**_per_row_formats(table, ["value", "reference", "difference"]), "ratio": "0.00"}
    for ws in book.sheets(sheet.name, table, number_formats=formats):
        _status_colours(ws, table, "status")


def _derived_sheets(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """Derived values without the columns they leave empty (they have no span of their own)."""
    derived = analysis.derived
    derived = derived.drop(columns=[c for c in ("start", "end", "evidence", "comparator") if c in derived.columns])
    book.sheets(sheet.name, derived, number_formats=_per_row_formats(derived, ["value"]))


def _coverage_sheet(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """Counts per city, year and kind: green where there are facts, grey where none."""
    coverage = analysis.coverage
    ws = book.sheet(sheet.name)
    fill_sheet(ws, coverage, freeze="D2")
    if len(coverage) and len(coverage.columns) > 3:
        ref = f"D2:{get_column_letter(len(coverage.columns))}{len(coverage) + 1}"
        ws.conditional_formatting.add(ref, CellIsRule(operator="greaterThan", formula=["0"], fill=GOOD_FILL))
        ws.conditional_formatting.add(ref, CellIsRule(operator="equal", formula=["0"], fill=NEUTRAL_FILL))


def _review_sheets(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """The review queue (envcompare.review): flagged facts with their reasons, when given."""
    if sheet.table in tables:
        review = tables[sheet.table]
        book.sheets(sheet.name, review, number_formats=_per_row_formats(review, ["value"]))


def _facts_sheets(book: _Book, sheet: Sheet, analysis: Analysis, tables: Tables) -> None:
    """The facts: targets' values in the target font with their comparator."""
    facts = analysis.facts
    styles: dict[tuple[int, int], Style] = {}
    if "kind" in facts.columns and len(facts):
        j = list(facts.columns).index("value")
        units, comparators, values = facts["unit"].tolist(), facts["comparator"].tolist(), facts["value"].tolist()
        for i, is_target in enumerate(facts["kind"].eq("target").fillna(False).tolist()):
            if is_target and not pd.isna(values[i]):
                styles[(i, j)] = {"font": TARGET_FONT, "number_format": number_format(units[i], comparators[i])}
    book.sheets(sheet.name, facts, number_formats=_per_row_formats(facts, ["value"]), styles=styles)


def _table(sheet: Sheet, analysis: Analysis, tables: Tables) -> pd.DataFrame:
    """The table a sheet shows, by its name: one of the tables given, else the analysis's."""
    return tables[sheet.table] if sheet.table in tables else getattr(analysis, sheet.table)


SHEET_WRITERS: dict[str, SheetWriter] = {
    "about": _about_sheet,
    "comparison": _comparison_sheet,
    "scores": _scores_sheet,
    "weights": _weights_sheet,
    "sensitivity": _plain_sheets,
    "domains": _domain_sheets,
    "targets": _judgement_sheets,
    "benchmark": _judgement_sheets,
    "against_references": _references_sheets,
    "derived": _derived_sheets,
    "coverage": _coverage_sheet,
    "review": _review_sheets,
    "facts": _facts_sheets,
    "documents": _plain_sheets,
}


def build_workbook(analysis: Analysis, tables: Tables) -> Workbook:
    """The comparison workbook of an analysis, write-only: its sheets (outputs.WORKBOOK_SHEETS)
    stream to temporary files as they are filled, and it can be saved once. `tables`: the tables
    by name that are not the analysis's (at least `documents`, for the Sources sheet)."""
    book = _Book(Workbook(write_only=True))  # rows stream to disk as they are made
    facts = analysis.facts
    if len(facts) + 1 > MAX_ROWS:
        book.notes.append(f"Facts: {len(facts):,} rows, more than a sheet holds; split over numbered sheets "
                          "(Facts, Facts 2, ...)")
    for sheet in workbook_sheets():
        SHEET_WRITERS[sheet.table](book, sheet, analysis, tables)
    return book.wb


PRINT_WIDTH = 150  # characters of column width a landscape A4 page shows legibly at 70% or more
PAPERSIZE_A4 = "9"  # the OOXML paper-size code of A4 (Worksheet.PAPERSIZE_A4; write-only sheets lack the attribute)


def print_setup(ws) -> None:
    """Printing / PDF, per sheet: landscape, the header row repeated on every page, and fitted
    to one page wide only when its columns fit legibly (a 24-column sheet would print at a
    size nobody reads: it spans pages instead, with its first columns repeated). Column widths
    are set before a write-only sheet's rows, so they are known here."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPERSIZE_A4
    widths = [d.width or 9 for d in ws.column_dimensions.values()]
    if ws.title != "About":
        ws.print_title_rows = "1:1"
    fits = sum(widths) <= PRINT_WIDTH
    ws.sheet_properties.pageSetUpPr.fitToPage = fits
    if fits:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    elif ws.title != "About" and len(widths) > 3:
        ws.print_title_cols = "A:B"  # city and year (or the first columns) on every page


def _sheet(wb: Workbook, name: str, taken: set[str]):
    """A new sheet (its page setup is made with its column widths: print_setup)."""
    return wb.create_sheet(_sheet_name(name, taken))


def write_workbook(analysis: Analysis, path: str | os.PathLike, tables: Tables) -> Path:
    """Write the comparison workbook of an analysis (`comparison.analyse`) to path, atomically;
    the same facts give the same bytes. `tables`: the other tables of its sheets by name (at least
    `documents`; a build passes all of its tables)."""
    with gc_paused():
        wb = build_workbook(analysis, tables)
        return atomic_write(Path(path), lambda p: save_workbook(wb, p))
