"""evaluate: hand labels against extracted facts (matching, reasons for misses, the command).

Every label set and facts table here is written by hand, and so is every expected figure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from envcompare.pipeline.evaluate import NO_LABEL, NOT_FOUND, TAKEN, evaluate, read_labels

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
SCORER = ROOT.parent / "shared" / "tools" / "score.py"

HEADER = "doc,area,year,period,indicator,value,unit,kind,comparator,evidence,required"


def labels(tmp_path: Path, *rows: str, header: str = HEADER) -> pd.DataFrame:
    path = tmp_path / "labels.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return read_labels(path)


def fact(**kw) -> dict:
    row = dict(doc="a.txt", city="东临市", year=2021, period="annual", indicator="air.pm25", value=30.0,
               unit="ug/m3", kind="actual", comparator=None, qualifier=None, evidence="30微克/立方米", start=0)
    row.update(kw)
    return row


def facts(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).astype({"year": "Int64", "value": "float64"})


PM25 = "a.txt,东临,2021,annual,air.pm25,30,ug/m3,actual,,30微克/立方米,yes"


def missed(ev) -> list[tuple[str, float, str]]:
    m = ev.labels[ev.labels["result"] == "missed"]
    return list(zip(m["indicator"], m["value"], m["reason"]))


def test_exact_match_with_place_suffix_and_unit_spelling(tmp_path):
    lab = labels(tmp_path, "a.txt,东临市,2021,annual,air.pm25,30,微克/立方米,actual,,30微克/立方米,yes")
    ev = evaluate(facts(fact()), lab)
    assert (ev.recall, ev.precision) == (1.0, 1.0)
    assert list(ev.labels["result"]) == ["found"]
    assert ev.labels.loc[0, "fact_start"] == 0


def test_value_within_half_a_percent(tmp_path):
    lab = labels(tmp_path, "a.txt,东临,2021,annual,air.pm25,40.1,ug/m3,actual,,x,yes",
                 "a.txt,东临,2021,annual,air.pm10,50,ug/m3,actual,,x,yes")
    # 40.2 is 0.25% from 40.1: found; 50.3 is 0.6% from 50: not the same value
    ev = evaluate(facts(fact(value=40.2), fact(indicator="air.pm10", value=50.3)), lab)
    assert missed(ev) == [("air.pm10", 50.0, NOT_FOUND)]
    assert ev.recall == 0.5
    assert ev.precision == 0.5


def test_wrong_place(tmp_path):
    ev = evaluate(facts(fact(city="西河市")), labels(tmp_path, PM25))
    assert missed(ev) == [("air.pm25", 30.0, "place")]
    row = ev.labels.iloc[0]
    assert row["fact_city"] == "西河市"  # the candidate is shown, so a reader sees why
    assert (ev.recall, ev.precision) == (0.0, 0.0)
    assert list(ev.extras["reason"]) == ["place"]
    assert ev.extras.iloc[0]["area"] == "东临"  # the extra names its nearest label


def test_wrong_period_class_but_any_non_annual_spelling_matches(tmp_path):
    lab = labels(tmp_path, PM25, "a.txt,东临,2021,上半年,air.pm10,60,ug/m3,actual,,x,yes")
    ev = evaluate(facts(fact(period="1-6月"), fact(indicator="air.pm10", value=60, period="1-6月")), lab)
    assert missed(ev) == [("air.pm25", 30.0, "period")]
    assert ev.recall == 0.5


def test_wrong_year_and_several_fields(tmp_path):
    lab = labels(tmp_path, PM25, "a.txt,东临,2021,annual,air.pm10,60,ug/m3,actual,,x,yes")
    ev = evaluate(facts(fact(year=2020), fact(indicator="air.pm10", value=60, year=2020, city="西河", kind="target")), lab)
    assert missed(ev) == [("air.pm25", 30.0, "year"), ("air.pm10", 60.0, "kind, place, year")]


def test_not_found_looks_only_in_the_same_document(tmp_path):
    lab = labels(tmp_path, PM25, "b.txt,东临,2021,annual,air.pm10,60,ug/m3,actual,,x,yes")
    ev = evaluate(facts(fact(), fact(doc="a.txt", indicator="air.pm10", value=60)), lab)
    assert missed(ev) == [("air.pm10", 60.0, NOT_FOUND)]
    assert list(ev.by_doc["key"]) == ["a.txt", "b.txt"]
    assert list(ev.by_doc["recall"]) == [1.0, 0.0]
    # the pm10 fact of a.txt matches no label of a.txt: wrong there, with no label of its value
    assert list(ev.extras["reason"]) == [NO_LABEL]
    assert ev.precision == 0.5


def test_the_closest_candidate_is_the_one_with_fewest_differences(tmp_path):
    ev = evaluate(facts(fact(city="西河", year=2020), fact(period="1月")), labels(tmp_path, PM25))
    assert missed(ev) == [("air.pm25", 30.0, "period")]
    assert ev.labels.iloc[0]["fact_period"] == "1月"


def test_optional_labels_are_never_a_miss_and_never_make_a_fact_wrong(tmp_path):
    lab = labels(tmp_path, PM25,
                 "a.txt,东临,2021,annual,air.heavy_pollution_days,0,day,actual,,x,optional",
                 "a.txt,东临,2021,annual,air.severe_pollution_days,0,day,actual,,x,optional")
    ev = evaluate(facts(fact(), fact(indicator="air.heavy_pollution_days", value=0, unit="day")), lab)
    assert (ev.recall, ev.precision) == (1.0, 1.0)
    assert list(ev.labels["result"]) == ["found", "optional", "optional"]
    assert list(ev.labels["reason"]) == ["", "found", NOT_FOUND]
    assert ev.extras.empty
    assert ev.by_doc.iloc[0][["labels", "found", "facts", "right", "wrong"]].tolist() == [1, 1, 2, 1, 0]


def test_duplicate_facts_are_right_once_and_never_wrong(tmp_path):
    ev = evaluate(facts(fact(), fact(start=50)), labels(tmp_path, PM25))
    assert (ev.recall, ev.precision) == (1.0, 1.0)
    assert ev.by_doc.iloc[0][["facts", "right", "wrong"]].tolist() == [2, 1, 0]


def test_each_label_takes_one_fact(tmp_path):
    ev = evaluate(facts(fact()), labels(tmp_path, PM25, PM25))
    assert missed(ev) == [("air.pm25", 30.0, TAKEN)]
    assert (ev.recall, ev.precision) == (0.5, 1.0)


def test_qualifier_scored_only_where_the_label_has_one(tmp_path):
    header = HEADER + ",qualifier"
    lab = labels(tmp_path, PM25 + ",", "a.txt,东临,2021,annual,gov.petitions,120,件,actual,,x,yes,热线",
                 "a.txt,东临,2021,annual,gov.fines,5,yuan,actual,,x,yes,罚没", header=header)
    ev = evaluate(facts(fact(qualifier="城区"), fact(indicator="gov.petitions", value=120, unit="count"),
                        fact(indicator="gov.fines", value=5, unit="yuan", qualifier="罚没")), lab)
    assert missed(ev) == [("gov.petitions", 120.0, "qualifier")]
    # without the column the qualifier is not scored at all
    ev = evaluate(facts(fact(qualifier="城区")), labels(tmp_path, PM25))
    assert ev.recall == 1.0


def test_precision_counts_only_scored_domains_in_labelled_documents(tmp_path):
    lab = labels(tmp_path, PM25, "a.txt,东临,2021,annual,other:negative_ions,1200,count,actual,,x,yes")
    ev = evaluate(facts(fact(), fact(indicator="water.national_sections_good_ratio", value=90, unit="%"),
                        fact(doc="unlabelled.txt", value=31)), lab, domains=["air"])
    assert (ev.recall, ev.precision) == (1.0, 1.0)
    assert list(ev.by_domain["key"]) == ["air"]
    assert len(ev.labels) == 1  # other: labels are not scored
    ev = evaluate(facts(fact(), fact(indicator="water.national_sections_good_ratio", value=90, unit="%")), lab,
                  domains=["air", "water"])
    assert ev.precision == 0.5


def test_a_document_labelled_with_no_catalog_figure_counts_for_precision(tmp_path):
    lab = labels(tmp_path, PM25, "b.txt,,,,,,,,,,")
    ev = evaluate(facts(fact(), fact(doc="b.txt")), lab)
    assert (ev.recall, ev.precision) == (1.0, 0.5)
    assert ev.by_doc.set_index("key").loc["b.txt", "wrong"] == 1


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "envcompare", "evaluate", *args, "-q", "--no-cache"],
                          capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


def _figures(stdout: str) -> tuple[str, str]:
    m = re.search(r"^recall (\S+) precision (\S+)$", stdout, re.M)
    assert m, stdout
    return m.group(1), m.group(2)


def test_cli_no_annotated_documents(tmp_path):
    (tmp_path / "other.txt").write_text("株洲市2021年PM2.5平均浓度为30微克/立方米。\n", encoding="utf-8")
    lab = tmp_path / "labels.csv"
    lab.write_text(HEADER + "\n" + PM25 + "\n", encoding="utf-8")
    res = _run(str(tmp_path / "other.txt"), "--labels", str(lab))
    assert res.returncode == 2
    assert res.stderr.strip() == "envcompare: no annotated documents among these paths"


def test_cli_unusable_labels(tmp_path):
    lab = tmp_path / "labels.csv"
    assert _run("--labels", str(lab)).returncode == 2  # no such file
    lab.write_text(HEADER + "\nwuhan_2019_article.txt,武汉,2019,annual,air.pm25,thirty,ug/m3,actual,,x,yes\n",
                   encoding="utf-8")
    res = _run("--labels", str(lab))
    assert (res.returncode, res.stderr.strip()) == (2, "envcompare: labels line 2: value 'thirty' is not a number")
    res = _run("--domains", "noise")
    assert res.returncode == 2 and "no indicator of the domains noise" in res.stderr


def test_cli_own_sample_with_thresholds(tmp_path):
    (tmp_path / "a.txt").write_text("株洲市2021年环境质量公报\n2021年，株洲市PM2.5年平均浓度为30微克/立方米。\n", encoding="utf-8")
    lab = tmp_path / "labels.csv"
    lab.write_text(HEADER + "\na.txt,株洲,2021,annual,air.pm25,30,ug/m3,actual,,30微克/立方米,yes"
                   "\na.txt,株洲,2021,annual,air.pm10,60,ug/m3,actual,,x,yes\n", encoding="utf-8")
    out = tmp_path / "result.csv"
    res = _run(str(tmp_path), "--labels", str(lab), "--misses", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert _figures(res.stdout) == ("0.500", "1.000")
    assert "MISS a.txt:3" in res.stdout and NOT_FOUND in res.stdout
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert sorted(table["result"]) == ["found", "missed"]
    assert _run(str(tmp_path), "--labels", str(lab), "--min-recall", "0.6").returncode == 1
    assert _run(str(tmp_path), "--labels", str(lab), "--min-recall", "0.5", "--min-precision", "1").returncode == 0


def test_cli_seeds_against_their_gold(tmp_path):
    out = tmp_path / "seeds.csv"
    res = _run("-o", str(out))
    assert res.returncode == 0, res.stderr
    assert "domains air, climate, gov, soil, water" in res.stdout
    table = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    found = table[table["result"] == "found"]
    assert len(table[table["result"] != "extra"]) == 67
    # every label of the seeds, qualifiers included, and nothing else
    assert len(found) == 67
    assert not len(table[table["result"].isin(["missed", "extra"])])


@pytest.mark.skipif(not (CORPUS / "labels.csv").is_file() or not SCORER.is_file(), reason="no ../shared/corpus")
def test_same_figures_as_the_corpus_scorer(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    facts_csv = tmp_path / "facts.csv"
    subprocess.run([sys.executable, "-m", "envcompare", "extract", str(CORPUS / "docs"), "-o", str(facts_csv),
                    "-q", "--no-cache"], check=True, capture_output=True, cwd=ROOT, env=env, timeout=600)
    scorer = subprocess.run([sys.executable, str(SCORER), str(facts_csv), str(CORPUS / "labels.csv"),
                             "--domains", "air,water"], capture_output=True, text=True, timeout=600)
    ours = _run(str(CORPUS / "docs"), "--labels", str(CORPUS / "labels.csv"), "--domains", "air,water")
    assert ours.returncode == 0, ours.stderr
    assert _figures(ours.stdout) == _figures(scorer.stdout.strip().splitlines()[-1])
    # a floor under the development corpus (0.931 / 0.977 when set): a regression fails here
    recall, precision = map(float, _figures(ours.stdout))
    assert recall >= 0.92 and precision >= 0.97
