"""Tables flattened into text by a scrape: a header row of columns, then one row per indicator.

    指标 | 单位 | 2022年 | 2023年 | 同比
    细颗粒物(PM2.5) | 微克/立方米 | 35 | 32 | -8.6%
    优良天数比例 | % | 80.5 | 82.1 | 1.6

Cells are separated by `|` or tabs (a cell may then hold a number and its unit, 33 μg/m³), else by
spaces; a leading rank column (序号) is left out. A header is recognised by its column words (years,
目标, 实际, 同比, 单位: data/constructions/tables.yaml `table_columns`); a row by an indicator name in its
first cells. Each number becomes a fact whose evidence is its cell. A table flattened one cell per
line (a label word such as 指标 alone on its line, the other headers one a line, then each row's
name and cells) is read the same way (_line_tables).

Tables whose rows are places (read_place_tables) come in three flattened shapes:

    县区名称 |                 1. one cell per line ending in `|`; an empty cell `| |` ends the header
    PM10均值(微克/立方米) |
    同比 | |
    甲县 |
    41 |
    下降3.5% |

    城市名称                   2. cells between lines holding only `|` (a cell may span lines)
    |
    PM2.5浓度
    (微克/立方米)
    |

    县区 | PM10 | 同比            3. one row per line, its cells split by `|` or by tabs (as scraped
                                  HTML tables come out: two tabs stand around an empty cell)

Header cells become columns (data/constructions/tables.yaml `table_columns`, `place_tables`): the place column,
rank columns (never figures), change columns (同比, 较上月, 与去年同期对比; they take the indicator
of the value column before them when they name none), value columns (an indicator name, the unit
in parentheses) and other text columns. A row begins at a place cell (a gazetteer place, or a
short name ending as places do); integers before the first place are ranks, and so are the same
number of integers ending every row. A row may hold more cells than the header (a region cell
and a rank in one column): cells are assigned to columns in order, maximising how well each
cell's type fits its column (dynamic programming over cells x columns); cells that fit nowhere
are left out. Year and period come from the header cell, else the caption line before the
table, else the document (a 较2013年同期 column dates an undated table to 2014). A fourth shape,
cells separated by runs of blanks (ideographic spaces the clean stage squeezes to one), is read
only when every row has exactly the header's cells (_space_blocks). A fifth, one cell per line with
no separator at all (the header cells one a line, then each row's cells), is read under the same
condition, and only when each row's place cell names a place (_line_blocks). A table whose rows
are periods (a 季度 or 月份 column, rows 第一季度 | 62 | 65) gives the document place's figures of each
row's period, again only from rows of exactly the header's cells (_period_table).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ..vocab.catalog import Indicator, IndicatorMention, find_indicators, indicators
from ..vocab.places import CITY_LEVELS, Mention, find_places
from ..vocab.rules import alternation, read_rules

TOKEN = re.compile(r"[^\s|]+")
CELL_SEP = re.compile(r"[|\t]")  # what ends a cell of a place table: `|`, or a tab (one row per line)
NUMBER_CELL = r"^([-+−]?\d+(?:,\d{3})*(?:\.\d+)?)"  # a cell's number, then the unit written with it
WITH_UNIT = re.compile(NUMBER_CELL + r"\s*(\S.*?)$")  # a number and a unit of units.yaml (38 μg/m³)
MAX_LINE_COLUMNS = 12  # the most columns of a table flattened one cell per line


@dataclass(frozen=True)
class Column:
    kind: str  # actual / target / change / unit / label
    year: int | None = None
    unit: str = ""  # pp when the header says 百分点
    sign: int = 1  # -1 for a change column that names a fall (降幅)


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
    place: str | None = None  # the row's place (tables whose rows are places)
    period: str | None = None  # "" when the table names none: the document's period


@dataclass(frozen=True)
class TableRules:
    """How a table of indicators is read (data/constructions/tables.yaml)."""

    columns: dict[str, list[str]]  # column words by kind (table_columns)
    year_column: re.Pattern[str]  # 2023年 / 2023年目标: group 1 the year, group 2 what it holds
    number: re.Pattern[str]  # a cell holding a number, with the units it may be written with
    cell_units: dict[str, str]  # a unit written in a cell -> its code
    points: tuple[str, ...]  # words of a change column counted in percentage points
    falling: tuple[str, ...]  # words of a change column whose plain numbers are falls (降幅)
    full_stop: str  # a line holding one is prose, not a table row


@lru_cache(maxsize=1)
def _table_rules() -> TableRules:
    r = read_rules()
    it = r["indicator_tables"]
    cell_units = dict(it["cell_units"])
    return TableRules(
        columns=r["table_columns"],
        year_column=re.compile(it["year_column"]),
        number=re.compile(NUMBER_CELL + "(" + alternation(cell_units, longest_first=False) + ")?$"),
        cell_units=cell_units,
        points=tuple(it["points_words"]),
        falling=tuple(r["falling_columns"]),
        full_stop=r["full_stop"],
    )


def _column(cell: str, report_year: int | None) -> Column | None:
    table_rules = _table_rules()
    words = table_rules.columns
    m = table_rules.year_column.match(cell)
    if m:
        kind = "target" if m.group(2) and any(w in m.group(2) for w in words["target"]) else "actual"
        return Column(kind, int(m.group(1)))
    if cell in words["rank"]:
        return Column("rank")
    for kind in ("unit", "change", "target", "actual", "label"):
        for w in words[kind]:
            # a column is named by its word at the start (同比变化); a target also at the end (省考目标值)
            if cell == w or (kind != "label" and cell.startswith(w)) or (kind == "target" and cell.endswith(w)):
                unit = "pp" if kind == "change" and any(p in cell for p in table_rules.points) else ""
                sign = -1 if kind == "change" and any(f in cell for f in table_rules.falling) else 1
                return Column(kind, None if kind == "change" else report_year, unit, sign)
    return None


def _header(cells: list[str], report_year: int | None) -> list[Column | None] | None:
    """Columns of a header row: a label column, then at least two data columns (one after 指标);
    a leading rank column (序号) is left out of the count."""
    cols = [_column(c, report_year) for c in cells]
    lead = 1 if cols and cols[0] is not None and cols[0].kind == "rank" else 0
    if len(cols) - lead < 2:
        return None
    data = [c for c in cols if c and c.kind in ("actual", "target", "change")]
    labelled = cols[lead] is not None and cols[lead].kind == "label"
    if (cols[lead] is None or labelled) and (len(data) >= 2 or (labelled and data)):
        return cols
    return None


Token = tuple[int, int, str, int]  # a cell: start, end (in the cleaned text), its text, its line


def _tokens(line: str, start: int, li: int) -> list[Token]:
    """The cells of a table line: split by `|` or tabs when it has them (a cell may hold a space,
    38 μg/m³), else by spaces; empty cells at either end are dropped."""
    if not CELL_SEP.search(line):
        return [(start + t.start(), start + t.end(), t.group(0), li) for t in TOKEN.finditer(line)]
    out: list[Token] = []
    pos = 0
    for part in CELL_SEP.split(line):
        stripped = part.strip()
        lead = len(part) - len(part.lstrip())
        out.append((start + pos + lead, start + pos + lead + len(stripped), stripped, li))
        pos += len(part) + 1
    while out and not out[0][2]:
        out.pop(0)
    while out and not out[-1][2]:
        out.pop()
    return out


def _number(cell: str, units: dict[str, tuple[str, float]]) -> tuple[float, str] | None:
    """A cell's number and the unit written with it (33, 33%, 33 μg/m³), else None."""
    table_rules = _table_rules()
    m = table_rules.number.match(cell)
    if m:
        written = table_rules.cell_units.get(m.group(2) or "", "")
    else:
        m = WITH_UNIT.match(cell)
        if not m or m.group(2) not in units:
            return None
        written = units[m.group(2)][0]
    return float(m.group(1).replace(",", "").replace("−", "-")), written


