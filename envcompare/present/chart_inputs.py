"""Present stage: the small table each chart is drawn from, without matplotlib.

A chart of `present.charts` is drawn in two steps: its input (here: the rows it shows, with
the columns it reads, a few hundred rows at most) and the drawing of that input. A build hashes
each chart's input (`Chart.data`) to redraw only the charts whose input changed, and hands each
chart process its chart's input alone, not the corpus's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pandas as pd

from ..comparison.analysis import fact_scopes, fact_statistics
from ..vocab.catalog import in_catalog_order, indicators

MAX_ROWS = 40  # a chart of a national corpus shows the 20 best and the 20 worst, and says so
KEY_INDICATORS = ("air.pm25", "air.pm10", "air.good_days_ratio", "water.national_sections_good_ratio")

INDICATOR_COLUMNS = ("city", "qualifier", "value", "year", "doc")  # what an indicator chart reads of a fact
CHANGE_COLUMNS = ("indicator", "unit", "scope_", "city", "year", "value", "doc")
TARGET_COLUMNS = ("city", "target_city", "indicator", "unit", "actual", "target", "comparator", "target_qualifier",
                  "status")


def latest_actuals(facts: pd.DataFrame, indicator: str, year: int | None = None, period: str = "annual") -> pd.DataFrame:
    """One row per city: its actual for `year`, or its latest year when year is None."""
    rows = facts[(facts["indicator"] == indicator) & (facts["kind"] == "actual") & (facts["period"] == period)]
    if year is not None:
        rows = rows[rows["year"] == year]
    rows = rows.sort_values(["city", "year", "start"], kind="stable")
    return rows.groupby("city", sort=True).tail(1).reset_index(drop=True)


class IndicatorInput(NamedTuple):
    """What an indicator chart draws: each reporting city's latest actual (best first), the
    cities that do not report it, and the reference lines of the years shown."""

    actuals: pd.DataFrame
    missing: list[str]
    references: pd.DataFrame | None


def indicator_input(facts: pd.DataFrame, indicator: str, references: pd.DataFrame | None = None,
                    year: int | None = None) -> IndicatorInput:
    """An indicator chart's input (see `charts.indicator_chart`)."""
    data = latest_actuals(facts, indicator, year)
    ind = indicators()[indicator]
    everyone = sorted(facts["city"].dropna().unique())
    reporting = set(data["city"])
    missing = [c for c in everyone if c not in reporting]
    refs = _references_for(data, indicator, references)
    data = data.sort_values("value", ascending=ind.direction != "higher_better", kind="stable").reset_index(drop=True)
    return IndicatorInput(data[[c for c in INDICATOR_COLUMNS if c in data.columns]], missing, refs)


def _references_for(data: pd.DataFrame, indicator: str, references: pd.DataFrame | None) -> pd.DataFrame | None:
    """The reference lines to draw: the indicator's limits, guidelines and averages, averages of
    the years shown only, limits of the figures' statistic only."""
    if references is None or not len(references):
        return None
    refs = references[(references["indicator"] == indicator) & references["kind"].isin(["limit", "guideline", "average"])]
    years = set(data["year"].dropna().astype(int))
    refs = refs[refs["year"].isna() | refs["year"].isin(years)]
    if "statistic" in refs.columns and len(data):  # a limit of another statistic is not drawn
        stats = set(fact_statistics(data).dropna())
        refs = refs[refs["statistic"].isna() | (refs["statistic"] == "") | refs["statistic"].isin(stats)]
    return refs


def change_rows(facts: pd.DataFrame, indicators_: list[str] | None = None) -> pd.DataFrame:
    """The changes chart's rows: each city's latest annual change per indicator, unit and scope
    (`scope_`), ordered by unit, indicator and city."""
    rows = facts[(facts["kind"] == "change") & (facts["period"] == "annual")]
    if indicators_:
        rows = rows[rows["indicator"].isin(indicators_)]
    rows = rows.assign(scope_=fact_scopes(rows) if len(rows) else pd.Series(dtype="string"))
    rows = rows.sort_values(["unit", "indicator", "city", "year"], kind="stable").groupby(
        ["indicator", "unit", "scope_", "city"], dropna=False).tail(1)
    return rows[[c for c in CHANGE_COLUMNS if c in rows.columns]].reset_index(drop=True)


