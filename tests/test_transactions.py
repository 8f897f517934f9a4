"""Issue 16: a build is a transaction, the cache is data, the corpus is what the user named.

Every test here runs the code in-process (`main([...])`, one worker) and injects the fault it is
about: another corpus built into the same folder, a cache file that would run code, links out of
the corpus, same-named files, a locked / damaged / deleted cache, an exception in the workbook
writer, a second build, a stale lock, a document that takes too long.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pandas as pd
import pytest

import envcompare
from envcompare.pipeline import batch
from envcompare.pipeline.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TWO = ("jinan_2023_report.txt", "wuhan_2022_summary_2023_plan.txt")


def corpus_of(folder: Path, names=TWO) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(SEEDS / name, folder / name)
    return folder


def build(paths, out: Path, *options: str) -> int:
    paths = [paths] if isinstance(paths, (str, Path)) else paths
    return main(["build", *map(str, paths), "-o", str(out), "-q", "-j", "1", *options])


def catalog_facts(path: Path) -> int:
    """The catalog facts of one file on its own (the library call, not the command)."""
    facts = envcompare.extract(envcompare.read_report(path))
    return int(facts["indicator"].notna().sum())


def outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def stderr_lines(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line]


# --- 1. builds as transactions ----------------------------------------------------------------------

def test_up_to_date_never_vouches_for_another_corpus(tmp_path, capsys):
    seeds, other = corpus_of(tmp_path / "seeds"), corpus_of(tmp_path / "B", ["fuzhou_2022_plan.txt"])
    out, cache = tmp_path / "out", str(tmp_path / "cA")
    assert build(seeds, out, "--cache", cache) == 0
    first = (out / "facts.csv").read_bytes()
    assert build(other, out, "--no-cache") == 0
    assert (out / "facts.csv").read_bytes() != first
    capsys.readouterr()
    assert build(seeds, out, "--cache", cache) == 0
    said = capsys.readouterr().out
    assert not said.startswith("up to date") and "2 documents came from the cache" in said
    assert (out / "facts.csv").read_bytes() == first
    assert sorted(p.name for p in (out / "evidence").iterdir()) == sorted(f"{Path(n).stem}.html" for n in TWO)
    assert build(seeds, out, "--cache", cache) == 0
    assert capsys.readouterr().out.startswith("up to date")


def test_an_output_changed_after_the_build_is_rebuilt(tmp_path, capsys):
    seeds, out, cache = corpus_of(tmp_path / "seeds"), tmp_path / "out", str(tmp_path / "c")
    assert build(seeds, out, "--cache", cache) == 0
    first = (out / "facts.csv").read_bytes()
    (out / "facts.csv").write_bytes(first.replace(b"\n", b"\n,", 1))  # same name, other bytes
    capsys.readouterr()
    assert build(seeds, out, "--cache", cache) == 0
    assert not capsys.readouterr().out.startswith("up to date")
    assert (out / "facts.csv").read_bytes() == first


def test_an_exception_in_the_workbook_writer_leaves_the_previous_complete_set(tmp_path, monkeypatch, capsys):
    seeds, out, cache = corpus_of(tmp_path / "seeds"), tmp_path / "out", str(tmp_path / "c")
    assert build(seeds, out, "--cache", cache) == 0
    before = outputs(out)
    import envcompare.present.excel as excel

    def killed(*args, **kwargs):
        raise RuntimeError("killed while writing the workbook")

    monkeypatch.setattr(excel, "save_workbook", killed)
    other = corpus_of(tmp_path / "B", ["fuzhou_2022_plan.txt"])
    with pytest.raises(RuntimeError, match="killed"):
        build(other, out, "--no-cache")
    assert outputs(out) == before  # not one file of the failed build
    assert not (out / ".envcompare-staging").exists() and not (out / ".envcompare-lock").exists()
    monkeypatch.undo()
    capsys.readouterr()
    assert build(seeds, out, "--cache", cache) == 0
    assert capsys.readouterr().out.startswith("up to date")  # the previous set, with its manifest


def test_ctrl_c_stops_with_one_line_and_130(tmp_path, monkeypatch, capsys):
    seeds, out = corpus_of(tmp_path / "seeds"), tmp_path / "out"
    assert build(seeds, out, "--no-cache") == 0
    before = outputs(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    import envcompare.present.excel as excel

    monkeypatch.setattr(excel, "save_workbook", interrupted)
    capsys.readouterr()
    assert build(corpus_of(tmp_path / "B", ["fuzhou_2022_plan.txt"]), out, "--no-cache") == 130
    err = stderr_lines(capsys)
    assert len(err) == 1 and err[0].startswith("envcompare: interrupted")
    assert outputs(out) == before


def test_a_second_build_into_the_same_folder_is_refused_and_a_stale_lock_taken_over(tmp_path, capsys):
    seeds, out = corpus_of(tmp_path / "seeds"), tmp_path / "out"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket

        (out / ".envcompare-lock").write_text(f"{sleeper.pid} {socket.gethostname()}\n", encoding="utf-8")
        assert build(seeds, out, "--no-cache") == 2
        err = stderr_lines(capsys)
        assert len(err) == 1 and f"another build (pid {sleeper.pid}) is writing into {out}" in err[0]
        assert not (out / "facts.csv").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    # the holder is gone (killed): its lock is taken over
    assert build(seeds, out, "--no-cache") == 0
    assert (out / "facts.csv").is_file() and not (out / ".envcompare-lock").exists()


def test_stale_temp_files_and_pages_of_removed_reports_are_removed(tmp_path):
    seeds, out = corpus_of(tmp_path / "seeds", [*TWO, "fuzhou_2022_plan.txt"]), tmp_path / "out"
    assert build(seeds, out, "--no-cache") == 0
    assert (out / "evidence" / "fuzhou_2022_plan.html").is_file()
    (out / ".facts.csv.k3j_x9a2.csv").write_bytes(b"half a table")  # left by a kill
    (out / "evidence" / ".jinan_2023_report.html.ab12cd34.html").write_bytes(b"<html")
    (out / "mine.txt").write_text("the user's own file", encoding="utf-8")
    (seeds / "fuzhou_2022_plan.txt").unlink()
    assert build(seeds, out, "--no-cache") == 0
    assert sorted(p.name for p in (out / "evidence").iterdir()) == sorted(f"{Path(n).stem}.html" for n in TWO)
    assert not (out / ".facts.csv.k3j_x9a2.csv").exists()
    assert (out / "mine.txt").is_file()


# --- 2. a cache that is data -------------------------------------------------------------------------

class RunsCode:
    """Unpickling this creates a file: the proof that a cache entry ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_cache_file_whose_entry_would_run_code_is_never_unpickled(tmp_path):
    report = tmp_path / "in" / "jinan_2023_report.txt"
    corpus_of(report.parent, [report.name])
    marker = tmp_path / "code-ran"
    cache = tmp_path / "downloaded" / ".envcompare-cache"
    cache.mkdir(parents=True)
    payload = zlib.compress(pickle.dumps(RunsCode(marker)))
    key = batch.Cache.key(report, None, False)  # the key a run of this file looks up
    db = sqlite3.connect(cache / "results.sqlite")
    # the tables of every cache layout, and the current schema marker: a crafted file can claim anything
    db.execute("CREATE TABLE results (key TEXT PRIMARY KEY, payload BLOB)")
    db.execute("CREATE TABLE docs (key TEXT PRIMARY KEY, payload BLOB NOT NULL)")
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema', ?)", (getattr(batch, "SCHEMA", "?"),))
    for table in ("results", "docs"):
        db.execute(f"INSERT INTO {table} VALUES (?, ?)", (key, payload))
    db.commit()
    db.close()
    result = batch.run(report, jobs=1, cache_dir=cache, progress=False)
    assert not marker.exists()
    assert result.processed == 1 and result.from_cache == 0  # a miss: extracted again
    assert len(result.facts) == len(envcompare.extract(envcompare.read_report(report)))
    again = batch.run(report, jobs=1, cache_dir=cache, progress=False)  # the bad entry was overwritten
    assert again.from_cache == 1 and not marker.exists()
    pd.testing.assert_frame_equal(again.facts, result.facts)