def read_tables(
    text: str,
    lines: list[tuple[int, str]],
    mentions: list[IndicatorMention],
    units: dict[str, tuple[str, float]],
    report_year: int | None,
    seps: dict[int, int] | None = None,
) -> tuple[list[TableCell], set[int]]:
    """Cells of every flattened table, and the indexes of the lines the tables occupy.
    `seps`: `|`-only lines the clean stage dropped (`separators`)."""
    cells, used = read_place_tables(text, lines, units, seps)
    table_rules = _table_rules()
    header: list[Column | None] | None = None
    for li, (start, line) in enumerate(lines):
        if li in used or table_rules.full_stop in line or not line.strip():
            header = None
            continue
        tokens = _tokens(line, start, li)
        row_header = _header([t[2] for t in tokens], report_year) if not any(_number(t[2], units) for t in tokens) else None
        if row_header:
            header = row_header
            used.add(li)
            continue
        if header is None:
            continue
        if header[0] is not None and header[0].kind == "rank" and tokens and table_rules.number.match(tokens[0][2]):
            tokens = tokens[1:]  # the row's number (序号 1)
        row = _row(text, tokens, header, mentions, units)
        if row is None:
            header = None
            continue
        cells.extend(row)
        used.add(li)
    line_cells, line_used = _line_tables(text, lines, mentions, units, report_year, used)
    return cells + line_cells, used | line_used


def _line_tables(
    text: str,
    lines: list[tuple[int, str]],
    mentions: list[IndicatorMention],
    units: dict[str, tuple[str, float]],
    report_year: int | None,
    used: set[int],
) -> tuple[list[TableCell], set[int]]:
    """Tables of indicators flattened one cell per line: a label word alone on its line (指标,
    项目), the other column headers one a line, then each row as its name and one line per column.
    A row whose data cells are not numbers (or blanks) ends the table."""
    table_rules = _table_rules()
    label_words = set(table_rules.columns["label"])
    blanks = set(read_rules()["place_tables"]["blank_cells"])
    names_at = {}
    for m in mentions:
        if m.role == "name":
            names_at.setdefault(m.start, m)
    out: list[TableCell] = []
    taken: set[int] = set()

    def short(li: int) -> str | None:
        """The line's text when it can be one cell (short, not prose, not in another table)."""
        if li >= len(lines) or li in used or li in taken:
            return None
        t = lines[li][1].strip()
        if not t or table_rules.full_stop in t or CELL_SEP.search(lines[li][1]):
            return None
        return t

    def named(li: int) -> bool:
        start, line = lines[li]
        return any(start <= m < start + len(line) for m in names_at)

    li = 0
    while li < len(lines):
        if short(li) not in label_words:
            li += 1
            continue
        first = li
        heads: list[int] = []
        k = li + 1
        while short(k) is not None and not named(k) and _number(short(k) or "", units) is None:
            heads.append(k)
            k += 1
        header = [_column(lines[first][1].strip(), report_year)] + [_column(lines[h][1].strip(), report_year) for h in heads]
        data = [c for c in header if c and c.kind in ("actual", "target", "change")]
        if not heads or not data or len(heads) > MAX_LINE_COLUMNS:
            li += 1
            continue
        n = len(heads)
        rows: list[list[int]] = []
        while True:
            span = list(range(k, k + n + 1))
            texts = [short(j) for j in span]
            if any(t is None for t in texts) or _number(texts[0] or "", units) is not None:
                break
            ok = all(
                (t in blanks or _number(t, units) is not None) if c and c.kind in ("actual", "target", "change") else True
                for t, c in zip(texts[1:], header[1:])
            )
            if not ok:
                break
            rows.append(span)
            k += n + 1
        if not rows:
            li += 1
            continue
        for span in rows:
            toks = [(lines[j][0] + len(lines[j][1]) - len(lines[j][1].lstrip()), 0, lines[j][1].strip(), j) for j in span]
            toks = [(a, a + len(t), t, j) for a, _, t, j in toks]
            out.extend(_row(text, toks, header, mentions, units, first_num=1) or [])
        taken.update(range(first, k))
        li = k
    return out, taken


