"""Compare stage: the facts table -> tables that put cities side by side honestly.

    >>> import envcompare
    >>> from envcompare.comparison import compare, composite
    >>> facts = envcompare.extract(envcompare.load_reports("seeds"))
    >>> cmp = compare(facts, domain="air", year="latest")     # doctest: +SKIP
    >>> cmp.values                      # (city, year) x indicator, float64
    >>> cmp.indicators                  # unit, direction, names of every column
    >>> composite(cmp, method="entropy").weights               # the indicators used

Design: `compare` returns a `Comparison`, a wide table plus its companions. `values` has one
row per (city, year) and one float64 column per indicator; `indicators` says each column's unit
and direction; `rows` marks rows picked as a city's latest year; `cells` names the fact behind
every value. Years are never mixed inside a row. Ranking, scores and composites read
directions from the companion (or from the catalog for a plain DataFrame).

`analyse(facts)` computes every table once into an `Analysis`: what `build` writes, the workbook
lays out and the charts draw (none of them computes a comparison again).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..extraction.tidy import FACT_COLUMNS
from ..vocab.catalog import catalog, default_comparator, in_catalog_order
from ..vocab.resources import read_csv, read_yaml

ROW_INDEX = ["city", "year"]
BETTER = ("higher_better", "lower_better")
KIND_ORDER = ("actual", "target", "change", "derived")
INDICATOR_COLUMNS = {
    "column": "string",
    "indicator": "string",
    "name_zh": "string",
    "name_en": "string",
    "domain": "string",
    "unit": "string",
    "direction": "string",
    "qualifier": "string",
    "statistic": "string",
    "scale_dependent": "boolean",
}
CELL_COLUMNS = {
    "city": "string",
    "year": "Int64",
    "column": "string",
    "indicator": "string",
    "value": "float64",
    "unit": "string",
    "kind": "string",
    "comparator": "string",
    "approx": "boolean",
    "qualifier": "string",
    "period": "string",
    "doc": "string",
    "start": "Int64",
    "end": "Int64",
    "evidence": "string",
    "alternatives": "Int64",
    "scope": "string",
    "statistic": "string",
}
NOTE_COLUMNS = {"column": "string", "indicator": "string", "city": "string", "year": "Int64", "reason": "string"}
REFERENCE_COLUMNS = {
    "indicator": "string",
    "city": "string",
    "year": "Int64",
    "kind": "string",
    "level": "string",
    "value": "float64",
    "unit": "string",
    "averaging": "string",
    "source": "string",
    "notes": "string",
    "statistic": "string",
    "level_zh": "string",
}


@dataclass(frozen=True)
class Comparison:
    """A wide city x indicator table and its companions (see the module docstring)."""

    values: pd.DataFrame
    indicators: pd.DataFrame
    rows: pd.DataFrame
    cells: pd.DataFrame
    kind: str
    # NOTE_COLUMNS: cells refused and columns kept apart, with the reason; None where not asked
    # for (`analyse` keeps them for the comparison of one year only: `compare` gives any)
    notes: pd.DataFrame | None = None

    @property
    def directions(self) -> pd.Series:
        return self.indicators.set_index("column")["direction"]

    def mixed_years(self) -> bool:
        """True when the rows are not all from one year (e.g. year="latest")."""
        return self.values.index.get_level_values("year").nunique() > 1

    def flat(self, units_in_headers: bool = True) -> pd.DataFrame:
        """One flat table (city, year, latest, indicators) for CSV; headers carry the unit."""
        values = self.values
        if units_in_headers:
            units = self.indicators.set_index("column")["unit"]
            values = values.rename(columns=lambda c: c if "[" in c else f"{c} [{units[c]}]")
        out = pd.concat([self.rows[["latest"]], values], axis=1).reset_index()
        return out.astype({"city": "string", "year": "Int64", "latest": "boolean"})


@dataclass(frozen=True)
class Composite:
    """A composite score per row and the indicators it used (weights) or left out (dropped)."""

    method: str
    scores: pd.DataFrame
    weights: pd.Series
    dropped: pd.Series
    reason: str | None = None  # why no composite was computed (None: it was)

    @property
    def used(self) -> list[str]:
        return list(self.weights.index)



# --- comparability: scope, statistic, scale -----------------------------------------------------


def comparability() -> dict:
    """data/comparability.yaml: scope rules, statistics and the composite guard."""
    return read_yaml("comparability.yaml")


def default_min_cities() -> int:
    """The fewest same-year cities a composite is computed over (data/comparability.yaml)."""
    return int(comparability()["min_cities"])


@cache
def _catalog_column(name: str) -> dict[str, str]:
    """One column of the catalog by indicator id (every column is there: checked at load); read
    only (cached, as the catalog is)."""
    cat = catalog()
    return dict(zip(cat["id"], cat[name]))


def scale_dependent(indicator: object) -> bool:
    """True for counts that grow with a city's size (cases, outfalls, fines): catalog column
    scale_dependent. They are never ranked, scored or benchmarked across cities raw."""
    return _catalog_column("scale_dependent").get(str(indicator).split(" ")[0], "") == "yes"


def statistic_name(statistic: object, lang: str = "en") -> str | None:
    """A statistic id as a reader writes it (data/comparability.yaml)."""
    if statistic is None or pd.isna(statistic):
        return None
    cfg = comparability()
    entry = cfg["statistics"].get(str(statistic)) or (cfg["unstated"] if statistic == "unstated" else None)
    return entry[lang] if entry else str(statistic)


def fact_scopes(facts: pd.DataFrame) -> pd.Series:
    """Each fact's scope: its qualifier without a leading count of units (11个国考断面 -> 国考断面);
    empty when there is none or it only restates the indicator's own scope (catalog same_scope)."""
    prefix = re.compile(comparability()["count_prefix"])
    same = {k: set(filter(None, v.split("|"))) for k, v in _catalog_column("same_scope").items()}
    known: dict[tuple[object, object], str] = {}  # (indicator, qualifier) -> scope: each pair worked out once
    out = []
    for pair in zip(_objects(facts["indicator"]), _objects(facts["qualifier"]), strict=True):
        scope = known.get(pair)
        if scope is None:
            ind, q = pair
            scope = prefix.sub("", str(q)).strip() if isinstance(q, str) else ""
            scope = known[pair] = "" if scope in same.get(ind, set()) else scope
        out.append(scope)
    return pd.Series(out, index=facts.index, dtype="string")


def fact_statistics(facts: pd.DataFrame) -> pd.Series:
    """Each fact's statistic (annual_mean, mda8_p90, daily_p95, unstated), read from its sentence:
    the first statistic applicable to the indicator (the catalog's own first) whose marker occurs
    there; else the catalog's statistic when it is assumed unstated (a bare PM2.5 浓度 is the
    annual mean); else "unstated". Missing for indicators without statistics (ratios, counts)."""
    stats = comparability()["statistics"]
    own = _catalog_column("statistic")
    indicator_ids = _objects(facts["indicator"])
    out = np.full(len(facts), None, dtype=object)
    for ind in {i for v in stats.values() for i in v["applies_to"]}:
        rows = np.flatnonzero(indicator_ids == ind)
        if not len(rows):
            continue
        mine = own.get(ind, "")
        applicable = sorted((k for k, v in stats.items() if ind in v["applies_to"]), key=lambda k: k != mine)
        # each distinct sentence searched once (a sentence holds five figures or so; the column
        # is categorical in a build), its finding given to every row of it
        sentence_of, text = _distinct_texts(facts, rows)
        found = np.full(len(text), mine if mine and stats.get(mine, {}).get("assumed") else "unstated", dtype=object)
        open_rows = np.ones(len(text), dtype=bool)  # no statistic found yet: the earlier ones win
        for k in applicable:
            said = np.zeros(len(text), dtype=bool)
            for marker in stats[k]["markers"]:
                said |= text.str.contains(marker, regex=False).to_numpy(dtype=bool)
            found[open_rows & said] = k
            open_rows &= ~said
        out[rows] = found[sentence_of]
    return pd.Series(out, index=facts.index, dtype="string")


def _distinct_texts(facts: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, pd.Series]:
    """The distinct sentences of `rows` (a missing one as ""), and for each row the position of
    its sentence among them."""
    if "sentence" not in facts.columns:
        return np.zeros(len(rows), dtype="int64"), pd.Series([""], dtype="string")
    sentence_of, distinct = pd.factorize(facts["sentence"].iloc[rows], use_na_sentinel=False)
    text = pd.Series(np.asarray(distinct, dtype=object), dtype="string").fillna("")
    return sentence_of, text


def inherit_ratio_qualifiers(facts: pd.DataFrame) -> pd.DataFrame:
    """A ratio without a qualifier takes the qualifier of the count it is a ratio of (catalog
    ratio_of) stated before it in the same sentence: 3019件环保督察交办信访事项的办结率98.5% is the
    办结率 of the 环保督察交办 cases, never comparable with another city's hotline 办结率."""
    ratio_of = {k: v for k, v in _catalog_column("ratio_of").items() if v}
    if not ratio_of or "sentence" not in facts.columns:
        return facts
    needs = facts["indicator"].isin(list(ratio_of)) & facts["qualifier"].isna()
    if not needs.any():
        return facts
    ratios = np.flatnonzero(needs.to_numpy(dtype=bool))
    # the counts some ratio is of: only these rows are matched (not every figure's sentence)
    counts = np.flatnonzero(facts["indicator"].isin(set(ratio_of.values())).to_numpy(dtype=bool))
    keys = ["indicator", "doc", "sentence"]
    wanted = pd.DataFrame({"indicator": _objects(facts["indicator"].iloc[ratios].map(ratio_of)),
                           "doc": _objects(facts["doc"].iloc[ratios]), "sentence": _objects(facts["sentence"].iloc[ratios])})
    stated = pd.DataFrame({key: _objects(facts[key].iloc[counts]) for key in keys})
    ratio_codes, count_codes = _codes([wanted, stated], keys, missing_matches=False)
    pairs = _pairs(ratio_codes, count_codes)
    pairs = Pairs(pairs.left, counts[pairs.right])  # the counts' row positions in `facts`
    start = facts["start"].to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        pairs = pairs.where(start[pairs.right] < start[ratios[pairs.left]])
    # the count stated last before the ratio (equal positions: the later row)
    nearest = pd.DataFrame({"ratio": pairs.left, "start": start[pairs.right], "count": pairs.right}).sort_values(
        ["ratio", "start", "count"], kind="stable").drop_duplicates("ratio", keep="last")
    qualifier = facts["qualifier"].copy()
    qualifier.iloc[ratios[nearest["ratio"].to_numpy()]] = facts["qualifier"].array.take(nearest["count"].to_numpy())
    return facts.assign(qualifier=qualifier)


