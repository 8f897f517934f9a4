"""Flattened tables whose rows are places (envcompare/tables.py): alignment, scaling, and the
real-page development corpus when it sits beside the project (skipped when absent).

Rule examples (both shapes, negatives) are in data/constructions/tables.yaml."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import envcompare
from envcompare.extraction.tables import _align, _PColumn, _Value
from envcompare.ingest.load import load_reports, report_from_bytes

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
META = {"city": "汉中", "doc_type": "report", "report_year": 2021}
COUNTIES = ["城固县", "洋县", "西乡县", "勉县", "宁强县", "略阳县", "镇巴县", "留坝县", "佛坪县", "汉台区", "南郑区"]


def _cols(*kinds: str) -> list[_PColumn]:
    return [_PColumn(k) for k in kinds]


def test_alignment_leaves_out_a_region_cell_the_header_has_no_column_for():
    # value | region + rank in one header column | change | rank
    values = [_Value("num", 2.1), _Value("text"), _Value("int", 5), _Value("change", 9.4, "%", "v"), _Value("int", 1)]
    assert _align(values, _cols("value", "rank", "change", "rank")) == [0, None, 1, 2, 3]


def test_alignment_of_a_cut_off_row_fills_columns_from_the_left():
    values = [_Value("int", 42), _Value("num", 1.1)]
    assert _align(values, _cols("value", "value", "value", "change")) == [0, 1]


def test_a_rank_never_fills_a_percent_change_column():
    values = [_Value("int", 134), _Value("pct", 30.1, "%"), _Value("int", 2)]
    assert _align(values, _cols("value", "change", "change")) == [0, 1, None]


def _shape1(rows: int) -> str:
    out = ["县区名称 |", "PM2.5均值(微克/立方米) |", "优良天数(天) |", "空气质量综合指数 |", "空气质量综合指数排名 |",
           "与去年同期对比 | |"]
    for i in range(rows):
        out += [f"{COUNTIES[i % len(COUNTIES)]} |", f"{i} |", f"{i % 31} |", f"{2 + i / 1000:.3f} |", "片区 |", f"{i % 9} |",
                f"下降{i % 50}.5% |"]
    return "\n".join(out)


def _shape2(rows: int) -> str:
    out = ["城市", "|", "PM2.5浓度", "(微克/立方米)", "|", "较上月", "|", "|"]
    for i in range(rows):
        out += [str(i + 1), "|", COUNTIES[i % len(COUNTIES)], "|", str(i), "|", f"{i % 40}.5%", "|"]
    return "\n".join(out)


def test_every_value_cell_becomes_one_fact_with_its_row_place():
    report = report_from_bytes(_shape1(11).encode(), "t.txt", metadata=META)
    facts = envcompare.extract(report)
    assert len(facts) == 11 * 4
    assert set(facts["city"]) == set(COUNTIES)
    assert (facts["evidence"] == [report.raw_text[s:e] for s, e in zip(facts["start"], facts["end"])]).all()
    changes = facts[facts["kind"] == "change"]
    assert (changes["value"] < 0).all() and set(changes["indicator"]) == {"air.composite_index"}


@pytest.mark.skipif(not (CORPUS / "labels.csv").exists(), reason="development corpus not beside the project")
def test_table_cells_of_the_development_corpus_are_read():
    """Every hand label whose evidence is a whole table cell is found, attributed right."""
    docs = CORPUS / "docs"
    texts = {p.name: p.read_text(encoding="utf-8") for p in docs.glob("*.txt")}
    with open(CORPUS / "labels.csv", encoding="utf-8") as fh:
        labels = [
            r for r in csv.DictReader(fh)
            if r["required"] == "yes" and r["indicator"].startswith(("air.", "water."))
            and any(f"\n{r['evidence']}{end}" in texts.get(r["doc"], "") for end in (" |", "\n|"))
        ]
    assert len(labels) >= 100
    corpus = load_reports(sorted(docs / d for d in {r["doc"] for r in labels}))
    facts = envcompare.extract(corpus)
    got = {
        (f.doc, f.city, f.year, f.period == "annual", f.indicator, round(f.value, 3), f.unit, f.kind)
        for f in facts.itertuples()
    }
    missed = [
        r for r in labels
        if (r["doc"], r["area"], int(r["year"]), r["period"] == "annual", r["indicator"], round(float(r["value"]), 3),
            r["unit"], r["kind"]) not in got
    ]
    assert not missed, missed[:5]


def test_full_width_separator_lines_and_traditional_script():
    text = "\n".join(["城市名稱", "｜", "PM2.5濃度（微克/立方米）", "｜", "同比變化", "｜", "｜", "蕪湖", "｜", "41", "｜", "下降6.8%", "｜",
                     "全市空氣品質優良天數比例為80.1%。｜附表"])
    report = report_from_bytes(text.encode(), "t.txt", metadata={"city": "宣城", "doc_type": "report", "report_year": 2021})
    facts = envcompare.extract(report)
    rows = set(zip(facts["city"], facts["indicator"], facts["value"], facts["kind"], facts["evidence"]))
    assert rows == {
        ("芜湖", "air.pm25", 41.0, "actual", "41"),
        ("芜湖", "air.pm25", -6.8, "change", "下降6.8%"),
        ("宣城", "air.good_days_ratio", 80.1, "actual", "80.1%"),  # prose with a | stays prose
    }


def test_an_html_table_is_read_as_a_table():
    """<table> rows become lines of cells split by |, read by the table reader, not as prose."""
    html = ("<html><body><p>2023年4月各县区空气质量见下表。</p><table>"
            "<tr><th>县区</th><th>PM2.5浓度(微克/立方米)</th><th>优良天数比例(%)</th></tr>"
            "<tr><td>蔡甸区</td><td>31</td><td>93.3</td></tr>"
            "<tr><td>新洲区</td><td>36</td><td>86.7</td></tr></table></body></html>")
    report = report_from_bytes(html.encode("utf-8"), "page.html", fmt="html", metadata={"city": "武汉"})
    facts = envcompare.extract(report)
    got = sorted(zip(facts["city"], facts["indicator"], facts["value"], facts["period"]))
    assert got == [
        ("新洲区", "air.good_days_ratio", 86.7, "4月"),
        ("新洲区", "air.pm25", 36.0, "4月"),
        ("蔡甸区", "air.good_days_ratio", 93.3, "4月"),
        ("蔡甸区", "air.pm25", 31.0, "4月"),
    ]
    for row in facts.itertuples():
        assert report.raw_text[row.start : row.end] == row.evidence


def test_a_table_one_cell_per_line_ends_at_a_row_whose_figures_are_words():
    """A row of a one-cell-per-line table whose data cells are no numbers ends the table: its lines
    go back to prose, and the rows before keep their cells as evidence."""
    text = "\n".join(["指标", "2023年", "同比", "PM10(微克/立方米)", "61", "-3.2%", "NO2(微克/立方米)", "较好", "持平",
                      "全市优良天数比例为88.0%。"])
    report = report_from_bytes(text.encode(), "t.txt", metadata={"city": "萍乡", "doc_type": "report", "report_year": 2023})
    facts = envcompare.extract(report)
    rows = set(zip(facts["indicator"], facts["value"], facts["unit"], facts["kind"], facts["year"], facts["evidence"]))
    assert rows == {
        ("air.pm10", 61.0, "ug/m3", "actual", 2023, "61"),
        ("air.pm10", -3.2, "%", "change", 2023, "-3.2%"),
        ("air.good_days_ratio", 88.0, "%", "actual", 2023, "88.0%"),
    }