def _row(
    text: str,
    tokens: list[Token],
    header: list[Column | None],
    mentions: list[IndicatorMention],
    units: dict[str, tuple[str, float]],
    first_num: int | None = None,
) -> list[TableCell] | None:
    """The facts of a row: its label (the cells before its first number) names the indicator;
    its last cells are aligned with the header's last columns."""
    if first_num is None:
        first_num = next((i for i, t in enumerate(tokens) if _number(t[2], units)), None)
    if first_num is None or first_num == 0:
        return None
    label_start, label_end = tokens[0][0], tokens[first_num - 1][1]
    names = [m for m in mentions if m.role == "name" and label_start <= m.start and m.end <= label_end]
    if not names:
        return []  # a table row of something outside the catalog
    ind = names[0].indicator
    label = text[label_start:label_end]
    unit_in_label = re.search(r"\(([^)]+)\)\s*$", label)
    row_unit = units.get(unit_in_label.group(1), ("", 1.0))[0] if unit_in_label else ""
    # align the row's last cells with the header's last columns
    values = tokens[first_num:]
    cols = header[len(header) - len(values) :] if len(values) <= len(header) else [None] * len(values)
    unit_col = next((i for i, c in enumerate(header) if c and c.kind == "unit"), None)
    if unit_col is not None and unit_col < len(header) - len(values):
        # the unit sits between label and numbers
        row_unit = units.get(tokens[first_num - 1][2], (row_unit, 1.0))[0]
    out: list[TableCell] = []
    for (a, b, cell, li), col in zip(values, cols):
        number = _number(cell, units)
        if number is None or col is None or col.kind not in ("actual", "target", "change"):
            continue
        value, written = number
        if col.kind == "change":
            value *= col.sign
            unit = written or col.unit or ("pp" if ind.unit == "%" else "%")
        else:
            unit = written or row_unit or ind.unit
            if written and written != ind.unit and written not in _table_rules().cell_units.values():
                continue  # a level written in a unit not its indicator's
        out.append(TableCell(a, b, ind, value, unit, col.kind, col.year, li))
    return out


# --- tables whose rows are places -------------------------------------------------------------

SIGNED = re.compile(r"^(?P<pre>[^\d+\-−]*)(?P<num>[-+−]?\d+(?:,\d{3})*(?:\.\d+)?)(?P<post>[^\d]*)$")
MAX_COLUMNS = 40
ANNUAL = "annual"  # the period of a whole year (a target column's)


@dataclass(frozen=True)
class _PlaceRules:
    place_words: tuple[str, ...]
    period_words: tuple[str, ...]  # the header of a column whose rows are periods (季度)
    rank_words: tuple[str, ...]
    target_words: tuple[str, ...]
    count_words: tuple[str, ...]
    not_target: tuple[str, ...]
    bare_names: tuple[dict, ...]
    change_words: tuple[str, ...]
    month_base: tuple[str, ...]
    month_base_period: str
    year: re.Pattern[str]
    base_year: re.Pattern[str]
    base_period: str
    periods: tuple[tuple[re.Pattern[str], str], ...]
    suffixes: tuple[str, ...]
    not_places: tuple[str, ...]
    strip: tuple[str, ...]
    max_place: int
    blanks: frozenset[str]
    max_cell: int
    full_stop: str
    max_caption: int
    up: frozenset[str]
    down: frozenset[str]
    better: frozenset[str]
    worse: frozenset[str]
    flat: frozenset[str]
    verbs: frozenset[str]
    unit_parens: re.Pattern[str]  # a unit in parentheses in a header cell: group 1


@lru_cache(maxsize=1)
def _place_rules() -> _PlaceRules:
    r = read_rules()
    cols, place_tables, change_rules = r["table_columns"], r["place_tables"], r["change"]
    return _PlaceRules(
        place_words=tuple(cols["place"]),
        period_words=tuple(cols["period"]),
        rank_words=tuple(cols["rank"]),
        target_words=tuple(cols["target"]),
        count_words=tuple(place_tables["count_columns"]),
        not_target=tuple(place_tables["not_target_columns"]),
        bare_names=tuple(place_tables["bare_names"]),
        change_words=tuple(cols["change"]),
        month_base=tuple(place_tables["month_base"]),
        month_base_period=place_tables["month_base_period"],
        year=re.compile(place_tables["year"]),
        base_year=re.compile(place_tables["base_year"]),
        base_period=place_tables["base_period"],
        periods=tuple((re.compile(p["pattern"]), p["form"]) for p in place_tables["periods"]),
        suffixes=tuple(place_tables["place_suffixes"]),
        not_places=tuple(place_tables["not_places"]),
        strip=tuple(place_tables["strip"]),
        max_place=int(place_tables["max_place_chars"]),
        blanks=frozenset(place_tables["blank_cells"]),
        max_cell=int(place_tables["max_cell_chars"]),
        full_stop=r["full_stop"],
        max_caption=int(place_tables["max_caption_chars"]),
        up=frozenset(change_rules["up"]),
        down=frozenset(change_rules["down"]),
        better=frozenset(change_rules["better"]),
        worse=frozenset(change_rules["worse"]),
        flat=frozenset(change_rules["flat"]),
        verbs=frozenset(change_rules["up"] + change_rules["down"] + change_rules["better"] + change_rules["worse"]),
        unit_parens=re.compile(place_tables["unit_parens"]),
    )


