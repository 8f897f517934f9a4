"""One registry of build outputs (envcompare/present/outputs.py): the build writes what it lists,
the workbook's sheets are its entry, the README lists the same files; one build computes each
comparison table once, and the workbook computes none."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import openpyxl
import pytest

from envcompare.present.outputs import OUTPUTS, WORKBOOK, table_outputs, workbook_sheets

ROOT = Path(__file__).resolve().parent.parent


def readme_outputs() -> list[str]:
    """The file names in the first column of the README's table of build outputs."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("`build` writes into the `-o` folder")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        if line.startswith("| `"):
            rows.append(line.split("|")[1])
    return [name for cell in rows for name in re.findall(r"`([^`]+)`", cell)]


def test_the_readme_lists_the_outputs_of_the_registry():
    assert readme_outputs() == [o.file for o in OUTPUTS]


def test_the_registry_names_each_file_and_table_once():
    files = [o.file for o in OUTPUTS]
    tables = [o.table for o in table_outputs()]
    assert len(set(files)) == len(files) and len(set(tables)) == len(tables)
    assert all(o.file == f"{o.table}.csv" for o in table_outputs())  # a table's file is named after it
    sheet_tables = {s.table for s in workbook_sheets()} - {"about", "domains"}
    assert sheet_tables <= set(tables), "a sheet shows a table the build does not make"


@pytest.fixture(scope="module")
def one_build(tmp_path_factory):
    """A build of the seeds in this process, counting the calls of every comparison table."""
    import envcompare.comparison.analysis as analysis
    from envcompare.pipeline.cli import main

    counted = ("targets_vs_actuals", "all_pairs_benchmark", "against_references", "derive_previous_year",
               "coverage_table", "composite_tables")
    calls = dict.fromkeys(counted, 0)
    originals = {name: getattr(analysis, name) for name in counted}

    def counting(name):
        def call(*args, **kwargs):
            calls[name] += 1
            return originals[name](*args, **kwargs)
        return call

    out = tmp_path_factory.mktemp("build") / "out"
    mp = pytest.MonkeyPatch()
    try:
        for name in counted:
            mp.setattr(analysis, name, counting(name))
        assert main(["build", str(ROOT / "seeds"), "-o", str(out), "--no-cache", "-q", "-j", "1"]) == 0
    finally:
        mp.undo()
    return out, calls


def test_one_build_computes_each_comparison_table_once(one_build):
    _, calls = one_build
    # targets were computed three times (the CSV, the charts' judgements, the workbook's sheet)
    assert calls == dict.fromkeys(calls, 1)


def test_the_build_writes_the_registry_and_nothing_else(one_build):
    out, _ = one_build
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    pattern = {o.file: re.escape(o.file).replace(r"\*", "[^/]+").replace("<file\\ name>", "[^/]+") for o in OUTPUTS}
    unlisted = [name for name in written if not any(re.fullmatch(p, name) for p in pattern.values())]
    assert not unlisted, f"written but not in the registry: {unlisted}"
    # every output but the lock (there while a build runs) and those made only sometimes (stale corrections)
    for o in OUTPUTS:
        if o.file != ".envcompare-lock" and not o.optional:
            assert any(re.fullmatch(pattern[o.file], name) for name in written), o.file


def test_the_review_step_writes_registry_files():
    from envcompare.pipeline.reviewing import STALE_FILE

    stale = next(o for o in OUTPUTS if o.file == STALE_FILE)
    assert stale.optional and stale.table is not None


def test_the_workbook_has_the_registry_sheets_in_its_order(one_build):
    out, _ = one_build
    names = openpyxl.load_workbook(out / WORKBOOK, read_only=True).sheetnames
    domains = ["air", "water", "soil", "climate", "governance"]
    expected = []
    for sheet in workbook_sheets():
        expected += [d for d in domains if d in names] if sheet.table == "domains" else [sheet.name]
    assert names == expected
    about = [r[0] for r in openpyxl.load_workbook(out / WORKBOOK, read_only=True)["About"].iter_rows(values_only=True)
             if r]
    for sheet in workbook_sheets():
        if sheet.table != "domains":
            assert sheet.name in about


def test_the_workbook_module_calls_no_comparison():
    """present/excel.py lays out an analysis: it imports comparison types for annotations only."""
    tree = ast.parse((ROOT / "envcompare" / "present" / "excel.py").read_text(encoding="utf-8"))
    checked_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            checked_only |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    runtime = [node.module for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module and "comparison" in node.module
               and id(node) not in checked_only]
    assert runtime == []
