"""Running the pipeline over many files: in parallel, streaming, with a cache.

The per-document work is one pure function, `process_file(path, metadata, unmapped)`: file in,
documents row and fact rows out. It maps over any engine: a plain loop, local worker
processes (`jobs`), or Dask (`engine="dask"`, local processes or an existing cluster).
Files are read inside the workers and only the small result rows travel back, so memory is
bounded by the output, not the input.

A content-addressed cache (SQLite under `cache_dir`) keys each document by its bytes, its name,
the given metadata, the `unmapped` flag and the versions of the library and data files:
re-running after changing one file re-extracts that file only; changing anything under data/ or
the engine's code invalidates everything it could affect. The cache holds data, never code: each
entry is zlib-compressed JSON, parsed back into the result's own types and checked field by field
(an entry that does not fit is a miss). A cache database that is damaged or not ours is set
aside and started afresh; one that is busy or fails mid-run costs a warning line, never the run.

Each document has a time budget (`doc_timeout` seconds, in the worker): a document that takes
longer is recorded as failed, with the reason, and the batch goes on.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import gc
import hashlib
import json
import os
import signal
import sqlite3
import sys
import threading
import time
import types
import typing
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import orjson
import pandas as pd

from ..errors import CacheBusy, CacheError, ReportError, RunError
from ..extraction.tidy import EXTRACTED_COLUMNS, EXTRACTED_UNMAPPED_COLUMNS, fact_rows
from ..ingest.load import (
    DOC_COLUMNS,
    LoadError,
    doc_names,
    doc_row,
    file_metadata,
    list_files,
    read_bytes,
    read_report,
)
from ..memory import frozen_for_fork, gc_paused
from ..version import __version__
from ..vocab.resources import data_dir
from .limits import DOC_TIMEOUT, ENGINES, available_cores

SENTENCE = "sentence"  # the facts column held as categories (_Tables)

if TYPE_CHECKING:
    from ..policytext.text import DocText

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
    path: str, metadata: dict[str, object] | None = None, unmapped: bool = False, analyse: bool = False,
    doc: str | None = None,
) -> DocResult:
    """Load and extract one file. Pure: the same file and arguments give the same result.

    `doc`: the document's name in the tables (default: the file name).

    `analyse`: also segment the text (themes, attention, keywords) and draw the evidence page,
    the rest of what `build` needs of each document, so that it happens in the workers and is
    cached with the facts.
    """
    from ..extraction.reader import extract_facts

    doc = doc or Path(path).name
    try:
        report = read_report(path, metadata, doc)
    except ReportError as exc:
        err = LoadError(exc.path, exc.reason, doc)
        return DocResult({"doc": doc, "error": exc.reason}, [], err)
    rows = fact_rows(report, extract_facts(report, unmapped=unmapped))
    if not unmapped:
        rows = [{k: v for k, v in r.items() if k != "label"} for r in rows]
    row = doc_row(report)
    row["facts"] = len(rows)
    if not analyse:
        return DocResult(row, rows)
    from ..policytext.text import analyse as analyse_text
    from ..present.evidence import evidence_page
    from ..review.corrections import add_occurrences
    from ..review.flags import flag_rows

    # review: each figure's corrections.csv key and own flags, on its page (conflicts come later)
    catalog = add_occurrences([r for r in rows if r["indicator"] is not None], report.raw_text)
    page = evidence_page(report, flag_rows(catalog, row))
    return DocResult(row, rows, text=analyse_text(report), evidence=page.html)


class Task(NamedTuple):
    """One document for a worker: its file, its name in the tables, the metadata given for it, and
    the run's options (seconds it may take: None for no limit; `cached`: the run keeps a cache,
    so the worker also encodes the result's cache entry)."""

    path: str
    doc: str
    metadata: dict | None
    unmapped: bool
    analyse: bool
    timeout: float | None
    cached: bool = False


class Processed(NamedTuple):
    """A worker's answer: the document's result and, when the run keeps a cache, its cache entry,
    encoded in the worker so that the parent only stores the bytes (None: not to be cached)."""

    result: DocResult
    payload: bytes | None = None


class DocTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise DocTimeout


def _process(task: Task) -> Processed:
    """One task in a worker: its result, and its cache entry when the run caches (failures are
    not cached: the file may be fixed)."""
    result = _within_budget(task)
    if not task.cached or result.error is not None:
        return Processed(result)
    try:
        return Processed(result, encode_result(result))
    except (TypeError, ValueError):
        return Processed(result)  # a value JSON cannot hold exactly: not cached


