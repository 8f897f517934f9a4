"""Hostile and messy input, safe outputs, command-line behaviour and determinism (issue 9).

Every bad input either fails with a reason naming the file or costs bounded work, and the rest
of the batch goes on. `ENVCOMPARE_FUZZ=1` makes the large inputs large (a 100 MB line) and adds
a determinism check of the whole `build`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import opencc
import openpyxl
import pandas as pd
import pytest

import envcompare
from envcompare import ReportError, load_reports, read_report
from envcompare.ingest.htmltext import visible_text
from envcompare.ingest.load import MAX_LINE_CHARS, report_from_bytes, report_from_text
from envcompare.present.export import write_table
from envcompare.present.output import atomic_write, csv_safe, csv_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOOD = SEEDS / "jinan_2023_report.txt"
FUZZ = os.environ.get("ENVCOMPARE_FUZZ") == "1"
MB = 1024 * 1024


def failed(corpus) -> dict[str, str]:
    return {Path(e.path).name: e.reason for e in corpus.errors}


def with_good(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(GOOD, folder / "good.txt")
    return folder


def timed(fn, *args, limit: float):
    """Run fn in a thread; fail (instead of hanging the suite) if it takes longer than limit."""
    result: dict[str, object] = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the test thread
            result["error"] = exc

    t0 = time.perf_counter()
    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(limit)
    assert not th.is_alive(), f"{getattr(fn, '__name__', fn)} still running after {limit} s"
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"], time.perf_counter() - t0


@pytest.fixture(scope="module")
def good_facts() -> pd.DataFrame:
    return envcompare.extract(read_report(GOOD))


# --- hostile files ------------------------------------------------------------------------------


def test_huge_single_line_is_refused_quickly_and_the_batch_goes_on(tmp_path):
    folder = with_good(tmp_path / "in")
    size = 100 * MB if FUZZ else 5 * MB
    unit = "全市优良天数比例为80.5%,同比下降1.2个百分点,".encode()
    with open(folder / "line.txt", "wb") as fh:
        for _ in range(size // (len(unit) * 1000)):
            fh.write(unit * 1000)
    corpus, seconds = timed(load_reports, folder, limit=60)
    assert [r.doc for r in corpus] == ["good.txt"]
    reason = failed(corpus)["line.txt"]
    assert ("file too large" in reason) if FUZZ else reason.startswith("line 1 is ")
    assert seconds < 30  # hang guard; speed is measured by benchmarks/
    assert len(envcompare.extract(corpus)) > 0


def test_long_line_under_the_limit_is_read():
    # a whole report scraped onto one line: below MAX_LINE_CHARS it is read like any other
    one_line = GOOD.read_text(encoding="utf-8").replace("\n", " ")
    text = "某市生态环境局\n" + one_line * (MAX_LINE_CHARS // len(one_line))
    assert MAX_LINE_CHARS * 0.9 < len(text.split("\n")[1]) <= MAX_LINE_CHARS
    (report, facts), seconds = timed(lambda: (r := report_from_text(text, "long.txt"), envcompare.extract(r)), limit=60)
    assert len(facts) > 0 and seconds < 20
    with pytest.raises(ReportError, match=r"line 2 is 100,001 characters long"):
        report_from_text("某市\n" + "优" * (MAX_LINE_CHARS + 1), "too_long.txt")


def test_file_of_nothing_but_digits(tmp_path):
    folder = with_good(tmp_path / "in")
    (folder / "digits_lines.txt").write_bytes(("7" * 79 + "\n").encode() * 25_000)  # 2 MB of digits
    (folder / "digits_line.txt").write_bytes(b"1234567890" * 100_000)  # one 1 MB line
    corpus, seconds = timed(load_reports, folder, limit=60)
    assert seconds < 30  # hang guard; speed is measured by benchmarks/
    assert sorted(r.doc for r in corpus) == ["digits_lines.txt", "good.txt"]
    assert failed(corpus)["digits_line.txt"].startswith("line 1 is 1,000,000 characters")
    facts, seconds = timed(envcompare.extract, corpus["digits_lines.txt"], limit=60)
    assert facts.empty and seconds < 30  # a number with nothing it measures is no fact


def test_html_with_thousands_of_nested_tags(tmp_path):
    depth = 50_000
    page = "<html><body>" + "<div><span>" * depth + "<p>全市空气质量优良天数比例为80.5%。</p>" + "</span></div>" * depth
    unclosed = "<html><body>" + "<div><b><i>" * depth + "<p>全市空气质量优良天数比例为80.5%。"
    for name, html in (("nested.html", page), ("unclosed.html", unclosed)):
        (tmp_path / name).write_text(html, encoding="utf-8")
        report, seconds = timed(read_report, tmp_path / name, limit=30)
        assert seconds < 20, name  # a hang guard (the quadratic parser took minutes), not a speed target
        facts = envcompare.extract(report)
        assert list(facts["evidence"]) == ["80.5%"], name
        assert facts.loc[0, "indicator"] == "air.good_days_ratio"


@pytest.mark.parametrize(
    "page",
    [
        "<!--" * 50_000 + "<p>优良天数比例为80.5%</p>",  # html.parser: ~30 s for these 200 KB
        "<a " * 100_000 + "优良天数比例为80.5%",
        "<a href='x " * 50_000 + "<p>优良天数比例为80.5%</p>",
        "<script>" + "</scrip" * 50_000,
        "<![CDATA[" * 50_000,
        "</" * 100_000,
        "&#x" * 100_000 + "&" * 100_000,
        "<meta name='a' content='" * 50_000,
    ],
    ids=["open-comments", "open-tags", "open-quotes", "script-no-end", "cdata", "end-tags", "entities", "meta"],
)
def test_markup_that_makes_parsers_slow_costs_linear_time(page):
    _, seconds = timed(visible_text, page, limit=30)
    assert seconds < 10  # hang guard
    try:
        report = report_from_bytes(page.encode(), "page.html", fmt="html")
    except ReportError as exc:
        assert exc.path == "page.html"
    else:
        assert envcompare.extract(report, unmapped=True) is not None


def test_file_with_a_nul_byte(tmp_path):
    folder = with_good(tmp_path / "in")
    text = GOOD.read_text(encoding="utf-8")
    (folder / "early_nul.txt").write_bytes(text[:50].encode() + b"\x00" + text[50:].encode())
    late = text.encode() * 3
    (folder / "late_nul.txt").write_bytes(late[:20_000] + b"\x00" + late[20_000:])
    (folder / "gbk_nul.txt").write_bytes(text.encode("gb18030")[:5_000] + b"\x00" + text.encode("gb18030")[5_000:])
    corpus = load_reports(folder)
    assert [r.doc for r in corpus] == ["good.txt"]
    reasons = failed(corpus)
    assert f"NUL bytes, first at byte {len(text[:50].encode())}" in reasons["early_nul.txt"]
    assert reasons["late_nul.txt"].startswith("NUL byte at byte 20,000")
    assert reasons["gbk_nul.txt"].startswith("NUL byte at byte 5,000")


def test_symlink_loops_in_a_folder(tmp_path):
    folder = with_good(tmp_path / "in")
    (folder / "sub").mkdir()
    shutil.copy(SEEDS / "fuzhou_2022_plan.txt", folder / "sub" / "fuzhou.txt")
    os.symlink(".", folder / "loop")  # the folder inside itself
    os.symlink("..", folder / "sub" / "up")  # a child pointing at its parent
    os.symlink("self.txt", folder / "self.txt")  # a link to itself
    os.symlink("b.txt", folder / "a.txt")
    os.symlink("a.txt", folder / "b.txt")  # two links to each other
    os.symlink("nowhere.txt", folder / "dangling.txt")
    corpus, seconds = timed(load_reports, folder, limit=30)
    assert seconds < 30  # hang guard; speed is measured by benchmarks/
    assert sorted(r.doc for r in corpus) == ["good.txt", "sub/fuzhou.txt"]  # each file once, named by its path in the folder
    reasons = failed(corpus)
    assert reasons["self.txt"] == reasons["a.txt"] == reasons["b.txt"] == "symbolic link loop"
    assert reasons["dangling.txt"].startswith("file not found")


def test_file_that_disappears_between_listing_and_reading(tmp_path, monkeypatch):
    import envcompare.ingest.load as load

    folder = with_good(tmp_path / "in")
    shutil.copy(GOOD, folder / "gone.txt")
    listed = load.list_files

    def list_then_delete(paths):
        files, errors = listed(paths)
        (folder / "gone.txt").unlink()  # another process cleans up the folder meanwhile
        return files, errors

    monkeypatch.setattr(load, "list_files", list_then_delete)
    corpus = load_reports(folder)
    assert [r.doc for r in corpus] == ["good.txt"]
    assert failed(corpus)["gone.txt"] == "file not found (missing, or removed after the folder was listed)"
    assert corpus.documents().set_index("doc").loc["gone.txt", "error"].startswith("file not found")


def test_file_that_disappears_in_a_batch_run(tmp_path, monkeypatch):
    batch = pytest.importorskip("envcompare.pipeline.batch")
    folder = with_good(tmp_path / "in")
    shutil.copy(GOOD, folder / "gone.txt")
    listed = batch.list_files

    def list_then_delete(paths):
        files, errors = listed(paths)
        (folder / "gone.txt").unlink()
        return files, errors

    monkeypatch.setattr(batch, "list_files", list_then_delete)
    result = batch.run(folder, jobs=1, cache_dir=tmp_path / "cache", progress=False)
    docs = result.documents.set_index("doc")
    assert pd.isna(docs.loc["good.txt", "error"]) and docs.loc["gone.txt", "error"].startswith("file not found")
    assert len(result.facts) > 0


def test_pipes_devices_and_folders_named_like_reports_are_refused_without_waiting(tmp_path):
    folder = with_good(tmp_path / "in")
    os.mkfifo(folder / "pipe.txt")  # reading it would wait for a writer forever
    os.symlink("/dev/zero", folder / "zero.txt")  # reading it would never end
    (folder / "folder.txt").mkdir()
    (folder / "folder.txt" / "inner.txt").write_bytes(GOOD.read_bytes())
    corpus, seconds = timed(load_reports, [folder / "pipe.txt", folder / "zero.txt", folder / "folder.txt" / "inner.txt", folder / "good.txt"], limit=30)
    assert seconds < 30  # hang guard; speed is measured by benchmarks/
    assert sorted(r.doc for r in corpus) == ["good.txt", "inner.txt"]
    reasons = failed(corpus)
    assert reasons["pipe.txt"] == reasons["zero.txt"] == "not a regular file (pipe, socket or device)"
    assert "is a directory" in read_report_reason(folder / "folder.txt")


def read_report_reason(path: Path) -> str:
    with pytest.raises(ReportError) as err:
        read_report(path)
    assert err.value.path == str(path)
    return err.value.reason


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path, monkeypatch):
    import envcompare.ingest.load as load

    monkeypatch.setattr(load, "MAX_BYTES", 4096)
    shutil.copy(GOOD, tmp_path / "big.txt")
    assert read_report_reason(tmp_path / "big.txt") == f"file too large ({GOOD.stat().st_size:,} bytes; limit 4,096)"


# --- mojibake and near misses -----------------------------------------------------------------


def original() -> str:
    return GOOD.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "name, garble, repair",
    [
        ("latin1", lambda t: t.encode().decode("latin-1"), "ftfy: utf-8 read as latin-1"),
        ("windows1252", lambda t: t.encode().decode("sloppy-windows-1252"), "ftfy: utf-8 read as windows-1252"),
        ("twice", lambda t: t.encode().decode("latin-1").encode().decode("latin-1"), "ftfy: utf-8 read as latin-1 (2 times)"),
    ],
)
def test_utf8_read_as_latin1_is_repaired_and_the_repair_recorded(tmp_path, good_facts, name, garble, repair):
    pytest.importorskip("ftfy")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"{name}.txt").write_text(garble(original()), encoding="utf-8")
    assert not re.search(r"[\u4e00-\u9fff]", (folder / f"{name}.txt").read_text(encoding="utf-8"))
    corpus = load_reports(folder)
    report = corpus[f"{name}.txt"]
    assert report.repair == repair
    assert report.raw_text == original()  # offsets point into the repaired text
    docs = corpus.documents().set_index("doc")
    assert docs.loc[f"{name}.txt", "repair"] == repair and pd.isna(docs.loc[f"{name}.txt", "error"])
    facts = envcompare.extract(report)
    cols = ["indicator", "value", "unit", "kind", "year", "start", "end", "evidence"]
    assert facts[cols].equals(good_facts[cols])


def test_repaired_html_page_has_its_title_repaired_too():
    pytest.importorskip("ftfy")
    page = "<html><head><title>济南市生态环境局2023年度工作情况</title></head><body><p>全市空气质量优良天数比例为80.5%。</p></body></html>"
    report = report_from_bytes(page.encode().decode("latin-1").encode(), "page.html", fmt="html")
    assert report.repair == "ftfy: utf-8 read as latin-1"
    assert report.meta.title == "济南市生态环境局2023年度工作情况"
    assert list(envcompare.extract(report)["evidence"]) == ["80.5%"]


def test_clean_documents_have_no_repair(corpus):
    assert corpus.documents()["repair"].isna().all()


@pytest.mark.parametrize(
    "name, garble, reason",
    [
        # Windows-1252 has no character for 0x81, 0x8d, 0x8f, 0x90, 0x9d: those bytes are gone
        ("lossy", lambda t: t.encode().decode("cp1252", errors="replace"), "not repaired: bytes were lost"),
        # non-breaking spaces (byte 0xa0 of many characters) turned into plain spaces by a scraper
        ("nbsp", lambda t: t.encode().decode("latin-1").replace("\xa0", " "), "mojibake sequences left after the repair"),
        # half the text mis-decoded in the middle of lines: ftfy leaves some of it
        ("partial", lambda t: t[:1500] + t[1500:3000].encode().decode("sloppy-windows-1252") + t[3000:], "left after the repair"),
        ("gbk_as_big5", lambda t: t.encode("gbk").decode("big5", errors="replace"), "implausible Chinese text"),
        ("big5_as_gbk", lambda t: opencc.OpenCC("s2tw").convert(t).encode("big5", "replace").decode("gbk", "replace"), "implausible Chinese text"),
        ("utf8_as_gbk", lambda t: t.encode().decode("gbk", errors="replace"), "implausible Chinese text"),
    ],
)
def test_mojibake_that_cannot_be_restored_is_reported_and_not_mined(tmp_path, name, garble, reason):
    pytest.importorskip("ftfy")
    folder = with_good(tmp_path / "in")
    (folder / f"{name}.txt").write_text(garble(original()), encoding="utf-8")
    corpus = load_reports(folder)
    assert [r.doc for r in corpus] == ["good.txt"]
    assert reason in failed(corpus)[f"{name}.txt"]
    assert set(envcompare.extract(corpus)["doc"]) == {"good.txt"}


def test_gbk_read_as_big5_is_named_when_a_round_trip_shows_it():
    # characters whose GBK bytes are also valid Big5: the mis-decoding is lossless and recognisable
    def survives(ch: str) -> bool:
        try:
            return ch.isascii() or bool(ch.encode("gbk").decode("big5"))
        except UnicodeError:
            return False

    text = "".join(ch for ch in original() if survives(ch))
    with pytest.raises(ReportError, match=r"mis-decoded Chinese \(looks like GBK read as Big5; score 0\.\d\d\): not read"):
        report_from_text(text.encode("gbk").decode("big5"), "gbk_as_big5.txt")


def seed_lines() -> list[str]:
    lines = []
    for path in sorted(SEEDS.glob("*.txt")):
        lines += [line.strip().replace("\xa0", " ") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def test_big5_never_comes_out_as_gb18030_gibberish_and_gbk_never_as_big5():
    from envcompare.ingest.decode import decode

    s2tw = opencc.OpenCC("s2tw")
    checked = 0
    for line in seed_lines():  # short lines are where byte-level guessing goes wrong
        if line.isascii():
            continue
        traditional = s2tw.convert(line)
        try:
            big5, gbk = traditional.encode("big5"), line.encode("gbk")
        except UnicodeEncodeError:
            continue
        assert decode(big5, "x.txt") == (traditional, "big5hkscs"), line
        assert decode(gbk, "x.txt") == (line, "gb18030"), line
        checked += 1
    assert checked > 150
    assert decode("臭氧".encode("big5"), "x.txt") == ("臭氧", "big5hkscs")  # GB18030 reads private-use gibberish
    assert decode("罰款€5萬元的報告".encode("cp950"), "x.txt") == ("罰款€5萬元的報告", "cp950")  # Windows Big5


def test_big5_with_a_broken_byte_is_reported_not_read_as_gb18030(tmp_path):
    traditional = opencc.OpenCC("s2tw").convert(original().replace("\xa0", " "))
    data = traditional.encode("big5")
    cut = data.index("。".encode("big5")) + 2
    path = tmp_path / "broken_big5.txt"
    path.write_bytes(data[:cut] + b"\x81\x40" + data[cut:])  # a pair only GB18030 accepts
    assert data[:cut].decode("big5") and (b"\x81\x40").decode("gb18030")
    reason = read_report_reason(path)
    assert reason == f"Big5 text with 1 undecodable byte sequence (first at byte {cut}: 81 40); not guessed as GB18030"


@pytest.mark.parametrize(
    "sentence, figures",
    [
        ("2023年1月,全市空气质量优良天数比例为80.5%。", ["80.5%"]),
        ("根据武政规〔2019〕14号文件,全市PM2.5平均浓度为30微克/立方米。", ["30微克/立方米"]),
        ("依据环办[2021]7号,2022年1-11月全市优良天数为300天。", ["300天"]),
        ("自2023年1月1日起,PM2.5平均浓度同比下降5.4%。", ["5.4%"]),
        ("《济南市“十四五”生态环境保护规划》(济政发〔2022〕3号)提出,优良天数比例达到80%。", ["80%"]),
        ("本文(索引号731074791/2023-02192)显示,PM2.5年均浓度38微克/立方米。", ["38微克/立方米"]),
        ("二〇二三年一月,全市优良天数为二十五天。", ["二十五天"]),
    ],
)
def test_dates_and_document_numbers_are_never_facts(sentence, figures):
    report = report_from_text("济南市生态环境局\n" + sentence, "dates.txt")
    facts = envcompare.extract(report, unmapped=True)
    assert list(facts["evidence"]) == figures


# --- safe outputs ---------------------------------------------------------------------------------


def test_interrupted_write_leaves_the_previous_output_intact(tmp_path):
    path = tmp_path / "facts.csv"
    write_table(pd.DataFrame({"a": ["before"]}), path)
    before = path.read_bytes()

    def half_then(exc):
        def write(p: Path):
            p.write_bytes(b"half a fi")
            raise exc

        return write

    for exc in (RuntimeError("boom"), KeyboardInterrupt(), OSError(28, "No space left on device")):
        with pytest.raises(type(exc)):
            atomic_write(path, half_then(exc))
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["facts.csv"]  # no temporary file left


def test_killed_process_leaves_the_previous_output_intact(tmp_path):
    path = tmp_path / "facts.csv"
    path.write_bytes(b"previous")
    code = (
        "import os, sys; from pathlib import Path; from envcompare.present.output import atomic_write, csv_safe, csv_text\n"
        "def write(p):\n    p.write_bytes(b'half'); os._exit(9)\n"
        "atomic_write(Path(sys.argv[1]), write)\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True, timeout=120)
    assert res.returncode == 9
    assert path.read_bytes() == b"previous"


def test_outputs_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    new = write_table(pd.DataFrame({"a": [1]}), tmp_path / "new.csv")
    assert new.stat().st_mode & 0o777 == 0o666 & ~mask  # not the temporary file's 0600
    kept = tmp_path / "kept.csv"
    kept.write_text("x")
    kept.chmod(0o640)
    write_table(pd.DataFrame({"a": [1]}), kept)
    assert kept.stat().st_mode & 0o777 == 0o640


MALICIOUS = [
    '=HYPERLINK("http://example.invalid","click")', "+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-x", "-2+3", "\t=1", "\r=1+1",
    "=1+1", "-1+cmd|'/C calc'!A0",
]


def malicious_facts() -> pd.DataFrame:
    facts = envcompare.extract(read_report(GOOD)).head(len(MALICIOUS)).copy()
    facts["evidence"] = pd.array(MALICIOUS[: len(facts)], dtype="string")
    facts["sentence"] = pd.array(list(reversed(MALICIOUS))[: len(facts)], dtype="string")
    facts["qualifier"] = pd.array(["-8.6%"] * len(facts), dtype="string")
    return facts


def xlsx_has_no_formulas(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml, name


def test_excel_cells_from_report_text_never_become_formulas(tmp_path):
    facts = malicious_facts()
    assert len(facts) == len(MALICIOUS)
    for path in (envcompare.to_excel(facts, tmp_path / "book.xlsx"), write_table(facts, tmp_path / "sheet.xlsx")):
        xlsx_has_no_formulas(path)
        wb = openpyxl.load_workbook(path)
        ws = wb["Facts"] if "Facts" in wb.sheetnames else wb.active
        header = [c.value for c in ws[1]]
        col = next(i for i, h in enumerate(header) if h and str(h).split("\n")[0] == "evidence")
        cells = [row[col] for row in ws.iter_rows(min_row=2, max_row=len(facts) + 1)]
        # (XML keeps no bare CR: "\r=1+1" reads back as "\n=1+1", text all the same)
        assert sorted(c.value for c in cells) == sorted(m.replace("\r", "\n") for m in MALICIOUS)
        assert all(c.data_type == "s" for c in cells)


def test_csv_is_utf8_with_bom_and_guarded(tmp_path):
    facts = malicious_facts()
    path = write_table(facts, tmp_path / "facts.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert list(back["evidence"]) == ["'" + m.replace("\r", "\n") for m in MALICIOUS]  # a bare CR would end the row
    assert set(back["qualifier"]) == {"-8.6%"}  # a negative number stays a number
    assert list(back["value"]) == list(facts["value"])
    assert "济南" in path.read_text(encoding="utf-8-sig")


def test_csv_safe_changes_exactly_the_cells_csv_text_changes():
    # csv_safe looks only at cells starting with a formula character or a minus or holding a CR:
    # every other cell must be one csv_text leaves alone, in a column of any dtype
    cells = ["=1+2", "+x", "@a", "\tx", "\rx", "\nx", "-8.6%", "-1,200", "-1,20", "-2+3", "-cmd", "-", "-\uff11\uff12",
             "a\rb", "a\r\nb", "plain", "", " =x", "-12.5", "-12.5\n", None]
    texts = pd.DataFrame({"str": pd.Series(cells, dtype="str"), "string": pd.Series(cells, dtype="string"),
                          "object": pd.Series(cells, dtype=object), "number": [-1.5] * len(cells)})
    mixed = pd.DataFrame({"object": pd.Series([*cells, float("nan"), 3, -4.5, True, b"-x"], dtype=object)})
    for df in (texts, mixed):
        safe = csv_safe(df)
        for col in df.columns:
            expected = [None if pd.isna(v) else csv_text(v) for v in df[col].tolist()]
            assert [None if pd.isna(v) else v for v in safe[col].tolist()] == expected, col
            assert safe[col].dtype == df[col].dtype
    assert texts.loc[0, "str"] == "=1+2"  # the table itself is left as it was


def test_csv_safe_guards_a_categorical_column_by_its_categories():
    # the facts' sentence column is categorical: each distinct text is guarded once, and where
    # guarding would make two categories one (=a and 'a=… already there) every cell still is
    cells = ["=1+2", "plain", "=1+2", "-cmd", "-8.6%", None, "a\rb"]
    clashing = [*cells, "'=1+2"]
    for values in (cells, clashing):
        df = pd.DataFrame({"sentence": pd.Series(values, dtype="category")})
        safe = csv_safe(df)
        assert [None if pd.isna(v) else v for v in safe["sentence"].tolist()] == \
            [None if v is None else csv_text(v) for v in values]
        assert df.loc[0, "sentence"] == "=1+2"  # the table itself is left as it was
    assert isinstance(csv_safe(pd.DataFrame({"s": pd.Series(cells, dtype="category")}))["s"].dtype, pd.CategoricalDtype)


def test_control_characters_in_report_text_do_not_break_the_workbook(tmp_path):
    report = report_from_text("2023年济南市生态环境状况\n全市优良天数比例为80.5%,PM2.5平均浓度为30微克/立方米\x01。", "ctl.txt")
    facts = envcompare.extract(report)
    assert "\x01" in facts.loc[0, "sentence"]
    write_table(facts, tmp_path / "facts.xlsx")
    envcompare.to_excel(facts, tmp_path / "book.xlsx")


def test_workbook_cells_fit_excel(tmp_path):
    # Excel holds at most 32,767 characters per cell; openpyxl cuts longer text (the CSV keeps it whole)
    facts = envcompare.extract(read_report(GOOD)).head(1).copy()
    facts["sentence"] = pd.array(["优良天数比例为80.5%," * 4000], dtype="string")
    path = write_table(facts, tmp_path / "long.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert max(len(str(c.value or "")) for row in ws.iter_rows() for c in row) <= 32_767


# --- command line -------------------------------------------------------------------------------


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "envcompare", *args], cwd=cwd, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p: subprocess.Popen, timeout: float = 240) -> subprocess.CompletedProcess:
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return subprocess.CompletedProcess(p.args, -9, out, err + "\n(timed out)")
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def hostile_folder(folder: Path) -> dict[str, str]:
    """A folder of one good report and one of each kind of bad file: name -> words of its reason."""
    with_good(folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "nul.txt").write_bytes("优良天数比例为80.5%".encode() + b"\x00" * 3)
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "line.txt").write_bytes(b"9" * (MAX_LINE_CHARS + 1))
    (folder / "lossy.txt").write_text(original().encode().decode("cp1252", errors="replace"), encoding="utf-8")
    (folder / "table.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    os.symlink("self.txt", folder / "self.txt")
    (folder / "latin1.txt").write_text(original().encode().decode("latin-1"), encoding="utf-8")  # repaired, not failed
    return {"empty.txt": "empty file", "nul.txt": "NUL bytes", "binary.txt": "binary", "line.txt": "characters long",
            "lossy.txt": "bytes were lost", "table.xls": "unsupported file type", "self.txt": "symbolic link loop"}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """The command-line runs of this module, started together (each one is a new interpreter)."""
    base = tmp_path_factory.mktemp("cli")
    bad = hostile_folder(base / "hostile")
    (base / "empty").mkdir()
    (base / "out.csv").mkdir()  # an output path that is a folder
    blocker = base / "blocker"
    blocker.write_text("x")
    failing = base / "failing"
    failing.mkdir()
    for i in range(5):
        (failing / f"bad{i}.txt").write_bytes(b"")
    def run(name: str, *args: str) -> subprocess.Popen:
        cwd = base / f"cwd_{name}"  # each run its own cache folder
        cwd.mkdir()
        return cli(*args, cwd=cwd)

    seed = str(SEEDS / "jinan_2023_report.txt")
    runs = {
        "partial": run("partial", "extract", str(base / "hostile"), "-o", str(base / "facts.csv"), "-q", "-j", "1"),
        "strict": run("strict", "extract", str(base / "hostile"), "-o", str(base / "strict.csv"), "--strict", "-q", "-j", "1"),
        "load_strict": run("load_strict", "load", str(base / "hostile"), "--strict"),
        "missing": run("missing", "extract", str(base / "nope"), "-o", str(base / "m.csv")),
        "empty_build": run("empty_build", "build", str(base / "empty"), "--out", str(base / "built")),
        "all_fail": run("all_fail", "extract", str(failing), "-o", str(base / "f.csv")),
        "out_is_folder": run("out_is_folder", "extract", seed, "-o", str(base / "out.csv"), "-j", "1"),
        "out_read_only_fs": run("out_read_only_fs", "extract", seed, "-o", "/proc/envcompare/x.csv", "-j", "1"),
    }
    results = {name: finish(p) for name, p in runs.items()}
    return base, bad, results


def one_line_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("envcompare: "), res.stderr
    assert "Traceback" not in res.stderr
    return res.stderr


def test_cli_partial_success_names_every_failed_file_and_exits_zero(cli_runs):
    base, bad, results = cli_runs
    res = results["partial"]
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    for name, words in bad.items():
        lines = [line for line in res.stderr.splitlines() if f"{name}:" in line]
        assert len(lines) == 1 and words in lines[0], (name, res.stderr)
    facts = pd.read_csv(base / "facts.csv", encoding="utf-8-sig")
    assert set(facts["doc"]) == {"good.txt", "latin1.txt"}
    docs = pd.read_csv(base / "facts.documents.csv", encoding="utf-8-sig").set_index("doc")
    assert set(docs.index) == set(bad) | {"good.txt", "latin1.txt"}
    assert docs.loc["latin1.txt", "repair"] == "ftfy: utf-8 read as latin-1"
    assert docs["error"].notna().sum() == len(bad)


def test_cli_strict_exits_non_zero_on_any_failed_file(cli_runs):
    base, bad, results = cli_runs
    for name in ("strict", "load_strict"):
        res = results[name]
        assert res.returncode == 1, (name, res.stderr)
        assert all(f"{b}:" in res.stderr for b in bad), name
    assert (base / "strict.csv").is_file()


def test_cli_missing_path_empty_folder_and_all_failed_fail_with_one_line(cli_runs):
    base, _, results = cli_runs
    err = one_line_error(results["missing"])
    assert str(base / "nope") in err and "no such file or folder" in err
    assert "no report files" in one_line_error(results["empty_build"])
    assert not (base / "built").exists() or not list((base / "built").iterdir())
    err = one_line_error(results["all_fail"])
    assert "no report could be loaded" in err and "empty file" in err and "(+2 more)" in err
    assert not (base / "m.csv").exists() and not (base / "f.csv").exists()


def test_cli_unwritable_output_fails_with_one_line(cli_runs):
    base, _, results = cli_runs
    for name in ("out_is_folder", "out_read_only_fs"):
        err = one_line_error(results[name])
        assert err.startswith("envcompare: cannot write "), (name, err)
    assert (base / "out.csv").is_dir() and not list((base / "out.csv").iterdir())


def test_batch_run_with_a_cache_does_not_wait_on_a_pipe(tmp_path):
    batch = pytest.importorskip("envcompare.pipeline.batch")
    folder = with_good(tmp_path / "in")
    pipe = folder / "pipe.txt"
    os.mkfifo(pipe)
    done: dict[str, object] = {}
    th = threading.Thread(target=lambda: done.update(result=batch.run(folder, jobs=1, cache_dir=tmp_path / "cache", progress=False)),
                          daemon=True)
    th.start()
    th.join(3)
    waited = th.is_alive()
    if waited:  # release the reader: a writer opens the pipe and closes it at once
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        th.join(30)
    assert not waited, "the run waited on a named pipe"
    docs = done["result"].documents.set_index("doc")
    assert docs.loc["pipe.txt", "error"] == "not a regular file (pipe, socket or device)"


def test_cli_unusable_cache_fails_with_one_line(tmp_path, capsys):
    from envcompare.pipeline.cli import main

    (tmp_path / "cache" / "results.sqlite").mkdir(parents=True)  # the database path is taken by a folder
    code = main(["extract", str(GOOD), "-o", str(tmp_path / "f.csv"), "-q", "-j", "1", "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("envcompare: ") and err.count("\n") == 1


# --- determinism ----------------------------------------------------------------------------------


def test_runs_in_different_processes_give_byte_identical_files(tmp_path):
    runs = {}
    for i, suffix in enumerate([".csv", ".csv", ".xlsx", ".xlsx"]):
        cwd = tmp_path / f"run{i}"  # each run its own cache folder: every run extracts
        cwd.mkdir()
        out = cwd / f"facts{suffix}"
        runs[out] = cli("extract", str(SEEDS), "-o", str(out), cwd=cwd, env={"PYTHONHASHSEED": str(i + 1)})
    for p in runs.values():
        res = finish(p)
        assert res.returncode == 0, res.stderr
    outs = list(runs)
    for a, b in ((outs[0], outs[1]), (outs[2], outs[3])):
        assert a.read_bytes() == b.read_bytes(), (a, b)
        docs = a.with_name(f"facts.documents{a.suffix}")
        assert docs.read_bytes() == b.with_name(docs.name).read_bytes()
    assert len(pd.read_csv(outs[0], encoding="utf-8-sig")) > 50


@pytest.mark.skipif(not FUZZ, reason="the whole build twice (~15 s): ENVCOMPARE_FUZZ=1")
def test_build_twice_gives_byte_identical_tables_and_workbook(tmp_path):
    runs = []
    for i in range(2):
        (tmp_path / f"cwd{i}").mkdir()
        runs.append(cli("build", str(SEEDS), "--out", str(tmp_path / f"out{i}"), cwd=tmp_path / f"cwd{i}",
                        env={"PYTHONHASHSEED": str(i + 7)}))
    for p in runs:
        res = finish(p, timeout=600)
        assert res.returncode == 0, res.stderr
    names = sorted(p.relative_to(tmp_path / "out0") for p in (tmp_path / "out0").rglob("*") if p.suffix in (".csv", ".xlsx", ".svg"))
    assert any(n.suffix == ".xlsx" for n in names)
    for name in names:
        assert (tmp_path / "out0" / name).read_bytes() == (tmp_path / "out1" / name).read_bytes(), name
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", (tmp_path / "out0" / "facts.csv").read_text(encoding="utf-8-sig"))


def test_giving_memory_back_starts_no_child_process(monkeypatch):
    """Issue 16: a child forked from a build's main process counts all of its memory until it
    starts its own program (`ctypes.util.find_library` ran ldconfig at every stage's end)."""
    from envcompare.memory import release_unused

    started: list[object] = []

    def popen(*args, **kwargs):
        started.append(args)
        raise OSError("no child processes in this test")

    monkeypatch.setattr(subprocess, "Popen", popen)
    release_unused()
    assert started == []


def test_a_compact_table_holds_text_as_categories_and_the_same_values():
    import pandas as pd

    from envcompare.memory import compact

    table = pd.DataFrame({"city": pd.array(["济南", "武汉", "济南", None], dtype="string"), "n": [1, 2, 3, 4]})
    held = compact(table)
    assert isinstance(held["city"].dtype, pd.CategoricalDtype) and held["n"].dtype == table["n"].dtype
    assert list(held["city"].cat.categories) == ["武汉", "济南"]  # by code point: 武 U+6B66, 济 U+6D4E
    assert held["city"].astype(object).tolist()[:3] == ["济南", "武汉", "济南"]
    assert held["city"].isna().tolist() == [False, False, False, True]
