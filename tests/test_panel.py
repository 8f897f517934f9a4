"""City-year panels: hand-made facts with the expected panel written out by hand, the Stata file
read back with pandas, and a generated multi-year corpus checked against its facts."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from envcompare.comparison.panel import panel, stata_names
from envcompare.present.panel_files import write_panel
from tests.test_compare import fact, frame

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def facts() -> pd.DataFrame:
    return frame(
        fact("济南", 2022, "air.pm25", 37.0, start=10, end=12),
        fact("济南", 2023, "air.pm25", 35.0, start=20, end=22),
        fact("济南", 2023, "air.good_days_ratio", 62.6, start=30, end=34),
        fact("济南", 2023, "air.pm25", 33.0, kind="target"),  # a target is not a panel value
        fact("济南", 2023, "air.pm25", 41.0, period="1-6月"),  # nor a half-year figure
        fact("绵阳", 2023, "air.pm25", 30.0),
        fact("绵阳", 2023, "air.pm25", 31.0, doc="绵阳_b.txt"),  # two figures for one cell: refused
        fact("历下区", 2023, "air.pm25", 36.0),
        fact("全国", 2023, "air.pm25", 30.0),
        fact("济南", 2023, "water.sections_good_ratio", 90.0, qualifier="国控断面"),
        fact("济南", 2023, "water.sections_good_ratio", 80.0),
    )


def test_one_row_per_place_and_year_with_division_codes(facts):
    wide = panel(facts).wide.set_index(["city", "year"])
    assert sorted(wide.index.tolist()) == [("全国", 2023), ("历下区", 2023), ("济南", 2022), ("济南", 2023), ("绵阳", 2023)]
    assert wide.loc[("济南", 2023), "city_code"] == 370100  # places.csv 3701, as yearbooks print it
    assert wide.loc[("济南", 2023), "province_code"] == 370000
    assert wide.loc[("历下区", 2023), "city_code"] == 370102
    assert wide.loc[("历下区", 2023), "level"] == "district"
    assert pd.isna(wide.loc[("全国", 2023), "city_code"])  # not a division: missing, not 0


def test_cells_hold_annual_actuals_and_leave_conflicts_empty(facts):
    wide = panel(facts).wide.set_index(["city", "year"])
    assert wide.loc[("济南", 2023), "air_pm25"] == 35.0
    assert wide.loc[("济南", 2022), "air_pm25"] == 37.0
    assert math.isnan(wide.loc[("济南", 2022), "air_good_days_ratio"])
    assert math.isnan(wide.loc[("绵阳", 2023), "air_pm25"])  # 30 and 31: nobody can say which
    assert wide.loc[("济南", 2023), "water_sections_good_ratio"] == 80.0
    assert wide.loc[("济南", 2023), "water_sections_good_ratio_2"] == 90.0  # 国控断面: its own column


def test_every_value_keeps_its_source(facts):
    result = panel(facts)
    row = result.long[(result.long["city"] == "济南") & (result.long["year"] == 2023)
                      & (result.long["variable"] == "air_pm25")].iloc[0]
    assert (row["doc"], row["start"], row["end"], row["value"]) == ("济南_2023.txt", 20, 22, 35.0)
    assert row["status"] == "extracted"
    variables = result.variables.set_index("variable")
    assert variables.loc["water_sections_good_ratio_2", "column"] == "water.sections_good_ratio (国控断面)"
    assert "国控断面" in variables.loc["water_sections_good_ratio_2", "label"]


def test_derived_previous_year_values_only_when_asked():
    facts = frame(
        fact("济南", 2023, "air.pm25", 35.0, start=10, end=12),
        fact("济南", 2023, "air.pm25", -5.0, kind="change", unit="ug/m3", start=20, end=22),
    )
    assert panel(facts).wide["year"].tolist() == [2023]
    with_derived = panel(facts, derived=True)
    wide = with_derived.wide.set_index("year")
    assert wide.loc[2022, "air_pm25"] == 40.0  # 35 now, 5 less than a year before
    derived = with_derived.long[with_derived.long["kind"] == "derived"].iloc[0]
    assert derived["derived_from"] == "10+20"


def test_corrected_facts_can_be_left_out():
    facts = frame(
        fact("济南", 2023, "air.pm25", 35.0),
        fact("济南", 2023, "air.good_days_ratio", 70.0, start=5, end=9),
    ).assign(status=pd.array(["extracted", "corrected"], dtype="string"))  # as the review stage marks them
    assert panel(facts).wide.loc[0, "air_good_days_ratio"] == 70.0
    assert panel(facts).long.set_index("variable").loc["air_good_days_ratio", "status"] == "corrected"
    assert "air_good_days_ratio" not in panel(facts, corrected=False).wide.columns


@pytest.mark.parametrize(
    "indicators, expected",
    [
        (["air.pm25", "air.pm25"], ["air_pm25", "air_pm25_2"]),
        (["water.national_sections_good_ratio_of_all_monitored"], ["water_national_sections_good_rat"]),
        (["water.national_sections_good_ratio_of_all_monitored"] * 2,
         ["water_national_sections_good_rat", "water_national_sections_good_r_2"]),
        (["9x.y"], ["v_9x_y"]),
    ],
)
def test_stata_names(indicators, expected):
    assert stata_names(indicators) == expected


def test_stata_file_round_trips_values_missing_cells_and_labels(facts, tmp_path):
    result = panel(facts)
    write_panel(result, tmp_path)
    back = pd.read_stata(tmp_path / "panel.dta")
    assert back["city"].tolist() == result.wide["city"].tolist()
    assert back.loc[back["city"] == "济南", "air_pm25"].tolist() == [37.0, 35.0]
    assert back.loc[back["city"] == "绵阳", "air_pm25"].isna().all()
    assert back.loc[back["city"] == "全国", "city_code"].isna().all()
    with pd.io.stata.StataReader(tmp_path / "panel.dta") as reader:
        labels = reader.variable_labels()
    assert labels["air_pm25"].startswith("细颗粒物") and "ug/m3" in labels["air_pm25"]
    assert labels["year"] and labels["city_code"]
    for name in back.columns:  # Stata's rules for variable names
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", name), name
    assert len({c.lower() for c in back.columns}) == len(back.columns)
    csv = pd.read_csv(tmp_path / "panel.csv", encoding="utf-8-sig")
    assert list(csv.columns) == list(back.columns)  # one table, whichever program reads it
    assert (tmp_path / "panel_long.parquet").exists() and (tmp_path / "panel_variables.csv").exists()


def test_generated_multi_year_corpus(tmp_path):
    import envcompare

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    paths = generate(tmp_path / "docs", 40, seed=11)
    facts = envcompare.extract(envcompare.load_reports(paths))
    result = panel(facts)
    annual = facts[(facts["kind"] == "actual") & (facts["period"] == "annual") & facts["indicator"].notna()
                   & facts["city"].notna() & facts["year"].notna()]
    expected_rows = set(zip(annual["city"], annual["year"].astype(int)))
    rows = list(zip(result.wide["city"], result.wide["year"].astype(int)))
    assert len(rows) == len(set(rows)) and set(rows) == expected_rows
    assert result.wide["year"].nunique() > 1
    # a sample of cells: each value is the figure its long row points to in the facts
    for cell in result.long.sample(n=min(25, len(result.long)), random_state=3).itertuples():
        source = facts[(facts["doc"] == cell.doc) & (facts["start"] == cell.start) & (facts["city"] == cell.city)
                       & (facts["indicator"] == cell.indicator)
                       & (facts["qualifier"].fillna("") == ("" if pd.isna(cell.qualifier) else cell.qualifier))]
        assert source["value"].tolist() == [cell.value]
        wide_row = result.wide[(result.wide["city"] == cell.city) & (result.wide["year"] == cell.year)]
        assert wide_row[cell.variable].tolist() == [cell.value]


def test_a_comparison_at_hand_gives_the_same_panel(facts):
    from envcompare.comparison.analysis import analyse

    analysis = analyse(facts)
    assert analysis.all_years.notes is None  # analyse keeps the notes of one year's comparison only
    assert analysis.comparison.notes is not None
    given, made = panel(facts, actuals=analysis.all_years), panel(facts)
    pd.testing.assert_frame_equal(given.wide, made.wide)
    pd.testing.assert_frame_equal(given.long, made.long)
    pd.testing.assert_frame_equal(given.variables, made.variables)
    assert given.wide.set_index(["city", "year"]).loc[("济南", 2023), "air_pm25"] == 35.0