def _within_budget(task: Task) -> DocResult:
    """One task within its time budget (a timer signal: main threads only, i.e. the local worker
    processes and the plain loop; a Dask cluster's worker threads run unbounded)."""
    path, doc, metadata, unmapped, analyse, timeout, _ = task
    if not timeout or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return process_file(path, metadata, unmapped, analyse, doc)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return process_file(path, metadata, unmapped, analyse, doc)
    except DocTimeout:
        reason = f"took longer than {timeout:g} s (--doc-timeout): not extracted"
        return DocResult({"doc": doc, "error": reason}, [], LoadError(path, reason, doc))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _worker_init() -> None:
    """Workers leave Ctrl-C to the parent (which stops them): no traceback from each of them.
    They collect their own garbage: forked while the parent pauses the collector (`run`), they
    would otherwise keep every reference cycle of every document they ever processed; what they
    inherited is frozen (`frozen_for_fork`), so a collection does not walk it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.enable()


@lru_cache(maxsize=1)
def code_version() -> str:
    """Library version + the bytes of every module of the package (all stages) and of every data
    file (recursively; the gold annotations excepted), in sorted order of their relative paths."""
    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    for folder, pattern in ((package, "**/*.py"), (data_dir(), "**/*")):
        found = {p.relative_to(folder).as_posix(): p for p in folder.glob(pattern)}
        for name, p in sorted(found.items()):
            # the path inside the folder decides: a checkout under a folder named gold still counts
            if p.is_file() and "gold" not in name.split("/") and "__pycache__" not in name.split("/"):
                h.update(name.encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:20]


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


SCHEMA = "envcompare-cache 2: zlib(JSON) DocResult"
BUSY_TIMEOUT = 10.0  # seconds a cache write waits for another process's write
COMMIT_EVERY = 2.0  # seconds between commits during a run (a killed run keeps what was done)


def _warn(message: str) -> None:
    print(f"envcompare: warning: {message}", file=sys.stderr, flush=True)


class Cache:
    """Per-document results in one SQLite file; safe to delete or move at any time.

    Entries are data: JSON (zlib-compressed), checked against DocResult's types when read back.
    """

    def __init__(self, folder: str | os.PathLike, busy_timeout: float | None = None):
        self.folder = Path(folder)
        self.path = self.folder / "results.sqlite"
        self.timeout = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        self.writable = True
        self.damaged: str | None = None  # why the database must be set aside after this run
        self.pending: list[tuple[str, bytes]] = []  # entries not yet written (one statement per commit)
        self.last_commit = time.monotonic()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                self.db = self._open()
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and not _foreign(exc):
                    if "locked" in str(exc) or "busy" in str(exc):
                        raise CacheBusy(f"the cache {self.path} is busy (another process held it for over "
                                        f"{self.timeout:g} s)") from exc
                    raise
                self.db = self._set_aside(str(exc))
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"cannot use the cache folder {self.folder}: {_why(exc, self.folder)}") from exc

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                db.execute("BEGIN IMMEDIATE")
                db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
                db.execute("CREATE TABLE IF NOT EXISTS docs (key TEXT PRIMARY KEY, payload BLOB NOT NULL)")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA,))
                db.execute("COMMIT")
            else:
                row = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone() if "meta" in tables else None
                if row is None or row[0] != SCHEMA or "docs" not in tables:
                    raise sqlite3.DatabaseError(f"not an envcompare cache of this version (tables: {', '.join(sorted(tables))})")
        except BaseException:
            db.close()
            raise
        return db

    def _set_aside(self, why: str) -> sqlite3.Connection:
        """Move a damaged or foreign database out of the way (kept for inspection) and start afresh."""
        aside = self.path.with_name(f"{self.path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        os.replace(self.path, aside)
        for extra in ("-wal", "-shm", "-journal"):
            Path(f"{self.path}{extra}").unlink(missing_ok=True)
        _warn(f"the cache {self.path} is damaged or not an envcompare cache of this version ({why}); "
              f"set aside as {aside.name}, starting a new one")
        return self._open()

    @staticmethod
    def key(path: Path, metadata: dict | None, unmapped: bool, analyse: bool = False, doc: str | None = None) -> str | None:
        """None when the file cannot be read safely (pipes, devices, too large): no caching,
        and the worker reports the reason."""
        try:
            data = read_bytes(path)
        except ReportError:
            return None
        h = hashlib.sha256(data)
        h.update(json.dumps(metadata or {}, sort_keys=True, ensure_ascii=False, default=str).encode())
        h.update(f"{unmapped}|{analyse}|{doc or path.name}|{code_version()}".encode())
        return h.hexdigest()

    def stored(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` have an entry (one query per 500 keys; entries are decoded on `get`)."""
        if self.damaged:
            return set()
        keys = list(keys)
        found: set[str] = set()
        try:
            for at in range(0, len(keys), 500):
                chunk = keys[at:at + 500]
                marks = ",".join("?" * len(chunk))
                found.update(r[0] for r in self.db.execute(f"SELECT key FROM docs WHERE key IN ({marks})", chunk))
        except sqlite3.Error as exc:
            self._failed(exc)
            return set()
        return found

    def get(self, key: str) -> DocResult | None:
        """The stored result, or None: not stored, unreadable or not a valid result (a miss)."""
        if self.damaged:
            return None
        try:
            row = self.db.execute("SELECT payload FROM docs WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        if row is None:
            return None
        try:
            return decode_result(row[0])
        except (ValueError, TypeError, KeyError, zlib.error, RecursionError):
            return None  # overwritten by this run's result

    def put(self, key: str, payload: bytes) -> None:
        """Store an entry (`encode_result`'s bytes); written with the others every COMMIT_EVERY
        seconds, so that a killed run keeps what was done."""
        if not self.writable:
            return
        self.pending.append((key, payload))
        if time.monotonic() - self.last_commit > COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        """Write the pending entries in one transaction."""
        try:
            if self.pending:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("INSERT OR REPLACE INTO docs VALUES (?, ?)", self.pending)
                self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._failed(exc)
        self.pending = []
        self.last_commit = time.monotonic()

    def _failed(self, exc: sqlite3.Error) -> None:
        """One warning; the run goes on without caching (what was committed stays)."""
        if not self.writable:
            return
        self.writable = False
        with contextlib.suppress(sqlite3.Error):
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError) and not _foreign(exc):
            why = str(exc)
            if "locked" in why or "busy" in why:
                why = f"busy: another process held it for over {self.timeout:g} s"
            _warn(f"the cache {self.path} cannot be written ({why}); this run's results are not cached")
        else:
            self.damaged = str(exc)

    def close(self) -> None:
        if self.writable:
            self.commit()
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        if self.damaged:
            try:
                self._set_aside(self.damaged).close()
            except (OSError, sqlite3.Error) as exc:
                _warn(f"the cache {self.path} is damaged ({self.damaged}) and could not be set aside: {_why(exc, self.folder)}")


