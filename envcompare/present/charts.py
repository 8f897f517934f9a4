"""Present stage: charts of the comparisons, as matplotlib Figures, in one quiet style.

Every function returns a Figure (notebooks show it, `build` saves it as PNG and SVG). Colours
follow each indicator's direction: better is green, worse is red, whichever way it points.
Chinese labels use a registered OFL CJK font (envcompare/fonts.py); `lang="en"` draws English
indicator names and pinyin city names instead. Sources go in a footnote.
"""

from __future__ import annotations

import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextPath
from matplotlib.transforms import IdentityTransform

from ..vocab.catalog import indicators
from ..vocab.places import lookup
from ..vocab.resources import read_yaml
from .chart_inputs import (
    MAX_ROWS,
    Chart,
    CoverageInput,
    IndicatorInput,
    change_rows,
    coverage_input,
    indicator_input,
    target_rows,
    theme_table,
)
from .evidence import fmt
from .fonts import cjk_family
from .output import atomic_write

GOOD, BAD, NEUTRAL, INK, MUTED = "#1a9850", "#d73027", "#4575b4", "#222222", "#888888"
REFERENCE_STYLES = {"limit": ("#d73027", "--"), "guideline": ("#7b3294", ":"), "interim": ("#c2a5cf", ":"), "average": ("#555555", "-.")}
COMPARATOR_SIGNS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}


def label(key: str, lang: str) -> str:
    """A chart word in the chart's language (data/labels.yaml)."""
    entry = read_yaml("labels.yaml")[key]
    return str(entry["en" if lang == "en" else "zh"])


def unit_display(unit: object, lang: str) -> str:
    """A unit as a reader writes it (data/units.yaml display): ug/m3 -> 微克/立方米 or μg/m³."""
    if not isinstance(unit, str):
        return ""
    entry = read_yaml("units.yaml")["display"].get(unit)
    return str(entry["en" if lang == "en" else "zh"]) if entry else unit


def doc_type_display(doc_type: object, lang: str) -> str:
    if not isinstance(doc_type, str):
        return ""
    entry = read_yaml("labels.yaml")["doc_type"].get(doc_type)
    return str(entry["en" if lang == "en" else "zh"]) if entry else doc_type


@contextmanager
def chart_style():
    """The house style, applied only inside the block.

    Only the keys below are set and then put back: unlike `plt.rc_context`, which restores every
    rcParam, this leaves alone what happens meanwhile (a notebook's backend switching interactive
    mode on at the first figure), so later figures, ours and the user's, still display. The font
    is the bundled Noto Sans CJK SC file (envcompare/fonts.py), which has no bold face: no weight
    other than normal is ever asked for.
    """
    family = cjk_family()
    rc = {
        # concrete family names, not "sans-serif": text keeps them when drawn outside this block
        "font.family": ([family] if family else []) + ["DejaVu Sans"],
        "font.weight": "normal",
        "axes.titleweight": "normal",
        "axes.labelweight": "normal",
        "figure.titleweight": "normal",
        "figure.labelweight": "normal",
        "axes.unicode_minus": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": MUTED,
        "axes.labelcolor": INK,
        "axes.titlesize": 12,
        "axes.titlelocation": "left",
        "axes.grid": True,
        "axes.grid.axis": "x",
        "grid.color": "#e5e5e5",
        "grid.linewidth": 0.8,
        "xtick.color": INK,
        "ytick.color": INK,
        "font.size": 10,
        "figure.dpi": 110,
        "savefig.dpi": 120,
        "svg.hashsalt": "envcompare",
        "svg.fonttype": "none",  # text stays text: small, fast, editable; PNG carries the glyphs
    }
    saved = {key: matplotlib.rcParams[key] for key in rc}
    matplotlib.rcParams.update(rc)
    try:
        yield
    finally:
        matplotlib.rcParams.update(saved)


