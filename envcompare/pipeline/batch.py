"""Running the pipeline over many files: in parallel, streaming, with a cache.

The per-document work is one pure function, `process_file(path, metadata, unmapped)`: file in,
documents row and fact rows out. It maps over any engine: a plain loop, local worker
processes (`jobs`), or Dask (`engine="dask"`, local processes or an existing cluster).
Files are read inside the workers and only the small result rows travel back, so memory is
bounded by the output, not the input.

A content-addressed cache (SQLite under `cache_dir`) keys each document by its bytes, the given
metadata, the `unmapped` flag and the versions of the library and data files: re-running after
changing one file re-extracts that file only; changing anything under data/ or the engine's
code invalidates everything it could affect.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import ReportError
from ..extraction.tidy import FACT_COLUMNS, UNMAPPED_COLUMNS, fact_rows
from ..ingest.load import DOC_COLUMNS, LoadError, doc_row, file_metadata, list_files, read_bytes, read_report
from ..memory import frozen_for_fork, gc_paused
from ..version import __version__
from ..vocab.resources import data_dir

if TYPE_CHECKING:
    from ..policytext.text import DocText

ENGINES = ("processes", "dask")


@dataclass(frozen=True)
class DocResult:
    """What one file produced: its documents row and its fact rows (or the reason it failed);
    with `analyse`, also its text counts (text.DocText) and its evidence page (HTML)."""

    doc_row: dict[str, object]
    facts: list[dict[str, object]]
    error: LoadError | None = None
    text: DocText | None = None
    evidence: str | None = None


@dataclass
class BatchResult:
    facts: pd.DataFrame
    documents: pd.DataFrame
    errors: list[LoadError] = field(default_factory=list)
    from_cache: int = 0
    processed: int = 0
    inputs: str | None = None  # digest of every file's cache key (None without a cache)

    @property
    def loaded(self) -> int:
        """Documents read without an error."""
        return int(self.documents["error"].isna().sum())


def process_file(
    path: str, metadata: dict[str, object] | None = None, unmapped: bool = False, analyse: bool = False
) -> DocResult:
    """Load and extract one file. Pure: the same file and arguments give the same result.

    `analyse`: also segment the text (themes, attention, keywords) and draw the evidence page,
    the rest of what `build` needs of each document, so that it happens in the workers and is
    cached with the facts.
    """
    from ..extraction.reader import extract_facts

    try:
        report = read_report(path, metadata)
    except ReportError as exc:
        err = LoadError(exc.path, exc.reason)
        return DocResult({"doc": Path(path).name, "error": exc.reason}, [], err)
    rows = fact_rows(report, extract_facts(report, unmapped=unmapped))
    if not unmapped:
        rows = [{k: v for k, v in r.items() if k != "label"} for r in rows]
    row = doc_row(report)
    row["facts"] = len(rows)
    if not analyse:
        return DocResult(row, rows)
    from ..policytext.text import analyse as analyse_text
    from ..present.evidence import evidence_page

    page = evidence_page(report, [r for r in rows if r["indicator"] is not None])
    return DocResult(row, rows, text=analyse_text(report), evidence=page.html)


def _process(args: tuple[str, dict | None, bool, bool]) -> DocResult:
    return process_file(*args)


@lru_cache(maxsize=1)
def code_version() -> str:
    """Library version + the bytes of every module of the package (all stages) and of every data
    file (recursively; the gold annotations excepted), in sorted order of their relative paths."""
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    for folder, pattern in ((package, "**/*.py"), (data_dir(), "**/*")):
        found = {p.relative_to(folder).as_posix(): p for p in folder.glob(pattern)}
        for name, p in sorted(found.items()):
            if p.is_file() and "gold" not in p.parts and "__pycache__" not in p.parts:
                h.update(name.encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:20]


class CacheError(Exception):
    """The cache folder cannot be used (one line for the user; --no-cache runs without it)."""


def _why(exc: Exception, folder: Path) -> str:
    """A sentence for an OSError or a SQLite error, without '[Errno N]'."""
    name = getattr(exc, "filename", None)
    what = "it" if name is None or Path(name) == folder else str(name)
    if isinstance(exc, FileExistsError):
        return f"{what} is a file, not a folder"
    if isinstance(exc, NotADirectoryError):
        return f"a folder above {what} is a file"
    if isinstance(exc, OSError):
        return (exc.strerror or type(exc).__name__).lower() + ("" if what == "it" else f": {what}")
    return str(exc)  # sqlite3: "unable to open database file", "file is not a database" ...


class Cache:
    """Per-document results in one SQLite file; safe to delete or move at any time."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.folder / "results.sqlite")
            self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, payload BLOB)")
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"cannot use the cache folder {self.folder}: {_why(exc, self.folder)}") from exc

    @staticmethod
    def key(path: Path, metadata: dict | None, unmapped: bool, analyse: bool = False) -> str | None:
        """None when the file cannot be read safely (pipes, devices, too large): no caching,
        and the worker reports the reason."""
        try:
            data = read_bytes(path)
        except ReportError:
            return None
        h = hashlib.sha256(data)
        h.update(json.dumps(metadata or {}, sort_keys=True, ensure_ascii=False, default=str).encode())
        h.update(f"{unmapped}|{analyse}|{path.name}|{code_version()}".encode())
        return h.hexdigest()

    def get(self, key: str) -> DocResult | None:
        row = self.db.execute("SELECT payload FROM results WHERE key = ?", (key,)).fetchone()
        return pickle.loads(zlib.decompress(row[0])) if row else None

    def put(self, key: str, result: DocResult) -> None:
        if result.error is None:  # failures are retried: the file may be fixed or reappear
            payload = zlib.compress(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL), 1)  # level 1: 2x faster, 10% larger
            self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, payload))

    def close(self) -> None:
        self.db.commit()
        self.db.close()