def _foreign(exc: sqlite3.Error) -> bool:
    """A database that is damaged or not SQLite at all (as opposed to locked, read-only, missing)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError) or any(
        w in text for w in ("not a database", "malformed", "no such table", "no such column", "file is encrypted")
    )


# --- cache entries as data ------------------------------------------------------------------------

def encode_result(result: DocResult) -> bytes:
    """zlib-compressed JSON of a DocResult; TypeError or ValueError for a value JSON would not
    give back exactly. orjson writes the result's dataclasses, mappings and lists in one C pass
    (5x faster than the standard library's json after a Python pass making them plain values)."""
    if not (_finite(result.doc_row.values()) and all(_finite(row.values()) for row in result.facts)):
        raise ValueError("a figure that is not a finite number")  # orjson would write NaN as null
    text = orjson.dumps(result, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return zlib.compress(text, 1)  # level 1: 2x faster, 10% larger


def decode_result(payload: bytes) -> DocResult:
    """The DocResult of `encode_result`; ValueError/TypeError/KeyError for anything else."""
    if not isinstance(payload, bytes):
        raise TypeError("payload is not bytes")
    data = orjson.loads(zlib.decompress(payload))
    return _from_data(DocResult, data)


_SCALARS = (str, int, float, bool, type(None))
_INFINITY = float("inf")


def _finite(values: Iterable[object]) -> bool:
    """No float among `values` is NaN or infinite (the values of a row may be any plain value;
    the other fields of a result are typed, and the decoder refuses a null where a number was)."""
    total = sum(v for v in values if isinstance(v, (float, np.floating)))
    return total == total and -_INFINITY < total < _INFINITY


def _json_default(value: object) -> object:
    """What orjson does not write itself: named tuples as lists (as JSON writes any tuple), numpy
    scalars as Python's; TypeError for anything else (a date or an object would not come back)."""
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not cached")


@cache
def _hints(cls: type) -> dict[str, object]:
    localns = {"DocResult": DocResult, "LoadError": LoadError}
    if cls is DocResult:
        from ..policytext.text import DocText

        localns["DocText"] = DocText
    return typing.get_type_hints(cls, localns=localns)


def _from_data(hint: object, data: object) -> object:
    """`data` (parsed JSON) as a value of type `hint`, checked all the way down."""
    return _reader(hint)(data)


Reader = Callable[[object], object]


@cache
def _reader(hint: object) -> Reader:
    """The function that reads and checks parsed JSON as a value of type `hint`: the type is
    looked at once, not again for every value of every cache entry."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is object or hint is typing.Any:
        return _plain
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"ambiguous type {hint}")
        return _optional(_reader(options[0])) if type(None) in args else _reader(options[0])
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record(hint)
    if hint is collections.Counter or origin is collections.Counter:
        return _counts
    if hint is dict or origin is dict:
        return _mapping(_reader(args[1] if args else object))
    if origin in (list, tuple) or hint in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return _fixed_tuple(tuple(_reader(a) for a in args))
        return _sequence(_reader(args[0] if args else object), (origin or hint) is tuple)
    if hint is float:
        return _number
    if hint in (int, str, bool):
        return _exactly(hint)
    raise TypeError(f"no rule for {hint}")


def _plain(data: object) -> object:
    if type(data) not in _SCALARS:
        raise TypeError("expected a plain value")
    return data


def _number(data: object) -> object:
    if type(data) not in (float, int):
        raise TypeError("expected a number")
    return data


def _accepts(read: Reader) -> frozenset[type] | None:
    """The exact types a scalar reader accepts (its `accepts` attribute), None for other readers:
    a container of scalars checks all its items in one C-level pass instead of a call per item."""
    return getattr(read, "accepts", None)


_plain.accepts = frozenset(_SCALARS)  # type: ignore[attr-defined]
_number.accepts = frozenset((float, int))  # type: ignore[attr-defined]


def _counts(data: object) -> object:
    if type(data) is not dict or not all(type(v) is int for v in data.values()):
        raise TypeError("expected counts")
    return collections.Counter(data)


def _exactly(kind: type) -> Reader:
    def read(data: object) -> object:
        if type(data) is not kind:
            raise TypeError(f"expected {kind.__name__}")
        return data
    read.accepts = frozenset((kind,))  # type: ignore[attr-defined]
    return read


def _optional(read_value: Reader) -> Reader:
    def read(data: object) -> object:
        return None if data is None else read_value(data)
    if (accepted := _accepts(read_value)) is not None:
        read.accepts = accepted | {type(None)}  # type: ignore[attr-defined]
    return read


def _record(cls: type) -> Reader:
    fields = frozenset(f.name for f in dataclasses.fields(cls))
    hints = _hints(cls)
    readers = {name: _reader(hints[name]) for name in fields}

    def read(data: object) -> object:
        if type(data) is not dict or data.keys() != fields:
            raise ValueError(f"not a {cls.__name__}")
        return cls(**{name: read_field(data[name]) for name, read_field in readers.items()})
    return read


def _mapping(read_value: Reader) -> Reader:
    allowed = _accepts(read_value)
    columns = getattr(read_value, "columns", None)
    if columns is not None:
        return _mapping_of_rows(columns)
    if allowed is not None:
        def read_scalars(data: object) -> object:
            if type(data) is not dict:
                raise TypeError("expected a mapping")
            if not allowed.issuperset(map(type, data.values())):
                raise TypeError("expected plain values")
            return data
        return read_scalars

    def read(data: object) -> object:
        if type(data) is not dict:
            raise TypeError("expected a mapping")
        return {k: read_value(v) for k, v in data.items()}
    return read


def _fixed_tuple(readers: tuple[Reader, ...]) -> Reader:
    def read(data: object) -> object:
        if type(data) is not list:
            raise TypeError("expected a list")
        if len(readers) != len(data):
            raise ValueError("wrong length")
        return tuple([read_item(v) for read_item, v in zip(readers, data)])
    # a tuple of scalars and sequences of scalars: a mapping of many checks them column by column
    shapes = [(_accepts(r), None) if _accepts(r) is not None else getattr(r, "items", None) for r in readers]
    if all(shape is not None for shape in shapes):
        read.columns = shapes  # type: ignore[attr-defined]
    return read


def _mapping_of_rows(columns: list[tuple[frozenset[type], bool | None]]) -> Reader:
    """A mapping whose values are fixed tuples of scalars and sequences of scalars (a word's
    counts), checked and rebuilt column by column in C-level passes: a report has thousands."""
    width = len(columns)

    def read(data: object) -> object:
        if type(data) is not dict:
            raise TypeError("expected a mapping")
        rows = list(data.values())
        if not {list}.issuperset(map(type, rows)) or not {width}.issuperset(map(len, rows)):
            raise ValueError("expected lists of the same length")
        built = []
        for column, (allowed, as_tuple) in zip(zip(*rows), columns) if rows else ():
            if as_tuple is None:
                if not allowed.issuperset(map(type, column)):
                    raise TypeError("expected plain values")
                built.append(column)
                continue
            if not {list}.issuperset(map(type, column)) or not allowed.issuperset(map(type, chain.from_iterable(column))):
                raise TypeError("expected lists of plain values")
            built.append(map(tuple, column) if as_tuple else column)
        return dict(zip(data, zip(*built))) if rows else {}
    return read


def _sequence(read_item: Reader, as_tuple: bool) -> Reader:
    allowed = _accepts(read_item)

    def read(data: object) -> object:
        if type(data) is not list:
            raise TypeError("expected a list")
        if allowed is not None:
            if not allowed.issuperset(map(type, data)):
                raise TypeError("expected plain values")
            items = data
        else:
            items = [read_item(v) for v in data]
        return tuple(items) if as_tuple else items
    if allowed is not None:
        read.items = (allowed, as_tuple)  # type: ignore[attr-defined]
    return read


DASK_TIMEOUT = 20.0  # seconds to reach a Dask scheduler, and to wait for its first worker


def _map(tasks: list[Task], jobs: int, engine: str, scheduler: str | None) -> Generator[Processed, None, None]:
    if engine == "dask":
        yield from _map_dask(tasks, jobs, scheduler)
    elif jobs <= 1 or len(tasks) <= 1:
        yield from map(_process, tasks)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with frozen_for_fork(), ctx.Pool(jobs, initializer=_worker_init) as pool:
            yield from pool.imap(_process, tasks, chunksize=max(1, min(32, len(tasks) // (jobs * 8) or 1)))


def _map_dask(tasks: list[Task], jobs: int, scheduler: str | None) -> Iterator[Processed]:
    import dask.bag as db

    bag = db.from_sequence(tasks, npartitions=max(1, min(len(tasks), jobs * 4))).map(_process)
    if not scheduler:
        yield from bag.compute(scheduler="processes", num_workers=jobs)
        return
    from distributed import Client

    try:
        client = Client(scheduler, timeout=DASK_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise RunError(f"cannot reach the Dask scheduler at {scheduler}: {_one_line(exc)}") from exc
    with client:
        try:
            client.wait_for_workers(1, timeout=DASK_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise RunError(f"the Dask scheduler at {scheduler} has no workers (none joined within "
                           f"{DASK_TIMEOUT:g} s); start some with `dask worker {scheduler}`") from exc
        yield from client.compute(bag).result()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


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
    doc_timeout: float | None = DOC_TIMEOUT,
    compact: bool = False,
) -> BatchResult:
    """Extract every file under `paths`: the facts table and the documents table, in file order.

    `metadata` ({file name or path: {field: value}}, or a DataFrame with a `file` column) and a
    `metadata.csv` beside the files override inferred metadata field by field, as in `load_reports`
    (one rule: `ingest.load.file_metadata`).

    `analyse`: see `process_file`. `each` is called with every document's result as it arrives
    (from the cache or a worker) and returns what to keep: a build writes the evidence page and
    adds the text counts to its totals there, so neither piles up in memory.

    `jobs` is capped at the cores available; `doc_timeout`: seconds one document may take (it is
    then recorded as failed, and the run goes on); None for no limit. `compact`: every text column
    of the facts table is categorical (a tenth of the memory of a large corpus's table; the
    values and their order are the same), not "string".
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    with gc_paused():  # results are acyclic rows; the collector would walk them again and again
        return _run(paths, metadata, unmapped, jobs, engine, scheduler, cache_dir, progress, analyse, each, doc_timeout,
                    compact)


def _run(paths, metadata, unmapped, jobs, engine, scheduler, cache_dir, progress, analyse, each, doc_timeout,
         compact) -> BatchResult:
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    files, errors = list_files(paths)
    docs = doc_names(files, paths)
    jobs = max(1, jobs or available_cores())
    if not (engine == "dask" and scheduler):  # a cluster has its own cores
        jobs = min(jobs, available_cores())
    metas = file_metadata(files, metadata)  # metadata.csv beside the files, then the caller's
    try:
        cache = Cache(cache_dir) if cache_dir else None
    except CacheBusy as exc:
        _warn(f"{exc}; running without it")
        cache = None
    try:
        return _run_with(files, docs, errors, metas, unmapped, jobs, engine, scheduler, cache, progress, analyse,
                         each, doc_timeout, compact)
    finally:
        if cache is not None:
            cache.close()


def _run_with(files, docs, errors, metas, unmapped, jobs, engine, scheduler, cache, progress, analyse, each,
              doc_timeout, compact) -> BatchResult:
    """Every document's result in file order, from the cache or a worker, as it arrives: handed to
    `each`, its rows added to the tables at once (nothing of a document is kept beyond them)."""
    keys = _keys(files, docs, metas, unmapped, analyse) if cache is not None else [None] * len(files)
    stored = cache.stored(k for k in keys if k is not None) if cache is not None else set()
    todo = [i for i, key in enumerate(keys) if key is None or key not in stored]

    def task(i: int) -> Task:
        return Task(str(files[i]), docs[i], metas[i] or None, unmapped, analyse, doc_timeout or None, keys[i] is not None)

    bar = _progress_bar(len(files), progress, len(files) - len(todo))
    segmenting_here = analyse and bool(todo) and engine == "processes"
    if segmenting_here:
        from ..policytext.text import prepare

        prepare()  # jieba's dictionary loads once here, and forked workers inherit it
    answers = _map([task(i) for i in todo], jobs, engine, scheduler)
    tables = _Tables(EXTRACTED_UNMAPPED_COLUMNS if unmapped else EXTRACTED_COLUMNS, compact)
    waiting = collections.deque(todo)
    from_cache = 0
    try:
        for i, key in enumerate(keys):
            hit = None if waiting and waiting[0] == i else cache.get(key)
            if hit is not None:
                from_cache += 1
                tables.add(each(hit) if each else hit)
                continue
            if waiting and waiting[0] == i:
                waiting.popleft()
                answer = next(answers)
            else:  # an entry that could not be read back: extracted here
                answer = _process(task(i))
            if cache is not None and key is not None and answer.payload is not None:
                cache.put(key, answer.payload)
            tables.add(each(answer.result) if each else answer.result)
            if bar:
                bar.update(1)
    finally:
        answers.close()  # the worker pool stops now, not when the generator is collected
    if bar:
        bar.close()
    if segmenting_here:
        from ..policytext.text import release

        release()  # the workers are done: the rest of a build never segments in this process
    errors.extend(tables.errors)
    digest = _digest(files, docs, keys) if cache is not None else None
    return BatchResult(tables.facts(), tables.documents(errors), errors, from_cache, len(files) - from_cache, digest)


class _Codes:
    """Each distinct value of one text column -> its category number, across a batch's chunks, so
    that the chunks' numbers join without re-encoding."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def encode(self, values: list[object]) -> np.ndarray:
        """The category numbers of `values` (-1 for a missing value), new values numbered on."""
        local, distinct = pd.factorize(np.array(values, dtype=object), use_na_sentinel=True)
        numbers = self.numbers
        mapped = np.fromiter((numbers.setdefault(v, len(numbers)) for v in distinct), dtype=np.int32, count=len(distinct))
        return np.append(mapped, np.int32(-1))[local]  # local -1 (missing) takes the last entry: -1

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        """The column: categories sorted, as `astype("category")` orders them."""
        categories = pd.Index(list(self.numbers), dtype=str)
        self.numbers = {}
        return pd.Categorical.from_codes(codes, categories=categories).reorder_categories(categories.sort_values())


class _Tables:
    """The facts and documents tables, filled one document at a time: fact rows are turned into
    typed columns every CHUNK rows, so that a large corpus is held as columns, not as dicts.
    A sentence is held once however many figures it has (five or so): the column is categorical.
    `compact`: every text column is (a city, unit or document repeats over thousands of rows)."""

    CHUNK = 20_000

    def __init__(self, columns: dict[str, str], compact: bool = False):
        self.columns = columns
        self.coded = {name: _Codes() for name, dtype in columns.items()
                      if name == SENTENCE or (compact and dtype == "string")}
        self.rows: list[dict[str, object]] = []
        self.parts: dict[str, list[object]] = {name: [] for name in columns}  # each column's chunks
        self.doc_rows: list[dict[str, object]] = []
        self.errors: list[LoadError] = []

    def add(self, result: DocResult) -> None:
        self.rows.extend(result.facts)
        self.doc_rows.append(result.doc_row)
        if result.error:
            self.errors.append(result.error)
        if len(self.rows) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        plain = {name: dtype for name, dtype in self.columns.items() if name not in self.coded}
        chunk = pd.DataFrame(self.rows, columns=list(plain)).astype(plain)
        for name in plain:
            self.parts[name].append(chunk[name].array)
        for name, codes in self.coded.items():  # the category numbers, made Categoricals in `facts`
            self.parts[name].append(codes.encode([r.get(name) for r in self.rows]))
        self.rows = []

    def facts(self) -> pd.DataFrame:
        """Every fact row, in the order of the documents. Joined column by column, each column's
        chunks let go as it is joined: the table is never held twice."""
        if self.rows or not any(self.parts.values()):
            self._flush()
        joined: dict[str, object] = {}
        for name in self.columns:
            parts = self.parts.pop(name)  # this column's chunks, let go once it is joined
            if name in self.coded:
                joined[name] = self.coded[name].categorical(np.concatenate(parts))
            else:
                joined[name] = pd.concat([pd.Series(part, copy=False) for part in parts], ignore_index=True)
        self.parts = {name: [] for name in self.columns}
        return pd.DataFrame(joined)

    def documents(self, errors: list[LoadError]) -> pd.DataFrame:
        """One row per document, sorted by name; the files that never reached a worker (unlistable
        folders, links out of the corpus) with their reason."""
        doc_rows = self.doc_rows
        failed = {d["doc"] for d in doc_rows if d.get("error")}
        for e in errors:
            if e.name not in failed:
                failed.add(e.name)
                doc_rows.append({"doc": e.name, "error": e.reason})
        doc_columns = {**DOC_COLUMNS, "facts": "Int64"}
        documents = pd.DataFrame(doc_rows, columns=list(doc_columns)).astype(doc_columns)
        return documents.sort_values("doc", kind="stable").reset_index(drop=True)


def _keys(files: list[Path], docs: list[str], metas: list[dict[str, object]], unmapped: bool, analyse: bool) -> list[str | None]:
    return [Cache.key(f, meta or None, unmapped, analyse, doc) for f, doc, meta in zip(files, docs, metas)]


def _digest(files: list[Path], docs: list[str], keys: list[str | None]) -> str | None:
    if any(k is None for k in keys):
        return None
    h = hashlib.sha256()
    for f, doc, k in zip(files, docs, keys):
        h.update(f"{f}\0{doc}\0{k}\n".encode())
    return h.hexdigest()


def inputs_digest(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    metadata: dict[str, dict[str, object]] | None = None,
    unmapped: bool = False,
    analyse: bool = False,
    options: str = "",
) -> str | None:
    """The digest of a run's inputs (every file's path, name and cache key, the files that could
    not be listed or were not followed, and `options`), without running anything: a build
    compares it with the one its outputs were made from. None when a file is unreadable."""
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    files, errors = list_files(paths)
    docs = doc_names(files, paths)
    digest = _digest(files, docs, _keys(files, docs, file_metadata(files, metadata), unmapped, analyse))
    if digest is None:
        return None
    h = hashlib.sha256(digest.encode())
    for e in errors:
        h.update(f"{e.path}\0{e.reason}\n".encode())
    h.update(options.encode())
    return h.hexdigest()


def _progress_bar(total: int, progress, done: int):
    """A tqdm bar on a terminal for long runs; nothing when quiet or piped."""
    if progress is False or (progress is None and not sys.stderr.isatty()) or total < 20:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=done, unit="doc", file=sys.stderr, leave=False)
