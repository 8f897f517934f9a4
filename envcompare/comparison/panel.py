"""City-year panels for econometrics: one row per (place, year), one column per comparable indicator.

    >>> import envcompare
    >>> from envcompare.comparison.panel import panel
    >>> facts = envcompare.extract(envcompare.load_reports("seeds"))   # doctest: +SKIP
    >>> p = panel(facts)                                                 # doctest: +SKIP
    >>> p.wide          # city, province, level, city_code, province_code, year, documents, air_pm25 …
    >>> p.long          # one row per filled cell, with the document and offsets it came from
    >>> p.variables     # variable name -> indicator column, names, unit and label

The panel is `compare(facts, year=None)` seen from an econometrician's side: annual figures only,
the same comparability rules (a qualifier or statistic that makes a figure not comparable gets its
own column, two different figures for one cell leave it empty), plus the division codes that merge
with statistical yearbooks. Every value keeps its source in `long` (doc, start, end, evidence).
Variable names are valid in Stata, R and Python alike (ASCII letters, digits and `_`, at most 32
characters, unique), so the three get the same table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..vocab.places import lookup
from .analysis import Comparison, compare, derive_previous_year

KEY_COLUMNS = {
    "city": "string",
    "province": "string",
    "level": "string",
    "city_code": "Int64",
    "province_code": "Int64",
    "year": "Int64",
    "documents": "Int64",
}
LONG_COLUMNS = {
    "city": "string",
    "year": "Int64",
    "variable": "string",
    "column": "string",
    "indicator": "string",
    "value": "float64",
    "unit": "string",
    "kind": "string",
    "status": "string",
    "qualifier": "string",
    "doc": "string",
    "start": "Int64",
    "end": "Int64",
    "evidence": "string",
    "derived_from": "string",
}
VARIABLE_COLUMNS = {
    "variable": "string",
    "column": "string",
    "indicator": "string",
    "name_zh": "string",
    "name_en": "string",
    "unit": "string",
    "qualifier": "string",
    "statistic": "string",
    "label": "string",
}
STATA_NAME_LIMIT = 32
STATA_LABEL_LIMIT = 80
DIVISION_CODE_DIGITS = 6  # GB/T 2260 codes as yearbooks print them: 3701 -> 370100


@dataclass(frozen=True)
class Panel:
    """A city-year panel: `wide` (one row per place and year), `long` (one row per value, with
    its source) and `variables` (what each indicator column of `wide` holds)."""

    wide: pd.DataFrame
    long: pd.DataFrame
    variables: pd.DataFrame

    @property
    def indicator_variables(self) -> list[str]:
        return self.variables["variable"].tolist()


def panel(facts: pd.DataFrame, derived: bool = False, corrected: bool = True,
          actuals: Comparison | None = None) -> Panel:
    """Facts -> a Panel of annual actuals.

    derived: also fill cells with previous-year values implied by a value and its change
    (kind "derived" in `long`; a stated value always wins). corrected: keep facts a reviewer
    corrected or added (a `status` column of "corrected"/"added"); with False only facts as
    extracted are used. actuals: `compare(facts, year=None)` when the caller has it already
    (`analyse(facts).all_years`): used as it is with the defaults, not worked out again.
    """
    if actuals is not None and not derived and corrected:
        return _panel(facts, actuals)
    source = facts
    if not corrected and "status" in facts.columns:
        source = facts[facts["status"].isna() | (facts["status"] == "extracted")]
    kinds: tuple[str, ...] = ("actual",)
    if derived:
        previous = derive_previous_year(source)
        source = pd.concat([source, previous], ignore_index=True) if len(previous) else source
        kinds = ("actual", "derived")
    return _panel(source, compare(source, kind=kinds, year=None, period="annual", notes=False))


def _panel(source: pd.DataFrame, table: Comparison) -> Panel:
    """The panel of the facts `source` from their comparison of every year."""
    variables = _variables(table.indicators)
    name_of = dict(zip(variables["column"], variables["variable"], strict=True))
    keys = _keys(table.rows)
    values = table.values.rename(columns=name_of).reset_index(drop=True)
    values.columns = pd.Index([str(c) for c in values.columns], dtype="object")
    wide = pd.concat([keys, values.astype("float64")], axis=1)
    long = _long(table.cells, name_of, source)
    return Panel(wide, long, variables)


def stata_names(indicators: list[str]) -> list[str]:
    """One valid, unique Stata name per column, given each column's indicator id: the id with `_`
    for every other character (air.pm25 -> air_pm25); a second column of one indicator (a scope,
    a statistic) gets `_2`, `_3` … in column order."""
    names: list[str] = []
    taken: set[str] = set()
    for indicator in indicators:
        base = re.sub(r"[^A-Za-z0-9_]", "_", indicator).strip("_") or "v"
        if not re.match(r"[A-Za-z_]", base):
            base = "v_" + base
        name, n = base[:STATA_NAME_LIMIT], 1
        while name.lower() in taken:
            n += 1
            suffix = f"_{n}"
            name = base[: STATA_NAME_LIMIT - len(suffix)] + suffix
        taken.add(name.lower())
        names.append(name)
    return names


def _variables(info: pd.DataFrame) -> pd.DataFrame:
    out = info[["column", "indicator", "name_zh", "name_en", "unit", "qualifier", "statistic"]].astype("object")
    out.insert(0, "variable", stata_names(out["indicator"].tolist()))
    out["label"] = [_label(row) for row in out.itertuples(index=False)]
    return out.reset_index(drop=True).astype(VARIABLE_COLUMNS)


def _label(row) -> str:
    """`优良天数比例 | Good air-quality days ratio (%) [县级及以上]`, cut to Stata's 80 characters;
    the bracket holds what sets the column apart from its indicator (a scope, a statistic)."""
    names = " | ".join(str(n) for n in (row.name_zh, row.name_en) if isinstance(n, str) and n)
    apart = str(row.column)[len(str(row.indicator)) :].strip(" ()")
    label = f"{names or row.indicator} ({row.unit})" + (f" [{apart}]" if apart else "")
    return label if len(label) <= STATA_LABEL_LIMIT else label[: STATA_LABEL_LIMIT - 1] + "…"


def _division_code(code: object) -> int | None:
    text = str(code or "")
    return int(text.ljust(DIVISION_CODE_DIGITS, "0")) if text.isdigit() else None


def _keys(rows: pd.DataFrame) -> pd.DataFrame:
    """The key columns of each row: the place as written, its level and division codes (empty
    for places the gazetteer does not hold: regions, county groups, zones)."""
    records = []
    for (city, year), docs in zip(rows.index, rows["docs"].fillna(""), strict=True):
        place = lookup(str(city))
        province = lookup(place.province) if place else None
        records.append({
            "city": city,
            "province": place.province if place else None,
            "level": place.level if place else None,
            "city_code": _division_code(place.code) if place else None,
            "province_code": _division_code(province.code) if province else None,
            "year": year,
            "documents": len(docs.split(";")) if docs else 0,
        })
    out = pd.DataFrame.from_records(records, columns=list(KEY_COLUMNS))
    return out.astype(KEY_COLUMNS)


def _long(cells: pd.DataFrame, name_of: dict[str, str], source: pd.DataFrame) -> pd.DataFrame:
    """Every filled cell with the fact behind it; a derived value names its two source facts."""
    out = cells.assign(variable=cells["column"].map(name_of))
    status = pd.Series(pd.NA, index=out.index, dtype="string")
    if "status" in source.columns:
        keys = ["doc", "start", "indicator"]
        known = source.dropna(subset=["start"]).drop_duplicates(keys).set_index(keys)["status"]
        at = pd.MultiIndex.from_frame(out[keys].astype({"doc": "string", "start": "Int64", "indicator": "string"}))
        status = pd.Series(known.reindex(at).to_numpy(dtype=object), index=out.index, dtype="string")
    out["status"] = status.where(status.notna() | (out["kind"] != "actual"), "extracted")
    derived_from = pd.Series(pd.NA, index=out.index, dtype="string")
    if (out["kind"] == "derived").any() and {"value_start", "change_start"} <= set(source.columns):
        origin = source[source["kind"] == "derived"]
        keys = ["doc", "city", "year", "indicator", "value"]
        text = origin["value_start"].astype("string") + "+" + origin["change_start"].astype("string")
        lookup_table = origin.assign(_from=text).drop_duplicates(keys).set_index(keys)["_from"]
        at = pd.MultiIndex.from_frame(out[keys])
        found = pd.Series(lookup_table.reindex(at).to_numpy(dtype=object), index=out.index, dtype="string")
        derived_from = found.where(out["kind"] == "derived")
    out["derived_from"] = derived_from
    return out[list(LONG_COLUMNS)].astype(LONG_COLUMNS).reset_index(drop=True)
