"""Review and correct (issue 18): corrections.csv survives rebuilds, stale corrections are named,
review flags point at what needs a human look, evidence pages offer the line to copy.

The corrections below are written by hand for the seeds; every expected value is read off the
seed texts, not computed by the code under test."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

import envcompare
from envcompare.ingest.load import report_from_bytes
from envcompare.present.evidence import evidence_page
from envcompare.review import (
    CorrectionError,
    StaleCorrectionError,
    StaleCorrectionWarning,
    apply_corrections,
    flag_codes,
    flag_facts,
    parse_corrections,
    review,
    review_queue,
)
from envcompare.review.corrections import correction_line
from envcompare.review.table import REVIEWED_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
HEADER = "doc,evidence,occurrence,match,action,city,year,period,indicator,value,unit,kind,comparator,qualifier,reviewer,note\n"
# 1: reject the fines (1612.25万元 in the Jinan report); 2: set the Jinan PM2.5 (38) to another
# place and value; 3: add the second statement of Qianjiang's farmland target, which the
# extractor does not read (稳定90%以上 without 在).
CORRECTIONS = HEADER + (
    "jinan_2023_report.txt,1612.25万元,,,reject,,,,,,,,,,Li,fines are not compared\n"
    "jinan_2023_report.txt,38微克/立方米,,,set,历下,,,,37.5,,,,,Li,district figure\n"
    "qianjiang_2023_plan.txt,受污染耕地安全利用率稳定90%以上,,,add,,,,soil.farmland_safe_use_rate,90,,target,>=,,Li,\n"
)
ADDED = "受污染耕地安全利用率稳定90%以上"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "envcompare", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def corrected_seeds(folder: Path, corrections: str = CORRECTIONS) -> Path:
    shutil.copytree(ROOT / "seeds", folder)
    (folder / "corrections.csv").write_text(corrections, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def seeds_copy(tmp_path_factory) -> Path:
    return corrected_seeds(tmp_path_factory.mktemp("review") / "seeds")


def check_corrected(facts: pd.DataFrame, raw: dict[str, str]) -> None:
    """The three hand-written corrections, as they must show in any facts table."""
    jinan = facts[facts["doc"] == "jinan_2023_report.txt"]
    assert "gov.fines" not in set(jinan["indicator"])  # rejected
    pm25 = jinan[jinan["indicator"] == "air.pm25"]
    assert len(pm25) == 1
    row = pm25.iloc[0]
    assert (row["city"], float(row["value"]), row["status"], row["evidence"]) == ("历下", 37.5, "corrected", "38微克/立方米")
    assert int(row["year"]) == 2023 and row["kind"] == "actual"  # fields not named stay
    assert "Li" in row["correction"] and "district figure" in row["correction"]
    added = facts[facts["evidence"] == ADDED]
    assert len(added) == 1
    a = added.iloc[0]
    assert (a["doc"], a["indicator"], float(a["value"]), a["unit"], a["kind"], a["comparator"], a["status"]) == (
        "qianjiang_2023_plan.txt", "soil.farmland_safe_use_rate", 90.0, "%", "target", ">=", "added")
    assert (a["city"], int(a["year"]), a["period"], a["domain"]) == ("潜江", 2023, "annual", "soil")
    assert raw["qianjiang_2023_plan.txt"][int(a["start"]) : int(a["end"])] == ADDED
    others = facts[~facts["evidence"].isin([ADDED, "38微克/立方米"])]
    assert set(others["status"]) == {"extracted"}


def raw_texts(folder: Path) -> dict[str, str]:
    return {r.doc: r.raw_text for r in envcompare.load_reports(folder)}


# --- the library call -----------------------------------------------------------------------------

def test_the_extractor_alone_differs(seeds_copy):
    plain = envcompare.extract(seeds_copy, corrections=False)
    assert ADDED not in set(plain["evidence"])  # the add is a figure the extractor misses
    jinan = plain[plain["doc"] == "jinan_2023_report.txt"]
    assert "gov.fines" in set(jinan["indicator"])
    assert jinan.loc[jinan["indicator"] == "air.pm25", "value"].tolist() == [38.0]
    assert set(plain["status"]) == {"extracted"} and plain["correction"].isna().all()


def test_library_call_applies_corrections_beside_the_reports(seeds_copy):
    facts = envcompare.extract(seeds_copy)
    check_corrected(facts, raw_texts(seeds_copy))
    assert list(facts.columns) == list(REVIEWED_COLUMNS)
    assert {c: str(t) for c, t in facts.dtypes.items()} == REVIEWED_COLUMNS
    plain = envcompare.extract(seeds_copy, corrections=False)
    assert len(facts) == len(plain)  # one rejected, one added


def test_library_call_with_an_explicit_file_and_a_corpus(seeds_copy, tmp_path):
    elsewhere = tmp_path / "mine.csv"
    elsewhere.write_text(CORRECTIONS, encoding="utf-8")
    corpus = envcompare.load_reports(ROOT / "seeds")  # a Corpus: no corrections.csv is looked for
    check_corrected(envcompare.extract(corpus, corrections=elsewhere), raw_texts(ROOT / "seeds"))
    table = pd.read_csv(elsewhere, dtype=str, keep_default_na=False)
    check_corrected(envcompare.extract(corpus, corrections=table), raw_texts(ROOT / "seeds"))


def test_rejected_facts_are_in_facts_all(seeds_copy):
    r = review(seeds_copy)
    rejected = r.facts_all[r.facts_all["status"] == "rejected"]
    assert rejected[["doc", "indicator", "evidence"]].values.tolist() == [["jinan_2023_report.txt", "gov.fines", "1612.25万元"]]
    assert r.stale == [] and r.applied == 3
    assert "rejected" not in set(r.facts["status"])


def test_the_comparison_uses_the_corrected_table(seeds_copy):
    cmp = envcompare.compare(envcompare.extract(seeds_copy), year=None)
    pm25 = cmp.values["air.pm25"].dropna()
    assert pm25.get(("历下", 2023)) == 37.5
    assert ("济南", 2023) not in pm25.index


# --- the command line -----------------------------------------------------------------------------

def test_cli_extract_applies_corrections(seeds_copy, tmp_path):
    out = tmp_path / "facts.csv"
    res = run("extract", str(seeds_copy), "-o", str(out), "--cache", str(tmp_path / "cache"), "-q")
    assert res.returncode == 0, res.stderr
    assert "corrections: 3 of 3 applied" in res.stdout
    assert "corrections.csv" not in res.stderr  # read as corrections, not skipped as a report
    facts = pd.read_csv(out, encoding="utf-8-sig")
    check_corrected(facts, raw_texts(seeds_copy))
    docs = pd.read_csv(tmp_path / "facts.documents.csv", encoding="utf-8-sig")
    assert "corrections.csv" not in set(docs["doc"])
    assert docs.set_index("doc")["facts"].sum() == len(facts)


def test_cli_extract_with_corrections_option(tmp_path):
    corrections = tmp_path / "review" / "checked.csv"
    corrections.parent.mkdir()
    corrections.write_text(CORRECTIONS, encoding="utf-8")
    out = tmp_path / "facts.csv"
    res = run("extract", str(ROOT / "seeds"), "-o", str(out), "--corrections", str(corrections),
              "--cache", str(tmp_path / "cache"), "-q")
    assert res.returncode == 0, res.stderr
    check_corrected(pd.read_csv(out, encoding="utf-8-sig"), raw_texts(ROOT / "seeds"))


def test_build_applies_corrections_and_a_rebuild_keeps_them(seeds_copy, tmp_path):
    out, cache = tmp_path / "out", str(tmp_path / "cache")
    first = run("build", str(seeds_copy), "-o", str(out), "--cache", cache, "-q")
    assert first.returncode == 0, first.stderr
    raw = raw_texts(seeds_copy)
    check_corrected(pd.read_csv(out / "facts.csv", encoding="utf-8-sig"), raw)
    every = pd.read_csv(out / "facts_all.csv", encoding="utf-8-sig")
    assert every.loc[every["status"] == "rejected", "evidence"].tolist() == ["1612.25万元"]
    comparison = pd.read_csv(out / "comparison_all_years.csv", encoding="utf-8-sig")
    assert "历下" in set(comparison["city"])
    wb = load_workbook(out / "envcompare.xlsx", read_only=True)
    assert "Review" in wb.sheetnames
    sheet = list(wb["Facts"].values)
    header = list(sheet[0])
    rows = [dict(zip(header, r)) for r in sheet[1:]]
    assert any(r["city"] == "历下" and r["value"] == 37.5 and r["status"] == "corrected" for r in rows)
    assert any(r["evidence"] == ADDED and r["status"] == "added" for r in rows)
    assert not any(r["indicator"] == "gov.fines" and r["doc"] == "jinan_2023_report.txt" for r in rows)
    page = (out / "evidence" / "jinan_2023_report.html").read_text(encoding="utf-8")
    assert 'class="actual corrected"' in page and '<tr class="corrected">' in page
    added_page = (out / "evidence" / "qianjiang_2023_plan.html").read_text(encoding="utf-8")
    assert 'class="target added"' in added_page and '<tr class="added">' in added_page
    assert (out / "review.csv").is_file()

    again = run("build", str(seeds_copy), "-o", str(out), "--cache", cache, "-q")
    assert again.returncode == 0 and "up to date" in again.stdout
    check_corrected(pd.read_csv(out / "facts.csv", encoding="utf-8-sig"), raw)

    # a new decision re-applies the corrections without extracting anything again
    with open(seeds_copy / "corrections.csv", "a", encoding="utf-8") as fh:
        fh.write("jinan_2023_report.txt,6天,,,confirm,,,,,,,,,,Wang,\n")
    try:
        third = run("build", str(seeds_copy), "-o", str(out), "--cache", cache, "-q")
        assert third.returncode == 0, third.stderr
        assert "5 documents came from the cache, 0 were extracted" in third.stdout
        facts = pd.read_csv(out / "facts.csv", encoding="utf-8-sig")
        check_corrected(facts[facts["evidence"] != "6天"], raw)
        assert facts.loc[facts["evidence"] == "6天", "status"].tolist() == ["confirmed"]
    finally:
        (seeds_copy / "corrections.csv").write_text(CORRECTIONS, encoding="utf-8")


def test_a_vanished_evidence_is_reported_as_stale(tmp_path):
    folder = corrected_seeds(tmp_path / "seeds")
    report = folder / "jinan_2023_report.txt"
    report.write_text(report.read_text(encoding="utf-8").replace("1612.25万元", "1612.26万元"), encoding="utf-8")
    out, cache = tmp_path / "out", str(tmp_path / "cache")
    res = run("build", str(folder), "-o", str(out), "--cache", cache, "-q")
    assert res.returncode == 0, res.stderr
    stale = [line for line in res.stderr.splitlines() if line.startswith("stale correction")]
    assert stale == [f"stale correction, {folder / 'corrections.csv'} row 1 (line 2): reject \u00ab1612.25万元\u00bb in "
                     "jinan_2023_report.txt: the evidence is not in the document any more"]
    assert "corrections: 2 of 3 applied" in res.stdout
    facts = pd.read_csv(out / "facts.csv", encoding="utf-8-sig")
    # never applied to another figure: the fines are back, as extracted; the other two hold
    fines = facts[(facts["doc"] == "jinan_2023_report.txt") & (facts["indicator"] == "gov.fines")]
    assert fines[["evidence", "status"]].values.tolist() == [["1612.26万元", "extracted"]]
    assert facts.loc[facts["evidence"] == "38微克/立方米", "status"].tolist() == ["corrected"]
    table = pd.read_csv(out / "corrections_stale.csv", encoding="utf-8-sig")
    assert table[["row", "line", "doc", "action"]].values.tolist() == [[1, 2, "jinan_2023_report.txt", "reject"]]

    strict = run("build", str(folder), "-o", str(out), "--cache", cache, "-q", "--strict")
    assert strict.returncode == 1
    assert "1 stale correction (--strict)" in strict.stderr
    extract = run("extract", str(folder), "-o", str(tmp_path / "f.csv"), "--cache", cache, "-q", "--strict")
    assert extract.returncode == 1 and "row 1 (line 2)" in extract.stderr
    with pytest.raises(StaleCorrectionError, match="row 1 \\(line 2\\)"):
        envcompare.extract(folder, strict=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        envcompare.extract(folder)
    assert [str(w.message) for w in caught if w.category is StaleCorrectionWarning] == stale


def test_a_malformed_corrections_file_names_file_and_row(tmp_path):
    bad = HEADER + (
        "jinan_2023_report.txt,38微克/立方米,,,set,,,,,,,,,,,\n"  # a set that sets nothing
        "jinan_2023_report.txt,62.6%,,,remove,,,,,,,,,,,\n"  # no such action
    )
    folder = corrected_seeds(tmp_path / "seeds", bad)
    res = run("extract", str(folder), "-o", str(tmp_path / "f.csv"), "--cache", str(tmp_path / "cache"), "-q")
    assert res.returncode == 2
    assert f"{folder / 'corrections.csv'} row 1 (line 2): a set names the fields to change" in res.stderr
    assert f"{folder / 'corrections.csv'} row 2 (line 3): action 'remove'" in res.stderr
    assert not (tmp_path / "f.csv").exists()


# --- corrections: validation and matching -----------------------------------------------------------

@pytest.mark.parametrize(("row", "message"), [
    ("a.txt,35,,,set,,,,air.pm2.5,,,,,,,", "indicator 'air.pm2.5' is not an id"),
    ("a.txt,35,,,reject,,,,,36,,,,,,", "a reject changes no field (remove value)"),
    ("a.txt,35,,,add,,,,air.pm25,,,,,,,", "an add needs value"),
    ("a.txt,35,,,add,,,,air.pm25,-5,,change,,,,", "an add needs unit"),
    ("a.txt,35,0,,reject,,,,,,,,,,,", "occurrence 0: the first occurrence is 1"),
    ("a.txt,35,,,set,,twenty,,,,,,,,,", "year 'twenty' is not a year"),
    ("a.txt,35,,,set,,,,,3 5,,,,,,", "value '3 5' is not a number"),
    ("a.txt,35,,,set,,,,,,ug,,,,,", "unit 'ug'"),
    ("a.txt,35,,,set,,,,,,,,=>,,,", "comparator '=>'"),
    (",35,,,reject,,,,,,,,,,,", "doc is empty"),
])
def test_validation_messages(row, message):
    with pytest.raises(CorrectionError) as err:
        parse_corrections(HEADER + row + "\n", "c.csv")
    assert err.value.problems[0].startswith("c.csv row 1 (line 2): ")
    assert message in err.value.problems[0]


def test_unknown_columns_and_duplicates_are_errors():
    with pytest.raises(CorrectionError, match="unknown column\\(s\\) 'valeu'"):
        parse_corrections("doc,evidence,action,valeu\na.txt,35,set,36\n", "c.csv")
    with pytest.raises(CorrectionError, match="row 2 \\(line 3\\): the same figure as row 1"):
        parse_corrections(HEADER + "a.txt,35,,,reject,,,,,,,,,,,\na.txt,35,1,,set,,,,,36,,,,,,\n", "c.csv")


def hand_facts(rows: list[dict]) -> pd.DataFrame:
    cols = envcompare.extraction.FACT_COLUMNS
    base = {"period": "annual", "kind": "actual", "unit": "ug/m3", "direction": "lower_better", "domain": "air",
            "approx": False, "sentence": ""}
    return pd.DataFrame([{**{c: None for c in cols}, **base, **r} for r in rows], columns=list(cols)).astype(cols)


RAW = "甲市PM2.5为35,PM10为35;乙县PM2.5为35。"  # "35" three times: offsets 8, 16, 27


def test_occurrence_picks_the_figure_and_a_missing_one_is_stale():
    assert [RAW.find("35", i) for i in (0, 9, 17)] == [8, 16, 27]
    facts = hand_facts([
        {"doc": "a.txt", "indicator": "air.pm25", "value": 35.0, "start": 8, "end": 10, "evidence": "35", "city": "甲"},
        {"doc": "a.txt", "indicator": "air.pm10", "value": 35.0, "start": 16, "end": 18, "evidence": "35", "city": "甲"},
        {"doc": "a.txt", "indicator": "air.pm25", "value": 35.0, "start": 27, "end": 29, "evidence": "35", "city": "乙"},
    ])
    cs = parse_corrections(HEADER + "a.txt,35,2,,reject,,,,,,,,,,,\na.txt,35,4,,reject,,,,,,,,,,,\n", "c.csv")
    applied = apply_corrections(facts, cs, lambda doc: RAW if doc == "a.txt" else None)
    assert applied.facts["status"].tolist() == ["extracted", "rejected", "extracted"]
    assert [(s.correction.row, s.reason) for s in applied.stale] == [(2, "the evidence occurs 3 times in the document, not 4")]


def test_several_facts_on_one_evidence_need_match():
    facts = hand_facts([
        {"doc": "a.txt", "indicator": "air.pm25", "value": 35.0, "start": 8, "end": 10, "evidence": "35"},
        {"doc": "a.txt", "indicator": "air.pm10", "value": 35.0, "start": 8, "end": 10, "evidence": "35"},
    ])
    loose = parse_corrections(HEADER + "a.txt,35,,,set,,,,,36,,,,,,\n")
    applied = apply_corrections(facts, loose, lambda doc: RAW)
    assert applied.facts["status"].tolist() == ["extracted", "extracted"]
    assert "ambiguous: 2 figures share this evidence (air.pm10, air.pm25)" in applied.stale[0].reason
    exact = parse_corrections(HEADER + "a.txt,35,,air.pm10,set,,,,,36,,,,,,\n")
    applied = apply_corrections(facts, exact, lambda doc: RAW)
    assert applied.facts["value"].tolist() == [35.0, 36.0] and not applied.stale
    gone = parse_corrections(HEADER + "a.txt,35,,air.no2,reject,,,,,,,,,,,\n")
    assert apply_corrections(facts, gone, lambda doc: RAW).stale[0].reason == "no air.no2 figure at this evidence any more"


def test_an_add_the_extractor_now_makes_is_stale_and_other_documents_wait():
    facts = hand_facts([{"doc": "a.txt", "indicator": "air.pm25", "value": 35.0, "start": 8, "end": 10, "evidence": "35"}])
    cs = parse_corrections(HEADER + "a.txt,35,,,add,,,,air.pm25,35,,,,,,\nb.txt,35,,,reject,,,,,,,,,,,\n")
    applied = apply_corrections(facts, cs, lambda doc: RAW if doc == "a.txt" else None)
    assert len(applied.facts) == 1
    assert applied.stale[0].reason.startswith("the extractor now finds this figure (air.pm25 35 ug/m3)")
    assert [c.doc for c in applied.elsewhere] == ["b.txt"]


# --- flags ------------------------------------------------------------------------------------------

def docs_table(rows: list[dict]) -> pd.DataFrame:
    from envcompare.ingest.load import DOC_COLUMNS

    return pd.DataFrame([{**{c: None for c in DOC_COLUMNS}, **r} for r in rows], columns=list(DOC_COLUMNS)).astype(DOC_COLUMNS)


def test_flags_and_queue_order():
    docs = docs_table([
        {"doc": "a.txt", "city": "甲", "report_year": 2023, "title": "甲市2023年环境状况", "basis": "city: text; report_year: title"},
        {"doc": "b.txt", "city": "乙", "report_year": 2022, "title": "通知", "basis": "city: text; report_year: text"},
        {"doc": "c.txt", "city": "丙", "report_year": None, "title": "丙市公报",
         "basis": "city: text; report_year: unknown (no year in the title or text and no publication date)"},
    ])
    facts = hand_facts([
        {"doc": "a.txt", "city": "甲", "year": 2023, "indicator": "air.pm25", "value": 35.0, "start": 0, "end": 2, "evidence": "35"},
        {"doc": "a.txt", "city": "甲", "year": 2023, "indicator": "air.pm25", "value": 53.0, "start": 9, "end": 11, "evidence": "53"},
        {"doc": "a.txt", "city": "甲", "year": 2023, "indicator": "air.pm10", "value": 650.0, "start": 20, "end": 23, "evidence": "650"},
        {"doc": "a.txt", "city": "甲", "year": 2023, "indicator": "air.good_days_ratio", "value": 120.0, "unit": "%",
         "direction": "higher_better", "kind": "target", "start": 30, "end": 34, "evidence": "120%"},
        {"doc": "a.txt", "city": "甲", "year": 2023, "indicator": "air.no2", "value": 5.0, "unit": "%", "kind": "change",
         "start": 40, "end": 42, "evidence": "5%", "sentence": "二氧化氮浓度同比下降5%。"},
        {"doc": "b.txt", "city": "乙", "year": 2022, "indicator": "air.pm25", "value": 30.0, "start": 0, "end": 2, "evidence": "30"},
        {"doc": "c.txt", "city": "丙", "year": None, "indicator": "air.pm25", "value": 40.0, "start": 0, "end": 2, "evidence": "40",
         "period": "上半年"},
    ]).assign(status="extracted")
    flags = flag_facts(facts, docs)
    codes = [flag_codes(f) for f in flags]
    assert codes == [["conflict"], ["conflict"], ["implausible"], ["implausible"], ["sign"],
                     ["weak_place", "weak_year"], ["unknown_year"]]
    assert "53 ug/m3 in a.txt" in flags.iloc[0] and "35 ug/m3 in a.txt" in flags.iloc[1]
    assert "outside 1 to 600 for air.pm10" in flags.iloc[2]
    assert "says 下降" in flags.iloc[4]
    assert "taken from the year named most often in its text" in flags.iloc[5]
    queue = review_queue(facts.assign(flags=flags))
    assert queue["evidence"].tolist() == ["35", "53", "650", "30", "120%", "5%", "40"]
    assert queue["feeds"].tolist() == ["comparison"] * 4 + ["targets", "changes", "other"]
    assert queue["priority"].tolist() == list(range(1, 8))
    confirmed = flag_facts(facts.assign(status=["confirmed"] * 3 + ["corrected"] + ["extracted"] * 3), docs)
    assert confirmed.iloc[:3].isna().all()  # a person confirmed them
    assert flag_codes(confirmed.iloc[3]) == ["implausible"]  # a set value is still checked


# --- evidence pages ---------------------------------------------------------------------------------

def test_evidence_page_offers_escaped_lines_to_copy():
    text = '2023年甲市工作总结\n全市PM2.5平均浓度为35微克/立方米<b>"x"</b>,PM10平均浓度为35微克/立方米,=cmd|x,优良天数比例为35%。'
    report = report_from_bytes(text.encode(), "evil,1.txt", metadata={"city": "甲"})
    facts = envcompare.extract(report, corrections=False)
    assert len(facts) >= 2
    page = evidence_page(report, facts.to_dict("records")).html
    assert "<b>" not in page and "&lt;b&gt;" in page
    second = facts.iloc[1]
    line = correction_line("reject", second, occurrence=2)
    assert line == f'"evil,1.txt",{second["evidence"]},2,,reject,,,,,,,,,,,'
    import html

    assert f"<code>{html.escape(line)}</code>" in page
    assert parse_corrections(HEADER + line + "\n")[0].occurrence == 2  # the copied line reads back


def test_worker_pages_show_the_same_flags_as_the_review(tmp_path):
    """A page drawn in a batch worker (each figure's own flags) is the page the review stage would
    draw; a page with a conflict (which needs the corpus) is redrawn with it."""
    folder = tmp_path / "reports"
    folder.mkdir()
    # no year in the title, no city in title or publisher: year and place are the document's, weakly
    (folder / "notice.txt").write_text("关于空气质量情况的通报\n2023年,荆门市空气质量优良天数比例为80.5%,"
                                       "PM2.5平均浓度为35微克/立方米。\n", encoding="utf-8")
    (folder / "bulletin.txt").write_text("荆门市2023年环境质量公报\n2023年,荆门市PM2.5平均浓度为38微克/立方米。\n",
                                         encoding="utf-8")
    (folder / "water.txt").write_text("关于水质情况的通报\n2022年,宜昌市空气质量优良天数比例为85.2%。\n", encoding="utf-8")
    out = tmp_path / "out"
    res = run("build", str(folder), "-o", str(out), "--cache", str(tmp_path / "cache"), "-q")
    assert res.returncode == 0, res.stderr
    r = review(folder)
    water = r.facts[r.facts["doc"] == "water.txt"]
    assert [flag_codes(f) for f in water["flags"]] == [["weak_place", "weak_year"]]  # no conflict: the worker's page
    rows = r.facts_all[r.facts_all["doc"] == "water.txt"].astype(object)
    page = (out / "evidence" / "water.html").read_text(encoding="utf-8")
    assert page == evidence_page(envcompare.load_reports(folder)["water.txt"], rows.where(rows.notna(), None).to_dict("records")).html
    assert "85.2% is the document" not in page and "宜昌 is the document&#x27;s city" in page
    corpus = envcompare.load_reports(folder)
    pm25 = r.facts[r.facts["indicator"] == "air.pm25"].set_index("doc")
    assert flag_codes(pm25.loc["notice.txt", "flags"]) == ["weak_place", "weak_year", "conflict"]
    assert flag_codes(pm25.loc["bulletin.txt", "flags"]) == ["conflict"]
    for doc in ("notice.txt", "bulletin.txt"):
        rows = r.facts_all[r.facts_all["doc"] == doc].astype(object)
        rows = rows.where(rows.notna(), None).to_dict("records")
        page = (out / "evidence" / doc.replace(".txt", ".html")).read_text(encoding="utf-8")
        assert page == evidence_page(corpus[doc], rows).html
        other = "38 ug/m3 in bulletin.txt" if doc == "notice.txt" else "35 ug/m3 in notice.txt"
        assert "conflict: another value" in page and other in page
    queue = pd.read_csv(out / "review.csv", encoding="utf-8-sig")
    # conflicts first (a flag about the fact itself), the one with more flags before; then weak flags only
    assert queue["evidence"].tolist() == ["35微克/立方米", "38微克/立方米", "80.5%", "85.2%"]
    assert queue["flags"].tolist() == ["weak_place,weak_year,conflict", "conflict", "weak_place,weak_year", "weak_place,weak_year"]


# --- kind_default: a target/actual decision made by default ------------------------------------------

def kind_flags(tmp_path: Path, name: str, text: str) -> pd.DataFrame:
    """The reviewed facts of one hand-written report: value, kind and whether kind_default is flagged."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    facts = envcompare.extract(envcompare.read_report(path, metadata={"city": "甲"}), corrections=False)
    assert "kind_basis" not in facts.columns  # internal to the review stage, not a column of the table
    return facts.assign(flagged=[("kind_default" in flag_codes(f)) for f in facts["flags"]])[
        ["indicator", "value", "kind", "flagged", "flags"]]


def test_an_articles_figures_without_a_cue_are_flagged_and_cued_targets_not(tmp_path):
    facts = kind_flags(tmp_path, "news.txt", "甲市召开生态环境座谈会\n"
                       "2023年甲市细颗粒物(PM2.5)平均浓度为32微克/立方米,同比下降3%。"
                       "会议提出,力争2024年PM2.5平均浓度降至29微克/立方米。"
                       "到2025年,空气质量优良天数比例达到90%以上。\n")
    got = {(r.value, r.kind): r.flagged for r in facts.itertuples()}
    assert got == {(32.0, "actual"): True, (-3.0, "change"): True, (29.0, "target"): False, (90.0, "target"): False}
    reason = facts.loc[facts["value"].eq(32.0), "flags"].item()
    assert "kind_default: nothing in its sentence, paragraph, section or document says whether it is a target" in reason


def test_a_plans_figures_are_flagged_only_where_its_type_alone_makes_them_targets(tmp_path):
    facts = kind_flags(tmp_path, "plan.txt", "甲市2024年大气污染防治工作计划\n"
                       "全市PM2.5平均浓度为30微克/立方米,优良天数比例为88%。\n"
                       "一、2023年工作成效\n全市PM2.5平均浓度为33微克/立方米。\n"
                       "二、2024年主要目标\n全市优良天数比例为87%。\n")
    got = {(r.value, r.kind): r.flagged for r in facts.itertuples()}
    # the plan's opening figures: targets by the document's type alone; under headings, by their words
    assert got == {(30.0, "target"): True, (88.0, "target"): True, (33.0, "actual"): False, (87.0, "target"): False}
    assert "because its document is a plan" in facts.loc[facts["value"].eq(30.0), "flags"].item()


def test_a_summarys_results_are_actuals_by_its_type_and_not_flagged(tmp_path):
    facts = kind_flags(tmp_path, "summary.txt", "甲市2023年生态环境工作总结\n全市PM2.5平均浓度为31微克/立方米。\n")
    assert facts[["value", "kind", "flagged"]].values.tolist() == [[31.0, "actual", False]]


def test_a_confirmed_or_corrected_fact_keeps_no_kind_default():
    facts = hand_facts([{"doc": "a.txt", "city": "甲", "year": 2023, "indicator": "air.pm25", "value": 35.0, "start": 0,
                         "end": 2, "evidence": "35"}] * 3)
    facts = facts.assign(kind_basis=["default"] * 3, status=["extracted", "confirmed", "corrected"])
    assert [flag_codes(f) for f in flag_facts(facts)] == [["kind_default"], [], []]