@dataclass(frozen=True)
class _Cell:
    """One cell of a flattened table: its stripped text span in the cleaned text."""

    start: int
    end: int
    text: str  # the lines of a cell spanning lines, joined
    line: int


@dataclass(frozen=True)
class _Value:
    """What a cell holds: its type for alignment, and the figure if it is one."""

    type: str  # empty / blank / text / int / num / pct / signed / change
    value: float = 0.0
    unit: str = ""  # written in the cell (%, pp, day ...)
    verb: str = ""


@dataclass(frozen=True)
class _PColumn:
    kind: str  # place / rank / change / value / target / count / text
    indicator: Indicator | None = None
    unit: str = ""  # from the header's parentheses
    year: int | None = None
    period: str = ""  # "" : the document's
    sign: int = 1  # -1 for a change column that names a fall (降幅)


def _value(text: str, units: dict[str, tuple[str, float]]) -> _Value:
    place_rules = _place_rules()
    if not text:
        return _Value("empty")
    if text in place_rules.blanks:
        return _Value("blank")
    if text in place_rules.flat:
        return _Value("change", 0.0, "", text)
    m = SIGNED.match(text)
    if not m:
        return _Value("text")
    pre, num, post = m.group("pre").strip(), m.group("num"), m.group("post").strip()
    if pre and pre not in place_rules.verbs:
        return _Value("text")
    unit = ""
    if post:
        if post not in units:
            return _Value("text")
        unit = units[post][0]
    value = float(num.replace(",", "").replace("−", "-"))
    if pre:
        return _Value("change", value, unit, pre)
    if num[0] in "+-−":
        return _Value("signed", value, unit)
    if unit in ("%", "pp"):
        return _Value("pct", value, unit)
    if unit:
        return _Value("num", value, unit)
    return _Value("int" if "." not in num else "num", value)


def _period_of(text: str) -> str:
    """The first period a caption or header cell names (6月份 -> 6月, 1-6月), else ""."""
    found: list[tuple[int, int, str]] = []
    for pattern, form in _place_rules().periods:
        m = pattern.search(text)
        if m:
            groups = [g for g in m.groups() if g is not None]
            found.append((m.start(), -(m.end() - m.start()), form.format(*groups) if "{" in form else form))
    return min(found)[2] if found else ""


def _unit_of(text: str, units: dict[str, tuple[str, float]]) -> str:
    for m in _place_rules().unit_parens.finditer(text):
        inner = m.group(1).strip()
        if inner in units:
            return units[inner][0]
    return ""


def _header_columns(
    header: list[_Cell], caption: str, units: dict[str, tuple[str, float]], row_words: tuple[str, ...] | None = None
) -> list[_PColumn] | None:
    """Columns of a place table's header, or None when it is no such header (no place column,
    or no column of a catalog indicator). `row_words`: what names the column of the rows'
    labels (a place word unless given: 季度 for a table whose rows are periods)."""
    place_rules = _place_rules()
    cap_year = place_rules.year.search(caption)
    cap_period = _period_of(caption)
    raw: list[dict] = []
    for c in header:
        t = c.text
        names = [m for m in find_indicators(t) if m.role == "name"]
        best = max(names, key=lambda m: (m.end - m.start, -m.start)) if names else None
        ind = _bare_name(t[best.start : best.end], best.indicator, header, c, caption) if best else None
        col = {"text": t, "ind": ind, "unit": _unit_of(t, units), "base": place_rules.base_year.search(t)}
        if any(w in t for w in place_rules.rank_words):
            col["kind"] = "rank"
        elif any(w in t for w in place_rules.change_words) or col["base"]:
            col["kind"] = "change"
        elif any(w in t for w in place_rules.target_words) and not any(w in t for w in place_rules.not_target):
            col["kind"] = "target"  # 优良天数比例年度目标, 2024年目标: a target beside the values
        elif any(t.endswith(w) for w in place_rules.count_words):
            col["kind"] = "count"  # 考核断面数: a count of units, no figure of the indicator beside it
        elif ind is not None:
            col["kind"] = "value"
        elif any(w in t for w in (row_words or place_rules.place_words)) and not any(r["kind"] == "place" for r in raw):
            col["kind"] = "place"
        else:
            col["kind"] = "text"
        raw.append(col)
    if not any(r["kind"] == "place" for r in raw):
        return None
    # a 较2013年同期 column dates an undated table to the year after its base
    yoy = next((int(r["base"].group(1)) + 1 for r in raw if r["base"] and r["base"].group(2)), None)
    table_year = int(cap_year.group(1)) if cap_year else yoy
    out: list[_PColumn] = []
    source: _PColumn | None = None  # the value column a change column refers to
    # a table captioned as targets (…2024年空气质量目标, not …目标完成情况): its undated columns hold targets
    cap_target = any(w in caption for w in place_rules.target_words) and not any(w in caption for w in place_rules.not_target)
    for r in raw:
        t = r["text"]
        own_year = place_rules.year.search(t)
        year = int(own_year.group(1)) if own_year else table_year
        own_period = _period_of(place_rules.base_year.sub("", t))
        if r["kind"] == "value" and cap_target and not own_year and not own_period:
            col = _PColumn("target", r["ind"], r["unit"], year, ANNUAL)
            source = col
        elif r["kind"] == "value":
            col = _PColumn("value", r["ind"], r["unit"], year, own_period or cap_period)
            source = col
        elif r["kind"] == "target":
            # a target is the whole year's whatever period the table's values cover
            ind = r["ind"] or (source.indicator if source else None)
            col = _PColumn("target", ind, r["unit"] or (source.unit if source and not r["ind"] else ""), year, ANNUAL)
        elif r["kind"] == "change":
            ind = r["ind"] or (source.indicator if source else None)
            base_period = source.period if source else cap_period
            if any(w in t for w in place_rules.month_base):
                period = place_rules.month_base_period
            elif r["base"] and not r["base"].group(2) and not (year and int(r["base"].group(1)) == year - 1):
                period = place_rules.base_period.format(r["base"].group(1))
            else:
                period = own_period or base_period
            unit = r["unit"] or next((code for word, (code, _) in units.items() if code == "pp" and word in t), "")
            sign = -1 if any(f in t for f in _table_rules().falling) else 1
            col = _PColumn("change", ind, unit, int(own_year.group(1)) if own_year else (source.year if source else year),
                           period, sign)
        else:
            col = _PColumn(r["kind"])
        out.append(col)
    if not any(c.indicator is not None and c.kind in ("value", "change", "target") for c in out):
        return None
    return out