def test_cache_entries_are_json_and_round_trip_exactly(tmp_path):
    cache = tmp_path / "cache"
    fresh = batch.run(SEEDS, jobs=1, cache_dir=cache, progress=False, analyse=True)
    kept = []
    cached = batch.run(SEEDS, jobs=1, cache_dir=cache, progress=False, analyse=True, each=lambda d: kept.append(d) or d)
    assert cached.from_cache == len(kept) == 5
    pd.testing.assert_frame_equal(fresh.facts, cached.facts)
    pd.testing.assert_frame_equal(fresh.documents, cached.documents)
    for doc in kept:
        path = SEEDS / doc.doc_row["doc"]
        direct = batch.process_file(str(path), None, False, True)
        assert doc == direct and repr(doc.facts) == repr(direct.facts)
    db = sqlite3.connect(cache / "results.sqlite")
    for (payload,) in db.execute("SELECT payload FROM docs"):
        assert zlib.decompress(payload).startswith(b"{")  # plain JSON text
    db.close()


def test_a_cache_entry_of_the_wrong_shape_is_refused_at_any_depth():
    import json

    good = batch.process_file(str(SEEDS / "jinan_2023_report.txt"), None, False, True)
    data = json.loads(zlib.decompress(batch.encode_result(good)))

    def payload(change) -> bytes:
        copy = json.loads(json.dumps(data))
        change(copy)
        return zlib.compress(json.dumps(copy).encode())

    assert batch.decode_result(payload(lambda d: None)) == good
    wrong = [
        lambda d: d.pop("evidence"),                                     # a field missing
        lambda d: d.update(extra=1),                                     # a field too many
        lambda d: d["text"].update(env_words="12"),                      # text for a count
        lambda d: d["text"]["sentences"][0].append(1),                   # a triple of four
        lambda d: d["facts"][0].update(value=[1]),                       # a list for a plain value
        lambda d: d["doc_row"].update(chars={"a": 1}),                   # a mapping for a plain value
        # the words' counts, column by column, and the columns aligned
        lambda d: d["text"]["uses"].append(1),                            # one count too many
        lambda d: d["text"]["firsts"].pop(),                              # one example too few
        lambda d: d["text"]["words"].pop(),                               # one word too few
        lambda d: d["text"]["uses"].__setitem__(0, True),                 # a flag for a count
        lambda d: d["text"]["in_sentences"].__setitem__(1, 2.0),          # a float for a count
        lambda d: d["text"]["firsts"].__setitem__(0, [3]),                # a list for a sentence number
        lambda d: d["text"]["words"].__setitem__(0, 7),                   # a number for a word
        lambda d: d["text"].update(words={"a": 1}),                       # a mapping for the words
    ]
    for change in wrong:
        with pytest.raises((TypeError, ValueError)):
            batch.decode_result(payload(change))



