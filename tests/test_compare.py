"""Compare stage on small tables whose expected values are worked out by hand in the comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from envcompare.comparison.analysis import (
    against_references,
    benchmark,
    compare,
    comparison_tables,
    composite,
    coverage,
    coverage_table,
    derive_previous_year,
    entropy_weights,
    governance_rates,
    judge,
    load_references,
    rank,
    scores,
    targets_vs_actuals,
)
from envcompare.extraction.tidy import FACT_COLUMNS, facts_frame
from envcompare.vocab.catalog import indicators

CAT = indicators()


def fact(city: str, year: int, indicator: str, value: float, kind: str = "actual", **kw) -> dict:
    """One facts-table row; unit, direction and domain come from the catalog unless given."""
    ind = CAT[indicator]
    row = {
        "city": city, "year": year, "period": "annual", "indicator": indicator, "value": value,
        "unit": ind.unit, "direction": ind.direction, "kind": kind, "comparator": None, "approx": False,
        "qualifier": None, "domain": ind.domain, "doc": f"{city}_{year}.txt", "start": 0, "end": 1,
        "evidence": str(value), "sentence": "",
    }
    row.update(kw)
    return row


def frame(*rows: dict) -> pd.DataFrame:
    return facts_frame(list(rows))


# --- compare ----------------------------------------------------------------------------------


@pytest.fixture()
def three_cities() -> pd.DataFrame:
    return frame(
        fact("甲", 2022, "air.pm25", 30.0),
        fact("甲", 2023, "air.pm25", 28.0),
        fact("甲", 2023, "air.good_days_ratio", 90.0),
        fact("乙", 2022, "air.pm25", 40.0),
        fact("乙", 2022, "air.good_days_ratio", 80.0),
        fact("丙", 2023, "air.pm25", 20.0, kind="target", comparator="<="),
        fact("乙", 2022, "gov.fines", 1000.0),
    )


def test_rows_are_city_and_year_never_mixed(three_cities):
    cmp = compare(three_cities)
    # 甲 has two years: two rows; the target of 丙 is not an actual
    assert list(cmp.values.index) == [("乙", 2022), ("甲", 2022), ("甲", 2023)]
    assert cmp.values.loc[("甲", 2022), "air.pm25"] == 30.0
    assert cmp.values.loc[("甲", 2023), "air.pm25"] == 28.0
    assert math.isnan(cmp.values.loc[("甲", 2022), "air.good_days_ratio"])
    assert not cmp.rows["latest"].any()
    assert cmp.values.dtypes.eq("float64").all()


def test_latest_per_city_is_marked(three_cities):
    cmp = compare(three_cities, year="latest")
    assert list(cmp.values.index) == [("乙", 2022), ("甲", 2023)]
    assert cmp.rows["latest"].all()
    assert cmp.mixed_years()
    assert list(compare(three_cities, year=2022).values.index) == [("乙", 2022), ("甲", 2022)]
    with pytest.raises(ValueError):
        compare(three_cities, year="newest")


def test_companion_table_has_units_and_directions(three_cities):
    cmp = compare(three_cities, domain="air")
    info = cmp.indicators.set_index("column")
    assert list(cmp.values.columns) == ["air.good_days_ratio", "air.pm25"]  # catalog order
    assert info.loc["air.pm25", "unit"] == "ug/m3" and info.loc["air.pm25", "direction"] == "lower_better"
    assert info.loc["air.good_days_ratio", "unit"] == "%"
    flat = cmp.flat()
    assert list(flat.columns[:3]) == ["city", "year", "latest"]
    assert "air.pm25 [ug/m3]" in flat.columns


def test_qualified_figures_are_their_own_columns_and_repeats_are_counted():
    facts = frame(
        fact("甲", 2022, "water.drinking_source_compliance", 95.0, qualifier="农村", start=5),
        fact("甲", 2022, "water.drinking_source_compliance", 100.0, start=50),
        fact("甲", 2022, "water.drinking_source_compliance", 100.0, start=90),  # the same figure again
    )
    cmp = compare(facts)
    assert list(cmp.values.columns) == ["water.drinking_source_compliance", "water.drinking_source_compliance (农村)"]
    assert cmp.values.iloc[0].tolist() == [100.0, 95.0]
    assert cmp.cells["alternatives"].tolist() == [1, 0]
    assert cmp.indicators["qualifier"].tolist()[1] == "农村"


def test_derived_rows_only_when_asked():
    facts = frame(fact("甲", 2022, "air.pm25", 30.0), fact("乙", 2021, "air.pm25", 33.0, kind="derived"))
    assert list(compare(facts).values.index) == [("甲", 2022)]
    both = compare(facts, kind=("actual", "derived"))
    assert list(both.values.index) == [("乙", 2021), ("甲", 2022)]
    assert set(both.cells["kind"]) == {"actual", "derived"}


# --- rank and scores --------------------------------------------------------------------------


@pytest.fixture()
def wide() -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([("甲", 2023), ("乙", 2023), ("丙", 2023)], names=["city", "year"])
    return pd.DataFrame(
        {
            "air.pm25": [30.0, 20.0, 40.0],  # lower is better
            "air.good_days_ratio": [90.0, 80.0, 70.0],  # higher is better
            "gov.fines": [5.0, 1.0, 3.0],  # neutral
            "air.no2": [30.0, 30.0, 40.0],  # lower is better, a tie
        },
        index=index,
    )


def test_rank_follows_direction(wide):
    r = rank(wide)
    assert r["air.pm25"].tolist() == [2, 1, 3]  # 20 < 30 < 40
    assert r["air.good_days_ratio"].tolist() == [1, 2, 3]  # 90 > 80 > 70
    assert r["air.no2"].tolist() == [1, 1, 3]  # ties share the best rank
    assert r["gov.fines"].isna().all()  # no better or worse
    assert str(r["air.pm25"].dtype) == "Int64"


def test_rank_within_year():
    index = pd.MultiIndex.from_tuples([("甲", 2022), ("乙", 2022), ("甲", 2023)], names=["city", "year"])
    r = rank(pd.DataFrame({"air.pm25": [30.0, 20.0, 50.0]}, index=index), within_year=True)
    assert r["air.pm25"].tolist() == [2, 1, 1]


def test_min_max_scores_follow_direction(wide):
    s = scores(wide)
    # pm25: lo 20, hi 40 -> (40 - x) / 20: 30 -> 0.5, 20 -> 1, 40 -> 0
    assert s["air.pm25"].tolist() == [0.5, 1.0, 0.0]
    # good days: (x - 70) / 20: 90 -> 1, 80 -> 0.5, 70 -> 0
    assert s["air.good_days_ratio"].tolist() == [1.0, 0.5, 0.0]
    assert s["gov.fines"].isna().all()
    same = scores(pd.DataFrame({"air.pm25": [30.0, 30.0]}))
    assert same["air.pm25"].tolist() == [1.0, 1.0]  # nobody is worse
    alone = scores(pd.DataFrame({"air.pm25": [30.0, float("nan")]}))
    assert alone["air.pm25"].isna().all()  # one value: nothing to compare against


# --- composites -------------------------------------------------------------------------------

# A 3 x 3 table: a (higher better) 10, 20, 30; b (lower better) 1, 3, 2; c (higher better) 5, 10, 10.
# Min-max scores: a 0, .5, 1;  b 1, 0, .5;  c 0, 1, 1.
# Entropy with L = ln 2 / ln 3 = 0.630930:
#   a: p = 0, 1/3, 2/3 -> e = (1/ln3)(1/3 ln3 + 2/3 ln 3/2) = 1 - 2/3 L -> d_a = 2/3 L = 0.420620
#   b: the same scores reordered -> d_b = 0.420620
#   c: p = 0, 1/2, 1/2 -> e = ln2/ln3 = L -> d_c = 1 - L = 0.369070
#   sum d = 1.210310; w_a = w_b = 0.420620 / 1.210310 = 0.347531; w_c = 0.369070 / 1.210310 = 0.304939
# Composite = sum w s: row 1 = w_b = 0.347531; row 2 = .5 w_a + w_c = 0.478704;
#   row 3 = w_a + .5 w_b + w_c = 0.826235.
HAND = pd.DataFrame({"a": [10.0, 20.0, 30.0], "b": [1.0, 3.0, 2.0], "c": [5.0, 10.0, 10.0]},
                    index=pd.MultiIndex.from_tuples([("甲", 2023), ("乙", 2023), ("丙", 2023)], names=["city", "year"]))
HAND_DIRS = {"a": "higher_better", "b": "lower_better", "c": "higher_better"}


def test_entropy_weights_by_hand():
    w = entropy_weights(scores(HAND, HAND_DIRS))
    assert w["a"] == pytest.approx(0.347531, abs=1e-6)
    assert w["b"] == pytest.approx(0.347531, abs=1e-6)
    assert w["c"] == pytest.approx(0.304939, abs=1e-6)
    assert w.sum() == pytest.approx(1.0)
    comp = composite(HAND, method="entropy", directions=HAND_DIRS, min_cities=3)
    assert comp.scores["score"].tolist() == pytest.approx([0.347531, 0.478704, 0.826235], abs=1e-6)
    assert comp.scores["rank"].tolist() == [3, 2, 1]
    assert comp.used == ["a", "b", "c"]


def test_equal_weights_by_hand():
    # means of the scores: (0+1+0)/3 = 1/3, (.5+0+1)/3 = .5, (1+.5+1)/3 = 5/6
    comp = composite(HAND, method="equal", directions=HAND_DIRS, min_cities=3)
    assert comp.scores["score"].tolist() == pytest.approx([1 / 3, 0.5, 5 / 6])
    assert comp.weights.tolist() == pytest.approx([1 / 3] * 3)


def test_topsis_by_hand():
    # x (higher better) 3, 4, 0: norm 5 -> .6, .8, 0;  y (lower better) 0, 6, 8: norm 10 -> 0, .6, .8
    # equal weights .5: v_x = .3, .4, 0; v_y = 0, .3, .4. Ideal best (.4, 0), worst (0, .4).
    # row 1 (.3, 0): D+ = .1, D- = sqrt(.09 + .16) = .5 -> .5 / .6 = 0.833333
    # row 2 (.4, .3): D+ = .3, D- = sqrt(.16 + .01) = 0.412311 -> 0.412311 / 0.712311 = 0.578835
    # row 3 (0, .4): D+ = sqrt(.32) = 0.565685, D- = 0 -> 0
    table = pd.DataFrame({"x": [3.0, 4.0, 0.0], "y": [0.0, 6.0, 8.0]}, index=HAND.index)
    comp = composite(table, method="topsis", directions={"x": "higher_better", "y": "lower_better"}, min_cities=3)
    assert comp.scores["score"].tolist() == pytest.approx([0.833333, 0.578835, 0.0], abs=1e-6)
    assert comp.scores["d_best"].tolist() == pytest.approx([0.1, 0.3, 0.565685], abs=1e-6)
    assert comp.scores["rank"].tolist() == [1, 2, 3]


def test_composite_uses_only_indicators_every_city_has(three_cities):
    cmp = compare(three_cities, year=2022)  # 乙 has pm25, good days, fines; 甲 only pm25
    comp = composite(cmp, method="equal", min_cities=2)
    assert comp.dropped["air.good_days_ratio"] == "missing for 甲 2022"
    assert comp.dropped["gov.fines"] == "no direction (neutral)"
    # one indicator left: not a composite (at least two are needed), and it says so
    assert comp.scores["score"].isna().all() and comp.reason.startswith("1 indicator(s) reported like for like")
    with pytest.raises(ValueError):
        composite(cmp, method="pca")


# --- targets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "target", "comparator", "expected"),
    [
        (20.0, 20.0, ">=", "met"), (20.0, 20.0, ">", "not met"), (20.0, 20.0, "<=", "met"),
        (20.0, 20.0, "<", "not met"), (20.0, 20.0, "=", "met"), (20.5, 20.0, "<=", "not met"),
        (19.9, 20.0, "<", "met"), (98.9, 98.9, ">", "not met"), (99.0, 98.9, ">", "met"),
        (0.1 + 0.2, 0.3, "=", "met"),  # float noise is not a miss
    ],
)
def test_comparators(actual, target, comparator, expected):
    assert judge(actual, target, comparator) == expected


def test_targets_vs_actuals():
    facts = frame(
        fact("甲", 2023, "air.pm25", 35.0, kind="target", comparator="<=", start=10),
        fact("甲", 2023, "air.pm25", 38.0, start=100),
        fact("甲", 2023, "air.good_days_ratio", 80.0, kind="target", comparator=">=", start=20),
        fact("甲", 2023, "air.good_days_ratio", 85.0, start=110),
        fact("甲", 2023, "air.heavy_pollution_days", 3.0, kind="target", start=30),  # no comparator
        fact("甲", 2023, "air.heavy_pollution_days", 2.0, start=120),
        fact("甲", 2023, "air.pm10", 60.0, kind="target", comparator="<=", start=40),  # no actual
        fact("甲", 2022, "air.pm10", 55.0, start=130),  # another year: not this target's actual
    )
    t = targets_vs_actuals(facts).set_index("indicator")
    assert t.loc["air.pm25", "status"] == "not met"
    assert t.loc["air.pm25", "gap"] == pytest.approx(3.0)  # 38 - 35
    assert t.loc["air.good_days_ratio", "status"] == "met"
    assert t.loc["air.good_days_ratio", "gap"] == pytest.approx(5.0)  # 85 - 80
    assert t.loc["air.heavy_pollution_days", "comparator"] == "<="  # lower is better
    assert bool(t.loc["air.heavy_pollution_days", "comparator_inferred"])
    assert t.loc["air.heavy_pollution_days", "status"] == "met"
    assert t.loc["air.pm10", "status"] == "no actual yet"
    assert pd.isna(t.loc["air.pm10", "actual"])
    assert t.loc["air.pm25", "target_start"] == 10 and t.loc["air.pm25", "actual_start"] == 100


def test_benchmark_one_citys_actuals_against_anothers_targets():
    facts = frame(
        fact("甲", 2022, "air.pm25", 35.0),
        fact("乙", 2022, "air.pm25", 20.5, kind="target", comparator="<="),
        fact("乙", 2022, "air.good_days_ratio", 98.9, kind="target", comparator=">"),
    )
    b = benchmark(facts, city="甲", against="乙")
    assert len(b) == 1  # 甲 has no good-days actual
    row = b.iloc[0]
    assert (row["city"], row["target_city"], row["status"]) == ("甲", "乙", "not met")
    assert row["gap"] == pytest.approx(14.5)  # 35 - 20.5
    assert len(benchmark(facts, city="乙")) == 0  # 乙 has no actuals


def test_target_takes_the_same_qualifier_first_then_document_order():
    facts = frame(
        fact("甲", 2023, "water.drinking_source_compliance", 100.0, kind="target", qualifier="县级及以上", doc="a.txt", start=5),
        fact("甲", 2023, "water.drinking_source_compliance", 90.0, kind="target", doc="a.txt", start=9),
        fact("甲", 2023, "water.drinking_source_compliance", 97.0, doc="b.txt", start=1),  # unqualified, later doc
        fact("甲", 2023, "water.drinking_source_compliance", 96.0, doc="a.txt", start=80),  # unqualified, later start
        fact("甲", 2023, "water.drinking_source_compliance", 95.0, doc="a.txt", start=40),  # unqualified, first
        fact("甲", 2023, "water.drinking_source_compliance", 99.0, qualifier="县级及以上", doc="b.txt", start=3),
    )
    t = targets_vs_actuals(facts)
    assert t["target"].tolist() == [100.0, 90.0]  # target order (same city, year, indicator; by start)
    # the qualified target takes the qualified actual, never an unqualified one, although a.txt comes first
    assert t["actual"].tolist() == [99.0, 95.0]
    assert t["actual_qualifier"].tolist()[0] == "县级及以上" and pd.isna(t["actual_qualifier"].tolist()[1])
    assert t["alternatives"].tolist() == [0, 2]  # one candidate of its scope; three unqualified
    assert t["status"].tolist() == ["not met", "met"]  # 99 < 100; 95 >= 90 (higher is better)
    assert t["gap"].tolist() == pytest.approx([-1.0, 5.0])
    assert t["actual_start"].tolist() == [3, 40]


def test_targets_missing_key_values_match_each_other():
    # a target and an actual that both lack a period pair up; a period never pairs with a missing one
    facts = frame(
        fact("甲", 2023, "air.pm25", 30.0, kind="target", comparator="<=", period=None, start=1),
        fact("甲", 2023, "air.pm25", 31.0, period=None, start=2),
        fact("甲", 2023, "air.pm10", 60.0, kind="target", comparator="<=", start=3),
        fact("甲", 2023, "air.pm10", 50.0, period=None, start=4),
    )
    t = targets_vs_actuals(facts).set_index("indicator")
    assert t.loc["air.pm25", "status"] == "not met" and t.loc["air.pm25", "actual"] == 31.0
    assert t.loc["air.pm10", "status"] == "no actual yet"
    assert t.loc["air.pm10", "alternatives"] == 0


def test_targets_table_dtypes_and_order():
    facts = frame(
        fact("乙", 2023, "air.pm25", 30.0, kind="target", start=7),
        fact("甲", 2023, "air.good_days_ratio", 85.0, kind="target", start=9),
        fact("甲", 2022, "air.pm25", 35.0, kind="target", start=1),
        fact("甲", 2023, "air.good_days_ratio", 80.0, kind="target", start=2),
        fact("甲", 2023, "air.good_days_ratio", 86.0, start=3),
    )
    t = targets_vs_actuals(facts)
    # city, year, indicator, target start
    assert list(zip(t["city"], t["year"], t["target_start"], strict=True)) == [
        ("乙", 2023, 7), ("甲", 2022, 1), ("甲", 2023, 2), ("甲", 2023, 9)]
    assert t["status"].tolist() == ["no actual yet", "no actual yet", "met", "met"]
    assert t["alternatives"].tolist() == [0, 0, 0, 0]
    assert str(t["alternatives"].dtype) == "Int64" and str(t["comparator_inferred"].dtype) == "boolean"
    assert str(t["year"].dtype) == "Int64" and str(t["city"].dtype) == "string"
    assert t["comparator"].tolist() == ["<=", "<=", ">=", ">="]  # inferred from the directions
    assert list(t.index) == [0, 1, 2, 3]
    empty = targets_vs_actuals(facts.iloc[0:0])
    assert len(empty) == 0 and list(empty.columns) == list(t.columns) and (empty.dtypes == t.dtypes).all()


def test_benchmark_every_pair_of_cities():
    facts = frame(
        fact("甲", 2022, "air.pm25", 30.0),
        fact("乙", 2022, "air.pm25", 40.0),
        fact("乙", 2022, "air.pm25", 38.0, qualifier="城区", start=5),
        fact("丙", 2022, "air.pm25", 35.0, kind="target", comparator="<="),
        fact("甲", 2022, "air.pm25", 32.0, kind="target", comparator="<="),
        fact("丙", 2021, "air.pm25", 36.0, kind="target", comparator="<="),  # another year: no actual
    )
    b = benchmark(facts)
    # 甲 against 丙; 乙 against 丙 and 甲; never a city against its own target
    assert list(zip(b["city"], b["target_city"], strict=True)) == [("乙", "丙"), ("乙", "甲"), ("甲", "丙")]
    assert b["actual"].tolist() == [40.0, 40.0, 30.0]  # the unqualified figure of 乙
    assert b["alternatives"].tolist() == [0, 0, 0]  # 乙's 城区 figure is of another scope
    assert b["status"].tolist() == ["not met", "not met", "met"]
    assert b["actual_year"].tolist() == [2022, 2022, 2022] and b["target_year"].tolist() == [2022, 2022, 2022]


def test_benchmark_latest_actual_whatever_the_year():
    facts = frame(
        fact("甲", 2021, "air.pm25", 40.0),
        fact("甲", 2023, "air.pm25", 30.0),
        fact("甲", 2022, "air.pm25", 35.0),
        fact("乙", 2025, "air.pm25", 32.0, kind="target", comparator="<="),
    )
    assert len(benchmark(facts)) == 0  # no actual of 2025
    b = benchmark(facts, same_year=False)
    assert (b.loc[0, "actual_year"], b.loc[0, "target_year"], b.loc[0, "actual"]) == (2023, 2025, 30.0)
    assert b.loc[0, "status"] == "met" and b.loc[0, "alternatives"] == 0


# --- implied previous year --------------------------------------------------------------------


def test_derive_previous_year():
    doc = "w.txt"
    facts = frame(
        fact("甲", 2022, "air.pm25", 35.0, doc=doc, start=10, end=14, evidence="35"),
        fact("甲", 2022, "air.pm25", -5.4, kind="change", unit="%", doc=doc, start=20, end=25, evidence="5.4%"),
        fact("甲", 2022, "air.good_days_ratio", 80.5, doc=doc, start=30, end=35),
        fact("甲", 2022, "air.good_days_ratio", 1.3, kind="change", unit="pp", doc=doc, start=40, end=48),
        fact("甲", 2022, "air.good_days", 294.0, doc=doc, start=50, end=54),
        fact("甲", 2022, "air.good_days", 5.0, kind="change", doc=doc, start=60, end=62),
        fact("甲", 2022, "air.no2", 30.0, doc=doc, start=70, end=74),
        fact("甲", 2022, "air.no2", -40.0, kind="change", unit="%", period="较2020年", doc=doc, start=80, end=84),
        fact("甲", 2022, "air.pm10", 50.0, doc=doc, start=90, end=94),  # a change in another doc: no pair
        fact("甲", 2022, "air.pm10", -10.0, kind="change", unit="%", doc="other.txt", start=1, end=5),
    )
    d = derive_previous_year(facts).set_index("indicator")
    assert set(d["kind"]) == {"derived"}
    # 35 / (1 - 0.054) = 35 / 0.946 = 36.99789, stated to whole units: 37, and the range 35 +- 0.5 and
    # -5.4 +- 0.05 % imply: 34.5 / (1 - 0.0535) = 36.4501 .. 35.5 / (1 - 0.0545) = 37.5463
    assert d.loc["air.pm25", "value"] == 37.0 and d.loc["air.pm25", "decimals"] == 0
    assert (d.loc["air.pm25", "value_low"], d.loc["air.pm25", "value_high"]) == (36.45, 37.55)
    assert d.loc["air.pm25", "year"] == 2021
    # 80.5 - 1.3 percentage points = 79.2
    assert d.loc["air.good_days_ratio", "value"] == pytest.approx(79.2)
    # 294 - 5 days = 289
    assert d.loc["air.good_days", "value"] == pytest.approx(289.0)
    # against 2020: 30 / (1 - 0.4) = 50, for the year 2020
    assert d.loc["air.no2", "value"] == pytest.approx(50.0) and d.loc["air.no2", "year"] == 2020
    assert "air.pm10" not in d.index
    # traceable to both facts
    assert (d.loc["air.pm25", "value_start"], d.loc["air.pm25", "change_start"]) == (10, 20)
    assert d.loc["air.pm25", "formula"] == "v / (1 + c/100)"
    assert pd.isna(d.loc["air.pm25", "start"])
    assert set(FACT_COLUMNS) <= set(d.reset_index().columns)


def test_derive_takes_the_nearest_value_before_the_change():
    doc = "w.txt"
    facts = frame(
        fact("甲", 2022, "air.pm25", 40.0, doc=doc, start=10),
        fact("甲", 2022, "air.pm25", 36.0, doc=doc, start=30),  # nearest before the change at 50
        fact("甲", 2022, "air.pm25", 35.0, doc=doc, start=52),  # nearer, but after it
        fact("甲", 2022, "air.pm25", -10.0, kind="change", unit="%", doc=doc, start=50),
        fact("甲", 2022, "air.good_days", 300.0, doc=doc, start=60),
        fact("甲", 2022, "air.good_days", -100.0, kind="change", unit="%", doc=doc, start=61),  # from nothing: no row
        fact("甲", 2022, "air.good_days_ratio", 80.0, doc=doc, start=70),
        fact("甲", 2022, "air.good_days_ratio", 2.0, kind="change", unit="day", doc=doc, start=71),  # other unit
        fact("甲", 2022, "air.heavy_pollution_days", 3.0, qualifier="城区", doc=doc, start=80),
        fact("甲", 2022, "air.heavy_pollution_days", -2.0, kind="change", doc=doc, start=81),  # other qualifier
    )
    d = derive_previous_year(facts)
    assert d["indicator"].tolist() == ["air.pm25"]
    assert d.loc[0, "value"] == 40.0  # 36 / (1 - 0.1)
    assert (d.loc[0, "value_start"], d.loc[0, "change_start"], d.loc[0, "year"]) == (30, 50, 2021)
    assert d.loc[0, "change"] == -10.0 and d.loc[0, "change_unit"] == "%"


def test_derived_rows_in_document_order_with_fact_dtypes():
    facts = frame(
        fact("乙", 2023, "air.good_days", 300.0, doc="b.txt", start=5),
        fact("乙", 2023, "air.good_days", 10.0, kind="change", doc="b.txt", start=6),
        fact("甲", 2023, "air.good_days_ratio", 90.0, doc="a.txt", start=50, approx=True),
        fact("甲", 2023, "air.good_days_ratio", 1.5, kind="change", unit="pp", doc="a.txt", start=55),
        fact("甲", 2023, "air.good_days", 320.0, doc="a.txt", start=10),
        fact("甲", 2023, "air.good_days", 20.0, kind="change", doc="a.txt", start=12),
    )
    d = derive_previous_year(facts)
    assert d["doc"].tolist() == ["a.txt", "a.txt", "b.txt"]
    assert d["value"].tolist() == [300.0, 88.5, 290.0]  # 320 - 20, 90 - 1.5 points, 300 - 10
    assert d["formula"].tolist() == ["v - c", "v - c", "v - c"]
    assert d["approx"].tolist() == [False, True, False]
    assert d["year"].tolist() == [2022, 2022, 2022]
    assert str(d["year"].dtype) == "Int64" and str(d["approx"].dtype) == "boolean"
    assert d["start"].isna().all() and d["comparator"].isna().all()
    assert list(d.index) == [0, 1, 2]


# --- coverage ---------------------------------------------------------------------------------


def test_coverage_counts(three_cities):
    cov = coverage(three_cities)
    # columns (city, year, kind) sorted; 丙 only has a target
    assert ("丙", 2023, "target") in cov.columns
    assert cov.loc["air.pm25", ("甲", 2022, "actual")] == 1
    assert cov.loc["air.pm25", ("丙", 2023, "target")] == 1
    assert cov.loc["air.good_days_ratio", ("甲", 2022, "actual")] == 0
    assert cov.loc["gov.fines", ("乙", 2022, "actual")] == 1
    assert int(cov.to_numpy().sum()) == len(three_cities)
    assert list(cov.index) == ["air.good_days_ratio", "air.pm25", "gov.fines"]  # catalog order


def test_coverage_table_flattens_the_counts(three_cities):
    table = coverage_table(three_cities)
    assert list(table.columns) == ["indicator", "domain", "name_zh", "丙 2023 target", "乙 2022 actual",
                                   "甲 2022 actual", "甲 2023 actual"]
    assert table["indicator"].tolist() == ["air.good_days_ratio", "air.pm25", "gov.fines"]
    assert table["乙 2022 actual"].tolist() == [1, 1, 1]
    assert table["甲 2023 actual"].tolist() == [1, 1, 0]
    assert table["domain"].tolist() == ["air", "air", "governance"]
    assert str(table["indicator"].dtype) == "string" and str(table["甲 2022 actual"].dtype) == "Int64"


# --- reference lines --------------------------------------------------------------------------


def test_references_file_is_complete():
    refs = load_references()
    catalog_ids = set(CAT)
    assert set(refs["indicator"]) <= catalog_ids
    assert refs["source"].notna().all() and (refs["source"].str.len() > 5).all()
    gb = refs[refs["level"] == "GB 3095-2012 Grade II"].set_index("indicator")
    assert gb["value"].to_dict() == {"air.so2": 60, "air.no2": 40, "air.pm10": 70, "air.pm25": 35, "air.co": 4, "air.o3": 160}
    assert gb.loc["air.co", "unit"] == "mg/m3"
    who = refs[refs["level"] == "WHO 2021 AQG"].set_index("indicator")["value"].to_dict()
    assert who == {"air.pm25": 5, "air.pm10": 15, "air.no2": 10}
    national = refs[refs["kind"] == "average"]
    assert national["year"].notna().all() and set(national["city"]) == {"全国"}
    assert national.set_index(["indicator", "year"]).loc[("air.good_days_ratio", 2023), "value"] == 85.5


def test_against_references():
    facts = frame(fact("甲", 2023, "air.pm25", 38.0), fact("乙", 2022, "air.pm25", 35.0))
    r = against_references(facts)
    gb = r[r["level"] == "GB 3095-2012 Grade II"].set_index("city")
    assert gb.loc["甲", "status"] == "exceeds"
    assert gb.loc["甲", "ratio"] == pytest.approx(38 / 35)  # 1.0857
    assert gb.loc["乙", "status"] == "meets"  # at the limit is within it
    national = r[r["reference_kind"] == "average"].set_index("city")
    assert national.loc["甲", "reference"] == 30.0  # 2023 national mean
    assert national.loc["甲", "status"] == "worse"  # 38 > 30 and lower is better
    assert national.loc["乙", "reference"] == 29.0  # 2022, never another year's average


def test_references_limits_averages_and_ratios():
    refs = pd.DataFrame(
        [
            {"indicator": "air.good_days_ratio", "city": None, "year": None, "kind": "guideline", "level": "L",
             "value": 85.0, "unit": "%", "averaging": "annual", "source": "s1", "notes": None},
            {"indicator": "air.good_days_ratio", "city": "全国", "year": 2022, "kind": "average", "level": "A",
             "value": 86.5, "unit": "%", "averaging": "annual", "source": "s2", "notes": None},
            {"indicator": "air.good_days_ratio", "city": None, "year": None, "kind": "limit", "level": "Z",
             "value": 0.0, "unit": "%", "averaging": "annual", "source": "s3", "notes": None},
            {"indicator": "air.good_days_ratio", "city": None, "year": None, "kind": "limit", "level": "D",
             "value": 5.0, "unit": "day", "averaging": "annual", "source": "s4", "notes": None},  # another unit
        ]
    ).astype({"year": "Int64"})
    facts = frame(
        fact("甲", 2023, "air.good_days_ratio", 84.0, start=3),
        fact("甲", 2022, "air.good_days_ratio", 86.5, start=9),
        fact("甲", 2022, "air.good_days_ratio", 87.0, period="上半年"),  # not annual
    )
    r = against_references(facts, refs)
    assert list(zip(r["year"], r["level"], r["status"], strict=True)) == [
        (2022, "L", "meets"), (2022, "A", "equal"), (2022, "Z", "meets"),  # the 2022 average: that year only
        (2023, "L", "falls short"), (2023, "Z", "meets"),
    ]
    assert r["ratio"].tolist()[:2] == pytest.approx([86.5 / 85, 1.0])
    assert math.isnan(r["ratio"].tolist()[2])  # nothing to divide by
    assert r["difference"].tolist() == pytest.approx([1.5, 0.0, 86.5, -1.0, 84.0])


# --- governance rates -------------------------------------------------------------------------


def test_governance_rate_uses_the_nearest_total_before_the_part():
    issues, done = "gov.inspection_issues", "gov.inspection_issues_rectified"
    facts = frame(
        fact("甲", 2023, issues, 50.0, doc="a.txt", start=10),
        fact("甲", 2023, issues, 40.0, doc="a.txt", start=20),  # the total just before the part
        fact("甲", 2023, done, 30.0, doc="a.txt", start=30),
        fact("甲", 2023, issues, 99.0, doc="a.txt", start=40),  # after the part
        fact("甲", 2023, done, 5.0, doc="b.txt", start=50),  # no total in its document
        fact("乙", 2023, issues, 0.0, doc="c.txt", start=1),
        fact("乙", 2023, done, 0.0, doc="c.txt", start=2),
    )
    r = governance_rates(facts)
    assert r["city"].tolist() == ["甲", "乙"]
    assert r["total"].tolist() == [40.0, 0.0] and r["part"].tolist() == [30.0, 0.0]
    assert r["value"].tolist()[0] == 75.0  # 30 / 40
    assert math.isnan(r["value"].tolist()[1])  # a total of zero gives no rate
    assert r["rate"].tolist() == ["rectification_rate"] * 2
    assert str(r["year"].dtype) == "Int64" and list(r.index) == [0, 1]


# --- the seeds, end to end --------------------------------------------------------------------


def test_comparison_tables_on_seeds(corpus):
    from envcompare import extract

    tables = comparison_tables(extract(corpus))
    assert set(tables) == {"comparison", "comparison_all_years", "comparison_notes", "scores", "weights", "sensitivity",
                           "targets", "benchmark",
                           "against_references", "derived", "coverage"}
    comparison = tables["comparison"]
    assert comparison["latest"].all()
    assert len(comparison) == comparison["city"].nunique()
    derived = tables["derived"].set_index(["city", "indicator"])
    # 35 微克, 同比下降5.4%: 35 / 0.946 = 36.998 -> 37 (whole units, as stated), range 36.45 .. 37.55
    row = derived.loc[("武汉", "air.pm25")]
    assert (row["value"], row["value_low"], row["value_high"]) == (37.0, 36.45, 37.55)
    # 武汉 2022 against 福州 2022's targets, one judgement per (indicator, qualifier), like for like only:
    # good days 80.5 / >98.9, heavy days 1 / <=0, PM10 55 / <=37, PM2.5 35 / <=20.5, national sections
    # 90.9 / >=100: five, all missed. 福州's 县级及以上 / 农村 drinking-water and 主要流域 / 小流域 targets
    # meet no actual of their scope; 济南's 128 outfalls are not judged by 潜江's 13 (a count).
    bench = tables["benchmark"]
    assert list(zip(bench["city"], bench["target_city"], bench["indicator"], bench["status"], strict=True)) == [
        ("武汉", "福州", "air.good_days_ratio", "not met"),
        ("武汉", "福州", "air.heavy_pollution_days", "not met"),
        ("武汉", "福州", "air.pm10", "not met"),
        ("武汉", "福州", "air.pm25", "not met"),
        ("武汉", "福州", "water.national_sections_good_ratio", "not met"),
    ]