def _bare_name(name: str, ind: Indicator, header: list[_Cell], cell: _Cell, caption: str) -> Indicator:
    """A header cell naming its indicator by a bare word (优良比例) means the indicator of the table's
    subject when another header cell or the caption names it (断面: a water table), place_tables
    `bare_names`."""
    context = caption + "".join(h.text for h in header if h is not cell)
    for rule in _place_rules().bare_names:
        if name in rule["names"] and any(w in context for w in rule["words"]):
            return indicators()[rule["names"][name]]
    return ind


def _cell(text: str, a: int, b: int, li: int) -> _Cell:
    frag = text[a:b]
    lead = len(frag) - len(frag.lstrip())
    stripped = frag.strip()
    return _Cell(a + lead, a + lead + len(stripped), stripped, li)


def separators(raw: str, lines: list[tuple[int, str]], raw_span: Callable[[int, int], tuple[int, int]]) -> dict[int, int]:
    """Lines holding only `|` that the clean stage dropped (they hold no text): for a cleaned
    line, how many `|` stood on such lines between it and the next cleaned line."""
    out: dict[int, int] = {}
    if "|" not in raw and "\uff5c" not in raw:
        return out
    ends = [raw_span(s, s + len(line))[1] if line else None for s, line in lines]
    nxt = len(raw)
    for li in range(len(lines) - 1, -1, -1):
        e = ends[li]
        if e is None:
            continue
        gap = raw[e:nxt]
        if "|" in gap or "\uff5c" in gap:  # | or its full-width form, which NFKC maps to |
            gap = gap.replace("\uff5c", "|")
            count = sum(g.count("|") for g in gap.splitlines() if g.strip() and not g.replace("|", "").strip())
            if count:
                out[li] = count
        nxt = raw_span(lines[li][0], lines[li][0] + 1)[0]
    return out


def _blocks(
    text: str, lines: list[tuple[int, str]], seps: dict[int, int] | None = None
) -> list[tuple[list[_Cell], int, int]]:
    """Runs of flattened table cells: (cells, first line, last line of the run).

    A cell is the text before a `|` on its line, or the short lines before a `|` that stands
    alone (on its own line, or dropped by the clean stage: `seps`; a cell spanning lines); the
    text after a line's last `|` is a cell too (one row per line). A tab ends a cell as `|` does.
    A line of prose ends the run."""
    place_rules = _place_rules()
    seps = seps or {}
    blocks: list[tuple[list[_Cell], int, int]] = []
    cells: list[_Cell] = []
    first = last = -1
    pending: list[int] = []  # short lines since the last `|`

    def separate(li: int, at: int) -> None:
        """A `|` opening a line (or alone on one): it ends the cell of the pending lines."""
        nonlocal first, pending
        if pending:
            span = pending if cells else pending[-1:]  # before a table: only its first cell
            a = _cell(text, lines[span[0]][0], lines[span[0]][0] + len(lines[span[0]][1]), span[0])
            b = _cell(text, lines[span[-1]][0], lines[span[-1]][0] + len(lines[span[-1]][1]), span[-1])
            if not cells:
                first = span[0]
            cells.append(_Cell(a.start, b.end, "".join(lines[k][1].strip() for k in span), span[0]))
        else:
            if not cells:
                first = li
            cells.append(_Cell(at, at, "", li))
        pending = []

    for li, (start, line) in enumerate(lines):
        if not CELL_SEP.search(line) or place_rules.full_stop in line:
            stripped = line.strip()
            if stripped and len(stripped) <= place_rules.max_cell and place_rules.full_stop not in stripped:
                pending.append(li)
            else:
                if cells:
                    blocks.append((cells, first, last))
                cells, pending = [], []
        else:
            pos = 0
            for sep in CELL_SEP.finditer(line):
                j = sep.start()
                if pos == 0 and not line[:j].strip():
                    separate(li, start + j)
                else:
                    if cells and pending:  # lines of text between cells: a new table begins
                        blocks.append((cells, first, last))
                        cells = []
                    if not cells:
                        first = li
                    cells.append(_cell(text, start + pos, start + j, li))
                    pending = []
                pos = j + 1
            if line[pos:].strip():
                cells.append(_cell(text, start + pos, start + len(line), li))
            last = li
        for _ in range(seps.get(li, 0)):
            separate(li, start + len(line))
            last = li
    if cells:
        blocks.append((cells, first, last))
    return blocks