# --- the wide table ---------------------------------------------------------------------------


def _eq(series: pd.Series, value: object) -> pd.Series:
    """series == value as a plain bool mask (missing values are simply not equal)."""
    return series.eq(value).fillna(False).astype(bool)


def compare(
    facts: pd.DataFrame,
    domain: str | Sequence[str] | None = None,
    indicators: Iterable[str] | None = None,
    kind: str | Sequence[str] = "actual",
    year: int | str | None = None,
    period: str | None = "annual",
    notes: bool = True,
) -> Comparison:
    """Facts -> a Comparison: one row per (city, year), one column per indicator.

    kind: one kind or several in order of preference ("actual" never meets "derived" unless you
    ask for both). year: None keeps every year as its own row, an int keeps that year, "latest"
    keeps each city's latest year (rows then differ in year; `rows.latest` marks them). Where
    several facts fill one cell (qualifiers such as 县级及以上 / 农村), the unqualified one wins,
    then the first in its document; `cells.alternatives` counts the others. notes=False: no
    `notes` table (why cells are empty or columns kept apart), for a caller that never shows it.
    """
    return _compare(cell_facts(facts), domain, indicators, kind, year, period, notes)


def _compare(
    facts: pd.DataFrame,
    domain: str | Sequence[str] | None = None,
    indicators: Iterable[str] | None = None,
    kind: str | Sequence[str] = "actual",
    year: int | str | None = None,
    period: str | None = "annual",
    notes: bool = True,
) -> Comparison:
    """`compare` over `cell_facts`: what every comparison of one facts table works out once.
    `notes`: also say why cells are empty or columns apart (for all years of a large corpus a
    table of tens of thousands of rows, most of them naming every sibling column)."""
    if isinstance(year, str) and year != "latest":
        raise ValueError(f"year must be None, a year or 'latest', not {year!r}")
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    candidates = _ranked_candidates(_of_year(_comparable_facts(facts, kinds, domain, indicators, period), year), kinds)
    columns = _column_order(candidates)
    choice = _choose_cells(candidates)
    values = _value_grid(candidates, choice.cells, columns)
    rows = _row_table(values, choice.cells, latest=year == "latest")
    info = _indicator_table(candidates.drop_duplicates(CELL_KEY, keep="first"), columns)
    why = _comparison_notes(candidates, info, choice.conflicts) if notes else None
    return Comparison(values, info, rows, choice.cells, "+".join(kinds), why)


CELL_KEY = ["city", "year", "column"]  # one cell of a comparison


class CellChoice(NamedTuple):
    """The one figure of each cell, and the cells refused for holding different figures."""

    cells: pd.DataFrame  # CELL_COLUMNS
    conflicts: pd.Series  # (city, year, column) -> the different values, sorted


NAME = "_name"  # cell_facts: a fact's column name before any [unit] (see _column_names)


def cell_facts(facts: pd.DataFrame) -> pd.DataFrame:
    """The facts that may fill a cell of some comparison (with an indicator, city, year and value),
    each with its scope, statistic and column name (`NAME`, before any unit); not the long
    sentences. Worked out once per facts table: every comparison of it filters these."""
    keep = facts["indicator"].notna() & facts["city"].notna() & facts["year"].notna() & facts["value"].notna()
    chosen = inherit_ratio_qualifiers(facts).loc[keep]  # ratios look for their count among all the facts
    chosen = chosen.assign(scope=fact_scopes(chosen), statistic=fact_statistics(chosen))
    chosen = chosen.assign(**{NAME: _base_names(chosen)})
    return chosen[[c for c in chosen.columns if c in CELL_COLUMNS or c in INDICATOR_COLUMNS or c == NAME]]


def _comparable_facts(
    facts: pd.DataFrame, kinds: tuple[str, ...], domain: str | Sequence[str] | None,
    indicators: Iterable[str] | None, period: str | None,
) -> pd.DataFrame:
    """The cell facts (`cell_facts`) of the kinds, period, domain and indicators asked for."""
    keep = facts["kind"].isin(kinds)
    if period is not None:
        keep &= _eq(facts["period"], period)
    if domain is not None:
        keep &= facts["domain"].isin([domain] if isinstance(domain, str) else list(domain))
    if indicators is not None:
        keep &= facts["indicator"].isin(list(indicators))
    return facts.loc[keep]


def _of_year(facts: pd.DataFrame, year: int | str | None) -> pd.DataFrame:
    """The rows of one year, of each city's latest year ("latest"), or all (None)."""
    if year == "latest":
        return facts[facts["year"] == facts["city"].map(facts.groupby("city")["year"].max())]
    if year is not None:
        return facts[facts["year"] == int(year)]
    return facts