def city_label(city: str, lang: str) -> str:
    """A city as the chart's language writes it: itself, or in English its pinyin (the nation as
    data/labels.yaml `nation` names it)."""
    if lang != "en":
        return city
    nation = read_yaml("labels.yaml")["nation"]
    if city == nation["zh"]:
        return str(nation["en"])
    place = lookup(city)
    return place.pinyin if place else city


def indicator_label(ind_id: str, lang: str, unit: str | None = None) -> str:
    ind = indicators().get(ind_id)
    name = (ind.name_en if lang == "en" else ind.name_zh) if ind else ind_id
    unit = unit or (ind.unit if ind else "")
    return f"{name} ({unit_display(unit, lang)})" if unit else name


# A title's height above its axes: where matplotlib's automatic placement puts it in these charts
# (their x ticks are at the bottom), given, not searched for. The search measures every y tick
# label again at every draw (tight layout, PNG, SVG): on a chart of 170 rows, much of its time.
TITLE_Y = 1.0
SUPTITLE_TOP_IN = 0.08  # inches between the top of a figure and its title's
SUPTITLE_ROOM_IN = 0.3  # inches at the top of a figure for its title (12 pt) and the gap below it
CELL_COUNT_POINTS = 7  # size of the counts written in the coverage chart's cells


def _without_ylabel_search(fig: Figure) -> None:
    """These charts have no y label: its (empty) place is fixed, so that matplotlib does not
    measure every y tick label again at every draw to place it. The drawing is the same."""
    for ax in fig.axes:
        if not ax.get_ylabel():
            ax.yaxis.set_label_coords(0.0, 0.5)


FOOTNOTE_SIZE = 7


def _footnote(fig: Figure, sources: list[str], lang: str) -> float:
    """Sources under the chart, wrapped to the figure's width, never cut; returns the fraction of
    the figure's height they take (pass it to tight_layout's rect so nothing overlaps)."""
    if not sources:
        return 0.02
    text = label("sources", lang) + "; ".join(dict.fromkeys(s for s in sources if s))
    lines = _wrap(text, fig.get_figwidth() * 72 - 16, FOOTNOTE_SIZE)
    fig.text(0.01, 0.005, "\n".join(lines), fontsize=FOOTNOTE_SIZE, color=MUTED, ha="left", va="bottom")
    return min(0.5, (len(lines) * FOOTNOTE_SIZE * 1.35 + 8) / (fig.get_figheight() * 72))


def _wrap(text: str, width_pt: float, size: float) -> list[str]:
    """Lines no wider than width_pt at font size `size`: CJK and full-width characters take a
    full em, others about 0.6; breaks after a space or a semicolon where one is near."""
    lines: list[str] = []
    line, width, last_break = "", 0.0, -1
    for ch in text:
        line += ch
        width += size * (1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6)
        if ch in " ;":
            last_break = len(line)
        if width > width_pt:
            cut = last_break if last_break > len(line) // 2 else len(line) - 1
            lines.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
            width = sum(size * (1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6) for c in line)
            last_break = -1
    if line.strip():
        lines.append(line.rstrip())
    return lines or [text]


def _row_label(city: str, qualifier: object, lang: str) -> str:
    """A bar's label: the city, and the qualifier that tells its figure apart."""
    return city_label(city, lang) + (f" · {qualifier}" if isinstance(qualifier, str) and qualifier else "")


class Capped(NamedTuple):
    """The rows a chart shows, and the title's note when some were left out."""

    rows: pd.DataFrame
    note: str


MISSING_LISTED = MAX_ROWS // 2  # not-reported cities named one per row; more are counted in one row


def _cap(data: pd.DataFrame, lang: str) -> Capped:
    """At most MAX_ROWS rows (data already ordered best first): the head and the tail."""
    if len(data) <= MAX_ROWS:
        return Capped(data, "")
    half = MAX_ROWS // 2
    note = label("capped", lang).format(n=len(data), half=half, max=MAX_ROWS)
    return Capped(pd.concat([data.head(half), data.tail(half)]).reset_index(drop=True), note)