def target_rows(tva: pd.DataFrame) -> pd.DataFrame:
    """The targets chart's rows: the judgements that say met or not met."""
    if "status" not in tva:
        return tva.iloc[0:0]
    rows = tva[tva["status"].isin(["met", "not met"])].reset_index(drop=True)
    return rows[[c for c in TARGET_COLUMNS if c in rows.columns]]


class CoverageInput(NamedTuple):
    """What the coverage chart draws: per kind (actual, target, change), the number of facts of
    each city (rows) and indicator (columns)."""

    kinds: list[str]
    counts: list[pd.DataFrame]


def coverage_input(facts: pd.DataFrame) -> CoverageInput:
    """The coverage chart's input: the cities that report most when there are more than a chart
    shows, the catalog's indicators in catalog order."""
    kinds = [k for k in ("actual", "target", "change") if (facts["kind"] == k).any()] or ["actual"]
    f = facts[facts["kind"].isin(kinds)]
    columns = [c for c in in_catalog_order(set(f["indicator"].dropna())) if c in indicators()]
    cities = sorted(f["city"].dropna().unique())
    if len(cities) > MAX_ROWS:  # the cities that report most
        counts = f.groupby("city").size().sort_values(ascending=False, kind="stable")
        cities = sorted(counts.index[:MAX_ROWS])
    tables = []
    for kind in kinds:
        part = f[f["kind"] == kind].assign(n=1)
        table = part.pivot_table(index="city", columns="indicator", values="n", aggfunc="sum", fill_value=0)
        tables.append(table.reindex(index=cities, columns=columns, fill_value=0))
    return CoverageInput(kinds, tables)


def theme_table(shares: pd.DataFrame, value: str = "token_share", lang: str = "zh") -> pd.DataFrame:
    """The theme chart's bars: one row per (city, year, document type), one column per theme
    (named in the chart's language), at most MAX_ROWS rows."""
    label_col = "theme_en" if lang == "en" and "theme_en" in shares else ("theme_zh" if "theme_zh" in shares else "theme")
    keys = [k for k in ("city", "year", "doc_type") if k in shares]
    data = shares.assign(**{k: shares[k].astype("object").where(shares[k].notna(), "") for k in keys})
    table = data.pivot_table(index=keys, columns=label_col, values=value, aggfunc="sum", fill_value=0, sort=True)
    return table.iloc[:MAX_ROWS] if len(table) > MAX_ROWS else table


class Chart(NamedTuple):
    """One chart of a build in one language: its file name without suffix, the drawing function
    of `present.charts` (by name) and the input it draws (that function's arguments before `lang`)."""

    stem: str
    draw: str
    data: tuple
    lang: str

    def files(self) -> list[str]:
        """Its files, relative to the figures folder: a PNG, and an SVG for a Chinese chart."""
        name = self.stem if self.lang == "zh" else f"{self.stem}_en"
        return [f"{name}.png", f"{name}.svg"] if self.lang == "zh" else [f"{name}.png"]


def theme_bars(shares: pd.DataFrame, langs: tuple[str, ...] = ("zh",)) -> dict[str, pd.DataFrame]:
    """The theme chart's input in each language (`theme_table` of the city-year shares): a few
    dozen rows, so that a build lets the theme shares table go before the charts are drawn."""
    city_years = shares[shares["level"] == "city_year"]
    return {lang: theme_table(city_years, lang=lang) for lang in langs}


def key_charts(facts: pd.DataFrame, references: pd.DataFrame, judged: pd.DataFrame, themes: dict[str, pd.DataFrame],
               langs: tuple[str, ...] = ("zh",)) -> list[Chart]:
    """The build's charts with their inputs: coverage, changes, targets, themes (`theme_bars`,
    in each of `langs`), then each key indicator that some city reports."""
    specs: list[tuple[str, str, Callable[[str], tuple]]] = [
        ("coverage", "draw_coverage", lambda lang: (coverage_input(facts),)),
        ("changes", "draw_changes", lambda lang: (change_rows(facts),)),
        ("targets", "draw_targets", lambda lang: (target_rows(judged),)),
        ("themes", "draw_themes", lambda lang: (themes[lang],)),
    ]
    actuals = facts[facts["kind"] == "actual"]
    reported = set(actuals["indicator"].dropna().unique())
    for ind in KEY_INDICATORS:
        if ind in reported:
            specs.append((ind.replace(".", "_"), "draw_indicator",
                          lambda lang, ind=ind: (ind, indicator_input(facts, ind, references))))
    return [Chart(stem, draw, data(lang), lang) for stem, draw, data in specs for lang in langs]