def _ranked_candidates(facts: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
    """Every candidate figure of every cell, each cell's preferred one first (kind in order of
    preference, then document order), with its `column` and the number of `alternatives`."""
    ranked = facts.assign(
        _kind=facts["kind"].map({k: i for i, k in enumerate(kinds)}),
        column=_column_names(facts),
    ).sort_values(["city", "year", "column", "_kind", "doc", "start"], kind="stable")
    cell = _cell_numbers(ranked)
    return ranked.assign(_cell=cell, alternatives=np.bincount(cell)[cell] - 1)


def _cell_numbers(ranked: pd.DataFrame) -> np.ndarray:
    """0, 1, 2 ... for the cells (CELL_KEY, never missing) of rows sorted by cell."""
    same = np.ones(max(len(ranked) - 1, 0), dtype=bool)  # row k + 1 is in the cell of row k
    for key in CELL_KEY:
        values = ranked[key].to_numpy(dtype=object)
        same &= values[1:] == values[:-1]
    return np.concatenate([np.zeros(min(len(ranked), 1), dtype="int64"), np.cumsum(~same, dtype="int64")])


def _choose_cells(ranked: pd.DataFrame) -> CellChoice:
    """One cell, one figure: several different figures of the preferred kind for one (city, year,
    indicator, scope, statistic) are told apart by words the extraction did not keep; refused."""
    cell = ranked["_cell"].to_numpy(dtype="int64")
    first = np.flatnonzero(np.diff(cell, prepend=-1) != 0)  # each cell's preferred figure (rows sorted by cell, kind)
    kind = ranked["_kind"].to_numpy()
    top = ranked[kind == kind[first][cell]]
    figures = top.assign(_v=top["value"].round(9)).drop_duplicates(["_cell", "_v"])
    clashing = np.bincount(figures["_cell"].to_numpy(dtype="int64"), minlength=len(first)) > 1
    several = clashing[figures["_cell"].to_numpy(dtype="int64")]
    conflicts = _distinct_figures(figures[several])
    chosen = ranked.iloc[first]
    if len(conflicts):
        chosen = chosen[~clashing]
    return CellChoice(chosen[list(CELL_COLUMNS)].astype(CELL_COLUMNS).reset_index(drop=True), conflicts)


def _distinct_figures(figures: pd.DataFrame) -> pd.Series:
    """(city, year, column) -> the cell's different figures, sorted: from one row per figure."""
    ordered = figures.sort_values(["_cell", "_v"], kind="stable")
    cell = ordered["_cell"].to_numpy(dtype="int64")
    first = np.flatnonzero(np.diff(cell, prepend=-1) != 0)
    figures_of = [part.tolist() for part in np.split(ordered["_v"].to_numpy(dtype="float64"), first[1:])] if len(first) else []
    return pd.Series(figures_of, index=pd.MultiIndex.from_frame(ordered[CELL_KEY].iloc[first]), dtype="object")


def _value_grid(ranked: pd.DataFrame, cells: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The wide table: a row per (city, year) with any candidate, a float column per column name."""
    index = pd.MultiIndex.from_frame(
        ranked[ROW_INDEX].drop_duplicates().astype({"city": "string", "year": "Int64"}).sort_values(ROW_INDEX)
    )
    grid = np.full((len(index), len(columns)), np.nan, dtype="float64")
    at_row = index.get_indexer(pd.MultiIndex.from_frame(cells[ROW_INDEX]))
    at_column = pd.Index(columns, dtype="object").get_indexer(cells["column"].astype("object"))
    grid[at_row, at_column] = cells["value"].to_numpy(dtype="float64")
    return pd.DataFrame(grid, index=index, columns=pd.Index(columns, dtype="object", name="indicator"))


def _row_table(values: pd.DataFrame, cells: pd.DataFrame, latest: bool) -> pd.DataFrame:
    """Per row: picked as a city's latest year, how many indicators it has, its documents."""
    named = cells[cells["doc"].notna().to_numpy(dtype=bool)]
    row = values.index.get_indexer(pd.MultiIndex.from_frame(named[ROW_INDEX]))
    doc, names = pd.factorize(named["doc"].to_numpy(dtype=object), sort=True)  # codes in the order of sorted names
    pairs = np.unique(np.stack([row, doc]), axis=1) if len(named) else np.zeros((2, 0), dtype="int64")
    docs = [""] * len(values)
    for at, group in zip(*np.unique(pairs[0], return_index=True), strict=True):
        end = np.searchsorted(pairs[0], at, side="right")
        docs[at] = ";".join(names[pairs[1][group:end]])
    return pd.DataFrame(
        {
            "latest": pd.array([latest] * len(values), dtype="boolean"),
            "indicators": pd.array(values.notna().sum(axis=1).to_numpy(), dtype="Int64"),
            "docs": pd.array(docs, dtype="string"),
        },
        index=values.index,
    )


def _comparison_notes(f: pd.DataFrame, info: pd.DataFrame, conflicts: pd.Series) -> pd.DataFrame:
    """Why cells are empty or columns kept apart: different figures for one cell, one indicator
    in several scopes or statistics, scale-dependent counts."""
    keys = list(conflicts.index)
    rows = {
        "column": [column for _, _, column in keys],
        "indicator": [column.split(" ")[0] for _, _, column in keys],
        "city": [city for city, _, _ in keys],
        "year": [year for _, year, _ in keys],
        "reason": [f"{len(vals)} different figures ({', '.join(_fmt_number(v) for v in vals)}) for one cell: "
                   "the report tells them apart in words not kept as a qualifier; not compared" for vals in conflicts],
    }
    scale_rows = []
    for col, ind in zip(info["column"], info["indicator"], strict=True):
        if scale_dependent(ind):
            scale_rows.append({"column": col, "indicator": ind, "city": None, "year": None,
                               "reason": "scale-dependent count: grows with a city's size, so never ranked, scored or "
                                         "benchmarked across cities raw"})
    parts = [pd.DataFrame(r, columns=list(NOTE_COLUMNS)).astype(NOTE_COLUMNS)
             for r in (rows, _split_column_notes(f, info), scale_rows)]
    return pd.concat(parts, ignore_index=True).astype(NOTE_COLUMNS)


def _split_column_notes(f: pd.DataFrame, info: pd.DataFrame) -> pd.DataFrame:
    """A note for each (column, city, year) of an indicator kept in several columns (another
    qualifier or statistic): columns in table order, rows in the facts' order."""
    others: dict[str, tuple[str, str]] = {}  # column -> its indicator, its sibling columns
    for ind, cols in info.groupby("indicator", sort=False)["column"].agg(list).items():
        if len(cols) > 1:
            others.update({col: (ind, ", ".join(c for c in cols if c != col)) for col in cols})
    who = f.loc[f["column"].isin(list(others)).to_numpy(dtype=bool), ["column", "city", "year"]].drop_duplicates()
    column = who["column"].astype("object")
    who = who.assign(_at=column.map({col: k for k, col in enumerate(others)})).sort_values("_at", kind="stable")
    column = who["column"].astype("object")
    reasons = {col: "different qualifier or statistic from " + siblings + ": kept in its own column, never compared "
               "with them" for col, (_, siblings) in others.items()}
    return pd.DataFrame({
        "column": column.to_numpy(),
        "indicator": column.map({col: ind for col, (ind, _) in others.items()}).to_numpy(dtype=object),
        "city": who["city"].to_numpy(dtype=object),
        "year": who["year"].to_numpy(dtype=object),
        "reason": column.map(reasons).to_numpy(dtype=object),
    }, columns=list(NOTE_COLUMNS))


def _fmt_number(v: float) -> str:
    return f"{v:g}"


def _column_names(f: pd.DataFrame) -> pd.Series:
    """Indicator id, then in parentheses its scope and a statistic other than the catalog's
    (`gov.petitions (环保督察交办)`, `air.o3 (annual mean)`); `[unit]` only where one indicator
    comes in several units (changes)."""
    units = f.groupby("indicator")["unit"].nunique()
    several = (f["indicator"].map(units).fillna(0) > 1).to_numpy(dtype=bool)
    base = _objects(f[NAME] if NAME in f.columns else _base_names(f))
    unit = _objects(f["unit"], "?")
    names = [name + f" [{u}]" if many else name for name, u, many in zip(base, unit, several, strict=True)]
    return pd.Series(names, index=f.index, dtype="string")


def _base_names(f: pd.DataFrame) -> pd.Series:
    """Column names without a unit: the indicator id, then its scope and a statistic other than
    the catalog's in parentheses."""
    own = _catalog_column("statistic")
    known: dict[tuple[object, object, object], str] = {}  # each (indicator, scope, statistic) named once
    names = []
    for key in zip(_objects(f["indicator"]), _objects(f["scope"], ""), _objects(f["statistic"]), strict=True):
        name = known.get(key)
        if name is None:
            ind, scope, stat = key
            tags = [scope] if scope else []
            if isinstance(stat, str) and stat != own.get(ind, ""):
                tags.append(statistic_name(stat) or stat)
            name = known[key] = ind + (f" ({'; '.join(tags)})" if tags else "")
        names.append(name)
    return pd.Series(names, index=f.index, dtype="string")


def _column_order(chosen: pd.DataFrame) -> list[str]:
    """Columns in catalog order (then by name)."""
    first = chosen.drop_duplicates("column")
    ind_of = dict(zip(first["column"], first["indicator"]))
    return in_catalog_order(ind_of, indicator_of=ind_of.__getitem__)


def _indicator_table(chosen: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    cat = catalog().drop_duplicates("id").set_index("id")[["name_zh", "name_en"]]
    first = chosen.drop_duplicates("column").set_index("column").reindex(columns)
    names = cat.reindex(first["indicator"].to_numpy())
    table = pd.DataFrame(
        {
            "column": columns,
            "indicator": first["indicator"].to_numpy(),
            "name_zh": names["name_zh"].to_numpy(),
            "name_en": names["name_en"].to_numpy(),
            "domain": first["domain"].to_numpy(),
            "unit": first["unit"].to_numpy(),
            "direction": first["direction"].to_numpy(),
            "qualifier": first["scope"].replace({"": None}).to_numpy() if "scope" in first else None,
            "statistic": first["statistic"].to_numpy() if "statistic" in first else None,
            "scale_dependent": [scale_dependent(i) for i in first["indicator"]],
        },
        columns=list(INDICATOR_COLUMNS),
    )
    return table.astype(INDICATOR_COLUMNS)


def indicator_info(ids: Iterable[str]) -> pd.DataFrame:
    """Catalog rows (names, domain, unit, direction) for indicator ids, as a companion table."""
    cat = catalog().set_index("id")
    rows = [
        {"column": i, "indicator": i, **{k: cat.loc[i, k] if i in cat.index else None
                                          for k in ("name_zh", "name_en", "domain", "unit", "direction")},
         "qualifier": None, "statistic": (cat.loc[i, "statistic"] or None) if i in cat.index and "statistic" in cat else None,
         "scale_dependent": scale_dependent(i)}
        for i in ids
    ]
    return pd.DataFrame(rows, columns=list(INDICATOR_COLUMNS)).astype(INDICATOR_COLUMNS)


# --- ranks, scores, composites ----------------------------------------------------------------


def _matrix(table: Comparison | pd.DataFrame, directions: Mapping[str, str] | None) -> Matrix:
    """The numeric table and a direction per column (given, the Comparison's, or the catalog's)."""
    if isinstance(table, Comparison):
        values, dirs = table.values, table.directions
    else:
        values = table
        cat = catalog().set_index("id")["direction"]
        dirs = pd.Series({c: cat.get(str(c).split(" ")[0], "neutral") for c in values.columns}, dtype="object")
    if directions is not None:
        dirs = pd.Series({c: directions.get(c, dirs.get(c, "neutral")) for c in values.columns}, dtype="object")
    return Matrix(values.astype("float64"), dirs.reindex(values.columns).fillna("neutral"))


def rank(
    table: Comparison | pd.DataFrame,
    directions: Mapping[str, str] | None = None,
    within_year: bool = False,
) -> pd.DataFrame:
    """Rank per indicator, 1 = best given its direction (ties share the best rank; neutral and
    scale-dependent counts: NA).

    Ranks run over all rows given; within_year=True ranks each year's rows separately.
    """
    values, dirs = _matrix(table, directions)
    out = {}
    for col in values.columns:
        if dirs[col] not in BETTER or scale_dependent(col):
            out[col] = pd.array([pd.NA] * len(values), dtype="Int64")
            continue
        asc = dirs[col] == "lower_better"
        series = values[col]
        r = series.groupby(level="year").rank(method="min", ascending=asc) if within_year else series.rank(
            method="min", ascending=asc
        )
        out[col] = r.astype("Int64").array
    return pd.DataFrame(out, index=values.index, columns=values.columns)


def scores(table: Comparison | pd.DataFrame, directions: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Min-max scores in [0, 1], 1 = best given the direction; neutral indicators are NaN.

    A column whose rows are all equal scores 1 for everyone (nobody is worse); a column with
    fewer than two values is NaN (nothing to compare against), and so is a scale-dependent count.
    """
    values, dirs = _matrix(table, directions)
    out = pd.DataFrame(index=values.index, columns=values.columns, dtype="float64")
    for col in values.columns:
        x = values[col]
        if dirs[col] not in BETTER or scale_dependent(col):
            continue
        lo, hi = x.min(), x.max()
        if x.notna().sum() < 2:
            continue
        if hi == lo:
            out[col] = x.where(x.isna(), 1.0)
        elif dirs[col] == "higher_better":
            out[col] = (x - lo) / (hi - lo)
        else:
            out[col] = (hi - x) / (hi - lo)
    return out.astype("float64")


def entropy_weights(score_matrix: pd.DataFrame) -> pd.Series:
    """Entropy-weight method on a complete matrix of min-max scores (rows = cities).

    p_ij = s_ij / sum_i s_ij; e_j = -sum_i p_ij ln p_ij / ln n (0 ln 0 = 0); w_j = (1 - e_j) / sum (1 - e).
    Columns with more spread between cities get more weight; if no column varies, weights are equal.
    """
    s = score_matrix.astype("float64")
    n, m = s.shape
    if m == 0:
        return pd.Series(dtype="float64")
    if n < 2:
        return pd.Series(1.0 / m, index=s.columns, dtype="float64")
    sums = s.sum(axis=0)
    p = s.div(sums.where(sums != 0), axis=1).fillna(1.0 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -plogp.sum(axis=0) / math.log(n)
    d = pd.Series(1.0 - e, index=s.columns, dtype="float64").clip(lower=0.0)
    if d.sum() <= 0:
        return pd.Series(1.0 / m, index=s.columns, dtype="float64")
    return (d / d.sum()).astype("float64")


def composite(
    table: Comparison | pd.DataFrame,
    method: str = "equal",
    directions: Mapping[str, str] | None = None,
    topsis_weights: str = "equal",
    min_cities: int | None = None,
) -> Composite:
    """A composite score per row over the indicators every row has (and that have a direction).

    method: "equal" (mean of min-max scores), "entropy" (entropy-weighted min-max scores) or
    "topsis" (closeness to the ideal row on vector-normalised values, weighted "equal" or
    "entropy"). Higher is better; `rank` 1 = best. `weights` lists the indicators used,
    `dropped` says why the others were left out.

    Guard: computed only over rows of one year from at least `min_cities` different cities
    (default data/comparability.yaml min_cities, 5) and at least two indicators every one of
    them reports like for like (scale-dependent counts never count). Otherwise every score is
    missing and `reason` says why in one line.
    """
    if method not in ("equal", "entropy", "topsis"):
        raise ValueError(f"method must be 'equal', 'entropy' or 'topsis', not {method!r}")
    values, dirs = _matrix(table, directions)
    need = min_cities if min_cities is not None else default_min_cities()
    columns = _composite_columns(values, dirs)
    reason = _composite_refusal(values, columns.used, need)
    if reason is not None:
        result = CompositeScores(pd.Series(np.nan, index=values.index, dtype="float64"), pd.Series(dtype="float64"), {})
        columns.dropped.update({col: "not computed (see note)" for col in columns.used})
    else:
        result = _composite_scores(values[columns.used], dirs[columns.used], method, topsis_weights)
    frame = pd.DataFrame({"score": result.score.astype("float64")}, index=values.index)
    for k, v in result.extra.items():
        frame[k] = v.astype("float64")
    frame["rank"] = frame["score"].rank(method="min", ascending=False).astype("Int64")
    dropped = pd.Series(columns.dropped, dtype="string")
    dropped.index.name = "indicator"
    weights = result.weights
    weights.index.name = "indicator"
    return Composite(method, frame, weights.astype("float64"), dropped, reason)


class Matrix(NamedTuple):
    """A numeric table and a direction per column."""

    values: pd.DataFrame
    directions: pd.Series


class CompositeColumns(NamedTuple):
    """The columns a composite uses, and why each of the others is left out."""

    used: list[str]
    dropped: dict[str, str]


class CompositeScores(NamedTuple):
    """A composite's score per row, the weight of each indicator, and any further measures (TOPSIS
    distances) by name."""

    score: pd.Series
    weights: pd.Series
    extra: dict[str, pd.Series]


def _composite_columns(values: pd.DataFrame, dirs: pd.Series) -> CompositeColumns:
    """Indicators with a direction, not scale-dependent, reported by every row."""
    dropped: dict[str, str] = {}
    used = []
    for col in values.columns:
        missing = values.index[values[col].isna()]
        if dirs[col] not in BETTER:
            dropped[col] = "no direction (neutral)"
        elif scale_dependent(col):
            dropped[col] = "scale-dependent count: not comparable across cities raw"
        elif len(missing):
            dropped[col] = "missing for " + ", ".join(" ".join(str(k) for k in (row if isinstance(row, tuple) else (row,)))
                                                      for row in missing)
        else:
            used.append(col)
    return CompositeColumns(used, dropped)


def _composite_scores(values: pd.DataFrame, dirs: pd.Series, method: str, topsis_weights: str) -> CompositeScores:
    """Scores of a composite over complete columns: equal or entropy weights of min-max scores,
    or TOPSIS closeness (weighted equally or by entropy)."""
    used = list(values.columns)
    score_matrix = scores(values, dict(dirs))
    equal = pd.Series(1.0 / len(used), index=used, dtype="float64")
    if method == "equal":
        return CompositeScores((score_matrix * equal).sum(axis=1), equal, {})
    if method == "entropy":
        weights = entropy_weights(score_matrix)
        return CompositeScores((score_matrix * weights).sum(axis=1), weights, {})
    weights = entropy_weights(score_matrix) if topsis_weights == "entropy" else equal
    closeness = _topsis(values, dirs, weights)
    return CompositeScores(closeness.closeness, weights, {"d_best": closeness.d_best, "d_worst": closeness.d_worst})


def _composite_refusal(values: pd.DataFrame, used: list[str], need: int) -> str | None:
    """One line saying why no composite may be computed over these rows, or None."""
    names = values.index.names
    years = sorted(set(values.index.get_level_values("year").dropna())) if "year" in names else []
    cities = values.index.get_level_values("city").nunique() if "city" in names else len(values)
    if len(years) > 1:
        return (f"rows from different years ({', '.join(str(int(y)) for y in years)}): a composite needs one year's "
                f"set of at least {need} cities")
    if cities < need or len(values) < 2:
        return (f"only {cities} {'city' if cities == 1 else 'cities'}"
                + (f" in {int(years[0])}" if years else "")
                + f": a composite needs at least {need} same-year cities (with fewer, min-max scores are 0 or 1 and "
                  "entropy weights degenerate)")
    least = int(comparability()["min_indicators"])
    if len(used) < least:
        return (f"{len(used)} indicator(s) reported like for like by every city: a composite needs at least {least}")
    return None


class Topsis(NamedTuple):
    """TOPSIS per row: closeness to the ideal, and the distances to the best and the worst."""

    closeness: pd.Series
    d_best: pd.Series
    d_worst: pd.Series


def _topsis(values: pd.DataFrame, dirs: pd.Series, w: pd.Series) -> Topsis:
    """TOPSIS: r = x / ||x||, v = w r; closeness = D- / (D+ + D-) against the ideal best and worst."""
    norms = np.sqrt((values**2).sum(axis=0))
    v = values.div(norms.where(norms != 0), axis=1).fillna(0.0) * w
    higher = dirs == "higher_better"
    best = v.max().where(higher, v.min())
    worst = v.min().where(higher, v.max())
    d_best = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_worst = np.sqrt(((v - worst) ** 2).sum(axis=1))
    total = d_best + d_worst
    closeness = (d_worst / total.where(total != 0)).fillna(1.0)
    return Topsis(closeness, d_best, d_worst)


# --- targets ----------------------------------------------------------------------------------

_OPS = (">=", ">", "<=", "<", "=")  # comparators a target can state; see _judge_all

TARGET_COLUMNS = {
    "city": "string",
    "year": "Int64",
    "period": "string",
    "indicator": "string",
    "name_zh": "string",
    "domain": "string",
    "unit": "string",
    "direction": "string",
    "comparator": "string",
    "comparator_inferred": "boolean",
    "target": "float64",
    "actual": "float64",
    "gap": "float64",
    "status": "string",
    "target_qualifier": "string",
    "actual_qualifier": "string",
    "alternatives": "Int64",
    "target_doc": "string",
    "target_start": "Int64",
    "target_end": "Int64",
    "target_evidence": "string",
    "actual_doc": "string",
    "actual_start": "Int64",
    "actual_end": "Int64",
    "actual_evidence": "string",
}
BENCHMARK_COLUMNS = {
    "city": "string",
    "actual_year": "Int64",
    "target_city": "string",
    "target_year": "Int64",
    **{k: v for k, v in TARGET_COLUMNS.items() if k not in ("city", "year")},
}


def judge(actual: float, target: float, comparator: str) -> str:
    """'met' or 'not met' for actual against target under comparator (>=, >, <=, <, =)."""
    if comparator not in _OPS:
        raise ValueError(f"unknown comparator {comparator!r}")
    return str(_judge_all(np.array([actual]), np.array([target]), np.array([comparator], dtype=object))[0])


def _isclose(a: np.ndarray, b: np.ndarray | float, abs_tol: float = 0.0, rel_tol: float = 1e-9) -> np.ndarray:
    """math.isclose element by element: infinities are close only to themselves, NaN to nothing."""
    a = np.asarray(a, dtype="float64")
    b = np.broadcast_to(np.asarray(b, dtype="float64"), a.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(b - a)
        near = (diff <= np.abs(rel_tol * b)) | (diff <= np.abs(rel_tol * a)) | (diff <= abs_tol)
        return (a == b) | (np.isfinite(a) & np.isfinite(b) & near)


def _judge_all(actual: np.ndarray, target: np.ndarray, comparator: np.ndarray) -> np.ndarray:
    """`judge` for arrays of actuals, targets and comparators (each one of _OPS): equal within
    1e-9 (math.isclose) meets >=, <= and = and fails > and <."""
    a = np.asarray(actual, dtype="float64")
    t = np.asarray(target, dtype="float64")
    close = _isclose(a, t, abs_tol=1e-9)
    with np.errstate(invalid="ignore"):
        ops = {">=": (a >= t) | close, ">": (a > t) & ~close, "<=": (a <= t) | close, "<": (a < t) & ~close, "=": close}
    met = np.select([comparator == op for op in ops], list(ops.values()), default=False)
    return np.where(met, "met", "not met").astype(object)


class Comparators(NamedTuple):
    """Each target's comparator, and whether it was inferred from the direction (none stated)."""

    comparator: np.ndarray
    inferred: np.ndarray


def _comparators(targets: pd.DataFrame) -> Comparators:
    given = targets["comparator"].isin(_OPS).to_numpy(dtype=bool)
    stated = _objects(targets["comparator"])
    default = [default_comparator(d) or "=" for d in _objects(targets["direction"])]
    return Comparators(np.where(given, stated, np.array(default, dtype=object)), ~given)


def _objects(series: pd.Series, missing: object = None) -> np.ndarray:
    """The values as a numpy object array, missing values (NA, NaN, None) as `missing`."""
    return series.to_numpy(dtype=object, na_value=missing)


def _codes(frames: Sequence[pd.DataFrame], keys: Sequence[str], missing_matches: bool = True) -> list[np.ndarray]:
    """One integer per row of each frame, equal for rows with equal values on keys.

    missing_matches: a missing value (None, NA, NaN) equals another missing value; otherwise a
    row with a missing key value gets a negative code that matches no row of another frame.
    """
    both = pd.concat([f[list(keys)] for f in frames], ignore_index=True)
    codes = both.groupby(list(keys), dropna=False, sort=False).ngroup().to_numpy(dtype="int64")
    if not missing_matches:
        frame_no = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
        codes = np.where(both.notna().all(axis=1).to_numpy(dtype=bool), codes, -1 - frame_no)
    return np.split(codes, np.cumsum([len(f) for f in frames])[:-1])


class Pairs(NamedTuple):
    """Row positions of matched rows of two tables: left[k] goes with right[k]."""

    left: np.ndarray
    right: np.ndarray

    def where(self, keep: np.ndarray) -> Pairs:
        """The pairs where `keep` is true."""
        return Pairs(self.left[keep], self.right[keep])


def _pairs(left: np.ndarray, right: np.ndarray) -> Pairs:
    """Positions (i, j) of every left[i] == right[j], ordered by i, then j."""
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    lo = np.searchsorted(ordered, left, side="left")
    counts = np.searchsorted(ordered, left, side="right") - lo
    i = np.repeat(np.arange(len(left)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return Pairs(i, order[np.repeat(lo, counts) + within])


PROVENANCE = ("doc", "start", "end", "evidence")  # where a fact was read: its document and raw-text span


def _provenance(rows: pd.DataFrame, prefix: str, fields: Sequence[str] = PROVENANCE) -> dict[str, pd.Series]:
    """The provenance columns of `rows` under a prefix (target_doc, target_start ...), for a table
    that puts two facts side by side."""
    return {f"{prefix}{name}": rows[name] for name in fields}


class Pairing(NamedTuple):
    """The actual chosen for each target: positions in the targets and actuals tables (actual -1:
    none), and how many other actuals were candidates."""

    target: np.ndarray
    actual: np.ndarray
    alternatives: np.ndarray


def _match_targets(
    targets: pd.DataFrame, actuals: pd.DataFrame, keys: list[str], inner: bool, per_city: bool = False
) -> pd.DataFrame:
    """Pair each target with one actual on keys (a missing key value equals a missing one): the
    same qualifier first, then document order (doc, start, then table order); `alternatives`
    counts the other candidates. inner=False keeps targets without an actual ("no actual yet").

    per_city: one pairing per target and city of the actuals, never the target's own city
    (benchmark). Rows run in target order (per_city: within each city of the actuals).
    """
    # like for like: a target is judged only by an actual of the same scope (县级及以上 by
    # 县级及以上, never by 农村 or 乡镇级)
    targets = targets.reset_index(drop=True)
    targets = targets.assign(_scope=fact_scopes(targets))
    actuals = actuals.reset_index(drop=True)
    actuals = actuals.assign(_scope=fact_scopes(actuals))
    keys = [*keys, "_scope"]
    pairing = _first_candidates(targets, actuals, _candidates(targets, actuals, keys, per_city), per_city)
    if not inner:
        pairing = _with_unmatched_targets(pairing, len(targets))
    chosen_targets = targets.take(pairing.target).reset_index(drop=True)
    chosen_actuals = actuals.reindex(pairing.actual).reset_index(drop=True)  # -1: no actual, every column missing
    comparators = _comparators(chosen_targets)
    target = chosen_targets["value"].to_numpy(dtype="float64")
    actual = chosen_actuals["value"].to_numpy(dtype="float64", na_value=np.nan)
    found = pairing.actual >= 0
    status = _target_status(target, actual, comparators.comparator, found)
    if not inner:
        status = _mark_other_scopes(status, chosen_targets, actuals, found, keys)
    return pd.DataFrame(
        {
            "city": chosen_targets["city"],
            "year": chosen_targets["year"],
            "period": chosen_targets["period"],
            "indicator": chosen_targets["indicator"],
            "name_zh": chosen_targets["indicator"].map(catalog().set_index("id")["name_zh"]),
            "domain": chosen_targets["domain"],
            "unit": chosen_targets["unit"],
            "direction": chosen_targets["direction"],
            "comparator": comparators.comparator,
            "comparator_inferred": comparators.inferred,
            "target": target,
            "actual": actual,
            "gap": [round(g, 9) for g in (actual - target).tolist()],
            "status": status,
            "target_qualifier": chosen_targets["qualifier"],
            "actual_qualifier": chosen_actuals["qualifier"],
            "alternatives": pairing.alternatives,
            **_provenance(chosen_targets, "target_"),
            **_provenance(chosen_actuals, "actual_"),
            "actual_city": chosen_actuals["city"],
            "actual_year": chosen_actuals["year"],
        },
        index=pd.RangeIndex(len(chosen_targets)),
    )


def _candidates(targets: pd.DataFrame, actuals: pd.DataFrame, keys: list[str], per_city: bool) -> Pairs:
    """Every (target, actual) equal on keys; per_city: never an actual of the target's own city."""
    target_codes, actual_codes = _codes([targets, actuals], keys)
    pairs = _pairs(target_codes, actual_codes)
    if per_city:  # another city's targets only
        actual_city, target_city = _objects(actuals["city"])[pairs.right], _objects(targets["city"])[pairs.left]
        pairs = pairs.where(~((actual_city == target_city) & pd.notna(actual_city)))
    return pairs


def _first_candidates(targets: pd.DataFrame, actuals: pd.DataFrame, pairs: Pairs, per_city: bool) -> Pairing:
    """For each target (and city of the actuals, per_city) the first candidate: the same qualifier
    first, then document order; the number of the others."""
    city = _codes([actuals], ["city"])[0] if per_city else np.zeros(len(actuals), dtype="int64")
    same = _objects(targets["qualifier"].fillna(""))[pairs.left] == _objects(actuals["qualifier"].fillna(""))[pairs.right]
    ranked = pd.DataFrame(
        {
            "_t": pairs.left,
            "_city": city[pairs.right],
            "_other": (~same).astype("int64"),
            "doc": actuals["doc"].array.take(pairs.right),
            "start": actuals["start"].array.take(pairs.right),
            "_a": pairs.right,
        }
    ).sort_values(["_t", "_city", "_other", "doc", "start", "_a"], kind="stable")
    size = ranked.groupby(["_t", "_city"], sort=False)["_a"].transform("size").to_numpy()
    first = ~ranked.duplicated(["_t", "_city"]).to_numpy()
    return Pairing(ranked["_t"].to_numpy()[first], ranked["_a"].to_numpy()[first], size[first] - 1)


def _with_unmatched_targets(pairing: Pairing, targets: int) -> Pairing:
    """Every target, in target order: those without an actual get actual -1 and no alternatives."""
    lone = np.setdiff1d(np.arange(targets), pairing.target)
    target = np.concatenate([pairing.target, lone])
    order = np.argsort(target, kind="stable")
    return Pairing(
        target[order],
        np.concatenate([pairing.actual, np.full(len(lone), -1)])[order],
        np.concatenate([pairing.alternatives, np.zeros(len(lone), dtype=pairing.alternatives.dtype)])[order],
    )


def _target_status(target: np.ndarray, actual: np.ndarray, comparator: np.ndarray, found: np.ndarray) -> np.ndarray:
    """met / not met for a target with its actual (under its comparator), else no actual yet."""
    return np.where(found, _judge_all(actual, target, comparator), "no actual yet")


def _mark_other_scopes(status: np.ndarray, chosen_targets: pd.DataFrame, actuals: pd.DataFrame, found: np.ndarray,
                       keys: list[str]) -> np.ndarray:
    """A target without an actual whose city reports the indicator for another scope only: no
    actual of this qualifier (not simply no actual yet)."""
    if found.all():
        return status
    plain = [k for k in keys if k != "_scope"]
    target_any, actual_any = _codes([chosen_targets, actuals], plain)
    return np.where(np.isin(target_any, actual_any) & ~found, "no actual of this qualifier", status)


def targets_vs_actuals(facts: pd.DataFrame) -> pd.DataFrame:
    """Each target joined with the same city's actual for its indicator, year and period.

    status: met / not met / no actual yet / no actual of this qualifier (the city reports the
    indicator, but for another scope: 农村 is not 县级及以上), honouring the target's comparator (a
    target without one reads >= when higher is better, <= when lower is better:
    `comparator_inferred`). Target and actual always share their qualifier's scope.
    gap = actual - target in the indicator's unit (positive: above the target).
    """
    targets = facts[_eq(facts["kind"], "target") & facts["indicator"].notna()]
    actuals = facts[_eq(facts["kind"], "actual") & facts["indicator"].notna()]
    keys = ["city", "year", "period", "indicator", "unit"]
    out = _match_targets(targets, actuals, keys, inner=False)[list(TARGET_COLUMNS)].astype(TARGET_COLUMNS)
    return out.sort_values(["city", "year", "indicator", "target_start"], kind="stable").reset_index(drop=True)


MAX_PAIRWISE_CITIES = 30


def all_pairs_benchmark(facts: pd.DataFrame) -> pd.DataFrame:
    """`benchmark` for every pair of cities when at most MAX_PAIRWISE_CITIES report actuals (a
    view for comparing a handful of cities); for a national corpus, ask for the pairs you want
    with benchmark(facts, city=..., against=...)."""
    cities = facts.loc[_eq(facts["kind"], "actual") & facts["indicator"].notna(), "city"].dropna().unique()
    if len(cities) > MAX_PAIRWISE_CITIES:
        return benchmark(facts.iloc[0:0])
    return benchmark(facts)


def benchmark(
    facts: pd.DataFrame,
    city: str | None = None,
    against: str | None = None,
    same_year: bool = True,
) -> pd.DataFrame:
    """One city's actuals against another city's targets (None: every pair of different cities).

    Only pairs where the city has an actual for the target's indicator, period and scope
    (qualifier) are listed, one per target scope (a target stated twice counts once);
    scale-dependent counts are never benchmarked (a county-level city's 13 outfalls say nothing
    of a provincial capital's 128). same_year=False takes the city's latest actual whatever the
    target's year (see the years).
    """
    counts = {i for i in pd.unique(facts["indicator"].dropna()) if scale_dependent(i)}
    usable = facts["indicator"].notna() & facts["city"].notna() & ~facts["indicator"].isin(list(counts)).astype(bool)
    targets = facts[_eq(facts["kind"], "target") & usable]
    targets = targets.assign(_s=fact_scopes(targets)).drop_duplicates(
        ["city", "year", "period", "indicator", "unit", "_s"]).drop(columns="_s")
    actuals = facts[_eq(facts["kind"], "actual") & usable]
    if against is not None:
        targets = targets[_eq(targets["city"], against)]
    if city is not None:
        actuals = actuals[_eq(actuals["city"], city)]
    if not same_year:  # each city's latest actual per indicator and period
        latest = actuals.groupby(["city", "indicator", "period"])["year"].transform("max")
        actuals = actuals[actuals["year"] == latest]
    keys = ["year", "period", "indicator", "unit"] if same_year else ["period", "indicator", "unit"]
    pairs = _match_targets(targets, actuals, keys, inner=True, per_city=True)
    out = pairs.drop(columns=["city", "year"]).rename(columns={"actual_city": "city"})
    out = out.assign(target_city=pairs["city"], target_year=pairs["year"])
    out = out[list(BENCHMARK_COLUMNS)].astype(BENCHMARK_COLUMNS)
    return out.sort_values(["city", "target_city", "indicator", "target_start"], kind="stable").reset_index(drop=True)


# --- implied previous year --------------------------------------------------------------------

DERIVED_EXTRA = {
    "change": "float64",
    "change_unit": "string",
    "formula": "string",
    "value_start": "Int64",
    "value_end": "Int64",
    "value_evidence": "string",
    "change_start": "Int64",
    "change_end": "Int64",
    "change_evidence": "string",
    "decimals": "Int64",
    "value_low": "float64",
    "value_high": "float64",
}


def derive_previous_year(facts: pd.DataFrame) -> pd.DataFrame:
    """Values implied by a stated value and its change: kind="derived", one year earlier.

    A value pairs with a change of the same document, city, year, indicator, qualifier and period
    (a change against a named year, 较2020年, gives that year). start/end/evidence are empty: the
    two source facts are in value_start/value_end and change_start/change_end (same document).
    Keep these rows apart from stated facts unless you mean to mix them (compare(kind=...)).
    """
    usable = facts["indicator"].notna() & facts["year"].notna() & facts["value"].notna()
    values = facts[usable & _eq(facts["kind"], "actual")].reset_index(drop=True)
    changes = facts[usable & _eq(facts["kind"], "change")].reset_index(drop=True)
    bases = _change_bases(changes)
    pairs = _derivable(values, changes, _nearest_values(values, changes, bases.period))
    value = values.take(pairs.value).reset_index(drop=True)
    change = changes.take(pairs.change).reset_index(drop=True)
    derived = _derive(value, change, pairs.relative)
    return _derived_table(value, change, bases.year[pairs.change], pairs.relative, derived)


class ChangeBases(NamedTuple):
    """What each change is measured against: the period and the year of the value it implies."""

    period: np.ndarray
    year: np.ndarray


class ValueChanges(NamedTuple):
    """Stated values (positions in the values) and their changes (positions in the changes), and
    whether each change is relative (a % change) or a difference in the value's unit."""

    value: np.ndarray
    change: np.ndarray
    relative: np.ndarray


class Derivation(NamedTuple):
    """Derived values rounded to the precision of their inputs, and the range the inputs imply."""

    value: np.ndarray
    low: list[float]
    high: list[float]
    decimals: np.ndarray


def _change_bases(changes: pd.DataFrame) -> ChangeBases:
    """A change against a named year (comparability.yaml base_year_period: 较2020年) -> annual,
    that year; any other change -> its own period, a year before."""
    base_year = re.compile(comparability()["base_year_period"])
    bases = [base_year.match(str(p)) for p in _objects(changes["period"], "<NA>")]
    period = np.array(["annual" if b else p for b, p in zip(bases, _objects(changes["period"]), strict=True)], dtype=object)
    year = np.array([int(b.group(1)) if b else int(y) - 1 for b, y in zip(bases, changes["year"].tolist(), strict=True)],
                    dtype=object)
    return ChangeBases(period, year)


def _nearest_values(values: pd.DataFrame, changes: pd.DataFrame, base_period: np.ndarray) -> Pairs:
    """Each change's value (Pairs: left the change, right the value): same document, city,
    indicator, qualifier, year and base period; the nearest before the change, then the nearest
    after it, then table order."""
    change_codes, value_codes = _codes([changes, values], ["doc", "city", "indicator", "qualifier", "year"])
    pairs = _pairs(change_codes, value_codes)
    same_period = (_objects(values["period"])[pairs.right] == base_period[pairs.left]) & pd.notna(base_period[pairs.left])
    pairs = pairs.where(same_period)
    distance = values["start"].to_numpy(dtype="float64", na_value=np.nan)[pairs.right] - changes["start"].to_numpy(
        dtype="float64", na_value=np.nan)[pairs.left]
    with np.errstate(invalid="ignore"):
        ranked = pd.DataFrame({"_c": pairs.left, "_after": (distance > 0).astype("int64"), "_d": np.abs(distance),
                               "_a": pairs.right})
    best = ranked.sort_values(["_c", "_after", "_d", "_a"], kind="stable").drop_duplicates("_c")
    return Pairs(best["_c"].to_numpy(), best["_a"].to_numpy())


def _derivable(values: pd.DataFrame, changes: pd.DataFrame, pairs: Pairs) -> ValueChanges:
    """The pairs a previous value follows from: a % change -> v / (1 + c/100) (not for -100%);
    percentage points of a % value, or a change in the value's own unit -> v - c; any other
    pairing of units derives nothing."""
    change = changes["value"].to_numpy(dtype="float64")[pairs.left]
    unit, change_unit = _objects(values["unit"], "<NA>")[pairs.right], _objects(changes["unit"], "<NA>")[pairs.left]
    relative = change_unit == "%"
    same_unit = ((change_unit == "pp") & (unit == "%")) | (change_unit == unit)
    keep = np.where(relative, ~_isclose(change, -100.0), same_unit)
    return ValueChanges(pairs.right[keep], pairs.left[keep], relative[keep])


def _derive(value: pd.DataFrame, change: pd.DataFrame, relative: np.ndarray) -> Derivation:
    """The previous value of each (value, change) row pair. A stated figure stands for the interval
    its last digit allows (38 -> 37.5..38.5; 5.4% -> 5.35..5.45%); the derived value is rounded to
    the value's decimals (a ratio) or to the finer of the two (a difference), and value_low ..
    value_high is the range the two intervals imply."""
    v = value["value"].to_numpy(dtype="float64")
    c = change["value"].to_numpy(dtype="float64")
    value_decimals = np.array([_decimals(e, x) for e, x in zip(_objects(value["evidence"]), v.tolist(), strict=True)],
                              dtype="int64")
    change_decimals = np.array([_decimals(e, x) for e, x in zip(_objects(change["evidence"]), c.tolist(), strict=True)],
                               dtype="int64")
    exact_units = list(comparability()["exact_units"])  # whole days and counts have no rounding interval
    value_half = np.where(np.isin(_objects(value["unit"], "<NA>"), exact_units), 0.0, 0.5 * 10.0 ** -value_decimals)
    change_half = np.where(np.isin(_objects(change["unit"], "<NA>"), exact_units), 0.0, 0.5 * 10.0 ** -change_decimals)
    with np.errstate(divide="ignore", invalid="ignore"):
        corners = np.stack([np.where(relative, v_end / (1 + c_end / 100), v_end - c_end)
                            for v_end in (v - value_half, v + value_half) for c_end in (c - change_half, c + change_half)])
        exact = np.where(relative, v / (1 + c / 100), v - c)
    decimals = np.where(relative, value_decimals, np.maximum(value_decimals, change_decimals))
    rounded = np.array([round(x, int(d)) for x, d in zip(exact.tolist(), decimals.tolist(), strict=True)], dtype="float64")
    low = [round(x, int(d) + 2) for x, d in zip(corners.min(axis=0).tolist(), decimals.tolist(), strict=True)]
    high = [round(x, int(d) + 2) for x, d in zip(corners.max(axis=0).tolist(), decimals.tolist(), strict=True)]
    return Derivation(rounded, low, high, decimals)


def _derived_table(value: pd.DataFrame, change: pd.DataFrame, year: np.ndarray, relative: np.ndarray,
                   derived: Derivation) -> pd.DataFrame:
    """The derived rows: facts-table columns (kind derived, the base year) and both sources."""
    columns = {**FACT_COLUMNS, **DERIVED_EXTRA}
    approx = value["approx"].to_numpy(dtype=bool, na_value=False) | change["approx"].to_numpy(dtype=bool, na_value=False)
    out = pd.DataFrame(
        {
            "city": value["city"],
            "year": year,
            "period": value["period"],
            "indicator": value["indicator"],
            "value": derived.value,
            "unit": value["unit"],
            "direction": value["direction"],
            "kind": "derived",
            "comparator": None,
            "approx": approx,
            "qualifier": value["qualifier"],
            "domain": value["domain"],
            "doc": value["doc"],
            "start": None,
            "end": None,
            "evidence": None,
            "sentence": value["sentence"],
            "change": change["value"],
            "change_unit": change["unit"],
            "formula": np.where(relative, "v / (1 + c/100)", "v - c").astype(object),
            **_provenance(value, "value_", ("start", "end", "evidence")),
            **_provenance(change, "change_", ("start", "end", "evidence")),
            "decimals": derived.decimals,
            "value_low": derived.low,
            "value_high": derived.high,
        },
        index=pd.RangeIndex(len(value)),
        columns=list(columns),
    ).astype(columns)
    return out.sort_values(["doc", "value_start", "change_start"], kind="stable").reset_index(drop=True)


_NUMBER = re.compile(r"\d+(?:\.(\d+))?")


def _decimals(evidence: object, value: float) -> int:
    """Decimal places a figure was stated with: its evidence text (5.4% -> 1, 55 -> 0), else the
    shortest repr of the value (a figure without evidence, or written in words, e.g. 持平 -> 0)."""
    if isinstance(evidence, str):
        m = _NUMBER.search(evidence.replace(",", ""))
        if m:
            return len(m.group(1) or "")
        return 0
    text = repr(abs(float(value)))
    return 0 if "e" in text or text.endswith(".0") else len(text.split(".")[1]) if "." in text else 0


# --- coverage ---------------------------------------------------------------------------------


def coverage(facts: pd.DataFrame) -> pd.DataFrame:
    """How many facts each city has per indicator, year and kind: rows = indicators (catalog
    order), columns = MultiIndex (city, year, kind), values = counts (0 = none)."""
    matrix = _coverage_counts(facts)
    if matrix is None:
        return pd.DataFrame(index=pd.Index([], name="indicator", dtype="object"), dtype="Int64")
    return _int64_frame(matrix)


def _int64_frame(matrix: pd.DataFrame) -> pd.DataFrame:
    """An int64 table as Int64 columns, built column by column from the one 2-D block (much faster
    than converting thousands of columns through astype)."""
    values = matrix.to_numpy(dtype="int64")
    columns = {k: pd.arrays.IntegerArray(values[:, k].copy(), np.zeros(len(values), dtype=bool))
               for k in range(values.shape[1])}
    out = pd.DataFrame(columns, index=matrix.index, copy=False)
    out.columns = matrix.columns
    return out


def _coverage_counts(facts: pd.DataFrame) -> pd.DataFrame | None:
    """`coverage` as one int64 block (None: no fact has an indicator)."""
    f = facts[facts["indicator"].notna()]
    if not len(f):
        return None
    counts = f.groupby(["indicator", "city", "year", "kind"], dropna=False).size()
    matrix = counts.unstack(["city", "year", "kind"], fill_value=0)
    matrix = matrix.loc[in_catalog_order(matrix.index)]
    kind_rank = {k: i for i, k in enumerate(KIND_ORDER)}
    cols = sorted(
        matrix.columns,
        key=lambda c: (str(c[0]) if not pd.isna(c[0]) else "\uffff", -1 if pd.isna(c[1]) else int(c[1]),
                       kind_rank.get(c[2], 99), str(c[2])),
    )
    ordered = matrix[cols]
    matrix = pd.DataFrame(ordered.to_numpy(dtype="int64"), index=ordered.index, columns=ordered.columns)
    matrix.index.name = "indicator"
    matrix.columns.names = ["city", "year", "kind"]
    return matrix


def coverage_table(facts: pd.DataFrame) -> pd.DataFrame:
    """coverage() flattened for a sheet or CSV: indicator, domain, name, then "city year kind"."""
    counts = _coverage_counts(facts)
    matrix = coverage(facts) if counts is None else counts
    info = indicator_info(matrix.index).set_index("indicator")
    index = matrix.index.astype("string")
    names = [" ".join("?" if pd.isna(p) else str(p) for p in c) for c in matrix.columns]
    flat = _int64_frame(pd.DataFrame(matrix.to_numpy(dtype="int64"), index=index, columns=names))
    head = pd.DataFrame(
        {"domain": info["domain"].reindex(matrix.index).to_numpy(), "name_zh": info["name_zh"].reindex(matrix.index).to_numpy()},
        index=index,
    ).astype("string")
    return pd.concat([head, flat], axis=1).reset_index()


# --- reference lines --------------------------------------------------------------------------


def load_references(path: str | None = None) -> pd.DataFrame:
    """data/references.csv (or path): limits, guidelines and national averages, with sources."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False) if path else read_csv("references.csv").copy()
    raw = raw.replace({"": None})
    return raw[list(REFERENCE_COLUMNS)].astype(REFERENCE_COLUMNS)


REFERENCE_RESULT_COLUMNS = {
    "city": "string",
    "year": "Int64",
    "indicator": "string",
    "value": "float64",
    "unit": "string",
    "direction": "string",
    "reference_kind": "string",
    "level": "string",
    "reference": "float64",
    "averaging": "string",
    "status": "string",
    "ratio": "float64",
    "difference": "float64",
    "qualifier": "string",
    "source": "string",
    "doc": "string",
    "start": "Int64",
    "end": "Int64",
    "statistic": "string",
    "reference_statistic": "string",
}


def against_references(facts: pd.DataFrame, references: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each annual actual against the reference lines for its indicator and unit.

    Limits, guidelines and interim targets (no year: they hold every year) give "exceeds" or
    "meets"; averages (rows with a year, e.g. the national average) give "better", "worse" or
    "equal" for the same year. ratio = value / reference; difference = value - reference.

    A reference holds for one statistic (`statistic`: annual mean, the 90th percentile of daily
    maximum 8-hour means for O3, the 95th percentile of daily means for CO); a fact of another
    statistic, or one whose report does not say (臭氧平均浓度), is "not comparable", never "meets".
    """
    refs = (load_references() if references is None else references).reset_index(drop=True)
    if "statistic" not in refs.columns:
        refs = refs.assign(statistic=pd.array([None] * len(refs), dtype="string"))
    actuals = facts[_eq(facts["kind"], "actual") & _eq(facts["period"], "annual") & facts["value"].notna()]
    actuals = actuals.reset_index(drop=True)
    actuals = actuals.assign(_statistic=fact_statistics(actuals))
    actual_codes, reference_codes = _codes([actuals, refs], ["indicator", "unit"], missing_matches=False)
    pairs = _pairs(actual_codes, reference_codes)
    # an average holds for its own year only; limits, guidelines and interim targets for every year
    averaged = _objects(refs["kind"])[pairs.right] == "average"
    same_year = refs["year"].to_numpy(dtype="float64", na_value=np.nan)[pairs.right] == actuals["year"].to_numpy(
        dtype="float64", na_value=np.nan)[pairs.left]
    keep = ~averaged | same_year
    pairs, averaged = pairs.where(keep), averaged[keep]
    x, r = actuals.take(pairs.left).reset_index(drop=True), refs.take(pairs.right).reset_index(drop=True)
    v, ref = x["value"].to_numpy(dtype="float64"), r["value"].to_numpy(dtype="float64", na_value=np.nan)
    direction = _objects(x["direction"])
    higher = direction == "higher_better"
    wanted, stated = _objects(r["statistic"]), _objects(x["_statistic"])
    comparable = np.array([w is None or w == "" or w == own for w, own in zip(wanted, stated, strict=True)], dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        status = np.where(
            averaged,
            _better_or_worse_all(v, ref, direction),
            np.where(higher, np.where(v >= ref, "meets", "falls short"),
                     np.where((v > ref) & ~_isclose(v, ref), "exceeds", "meets")),
        )
        status = np.where(comparable, status, "not comparable")
        ratio = np.where((ref != 0) & comparable, v / np.where(ref != 0, ref, 1.0), np.nan)
    out = pd.DataFrame(
        {
            "city": x["city"], "year": x["year"], "indicator": x["indicator"], "value": v, "unit": x["unit"],
            "direction": x["direction"], "reference_kind": r["kind"], "level": r["level"], "reference": ref,
            "averaging": r["averaging"], "status": status.astype(object), "ratio": ratio,
            "difference": [round(d, 9) if ok else math.nan for d, ok in zip((v - ref).tolist(), comparable, strict=True)],
            "qualifier": x["qualifier"], "source": r["source"],
            **_provenance(x, "", ("doc", "start", "end")),
            "statistic": x["_statistic"], "reference_statistic": r["statistic"],
        },
        index=pd.RangeIndex(len(x)),
        columns=list(REFERENCE_RESULT_COLUMNS),
    ).astype(REFERENCE_RESULT_COLUMNS)
    return out.sort_values(["city", "year", "indicator", "doc", "start"], kind="stable").reset_index(drop=True)


def _better_or_worse_all(v: np.ndarray, ref: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Each value against its reference: equal (within 1e-9), better or worse by the direction,
    above or below when the indicator has none."""
    with np.errstate(invalid="ignore"):
        return np.select(
            [_isclose(v, ref, abs_tol=1e-9), direction == "higher_better", direction == "lower_better"],
            [np.array("equal", dtype=object), np.where(v > ref, "better", "worse"), np.where(v < ref, "better", "worse")],
            default=np.where(v > ref, "above", "below"),
        ).astype(object)


# --- everything, for the build ----------------------------------------------------------------


def composite_year(facts: pd.DataFrame) -> int | None:
    """The year a composite is computed for: the one with most cities reporting actuals (ties: the
    latest). A composite never mixes years."""
    a = facts[_eq(facts["kind"], "actual") & facts["indicator"].notna() & facts["city"].notna() & facts["year"].notna()]
    if not len(a):
        return None
    n = a.groupby("year")["city"].nunique()
    return int(max(n.index, key=lambda y: (n[y], y)))


COMPOSITE_METHODS = ("equal", "entropy", "topsis")


class ScoreTables(NamedTuple):
    """Scores and composites per row, and the weights each composite used."""

    scores: pd.DataFrame
    weights: pd.DataFrame


def composites(cmp: Comparison, min_cities: int | None = None) -> dict[str, Composite]:
    """The composite of each method over a comparison (see `composite`)."""
    return {m: composite(cmp, method=m, min_cities=min_cities) for m in COMPOSITE_METHODS}


def score_table(cmp: Comparison, min_cities: int | None = None,
                comps: Mapping[str, Composite] | None = None) -> ScoreTables:
    """Per-indicator scores plus the three composites, and the weights each composite used.

    Both tables carry a `note`: empty when the composites were computed, else the one-line reason
    they were not (see `composite`); then no score is given at all. `comps`: the composites, when
    already computed (`composites`).
    """
    comps = composites(cmp, min_cities) if comps is None else comps
    reason = comps["equal"].reason
    s = scores(cmp)
    if reason is not None:
        s.loc[:, :] = np.nan
    s.columns = [f"score {c}" for c in s.columns]
    parts = [cmp.rows[["latest"]], s]
    weights = pd.DataFrame(index=pd.Index(cmp.values.columns, name="indicator"))
    weights["name_zh"] = cmp.indicators.set_index("column")["name_zh"].reindex(weights.index).astype("string")
    for method, comp in comps.items():
        parts.append(comp.scores[["score", "rank"]].rename(columns=lambda c, m=method: f"{m} {c}"))
        weights[f"{method} weight"] = comp.weights.reindex(weights.index).astype("float64")
    weights["left out because"] = comps["topsis"].dropped.reindex(weights.index).astype("string")
    note = pd.array([reason or ""] * len(cmp.values), dtype="string")
    table = pd.concat(parts, axis=1).reset_index().astype({"city": "string", "year": "Int64"})
    table["note"] = note
    if not len(table):  # nothing to score: still say why
        table = pd.DataFrame({"city": [pd.NA], "year": [pd.NA], "note": [reason or "no rows"]}).astype(
            {"city": "string", "year": "Int64", "note": "string"})
    weights = weights.reset_index().astype({"indicator": "string"})
    weights["note"] = pd.array([reason or ""] * len(weights), dtype="string")
    return ScoreTables(table, weights)


def sensitivity(cmp: Comparison, min_cities: int | None = None,
                comps: Mapping[str, Composite] | None = None) -> pd.DataFrame:
    """How much the composite ranking depends on choices: each row's rank under each method
    (equal, entropy, TOPSIS) and under equal weights leaving each indicator out in turn, and the
    largest change of rank across all of them. Empty (with a `note`) when no composite is
    computed. `comps`: the composites, when already computed (`composites`)."""
    comps = composites(cmp, min_cities) if comps is None else comps
    if comps["equal"].reason is not None:
        return pd.DataFrame({"city": [pd.NA], "year": [pd.NA], "note": [comps["equal"].reason]}).astype(
            {"city": "string", "year": "Int64", "note": "string"})
    out = pd.DataFrame(index=cmp.values.index)
    for m, comp in comps.items():
        out[f"{m} rank"] = comp.scores["rank"]
    used = comps["equal"].used
    if len(used) > 2:  # leaving one out still leaves at least two
        for col in used:
            rest = cmp.values[[c for c in used if c != col]]
            part = composite(rest, method="equal", directions=dict(cmp.directions), min_cities=min_cities)
            out[f"equal rank without {col}"] = part.scores["rank"]
    ranks = out.astype("float64")
    out["largest rank change"] = (ranks.max(axis=1) - ranks.min(axis=1)).astype("Int64")
    out = out.astype({c: "Int64" for c in out.columns})
    out = out.reset_index().astype({"city": "string", "year": "Int64"})
    out["note"] = pd.array([""] * len(out), dtype="string")
    return out


class CompositeSet(NamedTuple):
    """The comparison narrowed to what a composite may use, and a line saying what was left out."""

    comparison: Comparison
    left_out: str


def composite_set(cmp: Comparison, min_cities: int | None = None) -> CompositeSet:
    """The rows and columns a composite may use: the most indicators (with a direction, not
    scale-dependent; taken in order of how many rows report them) that at least `min_cities`
    rows all report, and those rows; and a line saying what was left out (the rows lacking one
    of the indicators)."""
    need = min_cities if min_cities is not None else default_min_cities()
    values, dirs = _matrix(cmp, None)
    candidates = [c for c in values.columns if dirs[c] in BETTER and not scale_dependent(c)]
    order = sorted(candidates, key=lambda c: (-int(values[c].notna().sum()), list(values.columns).index(c)))
    best: list[str] = []
    for k in range(1, len(order) + 1):
        rows = values[order[:k]].notna().all(axis=1)
        if rows.sum() >= need:
            best = order[:k]
    if not best:
        return CompositeSet(cmp, "")
    keep = values[best].notna().all(axis=1)
    cols = [c for c in values.columns if c in best]
    out_rows = [f"{c} {y}" for c, y in values.index[~keep]]
    narrowed = Comparison(cmp.values.loc[keep, cols], cmp.indicators[cmp.indicators["column"].isin(cols)].reset_index(drop=True),
                          cmp.rows.loc[keep], cmp.cells, cmp.kind, cmp.notes)
    left = f"left out for lacking one of the {len(cols)} indicators: {', '.join(out_rows)}" if out_rows else ""
    return CompositeSet(narrowed, left)


def composite_tables(facts: pd.DataFrame, min_cities: int | None = None,
                     cells: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """scores, weights and sensitivity over one year (`composite_year`): the cities of that year
    that all report the most indicators like for like (`composite_set`), when there are at least
    `min_cities` of them; otherwise no composite, and every table says why. `cells`: the facts'
    `cell_facts`, when already worked out."""
    year = composite_year(facts)
    if year is None:
        cmp = compare(facts.iloc[0:0])
    else:
        cmp = _compare(cell_facts(facts) if cells is None else cells, year=year)
    narrowed, left = composite_set(cmp, min_cities)
    comps = composites(narrowed, min_cities)  # once, for the scores and the sensitivity
    score, weights = score_table(narrowed, min_cities, comps)
    if left:
        score["note"] = (score["note"] + "; " + left).str.lstrip("; ").astype("string")
    return {"scores": score, "weights": weights, "sensitivity": sensitivity(narrowed, min_cities, comps)}


class DomainComparison(NamedTuple):
    """One domain's actuals and targets side by side, every city and year (a workbook sheet)."""

    actual: Comparison
    target: Comparison


@dataclass(frozen=True)
class Analysis:
    """Every comparison of one facts table, each computed once (`analyse`): the tables `build`
    writes, the workbook shows and the charts draw read this, and compute nothing again."""

    facts: pd.DataFrame
    references: pd.DataFrame
    comparison: Comparison  # the year asked for (default: each city's latest), with its notes
    all_years: Comparison  # without notes, as the domains' (compare(facts) gives them)
    scores: pd.DataFrame
    weights: pd.DataFrame
    sensitivity: pd.DataFrame
    targets: pd.DataFrame
    benchmark: pd.DataFrame
    against_references: pd.DataFrame
    derived: pd.DataFrame
    coverage: pd.DataFrame
    domains: dict[str, DomainComparison]  # in catalog order of the domains
    indicators: pd.DataFrame  # the catalog rows of the facts' indicators, in catalog order

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name (the file stem `build` writes each under)."""
        return {
            "comparison": self.comparison.flat(),
            "comparison_all_years": self.all_years.flat(),
            "comparison_notes": self.comparison.notes,
            "scores": self.scores,
            "weights": self.weights,
            "sensitivity": self.sensitivity,
            "targets": self.targets,
            "benchmark": self.benchmark,
            "against_references": self.against_references,
            "derived": self.derived,
            "coverage": self.coverage,
        }

    def judged(self) -> pd.DataFrame:
        """Every target judgement: each city's own targets, then the cross-city benchmarks."""
        return pd.concat([self.targets, self.benchmark], ignore_index=True)


def analyse(facts: pd.DataFrame, references: pd.DataFrame | None = None, year: int | str | None = "latest") -> Analysis:
    """Every comparison of a facts table, once: the wide table of `year` (None, a year, or each
    city's "latest") and of all years, scores and composites, targets and benchmarks, references
    (default data/references.csv), derived values, coverage, and each domain's actuals and targets."""
    refs = load_references() if references is None else references
    cells = cell_facts(facts)  # once, for every comparison below
    composites = composite_tables(facts, cells=cells)
    return Analysis(
        facts=facts,
        references=refs,
        comparison=_compare(cells, year=year),
        all_years=_compare(cells, notes=False),
        scores=composites["scores"],
        weights=composites["weights"],
        sensitivity=composites["sensitivity"],
        targets=targets_vs_actuals(facts),
        benchmark=all_pairs_benchmark(facts),
        against_references=against_references(facts, refs),
        derived=derive_previous_year(facts),
        coverage=coverage_table(facts),
        domains={d: DomainComparison(_compare(cells, domain=d, kind="actual", notes=False),
                                     _compare(cells, domain=d, kind="target", notes=False))
                 for d in _domains(facts)},
        indicators=indicator_info(in_catalog_order(pd.unique(facts["indicator"].dropna()))),
    )


def _domains(facts: pd.DataFrame) -> list[str]:
    """The domains of the facts, in the catalog's order of domains (others after, by name)."""
    order = list(dict.fromkeys(catalog()["domain"]))
    return sorted(set(pd.unique(facts["domain"].dropna())), key=lambda d: (order.index(d) if d in order else 99, d))


def comparison_tables(facts: pd.DataFrame, references: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every comparison table by file stem (comparison, comparison_all_years, comparison_notes,
    scores, weights, sensitivity, targets, benchmark, against_references, derived, coverage)."""
    return analyse(facts, references).tables()


def documents_of(facts: pd.DataFrame) -> pd.DataFrame:
    """A documents table made from the facts alone (doc, city, facts), for a workbook given no
    documents table."""
    by_doc = facts.groupby("doc", dropna=True)
    return pd.DataFrame(
        {"doc": list(by_doc.groups), "city": by_doc["city"].first().tolist(), "facts": by_doc.size().tolist()}
    ).astype({"doc": "string", "city": "string", "facts": "Int64"})



RATE_PAIRS = (("gov.inspection_issues_rectified", "gov.inspection_issues", "rectification_rate"),)


def governance_rates(facts: pd.DataFrame) -> pd.DataFrame:
    """Rates that make counts comparable: a part over its total (rectified / issues raised),
    matched by city, year, period and document. Counts alone reward large cities and long
    inspection histories; the share done does not. Parts and totals come from the catalog's
    `part_of`, pairs from RATE_PAIRS; each rate names both source facts.
    """
    base = facts[facts["kind"] == "actual"]
    keys = ["city", "year", "period", "doc"]
    tables = []
    for part_id, total_id, name in RATE_PAIRS:
        parts = base[base["indicator"] == part_id].reset_index(drop=True)
        totals = base[base["indicator"] == total_id].reset_index(drop=True)
        part_codes, total_codes = _codes([parts, totals], keys, missing_matches=False)
        pairs = _pairs(part_codes, total_codes)
        with np.errstate(invalid="ignore"):
            before = totals["start"].to_numpy(dtype="float64", na_value=np.nan)[pairs.right] < parts["start"].to_numpy(
                dtype="float64", na_value=np.nan)[pairs.left]
        # the total stated nearest before the part: the last such total in table order
        last = pd.Series(pairs.right[before]).groupby(pairs.left[before]).max()
        p, t = parts.take(last.index.to_numpy()).reset_index(drop=True), totals.take(last.to_numpy()).reset_index(drop=True)
        part, total = p["value"].to_numpy(dtype="float64"), t["value"].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(total != 0, 100.0 * part / np.where(total != 0, total, 1.0), np.nan)
        tables.append(pd.DataFrame({"city": p["city"], "year": p["year"], "period": p["period"], "rate": name,
                                    "value": value, "unit": "%", "part": part, "total": total, "doc": p["doc"],
                                    "part_evidence": p["evidence"], "total_evidence": t["evidence"]},
                                   index=pd.RangeIndex(len(p))))
    dtypes = {"city": "string", "year": "Int64", "period": "string", "rate": "string", "value": "float64", "unit": "string",
              "part": "float64", "total": "float64", "doc": "string", "part_evidence": "string", "total_evidence": "string"}
    return pd.concat(tables, ignore_index=True)[list(dtypes)].astype(dtypes)