class Judgement(NamedTuple):
    """A bar's colour against its reference, and the legend key that says why."""

    colour: str
    key: str


NO_REFERENCE = Judgement(NEUTRAL, "no_reference")


def _reference_colours(data: pd.DataFrame, direction: str, refs: pd.DataFrame | None) -> list[Judgement]:
    """Each bar green or red against its own year's average (else a limit that holds every year),
    never against the other cities: the first such reference of `refs`, looked up per bar."""
    if direction not in ("higher_better", "lower_better") or refs is None or not len(refs):
        return [NO_REFERENCE] * len(data)
    averages: dict[object, float] = {}
    for kind, year, value in zip(refs["kind"].tolist(), refs["year"].tolist(), refs["value"].tolist(), strict=True):
        if kind == "average" and pd.notna(year):
            averages.setdefault(year, float(value))
    limits = refs[(refs["kind"] == "limit") & refs["year"].isna()]
    limit = float(limits["value"].iloc[0]) if len(limits) else None
    judged = []
    for value, year in zip(data["value"].tolist(), data["year"].tolist(), strict=True):
        ref = averages.get(year, limit) if pd.notna(year) else limit
        if ref is None:
            judged.append(NO_REFERENCE)
            continue
        better = value >= ref if direction == "higher_better" else value <= ref
        judged.append(Judgement(GOOD, "better_than_reference") if better else Judgement(BAD, "worse_than_reference"))
    return judged


def indicator_chart(
    facts: pd.DataFrame,
    indicator: str,
    references: pd.DataFrame | None = None,
    year: int | None = None,
    lang: str = "zh",
) -> Figure:
    """Cities side by side on one indicator, with reference lines (standards, national averages).

    Each bar is labelled with its value and year (and its qualifier), so cities of different
    years are never silently mixed; a national average is drawn only across the bars of its own
    year, and a bar is green or red against its own year's reference, not against the other
    cities. Cities that do not report the indicator are listed as "not reported" (past 20 of them,
    one row counts them). Limits are drawn only when the figures are of the limit's statistic.
    """
    return draw_indicator(indicator, indicator_input(facts, indicator, references, year), lang)


def draw_indicator(indicator: str, shown: IndicatorInput, lang: str = "zh") -> Figure:
    """`indicator_chart` of its input (`chart_inputs.indicator_input`)."""
    ind = indicators()[indicator]
    refs = shown.references
    data, note = _cap(shown.actuals, lang)  # before counting rows: a capped chart has one tick per bar shown
    with chart_style():
        missing = _missing_rows(shown.missing, lang)
        n = len(data) + len(missing)
        fig, ax = plt.subplots(figsize=(7.6, 1.9 + 0.45 * max(2, n)))
        judged = _reference_colours(data, ind.direction, refs)
        _draw_bars(ax, data, missing, [j.colour for j in judged], lang)
        legend = _draw_references(ax, data, refs, lang)
        colour_of = {"better_than_reference": GOOD, "worse_than_reference": BAD, "no_reference": NEUTRAL}
        legend += [LegendEntry(matplotlib.patches.Patch(color=colour_of[k]), label(k, lang))
                   for k in dict.fromkeys(j.key for j in judged)]
        if legend:
            ax.legend([e.handle for e in legend], [e.text for e in legend], loc="lower left", bbox_to_anchor=(0.0, 1.0),
                      ncol=2, fontsize=7, frameon=False)
        ax.set_xlabel(indicator_label(indicator, lang))
        better = label(ind.direction if ind.direction in ("higher_better", "lower_better") else "no_reference", lang)
        title = f"{indicator_label(indicator, lang).split(' (')[0]} — {better}{note}"
        rows_of_legend = (len(legend) + 1) // 2
        ax.set_title(title, pad=8 + 11 * rows_of_legend, y=TITLE_Y)
        ax.margins(x=0.18)
        sources = [f"{d}" for d in data["doc"]] + [str(ref.get("source", "")).split(",")[0]
                                                    for _, ref in (refs.iterrows() if refs is not None else ())]
        bottom = _footnote(fig, sources, lang)
        _without_ylabel_search(fig)
        fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


