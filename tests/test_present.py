"""Charts: Chinese glyphs render (no missing-glyph warnings), English labels, files written."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import envcompare
from envcompare.present import charts
from envcompare.present.fonts import cjk_family, font_file


@pytest.fixture(scope="module")
def facts(corpus):
    return envcompare.extract(corpus)


@pytest.fixture(scope="module")
def references():
    from envcompare.vocab.resources import data_path

    return pd.read_csv(data_path("references.csv"))


def test_font_is_an_ofl_noto_cjk_file():
    path = font_file()
    assert path is not None, "no CJK font: install fonts-noto-cjk or mplfonts (requirements.txt)"
    assert "NotoSansCJK" in path.name and "SimHei" not in str(path)
    assert cjk_family() and "Noto Sans CJK" in cjk_family()


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


def test_english_labels_use_pinyin_and_catalog_names(facts, references):
    fig = charts.indicator_chart(facts, "air.pm25", references, lang="en")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert set(labels) == {"Wuhan", "Jinan"}
    assert ax.get_xlabel() == "PM2.5 concentration (μg/m³)"


def test_svg_is_deterministic(facts, references, tmp_path):
    a = charts.save_figure(charts.indicator_chart(facts, "air.pm25", references), tmp_path / "a")[1].read_bytes()
    b = charts.save_figure(charts.indicator_chart(facts, "air.pm25", references), tmp_path / "b")[1].read_bytes()
    assert a == b


def test_key_figures_in_two_processes_are_the_files_of_one(facts, references, tmp_path):
    import gc

    from envcompare.comparison.analysis import targets_vs_actuals

    shares = pd.DataFrame({"level": ["city_year", "city_year", "document"], "city": ["武汉", "济南", "武汉"],
                           "theme_zh": ["大气环境", "水环境", "大气环境"], "token_share": [0.2, 0.1, 0.3]})
    judged = targets_vs_actuals(facts)
    one = charts.key_figures(facts, references, judged, shares, tmp_path / "one", jobs=1)
    two = charts.key_figures(facts, references, judged, shares, tmp_path / "two", jobs=2)
    assert [p.name for p in two] == [p.name for p in one]
    assert [p.name for p in one][:8] == ["coverage.png", "coverage.svg", "changes.png", "changes.svg",
                                         "targets.png", "targets.svg", "themes.png", "themes.svg"]
    assert "air_pm25.png" in {p.name for p in one}
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert gc.get_freeze_count() == 0  # the parent's objects are collectable again
