"""Tables flattened into text by a scrape: a header row of columns, then one row per indicator.

    指标 | 单位 | 2022年 | 2023年 | 同比
    细颗粒物(PM2.5) | 微克/立方米 | 35 | 32 | -8.6%
    优良天数比例 | % | 80.5 | 82.1 | 1.6

Cells are separated by `|` or by spaces. A header is recognised by its column words
(years, 目标, 实际, 同比, 单位: data/rules.yaml `table_columns`); a row by an indicator name in
its first cells. Each number becomes a fact whose evidence is its cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..vocab.catalog import Indicator, IndicatorMention
from ..vocab.resources import read_yaml

TOKEN = re.compile(r"[^\s|]+")
NUMBER = re.compile(r"^([-+−]?\d+(?:,\d{3})*(?:\.\d+)?)(%|个百分点)?$")
YEAR_COL = re.compile(r"^((?:19|20)\d{2})年?度?(目标值?|目标|实际值?|完成值?)?$")


@dataclass(frozen=True)
class Column:
    kind: str  # actual / target / change / unit / label
    year: int | None = None
    unit: str = ""  # pp when the header says 百分点


@dataclass(frozen=True)
class TableCell:
    """One number of a table row, in cleaned-text coordinates."""

    start: int
    end: int
    indicator: Indicator
    value: float
    unit: str
    kind: str
    year: int | None
    line: int


@lru_cache(maxsize=1)
def _columns() -> dict[str, list[str]]:
    return read_yaml("rules.yaml")["table_columns"]


def _column(cell: str, report_year: int | None) -> Column | None:
    words = _columns()
    m = YEAR_COL.match(cell)
    if m:
        kind = "target" if m.group(2) and "目标" in m.group(2) else "actual"
        return Column(kind, int(m.group(1)))
    for kind in ("unit", "change", "target", "actual", "label"):
        for w in words[kind]:
            if cell == w or (kind != "label" and cell.startswith(w)):
                unit = "pp" if kind == "change" and "百分点" in cell else ""
                return Column(kind, None if kind == "change" else report_year, unit)
    return None


def _header(tokens: list[re.Match[str]], report_year: int | None) -> list[Column | None] | None:
    """Columns of a header row: a label column, then at least two data columns (one after 指标)."""
    if len(tokens) < 2:
        return None
    cols = [_column(t.group(0), report_year) for t in tokens]
    data = [c for c in cols if c and c.kind in ("actual", "target", "change")]
    labelled = cols[0] is not None and cols[0].kind == "label"
    if (cols[0] is None or labelled) and (len(data) >= 2 or (labelled and data)):
        return cols
    return None


def read_tables(
    text: str,
    lines: list[tuple[int, str]],
    mentions: list[IndicatorMention],
    units: dict[str, tuple[str, float]],
    report_year: int | None,
) -> tuple[list[TableCell], set[int]]:
    """Cells of every flattened table, and the indexes of the lines the tables occupy."""
    cells: list[TableCell] = []
    used: set[int] = set()
    header: list[Column | None] | None = None
    for li, (start, line) in enumerate(lines):
        if "。" in line or not line.strip():
            header = None
            continue
        tokens = list(TOKEN.finditer(line))
        row_header = _header(tokens, report_year) if not any(NUMBER.match(t.group(0)) for t in tokens) else None
        if row_header:
            header = row_header
            used.add(li)
            continue
        if header is None:
            continue
        row = _row(text, start, tokens, header, mentions, units, li)
        if row is None:
            header = None
            continue
        cells.extend(row)
        used.add(li)
    return cells, used


def _row(text, start, tokens, header, mentions, units, li) -> list[TableCell] | None:
    first_num = next((i for i, t in enumerate(tokens) if NUMBER.match(t.group(0))), None)
    if first_num is None or first_num == 0:
        return None
    label_end = start + tokens[first_num - 1].end()
    names = [m for m in mentions if m.role == "name" and start <= m.start and m.end <= label_end]
    if not names:
        return []  # a table row of something outside the catalog
    ind = names[0].indicator
    label = text[start:label_end]
    unit_in_label = re.search(r"\(([^)]+)\)\s*$", label)
    row_unit = units.get(unit_in_label.group(1), ("", 1.0))[0] if unit_in_label else ""
    # align the row's last cells with the header's last columns
    values = tokens[first_num:]
    cols = header[len(header) - len(values) :] if len(values) <= len(header) else [None] * len(values)
    unit_col = next((i for i, c in enumerate(header) if c and c.kind == "unit"), None)
    if unit_col is not None and unit_col < len(header) - len(values):
        # the unit sits between label and numbers
        unit_token = tokens[first_num - 1].group(0)
        row_unit = units.get(unit_token, (row_unit, 1.0))[0]
    out: list[TableCell] = []
    for tok, col in zip(values, cols):
        m = NUMBER.match(tok.group(0))
        if not m or col is None or col.kind not in ("actual", "target", "change"):
            continue
        value = float(m.group(1).replace(",", "").replace("−", "-"))
        written = {"%": "%", "个百分点": "pp"}.get(m.group(2) or "", "")
        if col.kind == "change":
            unit = written or col.unit or ("pp" if ind.unit == "%" else "%")
        else:
            unit = written or row_unit or ind.unit
        out.append(TableCell(start + tok.start(), start + tok.end(), ind, value, unit, col.kind, col.year, li))
    return out
