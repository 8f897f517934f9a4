"""Charts: Chinese glyphs render (no missing-glyph warnings), English labels, files written."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import envcompare
from envcompare.comparison import targets_vs_actuals
from envcompare.present import charts, drawing
from envcompare.present.fonts import cjk_family, font_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def facts(corpus):
    return envcompare.extract(corpus)


@pytest.fixture(scope="module")
def references():
    from envcompare.vocab.resources import data_path

    return pd.read_csv(data_path("references.csv"))


def test_font_is_the_bundled_ofl_noto_sans_cjk_sc_file():
    import mplfonts

    path = font_file()
    assert path is not None, "no CJK font: mplfonts is in requirements.txt"
    assert path.name == "NotoSansCJKsc-Regular.otf"
    assert path.resolve().parent == (Path(mplfonts.__file__).parent / "fonts").resolve()


def test_chart_text_resolves_to_the_bundled_sc_file(facts, references):
    """Whatever else the machine has: every text of a chart is drawn from the bundled SC file."""
    from matplotlib import font_manager

    fig = charts.indicator_chart(facts, "air.pm25", references)
    texts = fig.findobj(lambda a: hasattr(a, "get_fontproperties") and hasattr(a, "get_text") and a.get_text())
    assert texts
    bundled = font_file().resolve()
    for text in texts:
        first = text.get_fontproperties().get_family()[0]
        assert Path(font_manager.findfont(font_manager.FontProperties(family=first))).resolve() == bundled, first
        assert text.get_fontproperties().get_weight() in ("normal", 400), text.get_text()
    assert cjk_family() == "Noto Sans CJK SC"


CHARTS = {
    "indicator": lambda f, r, lang: charts.indicator_chart(f, "air.pm25", r, lang=lang),
    "good_days": lambda f, r, lang: charts.indicator_chart(f, "air.good_days_ratio", r, lang=lang),
    "changes": lambda f, r, lang: charts.changes_chart(f, lang=lang),
    "coverage": lambda f, r, lang: charts.coverage_chart(f, lang=lang),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(CHARTS))
def test_figures_draw_without_missing_glyphs(facts, references, name, lang, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" becomes a failure
        fig = CHARTS[name](facts, references, lang)
        paths = charts.save_figure(fig, tmp_path / name)
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert all(p.stat().st_size > 5000 for p in paths)


@pytest.mark.parametrize("cities", [2, 12, 40])
def test_coverage_title_stands_clear_of_its_panels(cities):
    # a tall chart (a national corpus: 40 cities, three panels) keeps its title above the first
    # panel's title and cells, as a chart of two cities does
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    from envcompare.present.chart_inputs import CoverageInput

    names = [f"城{i:02d}" for i in range(cities)]
    columns = ["air.pm25", "air.good_days_ratio", "water.national_sections_good_ratio"]
    counts = pd.DataFrame([[1, 2, 0]] * cities, index=names, columns=columns)
    fig = charts.draw_coverage(CoverageInput(["actual", "target", "change"], [counts] * 3))
    renderer = fig.canvas.get_renderer()
    title = next(t for t in fig.findobj(Text) if t.get_text() == fig.get_suptitle()).get_window_extent(renderer)
    panels = [ax.get_tightbbox(renderer) for ax in fig.axes]
    assert title.y0 >= max(panel.y1 for panel in panels), (title, panels[0])
    assert not any(Bbox.intersection(title, panel) for panel in panels)
    assert title.y1 <= fig.bbox.y1  # and inside the figure
    charts.plt.close(fig)


def test_coverage_counts_stand_in_their_cells(tmp_path):
    # each nonzero count is written at its cell's centre (column j, row i at data (j, i)), one
    # collection per panel and value, named in the SVG; a zero cell has none
    from envcompare.present.chart_inputs import CoverageInput

    columns = ["air.pm25", "air.good_days_ratio", "water.national_sections_good_ratio"]
    actual = pd.DataFrame([[1, 2, 0], [0, 2, 11]], index=["甲", "乙"], columns=columns)
    target = pd.DataFrame([[0, 0, 0], [3, 0, 0]], index=["甲", "乙"], columns=columns)
    fig = charts.draw_coverage(CoverageInput(["actual", "target"], [actual, target]))
    stamped = {c.get_gid(): sorted(map(tuple, c.get_offsets().tolist())) for ax in fig.axes for c in ax.collections}
    assert stamped == {"cells-actual-1": [(0, 0)], "cells-actual-2": [(1, 0), (1, 1)], "cells-actual-11": [(2, 1)],
                       "cells-target-3": [(0, 1)]}
    assert all(not ax.texts for ax in fig.axes)  # no text artist per cell
    svg = charts.save_figure(fig, tmp_path / "coverage")[1].read_text(encoding="utf-8")
    assert 'id="cells-actual-11"' in svg and 'id="cells-target-3"' in svg


def test_english_labels_use_pinyin_and_catalog_names(facts, references):
    fig = charts.indicator_chart(facts, "air.pm25", references, lang="en")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Wuhan", "Jinan", "Qianjiang", "Fuzhou"]  # best first, then the cities that do not report it
    assert [t.get_text() for t in ax.texts].count(" not reported") == 2
    assert ax.get_xlabel() == "PM2.5 concentration (μg/m³)"


def test_svg_is_deterministic(facts, references, tmp_path):
    a = charts.save_figure(charts.indicator_chart(facts, "air.pm25", references), tmp_path / "a")[1].read_bytes()
    b = charts.save_figure(charts.indicator_chart(facts, "air.pm25", references), tmp_path / "b")[1].read_bytes()
    assert a == b


def test_key_figures_in_two_processes_are_the_files_of_one(facts, references, tmp_path):
    from envcompare.comparison.analysis import targets_vs_actuals

    shares = pd.DataFrame({"level": ["city_year", "city_year", "document"], "city": ["武汉", "济南", "武汉"],
                           "theme_zh": ["大气环境", "水环境", "大气环境"], "token_share": [0.2, 0.1, 0.3]})
    judged = targets_vs_actuals(facts)
    one = drawing.key_figures(facts, references, judged, shares, tmp_path / "one", jobs=1)
    two = drawing.key_figures(facts, references, judged, shares, tmp_path / "two", jobs=2)
    assert [p.name for p in two] == [p.name for p in one]
    assert [p.name for p in one][:8] == ["coverage.png", "coverage.svg", "changes.png", "changes.svg",
                                         "targets.png", "targets.svg", "themes.png", "themes.svg"]
    assert "air_pm25.png" in {p.name for p in one}
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.parametrize("busy_seconds", [0, 4])
def test_a_chart_the_worker_cannot_draw_fails_the_wait_and_the_others_are_drawn(facts, references, tmp_path,
                                                                                 busy_seconds):
    # the worker takes the first chart (a drawing function that does not exist), the caller draws
    # the rest from the back while it waits: the worker's error is raised by `wait`, no hang; the
    # same charts exist whether the error came before the caller waited (busy 4 s) or while it drew
    import time

    from envcompare.present.chart_inputs import Chart, change_rows

    broken = Chart("broken", "draw_nothing_of_that_name", (), "zh")
    fine = [Chart(f"changes{i}", "draw_changes", (change_rows(facts),), "zh") for i in range(3)]
    with drawing.start_drawing([broken, *fine], tmp_path, jobs=2) as charts, pytest.raises(KeyError):
        time.sleep(busy_seconds)  # the caller writing its tables
        charts.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"changes{i}.{s}" for i in range(3) for s in ("png", "svg"))


# Draws every chart of `build` (Chinese and English) in a fresh interpreter with a fresh matplotlib
# config folder (fresh font cache), warnings as errors and the font manager's log on stderr.
# With argv[2] == "impostor", a font of the same family name but another file ("a system Noto Sans
# CJK collection", listed first as in a font cache built before) is known and looked up before.
DRAW_ALL = r"""
import dataclasses, logging, sys, warnings
warnings.simplefilter("error")
import pandas as pd
from matplotlib import font_manager  # builds the font cache (its one log line: "generated new fontManager")
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from pathlib import Path
if sys.argv[2] == "impostor":
    import mplfonts
    other = Path(mplfonts.__file__).parent / "fonts" / "NotoSerifCJKsc-Regular.otf"
    entry = font_manager.ttfFontProperty(font_manager.ft2font.FT2Font(str(other)))
    font_manager.fontManager.ttflist.insert(0, dataclasses.replace(entry, name="Noto Sans CJK SC"))
    assert Path(font_manager.findfont("Noto Sans CJK SC")) == other