class LegendEntry(NamedTuple):
    """One line of a chart's legend: what is drawn, and what it is."""

    handle: object
    text: str


def _missing_rows(missing: list[str], lang: str) -> list[str]:
    """The row labels of the cities that do not report an indicator: each city, or, past
    MISSING_LISTED of them (a national corpus), one row that counts them (the coverage chart and
    coverage.csv name them): a chart of 40 bars is not 250 rows of "not reported"."""
    if len(missing) <= MISSING_LISTED:
        return [city_label(c, lang) for c in missing]
    return [label("cities_count", lang).format(n=len(missing))]


def _draw_bars(ax, data: pd.DataFrame, missing: list[str], colours: list[str], lang: str) -> None:
    """A bar per city, labelled with its value and year; then the rows of the cities that do not
    report it (`missing`: their labels, `_missing_rows`)."""
    n = len(data) + len(missing)
    labels = [_row_label(c, q, lang) for c, q in zip(data["city"], data["qualifier"], strict=True)]
    ax.barh(np.arange(len(data)), data["value"], color=colours, height=0.6)
    for i, row in data.iterrows():
        ax.text(row["value"], i, f" {fmt(row['value'])} ({row['year']})", va="center", fontsize=9, color=INK)
    for j in range(len(data), n):
        # inside the axes (a short word from zero): no part of the tight layout, never measured for it
        ax.text(0, j, " " + label("not_reported", lang), va="center", fontsize=9, color=MUTED, in_layout=False)
    ax.set_yticks(np.arange(n), labels + missing)
    ax.set_ylim(n - 0.5, -0.5)


def _draw_references(ax, data: pd.DataFrame, refs: pd.DataFrame | None, lang: str) -> list[LegendEntry]:
    """Reference lines: a limit across the chart, an average across the bars of its own year."""
    legend: list[LegendEntry] = []
    if refs is None or not len(refs):
        return legend
    for _, ref in refs.iterrows():
        colour, style = REFERENCE_STYLES.get(str(ref["kind"]), (MUTED, "--"))
        name_col = "level_zh" if lang != "en" and "level_zh" in ref and pd.notna(ref.get("level_zh")) else "level"
        text = str(ref[name_col]) if pd.notna(ref.get(name_col)) else str(ref["kind"])
        if pd.notna(ref.get("year")):  # an average: across the bars of its own year only
            text += f" ({int(ref['year'])})"
            # a bar without a year: under no average
            for row in np.flatnonzero((data["year"] == ref["year"]).to_numpy(dtype=bool, na_value=False)):
                ax.vlines(ref["value"], row - 0.42, row + 0.42, colors=colour, linestyles=style, linewidth=1.4)
            handle = matplotlib.lines.Line2D([], [], color=colour, linestyle=style, linewidth=1.4)
        else:
            handle = ax.axvline(ref["value"], color=colour, linestyle=style, linewidth=1.2)
        legend.append(LegendEntry(handle, f"{text}: {fmt(ref['value'])}"))
    return legend


class Panels(NamedTuple):
    """A figure and its axes, one per unit."""

    figure: Figure
    axes: list