def _map(tasks: list[tuple[str, dict | None, bool, bool]], jobs: int, engine: str, scheduler: str | None) -> Iterator[DocResult]:
    if engine == "dask":
        yield from _map_dask(tasks, jobs, scheduler)
    elif jobs <= 1 or len(tasks) <= 1:
        yield from map(_process, tasks)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with frozen_for_fork(), ctx.Pool(jobs) as pool:
            yield from pool.imap(_process, tasks, chunksize=max(1, min(32, len(tasks) // (jobs * 8) or 1)))


def _map_dask(tasks: list[tuple[str, dict | None, bool, bool]], jobs: int, scheduler: str | None) -> Iterator[DocResult]:
    import dask.bag as db

    bag = db.from_sequence(tasks, npartitions=max(1, min(len(tasks), jobs * 4))).map(_process)
    if scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            yield from client.compute(bag).result()
    else:
        yield from bag.compute(scheduler="processes", num_workers=jobs)


def run(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    metadata: pd.DataFrame | dict[str, dict[str, object]] | None = None,
    unmapped: bool = False,
    jobs: int | None = None,
    engine: str = "processes",
    scheduler: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: Callable[[int], None] | bool | None = None,
    analyse: bool = False,
    each: Callable[[DocResult], DocResult] | None = None,
) -> BatchResult:
    """Extract every file under `paths`: the facts table and the documents table, in file order.

    `metadata` ({file name or path: {field: value}}, or a DataFrame with a `file` column) and a
    `metadata.csv` beside the files override inferred metadata field by field, as in `load_reports`
    (one rule: `ingest.load.file_metadata`).

    `analyse`: see `process_file`. `each` is called with every document's result as it arrives
    (from the cache or a worker) and returns what to keep: a build writes the evidence page and
    adds the text counts to its totals there, so neither piles up in memory.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    with gc_paused():  # results are acyclic rows; the collector would walk them again and again
        return _run(paths, metadata, unmapped, jobs, engine, scheduler, cache_dir, progress, analyse, each)


def _run(paths, metadata, unmapped, jobs, engine, scheduler, cache_dir, progress, analyse, each) -> BatchResult:
    files, errors = list_files(paths)
    jobs = max(1, jobs or os.cpu_count() or 1)
    metas = file_metadata(files, metadata)  # metadata.csv beside the files, then the caller's
    cache = Cache(cache_dir) if cache_dir else None
    results: list[DocResult | None] = [None] * len(files)
    keys = _keys(files, metas, unmapped, analyse) if cache is not None else [None] * len(files)
    todo: list[int] = []
    for i, key in enumerate(keys):
        hit = cache.get(key) if cache is not None and key is not None else None
        if hit is None:
            todo.append(i)
        else:
            results[i] = each(hit) if each else hit
    from_cache = len(files) - len(todo)
    bar = _progress_bar(len(files), progress, from_cache)
    tasks = [(str(files[i]), metas[i] or None, unmapped, analyse) for i in todo]
    if analyse and todo and engine == "processes":
        from ..policytext.text import prepare

        prepare()  # jieba's dictionary loads once here, and forked workers inherit it
    for i, result in zip(todo, _map(tasks, jobs, engine, scheduler)):
        if cache is not None and keys[i] is not None:
            cache.put(keys[i], result)
        results[i] = each(result) if each else result
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    if cache is not None:
        cache.close()
    fact_rows_: list[dict] = []
    doc_rows: list[dict] = []
    for r in results:
        assert r is not None
        fact_rows_.extend(r.facts)
        doc_rows.append(r.doc_row)
        if r.error:
            errors.append(r.error)
    columns = UNMAPPED_COLUMNS if unmapped else FACT_COLUMNS
    facts = pd.DataFrame(fact_rows_, columns=list(columns)).astype(columns)
    failed = {d["doc"] for d in doc_rows if d.get("error")}
    for e in errors:  # files that never reached a worker (unlistable folders)
        if Path(e.path).name not in failed:
            failed.add(Path(e.path).name)
            doc_rows.append({"doc": Path(e.path).name, "error": e.reason})
    doc_columns = {**DOC_COLUMNS, "facts": "Int64"}
    documents = pd.DataFrame(doc_rows, columns=list(doc_columns)).astype(doc_columns)
    documents = documents.sort_values("doc", kind="stable").reset_index(drop=True)
    digest = _digest(files, keys) if cache is not None else None
    return BatchResult(facts, documents, errors, from_cache, len(todo), digest)


def _keys(files: list[Path], metas: list[dict[str, object]], unmapped: bool, analyse: bool) -> list[str | None]:
    return [Cache.key(f, meta or None, unmapped, analyse) for f, meta in zip(files, metas)]


def _digest(files: list[Path], keys: list[str | None]) -> str | None:
    if any(k is None for k in keys):
        return None
    h = hashlib.sha256()
    for f, k in zip(files, keys):
        h.update(f"{f}\0{k}\n".encode())
    return h.hexdigest()


def inputs_digest(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    metadata: dict[str, dict[str, object]] | None = None,
    unmapped: bool = False,
    analyse: bool = False,
) -> str | None:
    """The `BatchResult.inputs` that `run` would return with a cache, without running anything:
    a build compares it with the one its outputs were made from. None when a file is unreadable."""
    files, errors = list_files(paths)
    if errors:
        return None
    return _digest(files, _keys(files, file_metadata(files, metadata), unmapped, analyse))


def _progress_bar(total: int, progress, done: int):
    """A tqdm bar on a terminal for long runs; nothing when quiet or piped."""
    if progress is False or (progress is None and not sys.stderr.isatty()) or total < 20:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="doc", file=sys.stderr, leave=False)