import envcompare
from envcompare.comparison import load_references, targets_vs_actuals
from envcompare.present import charts, drawing
facts = envcompare.extract(envcompare.load_reports(sys.argv[1]))
shares = pd.DataFrame({"level": ["city_year", "city_year"], "city": ["武汉", "济南"],
                       "theme_zh": ["大气环境", "水环境"], "theme_en": ["air", "water"], "token_share": [0.2, 0.1]})
paths = drawing.key_figures(facts, load_references(), targets_vs_actuals(facts), shares, Path(sys.argv[3]),
                            jobs=1, langs=("zh", "en"))
print(len(paths))
"""


def draw_all(tmp_path: Path, name: str, impostor: bool = False) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / name
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / f"mpl_{name}"), "PYTHONPATH": str(ROOT)}
    env.pop("MPLBACKEND", None)
    res = subprocess.run([sys.executable, "-c", DRAW_ALL, str(ROOT / "seeds"), "impostor" if impostor else "-", str(out)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    return res, out


@pytest.fixture(scope="module")
def plain_drawing(tmp_path_factory):
    return draw_all(tmp_path_factory.mktemp("draw"), "plain")


def test_every_chart_draws_without_a_warning_or_font_message(plain_drawing):
    res, out = plain_drawing
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no findfont message (bold), no missing glyph, nothing
    assert int(res.stdout) == len(list(out.iterdir())) > 10


def test_png_bytes_do_not_depend_on_other_fonts_of_the_same_family(plain_drawing, tmp_path):
    """A system Noto Sans CJK (JP-first collection) or a stale font cache must not change a pixel."""
    plain, a = plain_drawing
    other, b = draw_all(tmp_path, "impostor", impostor=True)
    assert plain.returncode == 0 and other.returncode == 0, plain.stderr + other.stderr
    pngs = sorted(p.name for p in a.glob("*.png"))
    assert pngs == sorted(p.name for p in b.glob("*.png")) and len(pngs) > 5
    for name in pngs:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


ALL_CHARTS = {
    **CHARTS,
    "targets": lambda f, r, lang: charts.targets_chart(targets_vs_actuals(f), lang=lang),
    "themes": lambda f, r, lang: charts.theme_chart(pd.DataFrame({"city": ["武汉"], "theme_zh": ["大气环境"], "token_share": [0.2]}), lang=lang),
}


@pytest.fixture
def restore_interactive():
    import matplotlib.pyplot as plt

    before = plt.isinteractive()
    yield
    plt.interactive(before)


@pytest.mark.parametrize("name", sorted(ALL_CHARTS))
def test_interactive_mode_is_what_it_was_after_a_chart(facts, references, name, tmp_path, restore_interactive):
    import matplotlib.pyplot as plt

    for mode in (True, False, True):
        plt.interactive(mode)
        fig = ALL_CHARTS[name](facts, references, "zh")
        assert plt.isinteractive() is mode
        charts.save_figure(fig, tmp_path / name, svg=False)
        assert plt.isinteractive() is mode


def test_a_backend_turning_interactive_on_during_the_first_chart_is_kept(facts, references, monkeypatch,
                                                                          restore_interactive):
    """What JupyterLab's inline backend does when the kernel's first figure is made: it switches
    interactive mode on. Our chart style must not undo it, or later figures are never shown."""
    import matplotlib.pyplot as plt

    real_subplots = plt.subplots

    def subplots_activating_a_backend(*args, **kwargs):
        plt.interactive(True)
        return real_subplots(*args, **kwargs)

    plt.interactive(False)
    monkeypatch.setattr(plt, "subplots", subplots_activating_a_backend)
    plt.close(charts.indicator_chart(facts, "air.pm25", references))
    assert plt.isinteractive()


def test_a_capped_chart_has_one_tick_per_row_shown():
    """More reporting cities than a chart shows, plus cities that do not report it: the ticks are
    the capped bars and the not-reported cities (was: a tick count of the uncapped rows, an error)."""
    from test_compare import fact, frame

    rows = [fact(f"c{i:03d}", 2023, "air.pm25", 20.0 + i) for i in range(charts.MAX_ROWS + 11)]
    rows += [fact(f"z{i}", 2023, "air.good_days_ratio", 80.0) for i in range(3)]
    fig = charts.indicator_chart(frame(*rows), "air.pm25")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == charts.MAX_ROWS + 3
    assert labels[:2] == ["c000", "c001"] and labels[-3:] == ["z0", "z1", "z2"]


@pytest.mark.parametrize(("not_reporting", "lang", "tail"), [
    (20, "zh", ["z00", "z19"]),  # up to 20 not-reporting cities are named, one row each
    (21, "zh", ["c050", "21个城市"]),  # more are one row that counts them (a national corpus)
    (250, "en", ["c050", "250 cities"]),
])
def test_cities_not_reporting_are_named_up_to_twenty_then_counted(not_reporting, lang, tail):
    import matplotlib.pyplot as plt
    from test_compare import fact, frame

    rows = [fact(f"c{i:03d}", 2023, "air.pm25", 20.0 + i) for i in range(51)]
    rows += [fact(f"z{i:02d}", 2023, "air.good_days_ratio", 80.0) for i in range(not_reporting)]
    fig = charts.indicator_chart(frame(*rows), "air.pm25", lang=lang)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    plt.close(fig)
    listed = 40 + (not_reporting if not_reporting <= 20 else 1)  # the 20 best and 20 worst bars, then those rows
    assert len(labels) == listed
    assert [labels[-not_reporting if not_reporting <= 20 else -2], labels[-1]] == tail