def test_a_result_json_would_not_give_back_exactly_is_not_encoded():
    import datetime

    import numpy as np

    def result(**row: object) -> batch.DocResult:
        return batch.DocResult({"doc": "a.txt"}, [{"indicator": "air.pm25", **row}])

    # a numpy number is written as the number
    assert batch.decode_result(batch.encode_result(result(value=np.float64(31.5), year=np.int64(2023)))).facts == [
        {"indicator": "air.pm25", "value": 31.5, "year": 2023}]
    refused = [
        result(value=float("nan")),                       # would come back as null
        result(value=float("inf")),
        result(value=np.float32("nan")),
        result(published=datetime.date(2024, 1, 5)),       # would come back as text
        result(counts={1: 2}),                             # a key that is not text
        result(value=2**70),                               # past 64 bits
        result(text="\ud800"),                             # half a surrogate pair is no UTF-8
    ]
    for bad in refused:
        with pytest.raises((TypeError, ValueError)):
            batch.encode_result(bad)
    nan_doc = batch.DocResult({"doc": "a.txt", "share": float("nan")}, [])
    with pytest.raises(ValueError):
        batch.encode_result(nan_doc)

def test_a_damaged_cache_is_set_aside_with_one_warning(tmp_path, capsys):
    seeds, cache = corpus_of(tmp_path / "seeds"), tmp_path / "cache"
    cache.mkdir()
    (cache / "results.sqlite").write_bytes(hashlib.sha256(b"x").digest() * 4096)  # garbage bytes
    assert main(["extract", str(seeds), "-o", str(tmp_path / "f.csv"), "-q", "-j", "1", "--cache", str(cache)]) == 0
    err = stderr_lines(capsys)
    assert len(err) == 1 and "set aside" in err[0] and str(cache / "results.sqlite") in err[0]
    assert len(list(cache.glob("results.sqlite.bad-*"))) == 1
    assert main(["extract", str(seeds), "-o", str(tmp_path / "f.csv"), "-q", "-j", "1", "--cache", str(cache)]) == 0
    assert "2 from the cache" in capsys.readouterr().out


