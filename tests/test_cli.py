"""Command line: help everywhere, build writes what it says, bad paths fail cleanly."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "envcompare", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args", [["--help"], ["build", "--help"], ["load", "--help"]])
def test_help(args):
    res = run(*args)
    assert res.returncode == 0
    assert "usage: envcompare" in res.stdout


def test_console_script_help():
    script = shutil.which("envcompare", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("envcompare console script not installed (pip install -r requirements.txt installs it)")
    res = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "build" in res.stdout


def test_build_writes_documents_table(tmp_path):
    res = run("build", str(ROOT / "seeds"), "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    path = tmp_path / "out" / "documents.csv"
    assert f"wrote {path}" in res.stdout
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese correctly
    docs = pd.read_csv(path, encoding="utf-8-sig")
    assert sorted(docs["city"]) == ["武汉", "武汉", "济南", "潜江", "福州"]
    out = tmp_path / "out"
    expected = ["facts.csv", "envcompare.xlsx", "comparison.csv", "targets.csv", "theme_shares.csv", "keywords.csv",
                "figures/air_pm25.png", "figures/air_pm25.svg", "figures/themes.png", "evidence/jinan_2023_report.html"]
    for name in expected:
        assert (out / name).is_file(), name
        assert f"wrote {out / name}" in res.stdout


def test_load_reports_bad_files_and_goes_on(tmp_path):
    shutil.copy(ROOT / "seeds" / "jinan_2023_report.txt", tmp_path / "ok.txt")
    (tmp_path / "bad.txt").write_bytes(b"")
    res = run("load", str(tmp_path))
    assert res.returncode == 0
    assert "济南" in res.stdout
    assert "bad.txt: empty file" in res.stderr


def test_missing_path_fails_with_one_line(tmp_path):
    res = run("load", str(tmp_path / "nope"))
    assert res.returncode != 0
    assert "no such file or folder" in res.stderr


def test_empty_folder_and_bad_output_fail_with_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    res = run("extract", str(tmp_path / "empty"), "-o", str(tmp_path / "f.csv"))
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "no report files" in res.stderr
    res = run("extract", str(ROOT / "seeds"), "-o", str(tmp_path / "f.json"))
    assert res.returncode != 0 and "unsupported output type" in res.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run("extract", str(ROOT / "seeds"), "-o", str(blocker / "f.csv"))
    assert res.returncode != 0 and res.stderr.startswith("envcompare: cannot write") and res.stderr.count("\n") == 1


def test_partial_success_exits_zero_unless_strict(tmp_path):
    shutil.copy(ROOT / "seeds" / "jinan_2023_report.txt", tmp_path / "ok.txt")
    (tmp_path / "bad.txt").write_bytes(bytes(range(256)) * 4)
    res = run("extract", str(tmp_path), "-o", str(tmp_path / "f.csv"))
    assert res.returncode == 0 and "bad.txt" in res.stderr
    res = run("extract", str(tmp_path), "-o", str(tmp_path / "f.csv"), "--strict")
    assert res.returncode == 1 and "bad.txt" in res.stderr


def test_csv_text_cells_never_become_formulas(tmp_path):
    from envcompare.present.export import write_table

    df = pd.DataFrame({"evidence": ["=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1)", "-8.6%", "-cmd", "80.5%"], "value": [1.0, 2, 3, -8.6, 5, 80.5]})
    write_table(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")
    assert list(back["evidence"]) == ["'=HYPERLINK(\"http://x\")", "'+1+1", "'@SUM(A1)", "-8.6%", "'-cmd", "80.5%"]
    assert list(back["value"]) == [1.0, 2, 3, -8.6, 5, 80.5]


def test_second_build_of_unchanged_reports_is_up_to_date(tmp_path):
    reports = tmp_path / "reports"
    shutil.copytree(ROOT / "seeds", reports)
    args = ["build", str(reports), "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "-q"]
    first = run(*args)
    assert first.returncode == 0 and "0 documents came from the cache, 5 were extracted" in first.stdout
    second = run(*args)
    assert second.returncode == 0 and second.stdout.startswith("up to date: no report, code or data file changed")
    (tmp_path / "out" / "facts.csv").unlink()  # a missing output is rebuilt
    third = run(*args)
    assert "wrote" in third.stdout and (tmp_path / "out" / "facts.csv").is_file()
    doc = reports / "jinan_2023_report.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    fourth = run(*args)
    assert "4 documents came from the cache, 1 was extracted" in fourth.stdout


def test_rebuild_rewrites_only_the_evidence_page_of_the_changed_report(tmp_path):
    reports = tmp_path / "reports"
    shutil.copytree(ROOT / "seeds", reports)
    out = tmp_path / "out"
    args = ["build", str(reports), "--out", str(out), "--cache", str(tmp_path / "cache"), "-q"]
    assert run(*args).returncode == 0
    before = {p.name: p.stat().st_mtime_ns for p in (out / "evidence").iterdir()}
    page = out / "evidence" / "jinan_2023_report.html"
    assert "31.7" not in page.read_text(encoding="utf-8")
    doc = reports / "jinan_2023_report.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n新增一段：PM2.5平均浓度为31.7微克/立方米。\n", encoding="utf-8")
    assert run(*args).returncode == 0
    after = {p.name: p.stat().st_mtime_ns for p in (out / "evidence").iterdir()}
    changed = sorted(name for name in before if after[name] != before[name])
    assert changed == ["jinan_2023_report.html"]
    assert ">31.7微克/立方米</mark>" in page.read_text(encoding="utf-8")


def test_metadata_csv_beside_the_reports_sets_the_city_in_extract_and_build(tmp_path):
    # one path from files to facts: the sidecar load_reports honours is honoured by the commands too
    import envcompare

    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(ROOT / "seeds" / "jinan_2023_report.txt", reports / "jinan_2023_report.txt")
    # a second report, not named in metadata.csv, keeps its own city (it has no facts: `build` of
    # a folder where every report has facts trips a pandas-3 read-only-array bug, issue 13's)
    shutil.copy(ROOT / "seeds" / "wuhan_2019_article.txt", reports / "wuhan_2019_article.txt")
    cache = str(tmp_path / "cache")
    res = run("extract", str(reports), "-o", str(tmp_path / "before.csv"), "--cache", cache, "-q")
    assert res.returncode == 0, res.stderr
    assert set(pd.read_csv(tmp_path / "before.documents.csv", encoding="utf-8-sig")["city"]) == {"济南", "武汉"}

    (reports / "metadata.csv").write_text("file,city\njinan_2023_report.txt,青岛\n", encoding="utf-8")
    assert set(envcompare.load_reports(reports).documents()["city"]) == {"青岛", "武汉"}
    res = run("extract", str(reports), "-o", str(tmp_path / "facts.csv"), "--cache", cache, "-q")
    assert res.returncode == 0, res.stderr
    assert "1 from the cache" in res.stdout  # the sidecar is part of the cache key of the report it names
    facts = pd.read_csv(tmp_path / "facts.csv", encoding="utf-8-sig")
    docs = pd.read_csv(tmp_path / "facts.documents.csv", encoding="utf-8-sig")
    assert set(docs["city"]) == {"青岛", "武汉"}
    # the given city is every figure's place unless its sentence or paragraph names another place
    # (the report's own text still says 济南市 further down, and those figures keep what it says)
    first = facts[facts["evidence"] == "4.59"]
    assert list(first["city"]) == ["青岛"]
    assert (facts["city"] == "青岛").sum() >= 10

    res = run("build", str(reports), "--out", str(tmp_path / "out"), "--cache", cache, "-q")
    assert res.returncode == 0, res.stderr
    assert set(pd.read_csv(tmp_path / "out" / "documents.csv", encoding="utf-8-sig")["city"]) == {"青岛", "武汉"}
    built = pd.read_csv(tmp_path / "out" / "facts.csv", encoding="utf-8-sig")
    assert "青岛" in set(built["city"]) and "济南" not in set(built["city"])


def gold_count(doc: str) -> int:
    """Catalog facts in a seed, from its hand-written gold file (extraction scores 1.000 on the seeds)."""
    labels = pd.read_csv(ROOT / "data" / "gold" / "labels.csv", dtype=str, keep_default_na=False)
    return int(((labels["doc"] == doc) & (labels["indicator"] != "")).sum())


@pytest.mark.parametrize("names", [["jinan_2023_report.txt", "fuzhou_2022_plan.txt"], ["jinan_2023_report.txt"]],
                         ids=["folder-every-report-has-facts", "single-file"])
def test_build_when_every_report_has_facts(tmp_path, names):
    """No report without facts and no failed file: the rare branches of the documents table stay empty."""
    if len(names) > 1:
        target = tmp_path / "reports"
        target.mkdir()
        for name in names:
            shutil.copy(ROOT / "seeds" / name, target / name)
    else:
        target = ROOT / "seeds" / names[0]
    out = tmp_path / "out"
    res = run("build", str(target), "-o", str(out), "--cache", str(tmp_path / "cache"), "-q")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    docs = pd.read_csv(out / "documents.csv", encoding="utf-8-sig").set_index("doc")
    assert sorted(docs.index) == sorted(names)
    assert {doc: int(n) for doc, n in docs["facts"].items()} == {name: gold_count(name) for name in names}
    facts = pd.read_csv(out / "facts.csv", encoding="utf-8-sig")
    assert len(facts) == sum(gold_count(name) for name in names)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("envcompare: ") and err.count("\n") == 1, err
    return err


def test_evaluate_without_annotated_documents_says_so(tmp_path, capsys):
    from envcompare.pipeline.cli import main

    shutil.copy(ROOT / "seeds" / "jinan_2023_report.txt", tmp_path / "my_city_2023.txt")  # no gold file of that name
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "no annotated documents among these paths" in one_line_error(capsys)


def test_counts_are_written_in_the_singular_for_one(tmp_path, capsys):
    from envcompare.pipeline.cli import main

    out = tmp_path / "f.csv"
    assert main(["extract", str(ROOT / "seeds" / "jinan_2023_report.txt"), "-o", str(out), "-q", "-j", "1", "--no-cache"]) == 0
    stdout = capsys.readouterr().out
    assert "facts from 1 report; " in stdout and "(1 document)" in stdout
    assert "1 reports" not in stdout and "1 documents" not in stdout


@pytest.mark.parametrize("where", ["file", "below-a-file"])
def test_build_output_that_is_a_file_is_not_a_folder(tmp_path, capsys, where):
    from envcompare.pipeline.cli import main

    blocker = tmp_path / "results"
    blocker.write_text("x")
    out = blocker if where == "file" else blocker / "sub"
    assert main(["build", str(ROOT / "seeds" / "jinan_2023_report.txt"), "-o", str(out), "-q", "-j", "1", "--no-cache"]) == 2
    err = one_line_error(capsys)
    assert f"{blocker} is not a folder" in err and "File exists" not in err
    assert blocker.read_text() == "x"


def test_unusable_cache_is_a_sentence_naming_the_folder(tmp_path, capsys, monkeypatch):
    import errno

    from envcompare.pipeline.cli import main

    cache = tmp_path / "cache"
    real_mkdir = Path.mkdir

    def refused(self, *args, **kwargs):
        if self == cache:
            raise PermissionError(errno.EPERM, "Operation not permitted", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    code = main(["extract", str(ROOT / "seeds" / "jinan_2023_report.txt"), "-o", str(tmp_path / "f.csv"), "-q", "-j", "1",
                 "--cache", str(cache)])
    err = one_line_error(capsys)
    assert code == 2 and str(cache) in err and "not permitted" in err.lower()
    assert "[Errno" not in err and "Errno" not in err


def test_empty_folder_message_names_every_format_read(tmp_path, capsys):
    from envcompare.pipeline.cli import main

    assert main(["extract", str(tmp_path), "-o", str(tmp_path / "f.csv"), "-q", "-j", "1", "--no-cache"]) == 2
    err = one_line_error(capsys)
    assert "no report files" in err
    for suffix in (".txt", ".md", ".html", ".htm"):
        assert re.search(re.escape(suffix) + r"\b", err), suffix


def test_missing_data_file_cannot_be_read(tmp_path):
    """data/ missing (a broken install): the message names the file read, not 'cannot write'."""
    empty = tmp_path / "data"
    empty.mkdir()
    env = {**os.environ, "ENVCOMPARE_DATA": str(empty), "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "envcompare", "extract", str(ROOT / "seeds" / "jinan_2023_report.txt"),
                          "-o", str(tmp_path / "f.csv"), "-q", "-j", "1", "--no-cache"],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith(f"envcompare: cannot read {empty}{os.sep}") and res.stderr.count("\n") == 1, res.stderr
    assert "No such file" in res.stderr and "cannot write" not in res.stderr


def test_help_and_import_load_no_heavy_library():
    """`envcompare --help` and `import envcompare` parse and import without pandas, jieba,
    matplotlib or openpyxl (they load with the first command or attribute that needs them)."""
    code = ("import sys, envcompare\n"
            "from envcompare.pipeline.cli import main\n"
            "try:\n    main(['build', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'jieba', 'rjieba', 'matplotlib', 'openpyxl') if m in sys.modules))\n"
            "envcompare.extraction.extract\n"
            "print('pandas' in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-2:] == ["[]", "True"]


def test_a_command_allocates_its_arrow_buffers_with_jemalloc_unless_a_pool_is_chosen(tmp_path, monkeypatch):
    """Issue 16: mimalloc kept freed pages (a 20,000-report build peaked 130 MB higher)."""
    import pyarrow

    from envcompare.pipeline.cli import main

    try:
        pyarrow.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    chosen: list[str] = []
    monkeypatch.setattr(pyarrow, "set_memory_pool", lambda pool: chosen.append(pool.backend_name))
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    seeds = str(ROOT / "seeds")
    assert main(["extract", seeds, "-o", str(tmp_path / "a.csv"), "--no-cache", "-j", "1"]) == 0
    assert chosen == ["jemalloc"]
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    assert main(["extract", seeds, "-o", str(tmp_path / "b.csv"), "--no-cache", "-j", "1"]) == 0
    assert chosen == ["jemalloc"]  # the user's choice stands
