"""Issue 17: compare like with like. Every expected value is worked out by hand in the comments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import openpyxl
import pandas as pd
import pytest
from test_compare import fact  # one facts-table row by hand (the tests folder is on the path)

import envcompare
from envcompare.comparison.analysis import (
    against_references,
    benchmark,
    compare,
    comparison_tables,
    composite,
    composite_tables,
    fact_statistics,
    inherit_ratio_qualifiers,
    load_references,
    rank,
    sensitivity,
)
from envcompare.extraction.tidy import facts_frame
from envcompare.pipeline.build import to_excel
from envcompare.present import charts, narrate

ROOT = Path(__file__).resolve().parents[1]




@pytest.fixture(scope="module")
def seed_facts(corpus) -> pd.DataFrame:
    return envcompare.extract(corpus)


# --- 2. qualifiers: the 济南 / 武汉 cases -----------------------------------------------------------


def test_petitions_are_never_compared_across_scopes(seed_facts):
    cmp = compare(seed_facts, year="latest")
    v = cmp.values
    # 武汉's 3019 are 环保督察交办 cases: their own column
    assert v.loc[("武汉", 2022), "gov.petitions (环保督察交办)"] == 3019.0
    assert pd.isna(v.loc[("济南", 2023), "gov.petitions (环保督察交办)"])
    # 济南 states 297 for its provincial inspection hotline and 20332 for all complaints: two scopes,
    # two columns; 武汉's 3019 inspection cases are never set against 济南's 20332
    assert v.loc[("济南", 2023), "gov.petitions (省环保督察热线)"] == 297.0
    assert v.loc[("济南", 2023), "gov.petitions"] == 20332.0
    assert pd.isna(v.loc[("武汉", 2022), "gov.petitions"])
    # the 办结率 follows its cases: 98.5% of the 3019 inspection cases, 100% of the 297 hotline cases
    assert v.loc[("武汉", 2022), "gov.petitions_resolved_ratio (环保督察交办)"] == 98.5
    assert v.loc[("济南", 2023), "gov.petitions_resolved_ratio (省环保督察热线)"] == 100.0
    assert pd.isna(v.loc[("武汉", 2022), "gov.petitions_resolved_ratio (省环保督察热线)"])


def test_drinking_water_and_damage_cases_kept_apart(seed_facts):
    cmp = compare(seed_facts, year="latest")
    v = cmp.values
    # 济南 城镇 100 and 武汉 乡镇级 100 are different scopes: two columns, one city each
    assert v["water.drinking_source_compliance (城镇)"].dropna().to_dict() == {("济南", 2023): 100.0}
    # 武汉's 9 prefecture-, 9 county- and 23 township-level sources all comply: one listed scope
    listed = [c for c in v.columns if c.startswith("water.drinking_source_compliance (") and "乡镇级" in c]
    assert len(listed) == 1 and v[listed[0]].dropna().to_dict() == {("武汉", 2022): 100.0}
    assert "water.drinking_source_compliance" not in v.columns
    # 武汉 141 cases started vs 济南 51 closed (办结): apart, and as counts never ranked across cities
    assert v["gov.damage_compensation_cases"].dropna().to_dict() == {("武汉", 2022): 141.0}
    assert v["gov.damage_compensation_cases (办结)"].dropna().to_dict() == {("济南", 2023): 51.0}
    ranks = rank(cmp)
    assert ranks["gov.damage_compensation_cases"].isna().all() and ranks["gov.outfalls_remediated"].isna().all()
    assert ranks["air.pm25"].tolist() == [1, 2]  # a rate is ranked: 武汉 35 before 济南 38
    notes = cmp.notes[cmp.notes["column"] == "gov.outfalls_remediated"]
    assert any(r.startswith("scale-dependent count") for r in notes["reason"])


# --- 1. composites with guards -------------------------------------------------------------------


def test_seeds_say_why_no_composite(seed_facts, tmp_path):
    tables = comparison_tables(seed_facts)
    scores = tables["scores"]
    # 2023: 济南 (潜江 states only targets); 2022: 武汉; no year has 5 cities
    assert scores["note"].tolist() == [
        "only 1 city in 2023: a composite needs at least 5 same-year cities (with fewer, min-max scores are 0 or 1 "
        "and entropy weights degenerate)"]
    assert scores[["equal score", "entropy score", "topsis score"]].isna().all().all()
    assert tables["weights"]["note"].str.startswith("only 1 city in 2023").all()
    assert tables["sensitivity"]["note"].str.startswith("only 1 city").all()
    to_excel(seed_facts, tmp_path / "b.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "b.xlsx")["Scores"]
    header = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=header.index("note") + 1).value.startswith("only 1 city in 2023")


FIVE = pd.DataFrame(
    {"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [5.0, 3.0, 4.0, 1.0, 2.0], "c": [10.0, 20.0, 30.0, 40.0, 50.0]},
    index=pd.MultiIndex.from_tuples([(c, 2023) for c in "VWXYZ"], names=["city", "year"]),
)
FIVE_DIRS = {"a": "higher_better", "b": "higher_better", "c": "lower_better"}


def test_composite_guard():
    # equal weights over 5 cities: min-max scores a = 0 .25 .5 .75 1, b = 1 .5 .75 0 .25,
    # c (lower better) = 1 .75 .5 .25 0; means V 2/3, W 1.5/3, X 1.75/3, Y 1/3, Z 1.25/3 -> ranks 1 3 2 5 4
    comp = composite(FIVE, directions=FIVE_DIRS)
    assert comp.reason is None
    assert comp.scores["score"].tolist() == pytest.approx([2 / 3, 0.5, 1.75 / 3, 1 / 3, 1.25 / 3])
    assert comp.scores["rank"].tolist() == [1, 3, 2, 5, 4]
    four = composite(FIVE.iloc[:4], directions=FIVE_DIRS)
    assert four.reason.startswith("only 4 cities in 2023") and four.scores["score"].isna().all()
    mixed = FIVE.rename(index={2023: 2022}, level="year").iloc[:1]
    mixed = pd.concat([mixed, FIVE.iloc[1:]])
    assert composite(mixed, directions=FIVE_DIRS).reason.startswith("rows from different years (2022, 2023)")


def test_sensitivity_table_by_hand():
    cmp = compare(facts_frame([
        fact(city, 2023, ind, value)
        for city, values in zip("VWXYZ", zip(*FIVE.to_numpy().T.tolist()), strict=True)
        for ind, value in zip(("air.good_days_ratio", "water.national_sections_good_ratio", "air.pm25"), values, strict=True)
    ]))
    table = sensitivity(cmp).set_index("city")
    assert table["equal rank"].tolist() == [1, 3, 2, 5, 4]
    # without a (good days): means of b, c: V 1, W .625, X .625, Y .125, Z .125 -> 1 2 2 4 4
    assert table["equal rank without air.good_days_ratio"].tolist() == [1, 2, 2, 4, 4]
    # without c (PM2.5): means of a, b: V .5, W .375, X .625, Y .375, Z .625 -> 3 4 1 4 1
    assert table["equal rank without air.pm25"].tolist() == [3, 4, 1, 4, 1]
    assert table.loc["V", "largest rank change"] >= 2


def test_generated_corpus_of_five_same_year_cities_computes_a_composite(tmp_path):
    out = tmp_path / "gen"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), str(out), "--docs", "120", "--seed", "1"],
                   check=True, capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    facts = envcompare.extract(envcompare.load_reports(out))
    tables = composite_tables(facts)
    scores = tables["scores"]
    assert len(scores) >= 5 and scores["year"].nunique() == 1
    assert scores["equal score"].notna().all() and scores["topsis rank"].notna().all()
    sens = tables["sensitivity"]
    assert {"equal rank", "entropy rank", "topsis rank", "largest rank change"} <= set(sens.columns)
    assert len(sens) == len(scores)


# --- 3. benchmark and targets ----------------------------------------------------------------------


def test_benchmark_one_judgement_per_target_scope_and_no_counts():
    facts = facts_frame([
        fact("福州", 2022, "water.drinking_source_compliance", 100.0, kind="target", comparator=">=", qualifier="县级及以上"),
        fact("福州", 2022, "water.drinking_source_compliance", 95.0, kind="target", comparator=">=", qualifier="农村“千吨万人”"),
        fact("武汉", 2022, "water.drinking_source_compliance", 100.0, qualifier="乡镇级"),
        fact("潜江", 2022, "gov.outfalls_remediated", 13.0, kind="target", comparator=">="),
        fact("济南", 2022, "gov.outfalls_remediated", 128.0),
    ])
    # 武汉's 乡镇级 figure is neither 福州 target's scope; 128 outfalls against 13 is a count: nothing to judge
    assert len(benchmark(facts)) == 0
    same = pd.concat([facts, facts_frame([fact("武汉", 2022, "water.drinking_source_compliance", 99.0,
                                               qualifier="县级及以上")])], ignore_index=True)
    b = benchmark(same)
    assert list(zip(b["target_qualifier"], b["actual"], b["status"], strict=True)) == [("县级及以上", 99.0, "not met")]


def test_targets_chart_gap_in_its_unit_on_a_symmetric_scale():
    judged = pd.DataFrame({
        "city": ["武汉", "武汉"], "target_city": ["福州", "福州"], "indicator": ["air.heavy_pollution_days", "air.pm10"],
        "unit": ["day", "ug/m3"], "comparator": ["<=", "<="], "target": [0.0, 37.0], "actual": [1.0, 55.0],
        "status": ["not met", "not met"], "target_qualifier": [None, None],
    })
    fig = charts.targets_chart(judged)
    assert len(fig.axes) == 2  # one panel per unit
    widths = [[p.get_width() for p in ax.patches] for ax in fig.axes]
    assert widths == [[1.0], [18.0]]  # 1 day over a zero target is 1 day, not the largest miss
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        assert lo == pytest.approx(-hi)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert " 55 / ≤ 37 微克/立方米 " in texts
    matplotlib.pyplot.close(fig)


# --- 4, 5. text measures -------------------------------------------------------------------------


def test_themes_chart_keeps_years_and_types_apart(corpus):
    from envcompare.policytext import text

    shares = text.theme_shares(corpus)
    fig = charts.theme_chart(shares[shares["level"] == "city_year"])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "武汉 2019 新闻稿" in labels and "武汉 2022 工作总结" in labels
    matplotlib.pyplot.close(fig)


def test_narration_of_attention_cites_and_warns(corpus):
    from envcompare.policytext import text

    stats = text.corpus_stats(corpus)
    sentence = narrate.themes(stats.theme_shares(), stats.attention())
    assert "environment words / all words; 陈诗一、陈登科 (2018)" in sentence
    assert "95% Wilson interval" in sentence
    assert "Caveat: these documents are of different types (article, plan, report, summary)" in sentence


# --- 6. narration counts reporting cities ----------------------------------------------------------


def test_narration_counts_only_reporting_cities(seed_facts):
    refs = load_references()
    pm10 = narrate.indicator(seed_facts, "air.pm10", refs)
    assert pm10.startswith("1 of 4 cities reports PM10 concentration")
    assert "Every city" not in pm10 and "It meets GB 3095-2012 Grade II (70, annual mean)." in pm10
    two = facts_frame([fact("甲", 2023, "air.pm10", 50.0), fact("乙", 2023, "air.pm10", 60.0),
                       fact("丙", 2023, "air.pm25", 30.0), fact("丁", 2023, "air.pm25", 30.0)])
    text = narrate.indicator(two, "air.pm10", refs)
    assert text.startswith("2 of 4 cities report PM10") and "Both meet GB 3095-2012 Grade II (70, annual mean)." in text


# --- 7. charts -----------------------------------------------------------------------------------


def test_reference_lines_per_bar_year_and_colours_against_them(seed_facts):
    refs = load_references()
    fig = charts.indicator_chart(seed_facts, "water.national_sections_good_ratio", refs)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["济南", "武汉 · 11个国考断面"]  # the qualifier in the label
    # each year's national average spans only the bar of that year: 2023 (89.4) at 济南's row 0,
    # 2022 (87.9) at 武汉's row 1
    segments = {round(float(s[0][0]), 1): (float(s[0][1]), float(s[1][1]))
                for c in ax.collections for s in c.get_segments()}
    assert segments[89.4] == pytest.approx((-0.42, 0.42)) and segments[87.9] == pytest.approx((0.58, 1.42))
    # 武汉 90.9 beats its year's 87.9: green, not red for trailing 济南's 100
    bars = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle) and p.get_height() == 0.6]
    assert [matplotlib.colors.to_hex(b.get_facecolor()) for b in bars] == [charts.GOOD, charts.GOOD]
    assert [t.get_text() for t in ax.texts].count(" 未报告") == 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("全国(3641个国考断面) (2022)") for t in legend)
    matplotlib.pyplot.close(fig)


def test_changes_one_unit_per_axis_and_coverage_by_kind(seed_facts):
    fig = charts.changes_chart(seed_facts)
    assert sorted(ax.get_xlabel() for ax in fig.axes) == sorted(["%", "天", "个百分点"])
    matplotlib.pyplot.close(fig)
    fig = charts.coverage_chart(seed_facts)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["实际值", "目标值", "同比变化"]
    matplotlib.pyplot.close(fig)


def test_footnote_is_never_cut(seed_facts):
    fig = charts.indicator_chart(seed_facts, "water.national_sections_good_ratio", load_references())
    note = [t.get_text() for t in fig.texts if t.get_text().startswith("来源")][0]
    assert "…" not in note and "《2023中国生态环境状况公报》(2024)" in note.replace("\n", "")
    matplotlib.pyplot.close(fig)


# --- 8. standards by statistic -------------------------------------------------------------------


def test_standards_are_matched_on_their_statistic():
    facts = facts_frame([
        fact("甲", 2023, "air.o3", 95.0, sentence="臭氧平均浓度为95微克/立方米。"),
        fact("乙", 2023, "air.o3", 150.0, sentence="臭氧日最大8小时平均第90百分位数浓度为150微克/立方米。"),
        fact("丙", 2023, "air.co", 0.8, sentence="一氧化碳平均浓度为0.8毫克/立方米。"),
        fact("丁", 2023, "air.co", 1.1, sentence="CO第95百分位数浓度为1.1毫克/立方米。"),
        fact("戊", 2023, "air.o3", 170.0, sentence="臭氧浓度为170微克/立方米。"),
    ])
    r = against_references(facts)
    gb = r[r["level"] == "GB 3095-2012 Grade II"].set_index("city")
    assert gb.loc["甲", "status"] == "not comparable"  # an annual mean is not the 8-hour 90th percentile
    assert gb.loc["乙", "status"] == "meets"  # 150 <= 160, the same statistic
    assert gb.loc["丙", "status"] == "not comparable"  # not the 24-hour 95th percentile
    assert gb.loc["丁", "status"] == "meets"  # 1.1 <= 4
    assert gb.loc["戊", "status"] == "not comparable" and gb.loc["戊", "statistic"] == "unstated"
    assert pd.isna(gb.loc["甲", "ratio"])


def test_statistic_is_read_once_per_sentence_whatever_the_column_type():
    # two figures share each sentence; a table read back from CSV holds sentences as plain text
    first = "臭氧日最大8小时平均第90百分位数浓度为150微克/立方米，同比下降2%。"
    second = "臭氧浓度为170微克/立方米，同比上升3%。"
    rows = [
        fact("甲", 2023, "air.o3", 150.0, sentence=first),
        fact("甲", 2022, "air.o3", 153.0, sentence=first),
        fact("乙", 2023, "air.o3", 170.0, sentence=second),
        fact("乙", 2022, "air.o3", 165.0, sentence=second),
        fact("丙", 2023, "air.o3", 99.0, sentence=None),
        fact("丙", 2023, "air.good_days_ratio", 80.0, sentence=first),  # no statistics for ratios
    ]
    expected = ["mda8_p90", "mda8_p90", "unstated", "unstated", "unstated", None]
    categorical = facts_frame(rows)
    assert categorical["sentence"].dtype == "category"
    plain = categorical.assign(sentence=categorical["sentence"].astype("string"))
    for facts in (categorical, plain):
        assert fact_statistics(facts).tolist() == [s if s else pd.NA for s in expected]


def test_a_ratio_takes_the_scope_of_the_count_stated_last_before_it_in_its_sentence():
    sentence = "受理督察交办件120件，办结率99%；热线投诉80件。"
    rows = [
        fact("甲", 2023, "gov.petitions_resolved_ratio", 98.0, sentence="全年办结率98%。", start=2, end=5),
        # the same sentence in another document: its count is no count of the ratio below
        fact("甲", 2023, "gov.petitions", 7.0, qualifier="其他", sentence=sentence, start=30, end=31, doc="b.txt"),
        fact("甲", 2023, "gov.petitions", 120.0, qualifier="督察交办", sentence=sentence, start=4, end=8),
        fact("甲", 2023, "gov.petitions_resolved_ratio", 99.0, sentence=sentence, start=15, end=18),
        fact("甲", 2023, "gov.petitions", 80.0, qualifier="热线投诉", sentence=sentence, start=26, end=29),  # after it
    ]
    qualifiers = inherit_ratio_qualifiers(facts_frame(rows))["qualifier"].tolist()
    assert qualifiers == [pd.NA, "其他", "督察交办", "督察交办", "热线投诉"]


# --- 9. workbook print setup and widths ------------------------------------------------------------


def test_print_setup_per_sheet(seed_facts, tmp_path):
    to_excel(seed_facts, tmp_path / "p.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "p.xlsx")
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
    comparison = wb["Comparison"]
    assert not comparison.sheet_properties.pageSetUpPr.fitToPage  # 30 columns: spans pages, legible
    assert comparison.print_title_rows == "$1:$1"
    assert wb["Sensitivity"].sheet_properties.pageSetUpPr.fitToPage  # narrow: one page wide
    about = wb["About"]
    english = [r for r in about.iter_rows(values_only=True) if r[0] == "air.pm25"][0][2]
    assert english == "PM2.5 concentration"
    column = next(c.column_letter for c in about[[i for i, r in enumerate(about.iter_rows(values_only=True), 1)
                                                 if r[0] == "air.pm25"][0]] if c.value == english)
    assert about.column_dimensions[column].width >= len(english)


def test_no_nan_text_in_scores_csv(seed_facts, tmp_path):
    from envcompare.present.export import write_table

    write_table(comparison_tables(seed_facts)["scores"], tmp_path / "scores.csv")
    text = (tmp_path / "scores.csv").read_text(encoding="utf-8-sig")
    assert "a composite needs at least 5 same-year cities" in text
    assert np.isnan(pd.read_csv(tmp_path / "scores.csv")["equal score"]).all()