FIGURE_TYPES = frozenset({"int", "num", "pct", "signed", "blank", "change"})


def _space_blocks(lines: list[tuple[int, str]], units: dict[str, tuple[str, float]]) -> list[tuple[list[_Cell], int, int]]:
    """Tables whose cells were separated by runs of blanks (ideographic spaces, squeezed to one by
    the clean stage): a line of N words of text, then lines of N cells, a word and N-1 figures.
    Only rows of exactly the header's cells are taken, so no cell can shift."""
    full_stop = _place_rules().full_stop
    out: list[tuple[list[_Cell], int, int]] = []

    def cells(li: int) -> list[_Cell]:
        start, line = lines[li]
        if full_stop in line or CELL_SEP.search(line):
            return []
        return [_Cell(start + t.start(), start + t.end(), t.group(0), li) for t in TOKEN.finditer(line)]

    li = 0
    while li < len(lines) - 1:
        header = cells(li)
        if len(header) < 2 or any(_value(c.text, units).type != "text" for c in header):
            li += 1
            continue
        rows: list[_Cell] = []
        j = li + 1
        while j < len(lines):
            row = cells(j)
            types = [_value(c.text, units).type for c in row]
            if len(row) != len(header) or types[0] != "text" or not all(t in FIGURE_TYPES for t in types[1:]):
                break
            rows.extend(row)
            j += 1
        if rows:
            out.append((header + rows, li, j - 1))
            li = j
        else:
            li += 1
    return out


def _line_blocks(
    text: str, lines: list[tuple[int, str]], units: dict[str, tuple[str, float]], is_place: Callable[[_Cell], bool]
) -> list[tuple[list[_Cell], int, int, int]]:
    """Place tables flattened one cell per line with no separator (an HTML table scraped as text):
    header cells one a line (an optional rank column, the place column, then N-1 more), then each
    row's N cells one a line. Only rows of exactly the header's cells, whose place cell names a
    place and whose other cells are figures, are taken, so no cell can shift.
    Returns (cells, first line, last line, header cells)."""
    place_rules = _place_rules()
    out: list[tuple[list[_Cell], int, int, int]] = []

    def cell(li: int) -> _Cell | None:
        """The line as one cell: short, not prose, no separator."""
        if li >= len(lines):
            return None
        start, line = lines[li]
        t = line.strip()
        if not t or len(t) > place_rules.max_cell or place_rules.full_stop in t or CELL_SEP.search(line):
            return None
        return _cell(text, start, start + len(line), li)

    def is_place_column(c: _Cell) -> bool:
        return any(w in c.text for w in place_rules.place_words) and not any(w in c.text for w in place_rules.rank_words)

    li = 0
    while li < len(lines):
        c = cell(li)
        if c is None or not is_place_column(c) or _value(c.text, units).type != "text":
            li += 1
            continue
        h0 = li - 1 if li > 0 and (r := cell(li - 1)) is not None and r.text in place_rules.rank_words else li
        pi = li - h0  # the place column's index in a row
        header: list[_Cell] = []
        k = h0
        while k < len(lines) and (c2 := cell(k)) is not None and _value(c2.text, units).type == "text" and len(header) <= MAX_LINE_COLUMNS:
            header.append(c2)
            k += 1
        # the first row's place closes a header whose rows start with their place
        if pi == 0 and header and len(header) > 2 and is_place(header[-1]):
            header.pop()
            k -= 1
        n = len(header)
        rows: list[_Cell] = []
        while 2 <= n <= MAX_LINE_COLUMNS:
            row = [cell(j) for j in range(k, k + n)]
            if any(r2 is None for r2 in row):
                break
            cells_ = [r2 for r2 in row if r2 is not None]
            types = [_value(r2.text, units).type for r2 in cells_]
            ok = all(
                (t == "text" and is_place(r2)) if i == pi else (t in FIGURE_TYPES and (i > pi or t == "int"))
                for i, (t, r2) in enumerate(zip(types, cells_))
            )
            if not ok:
                break
            rows.extend(cells_)
            k += n
        if rows:
            out.append((header + rows, h0, k - 1, n))
            li = k
        else:
            li += 1
    return out


def _caption(lines: list[tuple[int, str]], first: int) -> str:
    """The line before a table when it reads as its title (short, no full stop)."""
    place_rules = _place_rules()
    for li in range(first - 1, max(-1, first - 3), -1):
        stripped = lines[li][1].strip()
        if stripped:
            return stripped if len(stripped) <= place_rules.max_caption and place_rules.full_stop not in stripped else ""
    return ""


def _place_label(cell: _Cell, by_start: dict[int, Mention], suffix_ok: bool) -> str | None:
    """The place a row cell names: a gazetteer place written alone (cities by their short name,
    districts and counties in full), else a short name ending as places do."""
    m = by_start.get(cell.start)
    if m is not None and m.end == cell.end:
        p = m.place
        if p.level in CITY_LEVELS or p.level == "province":
            return p.short
        # as written, as prose names it: 凤翔县 before it was 凤翔区, 民和县 for 民和回族土族自治县
        return cell.text
    if not suffix_ok:
        return None
    place_rules = _place_rules()
    t = cell.text
    if (
        2 <= len(t) <= place_rules.max_place
        and t.endswith(place_rules.suffixes)
        and not any(w in t for w in place_rules.not_places)
        and not any(change_rules.isascii() for change_rules in t)
    ):
        for s in place_rules.strip:
            if t.endswith(s) and len(t) > len(s) + 1:
                return t[: -len(s)]
        return t
    return None


