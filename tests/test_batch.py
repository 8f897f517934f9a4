"""Batch runs: identical results for 1 or 2 workers and for Dask; the cache re-extracts only what changed."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pandas as pd
import pytest

import envcompare
from envcompare.pipeline.batch import process_file, run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def serial(seeds_dir):
    return run(seeds_dir, jobs=1)


def test_batch_equals_the_library_call(serial, corpus):
    direct = envcompare.extraction.extract(corpus)  # run() is the extraction; the review stage follows it
    pd.testing.assert_frame_equal(serial.facts, direct)
    reviewed = envcompare.extract(corpus)
    public = list(envcompare.extraction.FACT_COLUMNS)  # the extraction's internal columns are the review's
    pd.testing.assert_frame_equal(serial.facts[public], reviewed[public])
    assert "kind_basis" in serial.facts and "kind_basis" not in reviewed
    assert list(serial.documents["facts"]) == [13, 17, 3, 0, 34]


def test_two_processes_give_identical_results(serial, seeds_dir):
    parallel = run(seeds_dir, jobs=2)
    pd.testing.assert_frame_equal(serial.facts, parallel.facts)
    pd.testing.assert_frame_equal(serial.documents, parallel.documents)


def test_dask_local_cluster_gives_identical_results(serial, seeds_dir):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = run(seeds_dir, jobs=2, engine="dask", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(serial.facts, on_dask.facts)
    local = run(seeds_dir, jobs=2, engine="dask")
    pd.testing.assert_frame_equal(serial.facts, local.facts)


def test_cache_reuses_unchanged_documents_and_redoes_a_changed_one(tmp_path, seeds_dir, serial):
    corpus_dir = tmp_path / "reports"
    shutil.copytree(seeds_dir, corpus_dir)
    cache = tmp_path / "cache"
    first = run(corpus_dir, jobs=1, cache_dir=cache)
    assert (first.from_cache, first.processed) == (0, 5)
    second = run(corpus_dir, jobs=1, cache_dir=cache)
    assert (second.from_cache, second.processed) == (5, 0)
    pd.testing.assert_frame_equal(first.facts, second.facts)
    report = corpus_dir / "jinan_2023_report.txt"
    report.write_text(report.read_text(encoding="utf-8").replace("6天", "7天"), encoding="utf-8")
    third = run(corpus_dir, jobs=1, cache_dir=cache)
    assert (third.from_cache, third.processed) == (4, 1)
    heavy = third.facts[(third.facts["doc"] == "jinan_2023_report.txt") & (third.facts["indicator"] == "air.heavy_pollution_days")]
    assert list(heavy["value"]) == [7.0]


def test_facts_held_in_small_column_chunks_come_out_in_document_order(seeds_dir, serial, monkeypatch):
    from envcompare.pipeline import batch

    monkeypatch.setattr(batch._Tables, "CHUNK", 4)  # many chunks, each a typed frame
    chunked = run(seeds_dir, jobs=2)
    pd.testing.assert_frame_equal(serial.facts, chunked.facts)
    # the seeds' fact counts in file order (wuhan_2019_article has none), as in the test above
    counts = chunked.facts.groupby("doc", sort=False).size()
    assert list(counts) == [13, 17, 3, 34]


def test_compact_table_holds_text_as_categories_with_the_same_values(seeds_dir, serial, monkeypatch):
    from envcompare.pipeline import batch

    monkeypatch.setattr(batch._Tables, "CHUNK", 4)  # categories numbered across many chunks
    compact = run(seeds_dir, jobs=1, compact=True).facts
    text_columns = [name for name, dtype in serial.facts.dtypes.items() if dtype == "string"]
    assert text_columns and all(isinstance(compact[name].dtype, pd.CategoricalDtype) for name in text_columns)
    for name in text_columns:  # each category once, sorted as astype("category") sorts them
        categories = list(compact[name].cat.categories)
        assert categories == sorted(set(categories))
    # the seeds' cities in file order (fuzhou, jinan, qianjiang, wuhan)
    assert list(compact["city"].drop_duplicates().dropna()) == ["福州", "济南", "潜江", "武汉"]
    as_text = compact.astype({name: "string" for name in text_columns})
    pd.testing.assert_frame_equal(serial.facts, as_text)


def test_workers_stop_before_the_tables_are_joined(seeds_dir, serial, monkeypatch):
    """Joining the facts table briefly needs memory of its own: the worker pool is gone by then."""
    import multiprocessing

    from envcompare.pipeline import batch

    alive_at_join = []
    join = batch._Tables.facts

    def facts(tables):
        alive_at_join.append(len(multiprocessing.active_children()))
        return join(tables)

    monkeypatch.setattr(batch._Tables, "facts", facts)
    result = run(seeds_dir, jobs=2)
    assert alive_at_join == [0]
    pd.testing.assert_frame_equal(serial.facts, result.facts)


def test_facts_joined_column_by_column_equal_one_chunk(seeds_dir, serial, monkeypatch):
    from envcompare.pipeline import batch

    monkeypatch.setattr(batch._Tables, "CHUNK", 3)  # many chunks of every column
    chunked = run(seeds_dir, jobs=1).facts
    pd.testing.assert_frame_equal(serial.facts, chunked)


def test_cached_and_extracted_documents_interleave_in_file_order(tmp_path, seeds_dir, serial):
    corpus_dir = tmp_path / "reports"
    shutil.copytree(seeds_dir, corpus_dir)
    cache = tmp_path / "cache"
    run(corpus_dir, jobs=1, cache_dir=cache)
    for name in ("jinan_2023_report.txt", "wuhan_2019_article.txt"):  # 2nd and 4th: the others come from the cache
        path = corpus_dir / name
        path.write_bytes(path.read_bytes() + b"\n")
    again = run(corpus_dir, jobs=2, cache_dir=cache)
    assert (again.from_cache, again.processed) == (3, 2)
    pd.testing.assert_frame_equal(serial.facts, again.facts)


def test_failed_files_are_reported_not_cached(tmp_path, seeds_dir):
    shutil.copy(seeds_dir / "jinan_2023_report.txt", tmp_path / "ok.txt")
    (tmp_path / "bad.txt").write_bytes(b"")
    result = run(tmp_path, jobs=2, cache_dir=tmp_path / ".cache")
    assert [Path(e.path).name for e in result.errors] == ["bad.txt"]
    assert result.documents.set_index("doc").loc["bad.txt", "error"] == "empty file"
    again = run(tmp_path, jobs=1, cache_dir=tmp_path / ".cache")
    assert (again.from_cache, again.processed) == (1, 1)


def test_generated_corpus_same_with_1_2_workers_and_dask(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    paths = generate(tmp_path / "gen", 24, seed=3)
    assert len({p.suffix for p in paths}) == 2  # .txt and .html, in several encodings
    one = run(tmp_path / "gen", jobs=1)
    two = run(tmp_path / "gen", jobs=2)
    dask = run(tmp_path / "gen", jobs=2, engine="dask")
    assert len(one.facts) > 100 and not one.errors
    pd.testing.assert_frame_equal(one.facts, two.facts)
    pd.testing.assert_frame_equal(one.facts, dask.facts)
    pd.testing.assert_frame_equal(one.documents, dask.documents)
    # the generator is deterministic for a seed
    again = generate(tmp_path / "gen2", 24, seed=3)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]


def test_analysed_batch_gives_the_text_tables_and_pages_of_the_library_calls(corpus, seeds_dir, tmp_path):
    """What build takes from the workers (and the cache) is what the notebooks compute directly."""
    from envcompare.policytext import text
    from envcompare.present.evidence import show_evidence

    stats, pages = text.TextStats(), {}

    def each(doc):
        stats.add(doc.text)
        pages[doc.doc_row["doc"]] = doc.evidence
        return doc

    for cache in (tmp_path / "cache", tmp_path / "cache"):  # computed, then read back from the cache
        stats, pages = text.TextStats(), {}
        result = run(seeds_dir, jobs=2, analyse=True, each=each, cache_dir=cache)
        pd.testing.assert_frame_equal(stats.theme_shares(), text.theme_shares(corpus))
        pd.testing.assert_frame_equal(stats.attention(), text.attention(corpus))
        pd.testing.assert_frame_equal(stats.keywords(top=20), text.keywords(corpus, top=20))
        pd.testing.assert_frame_equal(stats.plan_vs_summary(), text.plan_vs_summary(corpus))
        facts = result.facts[result.facts["indicator"].notna()]
        assert pages == {r.doc: show_evidence(r, facts).html for r in corpus}
    assert result.from_cache == 5


def test_text_counts_do_not_depend_on_the_order_documents_arrive(corpus):
    from envcompare.policytext import text

    docs = [text.analyse(r) for r in corpus]
    forward, backward = text.TextStats(), text.TextStats()
    for d in docs:
        forward.add(d)
    for d in reversed(docs):
        backward.add(d)
    for table in ("theme_shares", "attention", "plan_vs_summary"):
        pd.testing.assert_frame_equal(getattr(forward, table)(), getattr(backward, table)())
    pd.testing.assert_frame_equal(forward.keywords(top=30), backward.keywords(top=30))


def test_cache_key_covers_every_module_of_every_stage_and_every_data_file(tmp_path):
    # code_version hashes envcompare/**/*.py and data/** (but data/gold/): a change in a module of
    # any sub-package, in a data file or in a data sub-folder invalidates the cache (a copy of the
    # package and data is changed, not the checkout). The copy lies under a folder named `gold`:
    # only gold/ inside data/ is left out, never a checkout that happens to lie below one.
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    where = tmp_path / "gold" / "checkout"
    shutil.copytree(root / "envcompare", where / "envcompare", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(root / "data", where / "data")
    env = {**os.environ, "PYTHONPATH": str(where), "ENVCOMPARE_DATA": str(where / "data")}

    def version() -> str:
        code = "import envcompare.pipeline.batch as b; print(b.__file__, b.code_version())"
        run_ = subprocess.run([sys.executable, "-c", code], env=env, cwd=where, capture_output=True, text=True, check=True)
        return run_.stdout

    def append(path: Path, text: str = "\n") -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)

    seen = [version()]
    assert seen[0].startswith(str(where / "envcompare"))  # the copy is the package that runs
    assert version() == seen[0]
    text_files = sorted(p for p in (where / "data" / "text").iterdir() if p.is_file())
    for changed in (where / "envcompare" / "extraction" / "reader.py", where / "envcompare" / "comparison" / "analysis.py",
                    where / "data" / "comparability.yaml", where / "data" / "indicators.csv", text_files[0]):
        append(changed, "\n# changed\n" if changed.suffix in (".py", ".yaml") else "\n")
        seen.append(version())
        assert seen[-1] != seen[-2], f"changing {changed.relative_to(where)} left the cache key as it was"
    append(where / "data" / "gold" / "labels.csv")  # the gold labels extract nothing
    assert version() == seen[-1]


def test_metadata_csv_beside_the_reports_is_used_by_batch_runs_as_by_load_reports(tmp_path, seeds_dir):
    """build and extract go through batch.run: a metadata.csv beside the files must win there too."""
    from envcompare import load_reports

    folder = tmp_path / "reports"
    folder.mkdir()
    for name in ("jinan_2023_report.txt", "fuzhou_2022_plan.txt"):
        shutil.copy(seeds_dir / name, folder / name)
    (folder / "metadata.csv").write_text("file,city,published,years\njinan_2023_report.txt,成都,2023-05-31,2022;2023\n",
                                         encoding="utf-8")
    cols = ["doc", "city", "province", "published", "report_year", "years"]
    ran = run(folder, jobs=1, cache_dir=tmp_path / "cache", progress=False).documents[cols].set_index("doc")
    assert ran.loc["jinan_2023_report.txt"].tolist() == ["成都", "四川省", "2023-05-31", 2022, "2022;2023"]
    assert ran.loc["fuzhou_2022_plan.txt", "city"] == "福州"  # not in metadata.csv: inferred
    pd.testing.assert_frame_equal(ran, load_reports(folder).documents()[cols].set_index("doc"))
    (folder / "metadata.csv").write_text("file,city\njinan_2023_report.txt,南京\n", encoding="utf-8")
    again = run(folder, jobs=1, cache_dir=tmp_path / "cache", progress=False)  # a changed metadata.csv is not a cache hit
    assert again.documents.set_index("doc").loc["jinan_2023_report.txt", "city"] == "南京"


def test_processing_a_report_leaves_no_reference_cycle(tmp_path, seeds_dir):
    """A batch pauses the garbage collector while results arrive, and its workers inherit the
    pause: a reference cycle made while a report is processed would be kept until the batch
    ends, for every report (once 100 kB a report: a kept decoding error held its frames).
    Text in GB18030 and Big5 goes through failed decodings first."""
    text = "2023年全市空气质量优良天数比例为85.2%，细颗粒物平均浓度为32微克/立方米，同比下降5.9%。\n"
    for encoding in ("gb18030", "big5"):
        (tmp_path / f"{encoding}.txt").write_bytes(("某市环境质量公报\n" + text).encode(encoding, errors="replace"))
    files = [*sorted(seeds_dir.iterdir()), tmp_path / "gb18030.txt", tmp_path / "big5.txt"]
    for f in files:  # first use: data files and lazy caches load, once
        process_file(str(f), analyse=True)
    gc.collect()
    gc.disable()
    try:
        for f in files:
            process_file(str(f), analyse=True)
        assert gc.collect() == 0
    finally:
        gc.enable()