def _unit_panels(units: list[str], lang: str, height_per_row: float, rows_per_unit: list[int],
                 width: float = 7.6) -> Panels:
    """One panel per unit, stacked, each as tall as its rows: one unit per axis."""
    heights = [max(1, n) for n in rows_per_unit] or [1]
    fig, axes = plt.subplots(len(heights), 1, figsize=(width, 1.6 + height_per_row * sum(heights) + 0.5 * len(heights)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    return Panels(fig, [a[0] for a in axes])


def changes_chart(facts: pd.DataFrame, indicators_: list[str] | None = None, lang: str = "zh") -> Figure:
    """Year-on-year changes per city and indicator, one panel per unit (days, percentage
    points and % never share an axis); green where the change is an improvement."""
    return draw_changes(change_rows(facts, indicators_), lang)


def draw_changes(changes: pd.DataFrame, lang: str = "zh") -> Figure:
    """`changes_chart` of its rows (`chart_inputs.change_rows`)."""
    rows, _ = _cap(changes, lang)
    cat = indicators()
    units = list(dict.fromkeys(rows["unit"].fillna("?"))) or ["?"]
    with chart_style():
        fig, axes = _unit_panels(units, lang, 0.4, [int((rows["unit"].fillna("?") == u).sum()) for u in units])
        sources = []
        for ax, unit in zip(axes, units, strict=True):
            part = rows[rows["unit"].fillna("?") == unit].reset_index(drop=True)
            labels = [f"{_row_label(r.city, r.scope_, lang)} · {indicator_label(r.indicator, lang).split(' (')[0]}"
                      for r in part.itertuples()]
            colours = []
            for r in part.itertuples():
                d = cat[r.indicator].direction
                good = (r.value > 0 and d == "higher_better") or (r.value < 0 and d == "lower_better")
                colours.append(GOOD if good else (NEUTRAL if r.value == 0 or d == "neutral" else BAD))
            y = np.arange(len(part))
            ax.barh(y, part["value"], color=colours, height=0.6)
            ax.set_yticks(y, labels, fontsize=8)
            ax.set_ylim(max(len(part), 1) - 0.5, -0.5)
            ax.axvline(0, color=MUTED, linewidth=0.8)
            for i, r in enumerate(part.itertuples()):
                ax.text(r.value, i, f" {fmt(r.value)} ({r.year}) ", va="center", fontsize=8,
                        ha="left" if r.value >= 0 else "right")
            span = float(part["value"].abs().max()) if len(part) else 1.0
            ax.set_xlim(-1.45 * (span or 1.0), 1.45 * (span or 1.0))
            ax.set_xlabel(unit_display(unit, lang), fontsize=8)
            sources += list(part["doc"])
        axes[0].set_title(label("changes_title", lang), y=TITLE_Y)
        bottom = _footnote(fig, sources, lang)
        _without_ylabel_search(fig)
        fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


def targets_chart(tva: pd.DataFrame, lang: str = "zh") -> Figure:
    """Targets against actuals (a city's own, or another city's targets: `benchmark`).

    Each row is one judgement; the bar is the gap actual − target in the indicator's own unit,
    one panel per unit on a scale symmetric about zero (a 1-day miss of a zero target is one
    day, not the largest miss), green when the target is met, red when not, labelled with the
    actual and the target as a reader writes it (≤ 37 微克/立方米) and the target's qualifier.
    """
    return draw_targets(target_rows(tva), lang)


def draw_targets(judgements: pd.DataFrame, lang: str = "zh") -> Figure:
    """`targets_chart` of its rows (`chart_inputs.target_rows`)."""
    rows, _ = _cap(judgements, lang)
    units = list(dict.fromkeys(rows["unit"].fillna("?"))) or ["?"]
    with chart_style():
        fig, axes = _unit_panels(units, lang, 0.42, [int((rows["unit"].fillna("?") == u).sum()) for u in units], width=8.2)
        for ax, unit in zip(axes, units, strict=True):
            part = rows[rows["unit"].fillna("?") == unit].reset_index(drop=True)
            if not len(part):
                continue
            gap = part["actual"] - part["target"]
            colours = [GOOD if status == "met" else BAD for status in part["status"]]
            y = np.arange(len(part))
            ax.barh(y, gap, color=colours, height=0.6)
            ax.axvline(0, color=INK, linewidth=0.8)
            labels = []
            for r in part.itertuples():
                who = city_label(r.city, lang)
                other = getattr(r, "target_city", None)
                if isinstance(other, str) and other != r.city:
                    who += label("versus", lang) + city_label(other, lang)
                qual = getattr(r, "target_qualifier", None)
                name = indicator_label(r.indicator, lang).split(" (")[0]
                labels.append(f"{who} · {name}" + (f" · {qual}" if isinstance(qual, str) and qual else ""))
            ax.set_yticks(y, labels, fontsize=8)
            ax.set_ylim(len(part) - 0.5, -0.5)
            shown = unit_display(unit, lang)
            for i, r in enumerate(part.itertuples()):
                text = f" {fmt(r.actual)} / {COMPARATOR_SIGNS.get(r.comparator, r.comparator)} {fmt(r.target)} {shown} "
                ax.text(gap.iloc[i], i, text, va="center", fontsize=7, ha="left" if gap.iloc[i] >= 0 else "right")
            span = float(gap.abs().max()) or 1.0
            ax.set_xlim(-2.6 * span, 2.6 * span)
            ax.set_xlabel(f"{label('gap_axis', lang)} ({shown})", fontsize=8)
        axes[0].set_title(label("targets_title", lang), y=TITLE_Y)
        _without_ylabel_search(fig)
        fig.tight_layout()
    return fig


def coverage_chart(facts: pd.DataFrame, lang: str = "zh") -> Figure:
    """Which city reports which indicator (any year), actuals, targets and changes in separate
    panels (a target or a change is not a reported value): the map to read before comparing."""
    return draw_coverage(coverage_input(facts), lang)


def draw_coverage(coverage: CoverageInput, lang: str = "zh") -> Figure:
    """`coverage_chart` of its counts (`chart_inputs.coverage_input`)."""
    kinds = coverage.kinds
    cities, columns = list(coverage.counts[0].index), list(coverage.counts[0].columns)
    with chart_style():
        width = min(14, 2.4 + 0.35 * max(4, len(columns)))
        fig, axes = plt.subplots(len(kinds), 1, figsize=(width, 1.2 + (0.32 * max(2, len(cities)) + 0.5) * len(kinds)
                                                          + 2.2), sharex=True, squeeze=False)
        for ax, kind, table in zip([a[0] for a in axes], kinds, coverage.counts, strict=True):
            ax.imshow(table.values > 0, cmap="Greens", vmin=0, vmax=1.4, aspect="auto")
            ax.set_yticks(range(len(cities)), [city_label(c, lang) for c in cities], fontsize=8)
            ax.grid(False)
            _cell_counts(ax, table.to_numpy(), CELL_COUNT_POINTS, f"cells-{kind}")
            ax.set_title(label(f"kind_{kind}", lang), fontsize=10, y=TITLE_Y)
        last = axes[-1][0]
        last.set_xticks(range(len(columns)), [indicator_label(c, lang).split(" (")[0] for c in columns], rotation=60,
                        ha="right", fontsize=8)
        # the title sits a fixed distance from the top, and the panels are laid out below the room
        # it takes (a figure fraction would put it inside the first panel of a tall chart)
        height = fig.get_figheight()
        fig.suptitle(label("coverage_title", lang), x=0.01, y=1 - SUPTITLE_TOP_IN / height, ha="left", va="top",
                     fontsize=12)
        _without_ylabel_search(fig)
        fig.tight_layout(rect=(0, 0, 1, 1 - SUPTITLE_ROOM_IN / height))
    return fig


def _cell_counts(ax, counts: np.ndarray, points: float, name: str) -> None:
    """Each nonzero count written at the centre of its cell (row i, column j at data (j, i)) in the
    chart font: one path per distinct count, its digits outlined and centred, stamped on every
    cell holding it by one collection. One artist per value rather than one text per cell: a
    national corpus's chart has thousands of cells, and a text costs its own layout and font
    look-up at every draw (PNG and SVG). Inside the cells: no part of the tight layout. Each
    collection is named `name`-count (its id in the SVG: cells-actual-3)."""
    font = FontProperties(family=plt.rcParams["font.family"], size=points)
    for value in np.unique(counts[counts > 0]).tolist():
        rows, columns = np.nonzero(counts == value)
        outline = TextPath((0, 0), str(value), prop=font)
        (x0, y0), (x1, y1) = outline.get_extents().get_points()
        centred = MplPath(outline.vertices - ((x0 + x1) / 2, (y0 + y1) / 2), outline.codes)
        # sizes [1]: the path's units are points at any resolution (as a scatter's markers)
        stamps = PathCollection([centred], sizes=[1], offsets=np.column_stack([columns, rows]),
                                offset_transform=ax.transData, facecolors=INK, edgecolors="none", linewidths=0)
        stamps.set_transform(IdentityTransform())  # the offsets alone are in data coordinates
        stamps.set_in_layout(False)
        stamps.set_gid(f"{name}-{value}")
        ax.add_collection(stamps, autolim=False)


def theme_chart(shares: pd.DataFrame, value: str = "token_share", lang: str = "zh") -> Figure:
    """Theme shares as stacked bars, one bar per (city, year, document type) (from
    envcompare.policytext): a city's documents of different years or types are never pooled."""
    return draw_themes(theme_table(shares, value, lang), lang)


def draw_themes(table: pd.DataFrame, lang: str = "zh") -> Figure:
    """`theme_chart` of its bars (`chart_inputs.theme_table`)."""
    keys = list(table.index.names)
    names = []
    for key in table.index:
        key = key if isinstance(key, tuple) else (key,)
        parts = dict(zip(keys, key, strict=True))
        names.append(" ".join(p for p in (city_label(parts.get("city", ""), lang), str(parts.get("year", "")),
                                           doc_type_display(parts.get("doc_type"), lang)) if p))
    with chart_style():
        fig, ax = plt.subplots(figsize=(9.4, 1.6 + 0.5 * max(4, len(table))))
        left = np.zeros(len(table))
        cmap = matplotlib.colormaps["tab20"]
        y = np.arange(len(table))
        for k, col in enumerate(table.columns):
            ax.barh(y, table[col], left=left, color=cmap(k % 20), label=col, height=0.6)
            left += table[col].to_numpy()
        ax.set_yticks(y, names)
        ax.set_ylim(len(table) - 0.5, -0.5)
        ax.set_xlabel(label("themes_axis", lang))
        ax.legend(ncol=1, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title(label("themes_title", lang), y=TITLE_Y)
        _without_ylabel_search(fig)
        fig.tight_layout()
    return fig


def save_figure(fig: Figure, stem: Path, svg: bool = True) -> list[Path]:
    """Write the figure as PNG (and SVG), deterministic metadata, atomically; return the paths."""
    paths = []
    with chart_style():  # svg.hashsalt: stable element ids
        paths = _save_all(fig, stem, svg)
    plt.close(fig)
    return paths


def save_chart(chart: Chart, folder: Path) -> list[Path]:
    """Draw one chart of a build (`chart_inputs.key_charts`) into `folder`; return its paths."""
    fig = globals()[chart.draw](*chart.data, lang=chart.lang)
    return save_figure(fig, folder / Path(chart.files()[0]).stem, svg=chart.lang == "zh")


def _save_all(fig: Figure, stem: Path, svg: bool = True) -> list[Path]:
    paths = []
    formats = ((".png", {"Software": "envcompare"}), (".svg", {"Date": None, "Creator": "envcompare"}))
    for suffix, meta in formats if svg else formats[:1]:
        path = Path(stem).with_suffix(suffix)
        paths.append(atomic_write(path, lambda p, s=suffix, m=meta: fig.savefig(p, format=s[1:], metadata=m)))
    return paths