# how well a cell's type fits a column (none: it may not go there); integers for exact sums
_FIT: dict[str, dict[str, int]] = {
    "text": {"text": 4},
    "rank": {"int": 4},
    "value": {"int": 4, "num": 4, "pct": 4, "signed": 2, "blank": 1, "empty": 1},
    "target": {"int": 4, "num": 4, "pct": 4, "blank": 1, "empty": 1},
    "count": {"int": 4, "blank": 1, "empty": 1},
    "change": {"change": 4, "signed": 4, "pct": 4, "num": 2, "int": 2, "blank": 1, "empty": 1},
}


def _fit(v: _Value, col: _PColumn) -> int | None:
    w = _FIT.get(col.kind, {}).get(v.type)
    if w is None:
        return None
    if col.kind in ("value", "target") and v.type == "pct" and col.unit not in ("", v.unit):
        return None
    if col.kind == "change" and v.type == "int" and col.unit in ("", "%", "pp"):
        return None  # a bare integer in a % change column is a rank that strayed
    return w


def _align(values: list[_Value], cols: list[_PColumn]) -> list[int | None]:
    """The column of each cell: a monotone assignment maximising the summed fit (cells that fit
    nowhere, or would push others out of place, are left out). O(cells x columns)."""
    n, m = len(values), len(cols)
    fit = [[_fit(v, c) for c in cols] for v in values]
    f = [[0] * (m + 1) for _ in range(n + 1)]
    for a in range(1, n + 1):
        row, prev, w = f[a], f[a - 1], fit[a - 1]
        for b in range(1, m + 1):
            best = max(prev[b], row[b - 1])
            if w[b - 1] is not None:
                best = max(best, prev[b - 1] + w[b - 1])
            row[b] = best
    out: list[int | None] = [None] * n
    a, b = n, m
    while a > 0 and b > 0:
        if f[a][b] == f[a][b - 1]:
            b -= 1  # leave the later column empty: cells stay as far left as they can
        elif f[a][b] == f[a - 1][b]:
            a -= 1  # leave the later cell out: a column takes the first cell that fits it
        else:  # only a match of this cell with this column reaches f[a][b]
            out[a - 1] = b - 1
            a, b = a - 1, b - 1
    return out


def _signed_value(v: _Value, ind: Indicator) -> float:
    place_rules = _place_rules()
    x = abs(v.value)
    if v.verb in place_rules.flat:
        return 0.0
    if v.verb in place_rules.down:
        return -x
    if v.verb in place_rules.up:
        return x
    if v.verb in place_rules.better:
        return -x if ind.direction == "lower_better" else x
    if v.verb in place_rules.worse:
        return x if ind.direction == "lower_better" else -x
    return v.value


def read_place_tables(
    text: str, lines: list[tuple[int, str]], units: dict[str, tuple[str, float]], seps: dict[int, int] | None = None
) -> tuple[list[TableCell], set[int]]:
    """Cells of every flattened table whose rows are places, and the lines those tables hold.
    `seps`: `|`-only lines the clean stage dropped (separators)."""
    cells: list[TableCell] = []
    used: set[int] = set()
    spaced = _space_blocks(lines, units)
    by_start: dict[int, Mention] | None = None

    def is_place(c: _Cell) -> bool:
        nonlocal by_start
        if by_start is None:
            by_start = {m.start: m for m in find_places(text, former=True)}  # memoised: extract read it already
        return _place_label(c, by_start, True) is not None

    stacked = _line_blocks(text, lines, units, is_place)
    if not seps and not spaced and not stacked and not CELL_SEP.search(text):
        return cells, used
    todo = deque(_blocks(text, lines, seps) if seps or CELL_SEP.search(text) else [])
    todo.extend(spaced)
    # a blank-separated table's header is its first line; a table one cell per line has n header cells
    header_cells = {id(block): sum(1 for c in block if c.line == first) for block, first, _ in spaced}
    for block, first, last, n in stacked:
        todo.append((block, first, last))
        header_cells[id(block)] = n
    while todo:
        block, first, last = todo.popleft()
        if block and block[0].line in used:
            continue  # a blank-separated run inside a table already read
        values = [_value(c.text, units) for c in block]
        # the header: the text cells up to an empty cell, a number or a place
        h0 = next((i for i, v in enumerate(values) if v.type != "empty"), len(block))
        h1 = h0
        while h1 < len(block) and values[h1].type == "text" and h1 - h0 <= MAX_COLUMNS:
            h1 += 1
        if h1 - h0 < 2 or h1 - h0 > MAX_COLUMNS:
            continue
        if by_start is None:
            by_start = {m.start: m for m in find_places(text, former=True)}  # memoised: extract read it already
        if any(_place_label(c, by_start, False) for c in block[h0:h1]):
            # a header holds no place: the cells before one are the header
            h1 = next(i for i in range(h0, h1) if _place_label(block[i], by_start, False))
        if id(block) in header_cells:
            h0, h1 = 0, header_cells[id(block)]  # its header as read, whatever places its rows name
        cols = _header_columns(block[h0:h1], _caption(lines, first), units)
        if cols is None:
            period_cells = _period_table(block, values, h0, _caption(lines, first), units)
            if period_cells:
                cells.extend(period_cells)
                used.update(range(first, period_cells[-1].line + 1))
            continue
        pi = next(i for i, c in enumerate(cols) if c.kind == "place")
        after = cols[pi + 1 :]
        rows, end = _rows(block, values, h1, after, by_start)
        cells.extend(_row_facts(rows, after))
        if rows:
            stop = block[end - 1].line if end < len(block) else last
            used.update(range(first, stop + 1))
        if end < len(block):  # the rest may be another table
            todo.appendleft((block[end:], block[end].line, last))
    return cells, used


