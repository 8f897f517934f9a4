"""Issue 20: a rebuild writes only the outputs whose tables changed; what it keeps is what a
fresh build would write."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from envcompare.pipeline import reviewing
from envcompare.pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
TWO = ("jinan_2023_report.txt", "wuhan_2022_summary_2023_plan.txt")


def build(reports: Path, out: Path, capsys) -> str:
    assert main(["build", str(reports), "-o", str(out), "-j", "1", "--no-cache"]) == 0
    return capsys.readouterr().out


def files(out: Path) -> dict[str, tuple[int, bytes]]:
    """Each output's inode (a rewritten file is a new one: outputs are replaced atomically) and bytes."""
    return {p.relative_to(out).as_posix(): (p.stat().st_ino, p.read_bytes()) for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


STAMPED = {"panel.dta"}  # Stata files carry the time they were written


def same_as_fresh(reports: Path, out: Path, fresh: Path, capsys, under: str = "") -> dict[str, tuple[int, bytes]]:
    """The files of `out` (inode, bytes), once their bytes (those under `under`; Stata's time stamp
    aside) are checked equal to a fresh build of `reports` into `fresh`."""
    now = files(out)
    build(reports, fresh, capsys)

    def compared(found: dict[str, tuple[int, bytes]]) -> dict[str, bytes]:
        return {n: b for n, (_, b) in found.items() if n.startswith(under) and n not in STAMPED}

    assert compared(now) == compared(files(fresh))
    return now


def test_a_rebuild_rewrites_only_what_changed_and_keeps_what_a_fresh_build_would_write(tmp_path, capsys):
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in TWO:
        shutil.copy(ROOT / "seeds" / name, reports / name)
    out = tmp_path / "out"
    build(reports, out, capsys)
    before = files(out)

    # a blank line at the end: the documents table (its character count) changes, no figure does
    jinan = reports / "jinan_2023_report.txt"
    jinan.write_bytes(jinan.read_bytes() + b"\n")
    said = build(reports, out, capsys)
    after = files(out)
    rewritten = {name for name in after if after[name][0] != before[name][0]}
    assert {"documents.csv", "envcompare.xlsx"} <= rewritten
    for kept in ("facts.csv", "comparison.csv", "targets.csv", "panel.parquet", "figures/air_pm25.png",
                 "evidence/wuhan_2022_summary_2023_plan.html"):
        assert kept not in rewritten, kept
    assert "kept " in said and "wrote " + str(out / "documents.csv") in said
    assert f"wrote {out / 'facts.csv'}" not in said
    same_as_fresh(reports, out, tmp_path / "fresh", capsys)

    # a figure changes: the facts table and what is drawn from it are written again
    jinan.write_text(jinan.read_text(encoding="utf-8").replace("6天", "7天"), encoding="utf-8")
    build(reports, out, capsys)
    again = files(out)
    assert again["facts.csv"][0] != after["facts.csv"][0]
    facts = pd.read_csv(out / "facts.csv", encoding="utf-8-sig")
    assert list(facts.loc[(facts["indicator"] == "air.heavy_pollution_days") & (facts["doc"] == jinan.name), "value"]) == [7.0]


def test_an_output_edited_by_hand_is_written_again_even_when_its_table_did_not_change(tmp_path, capsys):
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(ROOT / "seeds" / TWO[0], reports / TWO[0])
    out = tmp_path / "out"
    build(reports, out, capsys)
    original = (out / "comparison.csv").read_bytes()
    (out / "comparison.csv").write_bytes(b"edited by hand\n")
    (reports / TWO[0]).write_bytes((reports / TWO[0]).read_bytes() + b"\n")  # a rebuild, the tables unchanged
    build(reports, out, capsys)
    assert (out / "comparison.csv").read_bytes() == original


def test_a_page_redrawn_for_a_conflict_is_kept_until_its_conflict_or_report_changes(tmp_path, capsys, monkeypatch):
    """A conflict needs the corpus, so the review draws those pages again, from their worker's page
    (no report read); a rebuild keeps such a page while its own report and rows stay the same, and
    redraws it when the other side changes (written for this test: two reports disagree on one
    city's PM2.5, a third is elsewhere)."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "notice.txt").write_text("荆门市2023年空气质量通报\n2023年,荆门市PM2.5平均浓度为35微克/立方米。\n", encoding="utf-8")
    bulletin = reports / "bulletin.txt"
    bulletin.write_text("荆门市2023年环境质量公报\n2023年,荆门市PM2.5平均浓度为38微克/立方米。\n", encoding="utf-8")
    water = reports / "water.txt"
    water.write_text("宜昌市2022年环境质量公报\n2022年,宜昌市空气质量优良天数比例为85.2%。\n", encoding="utf-8")
    out = tmp_path / "out"
    read: list[str] = []  # reports the review reads again, to draw their page from the report
    flagged: list[str] = []  # worker pages the review draws again with the conflict
    read_again = reviewing.Reports.report
    monkeypatch.setattr(reviewing.Reports, "report", lambda self, doc: read.append(doc) or read_again(self, doc))
    flag_again = reviewing._flagged_again

    def flagged_again(page, doc, *rest):
        drawn = flag_again(page, doc, *rest)
        if drawn is not None:
            flagged.append(doc)
        return drawn

    monkeypatch.setattr(reviewing, "_flagged_again", flagged_again)

    def rebuilt() -> tuple[list[str], list[str]]:
        read.clear()
        flagged.clear()
        build(reports, out, capsys)
        return sorted(read), sorted(flagged)

    assert rebuilt() == ([], ["bulletin.txt", "notice.txt"])
    first = files(out)
    assert "38 ug/m3 in bulletin.txt" in first["evidence/notice.html"][1].decode("utf-8")

    water.write_text(water.read_text(encoding="utf-8").replace("85.2%", "86.0%"), encoding="utf-8")
    assert rebuilt() == ([], [])
    second = same_as_fresh(reports, out, tmp_path / "fresh2", capsys)
    assert second["evidence/water.html"][0] != first["evidence/water.html"][0]
    for page in ("evidence/notice.html", "evidence/bulletin.html"):
        assert second[page][0] == first[page][0], page  # neither its report nor its rows changed

    bulletin.write_text(bulletin.read_text(encoding="utf-8").replace("38微克", "36微克"), encoding="utf-8")
    # notice's worker page was left unwritten (its redrawn page was expected to stay): its report is read
    assert rebuilt() == (["notice.txt"], ["bulletin.txt"])
    third = same_as_fresh(reports, out, tmp_path / "fresh3", capsys)
    notice = third["evidence/notice.html"]
    assert notice[0] != second["evidence/notice.html"][0]  # its report is the same; its conflict is not
    assert "36 ug/m3 in bulletin.txt" in notice[1].decode("utf-8")

    bulletin.write_text(bulletin.read_text(encoding="utf-8").replace("36微克", "35微克"), encoding="utf-8")
    assert rebuilt() == (["notice.txt"], [])  # its last page had the conflict: drawn again without it
    fourth = same_as_fresh(reports, out, tmp_path / "fresh4", capsys)
    assert "conflict" not in fourth["evidence/notice.html"][1].decode("utf-8")  # the agreement drawn, not the old page


def rewritten_figures(before: dict[str, tuple[int, bytes]], after: dict[str, tuple[int, bytes]]) -> set[str]:
    return {name for name in after if name.startswith("figures/") and after[name][0] != before[name][0]}


def rebuilt_after(tmp_path: Path, capsys, change: Callable[[Path], None]):
    """Two seed reports built, the first changed by `change`, built again into the same folder:
    (reports, out, files before, what the rebuild said, files after)."""
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in TWO:
        shutil.copy(ROOT / "seeds" / name, reports / name)
    out = tmp_path / "out"
    build(reports, out, capsys)
    before = files(out)
    change(reports / TWO[0])
    said = build(reports, out, capsys)
    return reports, out, before, said, files(out)


def test_a_changed_figure_redraws_only_the_chart_that_shows_it(tmp_path, capsys):
    """Each chart is drawn again only when what it draws changed (not whenever the facts did)."""
    def change(jinan: Path) -> None:
        jinan.write_text(jinan.read_text(encoding="utf-8").replace("浓度为38微克", "浓度为39微克"), encoding="utf-8")

    reports, out, before, said, after = rebuilt_after(tmp_path, capsys, change)
    assert rewritten_figures(before, after) == {"figures/air_pm25.png", "figures/air_pm25.svg"}
    assert f"wrote {out / 'figures' / 'air_pm25.png'}" in said and "coverage.png" not in said
    same_as_fresh(reports, out, tmp_path / "fresh", capsys, under="figures/")


def test_figures_moved_by_a_line_at_the_top_of_a_report_redraw_no_chart(tmp_path, capsys):
    """Every figure of the report moves (its offsets change), none of what the charts draw does."""
    _, _, before, _, after = rebuilt_after(tmp_path, capsys, lambda jinan: jinan.write_bytes(b"\n" + jinan.read_bytes()))
    assert after["facts.csv"][1] != before["facts.csv"][1]  # the offsets did change
    assert rewritten_figures(before, after) == set()


def test_changed_theme_shares_redraw_only_the_theme_chart(tmp_path, capsys):
    def change(jinan: Path) -> None:
        jinan.write_text(jinan.read_text(encoding="utf-8") + "\n大气污染防治和水污染防治持续推进,土壤污染风险管控。\n",
                         encoding="utf-8")

    _, _, before, _, after = rebuilt_after(tmp_path, capsys, change)
    assert after["theme_shares.csv"][1] != before["theme_shares.csv"][1]
    assert rewritten_figures(before, after) == {"figures/themes.png", "figures/themes.svg"}


def test_pages_redrawn_a_few_documents_at_a_time_are_the_same(tmp_path, monkeypatch, capsys):
    # the review turns the flagged figures' rows into dicts ROWS_AT_ONCE rows at a time (memory);
    # one document at a time must give the very pages and review queue of all at once
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("notice.txt", "bulletin.txt", "digest.txt"):
        (reports / name).write_text(f"襄阳市2023年空气质量{name[:3]}\n2023年,襄阳市PM2.5平均浓度为{len(name) + 30}微克/立方米,"
                                    "优良天数比例为80.5%。\n", encoding="utf-8")
    build(reports, tmp_path / "together", capsys)
    monkeypatch.setattr(reviewing, "ROWS_AT_ONCE", 1)
    build(reports, tmp_path / "apart", capsys)
    together, apart = files(tmp_path / "together"), files(tmp_path / "apart")
    assert sorted(together) == sorted(apart)
    assert "conflict" in together["review.csv"][1].decode("utf-8-sig")  # pages redrawn by the review
    for name in together:
        if name not in STAMPED:
            assert together[name][1] == apart[name][1], name


def test_charts_of_large_tables_are_drawn_after_the_tables_are_written_and_the_same(tmp_path, monkeypatch, capsys):
    """Issue 16: beside a large corpus's tables the chart process was the build's peak memory; it
    starts once they are written and let go, and draws the same charts."""
    from envcompare.pipeline import build as build_module

    events: list[str] = []
    write_tables, start = build_module._write_tables, build_module._ChartWork.start
    monkeypatch.setattr(build_module, "_write_tables", lambda *a: (write_tables(*a), events.append("tables"))[0])
    monkeypatch.setattr(build_module._ChartWork, "start", lambda self, jobs: (events.append("charts"), start(self, jobs))[1])
    seeds = ROOT / "seeds"
    assert main(["build", str(seeds), "-o", str(tmp_path / "beside"), "-j", "2", "--no-cache"]) == 0
    assert events == ["charts", "tables"]  # the seeds' tables are few: the charts are drawn beside them
    events.clear()
    monkeypatch.setattr(build_module, "CHARTS_BESIDE_TABLES_MB", 0)
    assert main(["build", str(seeds), "-o", str(tmp_path / "after"), "-j", "2", "--no-cache"]) == 0
    assert events == ["tables", "charts"]
    capsys.readouterr()
    beside, after = files(tmp_path / "beside"), files(tmp_path / "after")
    figures = sorted(n for n in beside if n.startswith("figures/"))
    assert figures and figures == sorted(n for n in after if n.startswith("figures/"))
    assert all(beside[n][1] == after[n][1] for n in figures)


def test_text_tables_made_beside_the_review_are_the_same_and_kept_alike(tmp_path, monkeypatch, capsys):
    """Issue 20: with jobs > 1 the text tables are made by a process of their own while the build
    reviews and compares; the outputs are the very bytes of making them in the build's own
    process, and a rebuild keeps the unchanged ones either way."""
    from envcompare.pipeline import build as build_module

    made_here: list[int] = []  # calls in this process (the other process has its own module)
    write_text_tables = build_module._write_text_tables
    monkeypatch.setattr(build_module, "_write_text_tables", lambda *a: (made_here.append(1), write_text_tables(*a))[1])
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in TWO:
        shutil.copy(ROOT / "seeds" / name, reports / name)

    def built(out: Path) -> str:
        assert main(["build", str(reports), "-o", str(out), "-j", "2", "--no-cache"]) == 0
        return capsys.readouterr().out

    built(tmp_path / "seeds")  # two seeds' counts are too few to be worth a process
    assert made_here == [1]
    monkeypatch.setattr(build_module, "TEXT_TABLES_BESIDE_MB", (0, 256))
    built(tmp_path / "beside")
    assert made_here == [1]  # made by the other process
    monkeypatch.setattr(build_module, "TEXT_TABLES_BESIDE_MB", (0, 0))
    built(tmp_path / "here")
    assert made_here == [1, 1]
    beside, here = files(tmp_path / "beside"), files(tmp_path / "here")
    assert sorted(beside) == sorted(here) and "keywords.csv" in beside
    for name in beside:
        if name not in STAMPED:
            assert beside[name][1] == here[name][1], name
    assert not [p for p in (tmp_path / "beside").rglob("*") if "envcompare-text" in p.name]  # the spill file went

    # a blank line changes the documents table, no word count: the text tables are kept (by the
    # other process's word) and the manifest vouches for them
    monkeypatch.setattr(build_module, "TEXT_TABLES_BESIDE_MB", (0, 256))
    jinan = reports / "jinan_2023_report.txt"
    jinan.write_bytes(jinan.read_bytes() + b"\n")
    said = built(tmp_path / "beside")
    again = files(tmp_path / "beside")
    assert again["theme_shares.csv"][0] == beside["theme_shares.csv"][0]  # the same file, not rewritten
    assert again["documents.csv"][0] != beside["documents.csv"][0]
    assert f"wrote {tmp_path / 'beside' / 'documents.csv'}" in said
    assert "wrote " not in built(tmp_path / "beside")  # every output vouched for by the manifest: all kept
    assert made_here == [1, 1]


def test_an_error_making_the_text_tables_beside_is_raised_by_the_build(tmp_path, monkeypatch):
    import pytest

    from envcompare.ingest.load import read_report
    from envcompare.pipeline import build as build_module
    from envcompare.policytext.text import TextStats, analyse

    stage, out = tmp_path / "stage", tmp_path / "out"
    stage.mkdir()
    out.mkdir()
    stats = TextStats(spill_folder=stage)
    stats.add(analyse(read_report(ROOT / "seeds" / TWO[0])))
    spill = [p for p in stage.iterdir() if "envcompare-text" in p.name]
    assert len(spill) == 1  # the named spill file the other process reads
    spill[0].unlink()  # gone before the other process opens it
    staging = build_module._Staging(stage, build_module._Previous(out))
    monkeypatch.setattr(build_module, "TEXT_TABLES_BESIDE_MB", (0, 256))
    with build_module._TextTables(stats, staging, beside=True) as text_tables, pytest.raises(FileNotFoundError):
        text_tables.themes()
    assert not list(stage.iterdir())  # it wrote nothing
