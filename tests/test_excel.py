"""The comparison workbook, opened with openpyxl: sheets, header, formats, colours, safety, bytes."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from envcompare.memory import gc_paused
from envcompare.pipeline.build import to_excel
from envcompare.present.excel import FIXED_TIME, write_sheet
from envcompare.present.export import write_table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_compare import fact, frame

MALICIOUS = ['=HYPERLINK("http://example.invalid","click")', "+1", "@SUM(A1:A2)", "-2+3", "\t=1", "=1+1"]
GREEN, RED = "FF63BE7B", "FFF8696B"


def small_facts() -> pd.DataFrame:
    """Two cities in different years, a target, neutral fines, and report text that looks like formulas."""
    return frame(
        fact("甲", 2023, "air.pm25", 38.0, evidence=MALICIOUS[0], start=1, end=5),
        fact("甲", 2023, "air.good_days_ratio", 62.6, evidence=MALICIOUS[1]),
        fact("甲", 2023, "gov.fines", 16122500.0, evidence=MALICIOUS[2]),
        fact("甲", 2023, "gov.petitions", 297.0, evidence=MALICIOUS[3], sentence=MALICIOUS[4]),
        fact("乙", 2022, "air.pm25", 35.0, evidence="35微克/立方米"),
        fact("乙", 2022, "air.good_days_ratio", 80.5),
        fact("乙", 2022, "air.good_days", 294.0),
        fact("乙", 2022, "air.pm25", -5.4, kind="change", unit="%"),
        fact("丙", 2022, "air.pm25", 20.5, kind="target", comparator="<=", qualifier=MALICIOUS[5]),
        fact("丙", 2022, "water.national_sections_good_ratio", 100.0, kind="target", comparator=">="),
    )


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> tuple[Path, openpyxl.Workbook]:
    path = tmp_path_factory.mktemp("xlsx") / "envcompare.xlsx"
    to_excel(small_facts(), path)
    return path, openpyxl.load_workbook(path)


def indicators_by_id():
    from envcompare.vocab.catalog import indicators

    return indicators()


def header_column(ws, indicator: str) -> int:
    """Headers are "name_zh / name_en / [unit] arrow" lines: find a column by its English name."""
    from envcompare.vocab.catalog import indicators

    name = indicators()[indicator].name_en
    return next(c.column for c in ws[1] if c.value and name in str(c.value).split("\n"))


def test_sheet_names(book):
    _, wb = book
    assert wb.sheetnames == [
        "About", "Comparison", "Scores", "Weights", "Sensitivity", "air", "water", "governance",
        "Targets", "Benchmark", "References", "Derived", "Coverage", "Facts", "Sources",
    ]


def test_header_bold_frozen_filtered(book):
    _, wb = book
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes in ("A2", "D2"), ws.title
        assert ws["A1"].font.b, ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert all(ws.column_dimensions[c].width >= 8 for c in "AB")


def test_units_in_headers_and_number_formats(book):
    _, wb = book
    ws = wb["Comparison"]
    pm25 = header_column(ws, "air.pm25")
    assert ws.cell(row=1, column=pm25).value.endswith("[ug/m3] ↓")
    ratio = header_column(ws, "air.good_days_ratio")
    assert ws.cell(row=1, column=ratio).value.endswith("[%] ↑")
    days = header_column(ws, "air.good_days")
    fines = header_column(ws, "gov.fines")
    assert ws.cell(row=1, column=fines).value.endswith("[yuan]")  # neutral: no arrow
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    assert ws.cell(row=rows["甲"], column=ratio).number_format == "0.0"
    assert ws.cell(row=rows["乙"], column=days).number_format == "0"
    assert ws.cell(row=rows["甲"], column=fines).number_format == "#,##0"
    assert ws.cell(row=rows["甲"], column=fines).value == 16122500


def test_older_year_and_targets_are_marked(book):
    _, wb = book
    ws = wb["Comparison"]
    rows = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    assert set(rows) == {"甲", "乙"}  # latest per city; 丙 has only targets
    assert ws.cell(row=rows["乙"], column=2).value == 2022
    assert ws.cell(row=rows["乙"], column=2).fill.fgColor.rgb.endswith("FFEB9C")  # older year: amber
    assert ws.cell(row=rows["甲"], column=2).fill.fill_type is None
    pm25 = header_column(ws, "air.pm25")
    assert ws.cell(row=rows["乙"], column=pm25).font.i  # a figure from an older year
    air = wb["air"]
    kinds = {(air.cell(row=r, column=1).value, air.cell(row=r, column=3).value): r for r in range(2, air.max_row + 1)}
    # 丙's target is qualified: its own column, the qualifier in the header
    name = indicators_by_id()["air.pm25"].name_en
    qualified = [c.column for c in air[1] if c.value and name in str(c.value).split("\n") and "(" in str(c.value).split("\n")[-2]]
    assert len(qualified) == 1
    target = air.cell(row=kinds[("丙", "target")], column=qualified[0])
    assert target.value == 20.5
    assert target.number_format == '"≤"0.0'
    assert target.font.i and target.font.color.rgb.endswith("1F4E79")
    targets = wb["Targets"]
    names = [c.value for c in targets[1]]
    cell = targets.cell(row=2, column=names.index("target") + 1)
    assert cell.number_format.startswith('"') and cell.font.i


def test_direction_aware_colour_scales(book):
    _, wb = book
    ws = wb["Comparison"]
    scales = {}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.type == "colorScale":
                scales[str(cf.sqref).split(":")[0].rstrip("0123456789")] = [c.rgb for c in rule.colorScale.color]
    letter = openpyxl.utils.get_column_letter
    # lower is better: the minimum is green; higher is better: the minimum is red
    assert scales[letter(header_column(ws, "air.pm25"))] == [GREEN, "FFFFEB84", RED]
    assert scales[letter(header_column(ws, "air.good_days_ratio"))] == [RED, "FFFFEB84", GREEN]
    assert letter(header_column(ws, "gov.fines")) not in scales  # neutral: no colour
    status = [r for cf in wb["Targets"].conditional_formatting for r in cf.rules]
    assert {r.type for r in status} == {"cellIs"} and any(r.formula == ['"met"'] for r in status)


def test_report_text_never_becomes_a_formula(book):
    path, wb = book
    facts = wb["Facts"]
    names = [c.value for c in facts[1]]
    evidence = [facts.cell(row=r, column=names.index("evidence") + 1) for r in range(2, facts.max_row + 1)]
    found = {c.value: c for c in evidence if c.value in MALICIOUS}
    assert set(found) == set(MALICIOUS[:4])
    for cell in found.values():
        assert cell.data_type == "s"
        assert cell.quotePrefix
    sentence = facts.cell(row=5, column=names.index("sentence") + 1)
    assert sentence.value == MALICIOUS[4] and sentence.data_type == "s"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name)


def test_same_facts_same_bytes(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    to_excel(small_facts(), a)
    time.sleep(1.1)  # zip entries and document times must not follow the clock
    to_excel(small_facts(), b)
    assert a.read_bytes() == b.read_bytes()
    # another process with another hash seed: no set or dict ordering leaks into the file
    c = tmp_path / "c.xlsx"
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"from test_excel import small_facts; from envcompare.pipeline.build import to_excel; to_excel(small_facts(), {str(c)!r})"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)
    assert c.read_bytes() == a.read_bytes()
    wb = openpyxl.load_workbook(a)
    assert wb.properties.created == FIXED_TIME and wb.properties.modified == FIXED_TIME
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_sources_and_about(book, corpus):
    _, wb = book
    about = [c.value for row in wb["About"].iter_rows() for c in row if c.value]
    assert "Comparison" in about and "Coverage" in about
    assert any("lower is better" in str(v) for v in about)
    sources = wb["Sources"]
    assert [c.value for c in sources[1]][:2] == ["doc", "city"]


def test_empty_facts_still_write(tmp_path):
    from envcompare.extraction.tidy import facts_frame

    path = to_excel(facts_frame([]), tmp_path / "empty.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["About", "Comparison"] and "Facts" in wb.sheetnames


def test_plain_sheet_output_is_guarded_too(tmp_path):
    df = pd.DataFrame({"evidence": pd.array(MALICIOUS, dtype="string")})
    path = write_table(df, tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert [ws.cell(row=r, column=1).data_type for r in range(2, len(MALICIOUS) + 2)] == ["s"] * len(MALICIOUS)


def test_libreoffice_opens_the_seed_workbook(corpus, tmp_path, program):
    soffice = program("soffice", "libreoffice-calc-nogui")
    from envcompare import extract
    from envcompare.extraction.tidy import documents_with_counts

    facts = extract(corpus)
    path = to_excel(facts, tmp_path / "envcompare.xlsx", documents=documents_with_counts(corpus, facts))
    res = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=240,
    )
    assert res.returncode == 0, res.stderr
    pdf = tmp_path / "envcompare.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


def test_every_kind_of_value_in_a_plain_sheet(tmp_path):
    long = "甲" * 40000
    df = pd.DataFrame(
        {
            "text": pd.array(["a\x01b", "#N/A", None, long], dtype="string"),
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
            "value": [1.5, float("nan"), np.float64(2.25), -0.0],
            "flag": pd.array([True, False, None, True], dtype="boolean"),
            "other": [np.int64(7), np.bool_(True), pd.Timestamp("2023-05-01"), None],
        }
    )
    path = tmp_path / "values.xlsx"
    write_sheet(df, path)
    ws = openpyxl.load_workbook(path).active
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert rows[0] == ["a\ufffdb", 1, 1.5, True, 7]  # a control character becomes U+FFFD
    assert rows[1] == ["#N/A", None, None, False, True]  # text that looks like an error stays text
    assert rows[2] == [None, 3, 2.25, None, "2023-05-01 00:00:00"]  # other objects: their text
    assert rows[3][0] == "甲" * 32767 and rows[3][1:4] == [4, 0, True]  # the xlsx cell limit
    assert ws.cell(row=2, column=1).data_type == "s" and ws.cell(row=3, column=1).data_type == "s"
    assert ws.cell(row=2, column=4).number_format == '"TRUE";"TRUE";"FALSE"'
    assert ws.cell(row=2, column=3).number_format == "General"


def test_empty_rows_and_columns_are_part_of_the_sheet(tmp_path):
    # a last row and a last column with nothing in them still count (filter range, dimension)
    df = pd.DataFrame({"a": [1.0, float("nan")], "b": pd.array([None, None], dtype="string")})
    path = tmp_path / "empty_cells.xlsx"
    write_sheet(df, path)
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<dimension ref="A1:B3"' in sheet
    assert '<autoFilter ref="A1:B3"' in sheet
    assert '<row r="3"' in sheet


def test_per_row_number_formats_and_target_marks_in_facts(book):
    _, wb = book
    facts = wb["Facts"]
    names = [c.value for c in facts[1]]
    col = {n: names.index(n) + 1 for n in ("indicator", "kind", "value")}
    rows = {(facts.cell(row=r, column=col["indicator"]).value, facts.cell(row=r, column=col["kind"]).value): r
            for r in range(2, facts.max_row + 1)}
    target = facts.cell(row=rows[("air.pm25", "target")], column=col["value"])
    assert target.value == 20.5 and target.number_format == '"≤"0.0' and target.font.i
    ratio = facts.cell(row=rows[("water.national_sections_good_ratio", "target")], column=col["value"])
    assert ratio.number_format == '"≥"0.0'
    actual = facts.cell(row=rows[("air.good_days", "actual")], column=col["value"])
    assert actual.value == 294 and actual.number_format == "0" and not actual.font.i
    fines = facts.cell(row=rows[("gov.fines", "actual")], column=col["value"])
    assert fines.number_format == "#,##0"
    approx = facts.cell(row=2, column=names.index("approx") + 1)
    assert approx.value is False and approx.number_format == '"TRUE";"TRUE";"FALSE"'


def test_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("a failed write")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()


def _same_as_openpyxl_cells(tmp_path, df: pd.DataFrame, formats: dict, styles: dict) -> None:
    """fill_sheet's rows and styles are what openpyxl's own cells give for the same values,
    number formats (a column's, or one per row) and styles ((row, column) -> attributes)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from envcompare.present.excel import BOOLEAN_FORMAT, fill_sheet, save_workbook, write_value

    ours = tmp_path / "ours.xlsx"
    wb = Workbook(write_only=True)
    fill_sheet(wb.create_sheet("data"), df, number_formats=formats, styles=styles)
    save_workbook(wb, ours)

    theirs = tmp_path / "theirs.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("data")
    fill_sheet(ws, df.iloc[0:0])  # the same header; the rows by openpyxl cells
    columns = list(df.columns)
    for i, row in enumerate(zip(*[df[c].tolist() for c in columns], strict=True)):
        cells = []
        for j, value in enumerate(row):
            cell = WriteOnlyCell(ws)
            write_value(cell, value)
            if isinstance(cell.value, bool):
                cell.number_format = BOOLEAN_FORMAT
            elif isinstance(cell.value, (int, float)):
                fmt = formats.get(columns[j])
                fmt = fmt[i] if isinstance(fmt, list) else fmt
                if fmt:
                    cell.number_format = fmt
            for attr, v in styles.get((i, j), {}).items():
                setattr(cell, attr, v)
            cells.append(cell)
        ws.append(cells)
    save_workbook(wb, theirs)
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(theirs) as b:
        rows = [z.read("xl/worksheets/sheet1.xml").decode().split("<sheetData>")[1].split("</sheetData>")[0] for z in (a, b)]
        assert rows[0].count("<row ") == len(df) + 1 and rows[0] == rows[1]
        assert a.read("xl/styles.xml") == b.read("xl/styles.xml")


@pytest.mark.parametrize("chunk", [3, 5000])
def test_rows_are_the_xml_openpyxl_writes_for_the_same_cells(tmp_path, monkeypatch, chunk):
    # fill_sheet writes its rows as sheet XML itself, `chunk` rows at a time: the sheet and its
    # styles must be what openpyxl's own cells would give (value types, number formats, fonts,
    # quote prefix, styles numbered in the order the rows meet them)
    from envcompare.present.excel import TARGET_FONT, YEAR_FILL, SheetRows

    monkeypatch.setattr(SheetRows, "CHUNK", chunk)
    df = pd.DataFrame({
        "text": pd.array(["=1+1", "  padded ", "a & <b>", "", None, "-8.6%", "x\x02y"], dtype="string"),
        "number": [1.5, float("nan"), float("inf"), 1e20, -0.0, 2.0, 12345678901234567.0],
        "count": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
        "flag": pd.array([True, False, None, True, False, True, None], dtype="boolean"),
        "other": [np.int64(7), np.bool_(True), pd.Timestamp("2023-05-01"), None, "-cmd", 3, 4.25],
    })
    formats = {"number": ["0.0", '"≤"0.0', None, "#,##0", "0", "0.00", "0.0"], "count": "0"}
    styles = {(0, 1): {"font": TARGET_FONT, "number_format": '"≥"0.0'}, (2, 0): {"fill": YEAR_FILL},
              (4, 0): {"fill": YEAR_FILL}, (5, 4): {"font": TARGET_FONT}, (1, 1): {"font": TARGET_FONT}}
    _same_as_openpyxl_cells(tmp_path, df, formats, styles)


@pytest.mark.parametrize("chunk", [4, 5000])
def test_plain_columns_made_per_distinct_value_are_the_same_cells(tmp_path, monkeypatch, chunk):
    # a column without styled cells and with one number format is made once per distinct value:
    # repeated, missing and formula-like text, a categorical, floats with NaN and inf, a float
    # column holding -0.0 (equal to 0.0, written "-0"), integers and booleans, first met anywhere
    from envcompare.present.excel import SheetRows

    monkeypatch.setattr(SheetRows, "CHUNK", chunk)
    words = ["空气", None, "=SUM(A1)", "空气", "", "水 & 土", None, "-3", "空气", "  x "]
    df = pd.DataFrame({
        "text": pd.array(words, dtype="string"),
        "sentence": pd.Categorical(words),
        "value": [2.5, float("nan"), 2.5, float("inf"), 0.0, 1e-7, 2.5, float("nan"), 30.0, 0.0],
        "signed": [0.0, 1.0, -0.0, 0.0, -0.0, 2.0, 1.0, 0.0, -1.5, 0.0],
        "year": np.array([2021, 2022, 2021, 2023, 2021, 2022, 2020, 2021, 2022, 2023], dtype=np.int64),
        "count": pd.array([None, 1, 1, None, 2, 3, 1, None, 2, 2], dtype="Int64"),
        "approx": pd.array([None, True, False, True, None, False, True, True, None, False], dtype="boolean"),
    })
    _same_as_openpyxl_cells(tmp_path, df, {"value": "0.0", "count": "0", "year": "0"}, {})