def _row_period(text: str) -> str:
    """The period a row cell names when it is nothing else (第一季度, 3月, 1-3月), else ""."""
    for pattern, form in _place_rules().periods:
        m = pattern.fullmatch(text)
        if m:
            groups = [g for g in m.groups() if g is not None]
            return form.format(*groups) if "{" in form else form
    return ""


def _period_table(
    block: list[_Cell], values: list[_Value], h0: int, caption: str, units: dict[str, tuple[str, float]]
) -> list[TableCell]:
    """A table whose rows are periods, not places (季度 | PM2.5 | 优良天数比例 / 第一季度 | 62 | 65): the
    header is its text cells up to the first period; rows hold exactly the header's cells, a
    period then figures, so no cell can shift. Its figures are the document's place's, each of
    its row's period (targets included)."""
    place_rules = _place_rules()
    if h0 >= len(block) or block[h0].text not in place_rules.period_words:
        return []
    h1 = next((i for i in range(h0 + 1, len(block)) if values[i].type != "text" or _row_period(block[i].text)), len(block))
    n = h1 - h0
    if n < 2 or h1 >= len(block) or not _row_period(block[h1].text):
        return []
    cols = _header_columns(block[h0:h1], caption, units, place_rules.period_words)
    if cols is None or cols[0].kind != "place":
        return []
    if any(m.place.level in ("district", "county") for m in find_places(caption)):
        return []  # a county's periods (甲县各季度目标): the figures are not the document's place's
    by_line = block[h0].line == block[h1 - 1].line  # one row a line: a row is its line's cells, no more

    def whole_line(a: int, b: int) -> bool:
        line = block[a].line
        return all(c.line == line for c in block[a:b]) and (b >= len(block) or block[b].line != line)

    if by_line and not whole_line(h0, h1):
        return []
    out: list[TableCell] = []
    for r in range(h1, len(block) - n + 1, n):
        period = _row_period(block[r].text)
        types = [values[i].type for i in range(r + 1, r + n)]
        if not period or not all(t in FIGURE_TYPES for t in types) or (by_line and not whole_line(r, r + n)):
            break
        for i, col in zip(range(r + 1, r + n), cols[1:]):
            fact = _place_fact(block[i], values[i], col, "")
            if fact is not None:
                out.append(TableCell(fact.start, fact.end, fact.indicator, fact.value, fact.unit, fact.kind, fact.year,
                                     fact.line, None, period))
    return out


def _row_facts(rows: list[tuple[str, list[tuple[_Cell, _Value]]]], after: list[_PColumn]) -> list[TableCell]:
    out: list[TableCell] = []
    for place, row in rows:
        for (cell, v), ci in zip(row, _align([v for _, v in row], after)):
            fact = _place_fact(cell, v, after[ci], place) if ci is not None else None
            if fact is not None:
                out.append(fact)
    return out


def _rows(
    block: list[_Cell], values: list[_Value], h1: int, after: list[_PColumn], by_start: dict[int, Mention]
) -> tuple[list[tuple[str, list[tuple[_Cell, _Value]]]], int]:
    """Rows after the header: (place, its cells after the place cell); and where the table ends."""
    rows: list[tuple[str, list[tuple[_Cell, _Value]]]] = []
    lead: list[_Value] = []
    need = max(1, len(after) - 1)  # a name not in the gazetteer starts a row only after a full one
    longest = 2 * len(after) + 4
    end = len(block)
    words = _place_rules().place_words
    for i in range(h1, len(block)):
        c, v = block[i], values[i]
        label = None
        if v.type == "text":
            label = _place_label(c, by_start, not rows or len(rows[-1][1]) >= need)
            if label is None and rows and i + 1 < len(block) and values[i + 1].type == "text" and any(w in c.text for w in words):
                end = i  # the header of another table (城市名称 | PM2.5 ...)
                break
        if label is not None:
            rows.append((label, []))
        elif not rows:
            if v.type != "empty":
                lead.append(v)
        else:
            rows[-1][1].append((c, v))
            if len(rows[-1][1]) > longest:  # no row is this long: the table has ended
                rows[-1][1][:] = rows[-1][1][: len(after)]
                end = i
                break
    # integers before the first place are ranks; every row then ends with the next row's rank
    k = len(lead) if lead and len(lead) <= 2 and all(v.type == "int" for v in lead) else 0
    if k:
        for _, row in rows[:-1]:
            if len(row) >= k and all(v.type == "int" for _, v in row[-k:]):
                del row[-k:]
    return rows, end


def _place_fact(cell: _Cell, v: _Value, col: _PColumn, place: str) -> TableCell | None:
    ind = col.indicator
    if ind is None or col.kind not in ("value", "target", "change") or v.type in ("empty", "blank"):
        return None
    if col.kind in ("value", "target"):
        unit = v.unit or col.unit or ind.unit
        if unit != ind.unit:
            return None
        value, kind = v.value, "actual" if col.kind == "value" else "target"
    else:
        unit = v.unit or col.unit or "%"
        if unit not in (ind.unit, "%") and not (unit == "pp" and ind.unit == "%"):
            return None
        value, kind = _signed_value(v, ind) * (1 if v.verb else col.sign), "change"  # 降幅 5.7: a fall
    return TableCell(cell.start, cell.end, ind, value, unit, kind, col.year, cell.line, place, col.period)
