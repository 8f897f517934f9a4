"""Present stage: charts of the comparisons, as matplotlib Figures, in one quiet style.

Every function returns a Figure (notebooks show it, `build` saves it as PNG and SVG). Colours
follow each indicator's direction: better is green, worse is red, whichever way it points.
Chinese labels use a registered OFL CJK font (envcompare/fonts.py); `lang="en"` draws English
indicator names and pinyin city names instead. Sources go in a footnote.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..memory import frozen_for_fork
from ..vocab.catalog import indicators
from ..vocab.places import lookup
from .evidence import fmt
from .fonts import cjk_family
from .output import atomic_write

GOOD, BAD, NEUTRAL, INK, MUTED = "#1a9850", "#d73027", "#4575b4", "#222222", "#888888"
REFERENCE_STYLES = {"limit": ("#d73027", "--"), "guideline": ("#7b3294", ":"), "interim": ("#c2a5cf", ":"), "average": ("#555555", "-.")}
UNIT_LABELS = {"ug/m3": "μg/m³", "mg/m3": "mg/m³", "%": "%", "pp": "percentage points", "day": "days", "count": "count",
               "yuan": "yuan", "index": "index"}
UNIT_LABELS_ZH = {"ug/m3": "微克/立方米", "mg/m3": "毫克/立方米", "%": "%", "pp": "个百分点", "day": "天", "count": "个/项/件",
                  "yuan": "元", "index": "指数"}


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
    if lang != "en":
        return city
    if city == "全国":
        return "China"
    place = lookup(city)
    return place.pinyin if place else city


def indicator_label(ind_id: str, lang: str, unit: str | None = None) -> str:
    ind = indicators().get(ind_id)
    name = (ind.name_en if lang == "en" else ind.name_zh) if ind else ind_id
    unit = unit or (ind.unit if ind else "")
    units = UNIT_LABELS if lang == "en" else UNIT_LABELS_ZH
    return f"{name} ({units.get(unit, unit)})" if unit else name


def _footnote(fig: Figure, sources: list[str], lang: str) -> None:
    if not sources:
        return
    head = "Sources: " if lang == "en" else "来源:"
    text = head + "; ".join(dict.fromkeys(sources))
    if len(text) > 220:
        text = text[:217] + "…"
    fig.text(0.01, 0.01, text, fontsize=7, color=MUTED, ha="left", va="bottom", wrap=True)


def latest_actuals(facts: pd.DataFrame, indicator: str, year: int | None = None, period: str = "annual") -> pd.DataFrame:
    """One row per city: its actual for `year`, or its latest year when year is None."""
    rows = facts[(facts["indicator"] == indicator) & (facts["kind"] == "actual") & (facts["period"] == period)]
    if year is not None:
        rows = rows[rows["year"] == year]
    rows = rows.sort_values(["city", "year", "start"], kind="stable")
    return rows.groupby("city", sort=True).tail(1).reset_index(drop=True)


MAX_ROWS = 40  # a chart of a national corpus shows the 20 best and the 20 worst, and says so


def _cap(data: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, str]:
    """At most MAX_ROWS rows (data already ordered best first): the head and the tail."""
    if len(data) <= MAX_ROWS:
        return data, ""
    half = MAX_ROWS // 2
    note = f" ({MAX_ROWS} of {len(data)}: best and worst)" if lang == "en" else f"(共{len(data)}项,显示最好和最差各{half}项)"
    return pd.concat([data.head(half), data.tail(half)]).reset_index(drop=True), note


def _direction_colours(values: pd.Series, direction: str) -> list[str]:
    if direction not in ("higher_better", "lower_better") or len(values) < 2 or values.max() == values.min():
        return [NEUTRAL] * len(values)
    score = (values - values.min()) / (values.max() - values.min())
    if direction == "lower_better":
        score = 1 - score
    cmap = matplotlib.colormaps["RdYlGn"]
    return [matplotlib.colors.to_hex(cmap(0.12 + 0.76 * s)) for s in score]


def indicator_chart(
    facts: pd.DataFrame,
    indicator: str,
    references: pd.DataFrame | None = None,
    year: int | None = None,
    lang: str = "zh",
) -> Figure:
    """Cities side by side on one indicator, with reference lines (standards, national averages).

    Each bar is labelled with its value and year, so cities of different years are never
    silently mixed; colours run from red (worst) to green (best) by the indicator's direction.
    """
    data = latest_actuals(facts, indicator, year)
    ind = indicators()[indicator]
    with chart_style():
        fig, ax = plt.subplots(figsize=(7.2, 1.2 + 0.45 * max(2, len(data))))
        data = data.sort_values("value", ascending=ind.direction != "higher_better", kind="stable").reset_index(drop=True)
        data, note = _cap(data, lang)
        labels = [city_label(c, lang) for c in data["city"]]
        ax.barh(labels, data["value"], color=_direction_colours(data["value"], ind.direction), height=0.6)
        ax.invert_yaxis()
        for i, row in data.iterrows():
            ax.text(row["value"], i, f" {fmt(row['value'])} ({row['year']})", va="center", fontsize=9, color=INK)
        sources = [f"{d}" for d in data["doc"]]
        if references is not None and len(references):
            refs = references[(references["indicator"] == indicator) & references["kind"].isin(["limit", "guideline", "average"])]
            years = set(data["year"].dropna().astype(int))
            refs = refs[refs["year"].isna() | refs["year"].isin(years)]
            for _, ref in refs.iterrows():
                colour, style = REFERENCE_STYLES.get(str(ref["kind"]), (MUTED, "--"))
                label = str(ref["level"]) if pd.notna(ref.get("level")) else str(ref["kind"])
                if pd.notna(ref.get("year")):
                    label += f" ({int(ref['year'])})"
                ax.axvline(ref["value"], color=colour, linestyle=style, linewidth=1.2, label=f"{label}: {fmt(ref['value'])}")
                sources.append(str(ref.get("source", "")).split(",")[0])
            if len(refs):
                ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(3, len(refs)), fontsize=7, frameon=False)
        ax.set_xlabel(indicator_label(indicator, lang))
        better = ("higher is better" if ind.direction == "higher_better" else "lower is better") if lang == "en" else (
            "越高越好" if ind.direction == "higher_better" else "越低越好")
        ax.set_title(f"{indicator_label(indicator, lang).split(' (')[0]} — {better}{note}", pad=28 if references is not None else 6)
        ax.margins(x=0.18)
        _footnote(fig, sources, lang)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def changes_chart(facts: pd.DataFrame, indicators_: list[str] | None = None, lang: str = "zh") -> Figure:
    """Year-on-year changes per city and indicator; green where the change is an improvement."""
    rows = facts[(facts["kind"] == "change") & (facts["period"] == "annual")]
    if indicators_:
        rows = rows[rows["indicator"].isin(indicators_)]
    rows = rows.sort_values(["indicator", "city", "year"], kind="stable").groupby(["indicator", "city"]).tail(1)
    rows, _ = _cap(rows.reset_index(drop=True), lang)
    cat = indicators()
    with chart_style():
        fig, ax = plt.subplots(figsize=(7.2, 1.2 + 0.4 * max(2, len(rows))))
        labels = [f"{city_label(r.city, lang)} · {indicator_label(r.indicator, lang, r.unit)}" for r in rows.itertuples()]
        colours = []
        for r in rows.itertuples():
            d = cat[r.indicator].direction
            good = (r.value > 0 and d == "higher_better") or (r.value < 0 and d == "lower_better")
            colours.append(GOOD if good else (NEUTRAL if r.value == 0 or d == "neutral" else BAD))
        y = np.arange(len(rows))
        ax.barh(y, rows["value"], color=colours, height=0.6)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.axvline(0, color=MUTED, linewidth=0.8)
        for i, r in enumerate(rows.itertuples()):
            ax.text(r.value, i, f" {fmt(r.value)} ({r.year})", va="center", fontsize=8, ha="left" if r.value >= 0 else "right")
        ax.set_title("Year-on-year change (green = improvement)" if lang == "en" else "同比变化(绿色为改善)")
        ax.margins(x=0.25)
        _footnote(fig, list(rows["doc"]), lang)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def targets_chart(tva: pd.DataFrame, lang: str = "zh") -> Figure:
    """Targets against actuals (a city's own, or another city's targets: `benchmark`).

    Each row is one judgement; the bar is the gap relative to the target (capped at ±100%),
    green when the target is met, red when not, labelled with both values.
    """
    rows = tva[tva["status"].isin(["met", "not met"])].reset_index(drop=True) if "status" in tva else tva.iloc[0:0]
    rows, _ = _cap(rows, lang)
    with chart_style():
        fig, ax = plt.subplots(figsize=(7.6, 1.4 + 0.42 * max(2, len(rows))))
        if len(rows):
            rel = rows["gap"] / rows["target"].abs().replace(0, np.nan)
            rel = rel.fillna(np.sign(rows["gap"])).clip(-1, 1) * 100
            colours = [GOOD if st == "met" else BAD for st in rows["status"]]
            y = np.arange(len(rows))
            ax.barh(y, rel, color=colours, height=0.6)
            ax.axvline(0, color=INK, linewidth=0.8)
            labels = []
            for r in rows.itertuples():
                who = city_label(r.city, lang)
                other = getattr(r, "target_city", None)
                if isinstance(other, str) and other != r.city:
                    who += (" vs " if lang == "en" else " 对照 ") + city_label(other, lang)
                labels.append(f"{who} · {indicator_label(r.indicator, lang).split(' (')[0]}")
            ax.set_yticks(y, labels, fontsize=8)
            ax.invert_yaxis()
            for i, r in enumerate(rows.itertuples()):
                text = f" {fmt(r.actual)} / {r.comparator}{fmt(r.target)} {r.unit}"
                ax.text(rel.iloc[i], i, text, va="center", fontsize=7, ha="left" if rel.iloc[i] >= 0 else "right")
            ax.set_xlim(-160, 160)
            ax.set_xlabel("gap to target, % of target (capped at ±100)" if lang == "en" else "与目标的差距(占目标值%,上下限±100)")
        ax.set_title("Actuals against targets (green = met)" if lang == "en" else "实际值对照目标(绿色为达标)")
        fig.tight_layout()
    return fig


def coverage_chart(facts: pd.DataFrame, lang: str = "zh") -> Figure:
    """Which city reports which indicator (any year): the map to read before comparing."""
    table = facts.assign(n=1).pivot_table(index="city", columns="indicator", values="n", aggfunc="sum", fill_value=0)
    if len(table) > MAX_ROWS:  # the cities that report most
        order = table.sum(axis=1)
        table = table.loc[order.sort_values(ascending=False, kind="stable").index[:MAX_ROWS]].sort_index()
    with chart_style():
        fig, ax = plt.subplots(figsize=(min(14, 2 + 0.35 * max(4, table.shape[1])), 1.5 + 0.4 * max(2, table.shape[0])))
        ax.imshow(table.values > 0, cmap="Greens", vmin=0, vmax=1.4, aspect="auto")
        ax.set_xticks(range(table.shape[1]), [indicator_label(c, lang).split(" (")[0] for c in table.columns], rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(table.shape[0]), [city_label(c, lang) for c in table.index])
        ax.grid(False)
        for (i, j), n in np.ndenumerate(table.values):
            if n:
                ax.text(j, i, str(n), ha="center", va="center", fontsize=7, color=INK)
        ax.set_title("Facts per city and indicator" if lang == "en" else "各城市指标覆盖(事实条数)")
        fig.tight_layout()
    return fig


def theme_chart(shares: pd.DataFrame, value: str = "token_share", lang: str = "zh") -> Figure:
    """Theme shares per city as stacked bars (from envcompare.text)."""
    label_col = "theme_en" if lang == "en" and "theme_en" in shares else ("theme_zh" if "theme_zh" in shares else "theme")
    table = shares.pivot_table(index="city", columns=label_col, values=value, aggfunc="mean", fill_value=0)
    if len(table) > MAX_ROWS:
        table = table.iloc[:MAX_ROWS]
    with chart_style():
        fig, ax = plt.subplots(figsize=(9, 1.6 + 0.5 * max(4, len(table))))
        left = np.zeros(len(table))
        cmap = matplotlib.colormaps["tab20"]
        for k, col in enumerate(table.columns):
            ax.barh([city_label(c, lang) for c in table.index], table[col], left=left, color=cmap(k % 20), label=col, height=0.6)
            left += table[col].to_numpy()
        ax.invert_yaxis()
        ax.set_xlabel("share of content words" if lang == "en" else "占实词比例")
        ax.legend(ncol=1, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title("Where the reports put their words" if lang == "en" else "各城市报告的主题分布")
        fig.tight_layout()
    return fig


def save_figure(fig: Figure, stem: Path, svg: bool = True) -> list[Path]:
    """Write the figure as PNG (and SVG), deterministic metadata, atomically; return the paths."""
    paths = []
    with chart_style():  # svg.hashsalt: stable element ids
        paths = _save_all(fig, stem, svg)
    plt.close(fig)
    return paths


KEY_INDICATORS = ("air.pm25", "air.pm10", "air.good_days_ratio", "water.national_sections_good_ratio")


def key_figures(facts: pd.DataFrame, references: pd.DataFrame, judged: pd.DataFrame, shares: pd.DataFrame,
                folder: Path, jobs: int = 1, langs: tuple[str, ...] = ("zh",)) -> list[Path]:
    """The build's charts as PNG + SVG (Chinese labels; add "en" to `langs` for `_en` PNGs),
    drawn in `jobs` processes."""
    with start_key_figures(facts, references, judged, shares, folder, jobs, langs) as drawing:
        return drawing.wait()


class Drawing:
    """Charts being drawn by worker processes while the caller does something else."""

    def __init__(self, tasks: list[tuple], jobs: int) -> None:
        self._pool = None
        self._pending = None
        self._done: list[list[Path]] | None = None
        if jobs > 1 and len(tasks) > 1:
            import multiprocessing as mp

            from matplotlib import font_manager

            from .fonts import font_file

            if cjk_family() and font_file():
                font_manager.get_font(str(font_file()))  # parse the CJK font once, before the workers fork
            # The workers inherit the parent's objects (in a build: the whole corpus). Frozen, the
            # workers' garbage collector does not walk them, which would cost seconds per worker and
            # copy every page of the parent's heap into it (copy-on-write).
            with frozen_for_fork():
                self._pool = mp.get_context("fork").Pool(min(jobs, len(tasks)))
            self._pending = self._pool.map_async(_render, tasks)
        else:
            self._done = [_render(t) for t in tasks]

    def wait(self) -> list[Path]:
        """The paths written, in chart order, once every chart is drawn."""
        if self._done is None:
            assert self._pending is not None and self._pool is not None
            self._done = self._pending.get()
            self._pool.close()
            self._pool.join()
            self._pool = None
        return [p for paths in self._done for p in paths]

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:  # left early (an error): stop the workers
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def start_key_figures(facts: pd.DataFrame, references: pd.DataFrame, judged: pd.DataFrame, shares: pd.DataFrame,
                      folder: Path, jobs: int = 1, langs: tuple[str, ...] = ("zh",)) -> Drawing:
    """`key_figures` in the background (with jobs > 1): `build` writes the workbook meanwhile."""
    specs: list[tuple] = [("coverage", "coverage_chart", (facts,)), ("changes", "changes_chart", (facts,)),
                          ("targets", "targets_chart", (judged,)),
                          ("themes", "theme_chart", (shares[shares["level"] == "city_year"],))]
    for ind in KEY_INDICATORS:
        if ((facts["indicator"] == ind) & (facts["kind"] == "actual")).any():
            specs.append((ind.replace(".", "_"), "indicator_chart", (facts, ind, references)))
    tasks = [(name, func, args, lang, Path(folder)) for name, func, args in specs for lang in langs]
    return Drawing(tasks, jobs)


def _render(task: tuple) -> list[Path]:
    name, func, args, lang, folder = task
    fig = globals()[func](*args, lang=lang)
    return save_figure(fig, folder / (name if lang == "zh" else f"{name}_en"), svg=lang == "zh")


def _save_all(fig: Figure, stem: Path, svg: bool = True) -> list[Path]:
    paths = []
    formats = ((".png", {"Software": "envcompare"}), (".svg", {"Date": None, "Creator": "envcompare"}))
    for suffix, meta in formats if svg else formats[:1]:
        path = Path(stem).with_suffix(suffix)
        paths.append(atomic_write(path, lambda p, s=suffix, m=meta: fig.savefig(p, format=s[1:], metadata=m)))
    return paths