def test_a_cache_held_by_another_process_costs_a_warning_not_the_run(tmp_path, monkeypatch, capsys):
    seeds, cache = corpus_of(tmp_path / "seeds"), tmp_path / "cache"
    assert batch.run(seeds, jobs=1, cache_dir=cache, progress=False).processed == 2
    report = seeds / TWO[0]
    report.write_text(report.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # one to write back
    monkeypatch.setattr(batch, "BUSY_TIMEOUT", 0.5, raising=False)
    holder = sqlite3.connect(cache / "results.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
    try:
        capsys.readouterr()
        code = main(["extract", str(seeds), "-o", str(tmp_path / "f.csv"), "-q", "-j", "1", "--cache", str(cache)])
        said = capsys.readouterr()
        assert code == 0 and "Traceback" not in said.err
        assert "1 from the cache" in said.out  # reading works while another process writes
        assert len(said.err.splitlines()) == 1 and "busy" in said.err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    facts = pd.read_csv(tmp_path / "f.csv", encoding="utf-8-sig")
    assert len(facts) == len(batch.run(seeds, jobs=1, progress=False).facts)


def test_a_cache_deleted_during_the_build(tmp_path, monkeypatch, capsys):
    seeds, out, cache = corpus_of(tmp_path / "seeds"), tmp_path / "out", tmp_path / "cache"
    process = batch.process_file

    def then_delete(*args, **kwargs):
        shutil.rmtree(cache, ignore_errors=True)  # someone cleans up meanwhile
        return process(*args, **kwargs)

    monkeypatch.setattr(batch, "process_file", then_delete)
    assert build(seeds, out, "--cache", str(cache)) == 0
    assert all(line.startswith("envcompare: warning") for line in stderr_lines(capsys))
    expected = sum(catalog_facts(seeds / n) for n in TWO)
    assert len(pd.read_csv(out / "facts.csv", encoding="utf-8-sig")) == expected
    monkeypatch.undo()
    assert build(seeds, tmp_path / "out2", "--cache", str(cache)) == 0


def test_no_cache_never_opens_the_cache(tmp_path):
    seeds, cache = corpus_of(tmp_path / "seeds"), tmp_path / "cache"
    cache.mkdir()
    (cache / "results.sqlite").write_bytes(b"garbage" * 100)
    assert main(["extract", str(seeds), "-o", str(tmp_path / "f.csv"), "-q", "-j", "1", "--no-cache",
                 "--cache", str(cache)]) == 0
    assert (cache / "results.sqlite").read_bytes() == b"garbage" * 100 and len(list(cache.iterdir())) == 1


# --- 3. the corpus is what the user named -------------------------------------------------------------

def test_symlinks_out_of_the_corpus_are_skipped_with_a_line(tmp_path, capsys):
    folder = corpus_of(tmp_path / "in", [TWO[0]])
    outside = corpus_of(tmp_path / "elsewhere", ["fuzhou_2022_plan.txt"])
    os.symlink(outside / "fuzhou_2022_plan.txt", folder / "x.txt")  # a file outside
    os.symlink(outside, folder / "annex")  # a folder outside
    (folder / "sub").mkdir()
    os.symlink(folder / TWO[0], folder / "sub" / "same.txt")  # inside: fine
    out = tmp_path / "out"
    assert build(folder, out, "--no-cache") == 0
    err = stderr_lines(capsys)
    skipped = sorted(line for line in err if line.startswith("skipped"))
    assert len(skipped) == 2 and all("outside the given folders: not followed" in line for line in skipped)
    assert {line.split(":")[0] for line in skipped} == {f"skipped {folder / 'x.txt'}", f"skipped {folder / 'annex'}"}
    docs = pd.read_csv(out / "documents.csv", encoding="utf-8-sig").set_index("doc")
    assert docs["facts"].dropna().to_dict() == {TWO[0]: catalog_facts(SEEDS / TWO[0]),
                                                "sub/same.txt": catalog_facts(SEEDS / TWO[0])}
    facts = pd.read_csv(out / "facts.csv", encoding="utf-8-sig")
    assert set(facts["doc"]) == {TWO[0], "sub/same.txt"}


def test_same_named_files_keep_their_pages_and_true_counts(tmp_path):
    folder = tmp_path / "in"
    corpus_of(folder / "a", [TWO[0]])
    corpus_of(folder / "b", [TWO[1]])
    (folder / "a" / TWO[0]).rename(folder / "a" / "dup.txt")
    (folder / "b" / TWO[1]).rename(folder / "b" / "dup.txt")
    text = (SEEDS / "fuzhou_2022_plan.txt").read_text(encoding="utf-8")
    (folder / "dup.txt").write_text(text, encoding="utf-8")
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in (SEEDS / TWO[0]).read_text(encoding="utf-8").splitlines()) + "</body></html>"
    (folder / "dup.html").write_text(html, encoding="utf-8")
    out = tmp_path / "out"
    assert build(folder, out, "--no-cache") == 0
    docs = pd.read_csv(out / "documents.csv", encoding="utf-8-sig").set_index("doc")["facts"].to_dict()
    expected = {name: catalog_facts(folder / name) for name in ("a/dup.txt", "b/dup.txt", "dup.txt", "dup.html")}
    assert docs == expected and len(set(expected.values())) > 1
    pages = sorted(p.relative_to(out / "evidence").as_posix() for p in (out / "evidence").rglob("*.html"))
    assert pages == ["a/dup.html", "b/dup.html", "dup.html.html", "dup.txt.html"]
    facts = pd.read_csv(out / "facts.csv", encoding="utf-8-sig")
    assert facts.groupby("doc").size().to_dict() == expected


# --- 4. bounded work per document ---------------------------------------------------------------------

def test_a_document_over_its_time_budget_fails_and_the_batch_goes_on(tmp_path, monkeypatch):
    import time

    folder = corpus_of(tmp_path / "in")
    process = batch.process_file

    def slow_for_one(path, *args, **kwargs):
        if path.endswith(TWO[1]):
            time.sleep(30)  # a scraped annex table that would stall the batch
        return process(path, *args, **kwargs)

    monkeypatch.setattr(batch, "process_file", slow_for_one)
    result = batch.run(folder, jobs=1, progress=False, doc_timeout=0.5)
    docs = result.documents.set_index("doc")
    assert docs.loc[TWO[1], "error"].startswith("took longer than 0.5 s")
    assert pd.isna(docs.loc[TWO[0], "error"]) and len(result.facts) > 0


# --- 5. jobs, Dask, options ---------------------------------------------------------------------------

def test_jobs_are_capped_at_the_cores_with_a_note(tmp_path, capsys):
    seeds = corpus_of(tmp_path / "seeds", [TWO[0]])
    code = main(["extract", str(seeds), "-o", str(tmp_path / "f.csv"), "-q", "-j", "300", "--no-cache"])
    assert code == 0
    err = stderr_lines(capsys)
    assert err == [f"note: --jobs 300 capped at {batch.available_cores()}, the cores available"]


def test_scheduler_without_dask_is_a_usage_error(tmp_path, capsys):
    code = main(["extract", str(SEEDS), "-o", str(tmp_path / "f.csv"), "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    assert stderr_lines(capsys) == ["envcompare: --scheduler needs --engine dask (it names a Dask scheduler)"]


def test_unreachable_dask_scheduler_is_one_line(tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    monkeypatch.setattr(batch, "DASK_TIMEOUT", 2, raising=False)
    code = main(["extract", str(SEEDS / TWO[0]), "-o", str(tmp_path / "f.csv"), "-q", "--no-cache",
                 "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    err = stderr_lines(capsys)
    assert code == 2 and len(err) == 1 and err[0].startswith("envcompare: cannot reach the Dask scheduler at tcp://127.0.0.1:9")


def test_dask_scheduler_without_workers_is_one_line(tmp_path, monkeypatch, capsys):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    monkeypatch.setattr(batch, "DASK_TIMEOUT", 2, raising=False)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        code = main(["extract", str(SEEDS / TWO[0]), "-o", str(tmp_path / "f.csv"), "-q", "--no-cache",
                     "--engine", "dask", "--scheduler", cluster.scheduler_address])
    err = [line for line in stderr_lines(capsys) if line.startswith("envcompare")]
    assert code == 2 and len(err) == 1 and "has no workers" in err[0]


def test_a_table_past_the_row_limit_is_split_over_numbered_sheets(tmp_path, monkeypatch):
    import openpyxl

    import envcompare.present.excel as excel

    facts = batch.run(SEEDS, jobs=1, progress=False).facts
    facts = facts[facts["indicator"].notna()].reset_index(drop=True)
    monkeypatch.setattr(excel, "MAX_ROWS", 31)  # 30 rows and the header a sheet
    path = envcompare.to_excel(facts, tmp_path / "w.xlsx")
    wb = openpyxl.load_workbook(path)
    parts = [name for name in wb.sheetnames if name == "Facts" or name.startswith("Facts ")]
    assert len(parts) == -(-len(facts) // 30) > 1
    rows = [row for name in parts for row in wb[name].iter_rows(min_row=2, values_only=True)]
    assert len(rows) == len(facts) and all(wb[name]["A1"].value == "city" for name in parts)
    assert [r[list(facts.columns).index("evidence")] for r in rows] == list(facts["evidence"])
    about = [c.value for c in wb["About"]["A"] if isinstance(c.value, str)]
    assert any(v.startswith("Note: Facts:") for v in about)
