"""Load stage: report files -> Report objects (raw text, cleaned text, offset map, metadata).

    >>> from envcompare import load_reports
    >>> corpus = load_reports("seeds")
    >>> corpus.documents()[["doc", "city", "doc_type", "report_year"]]   # doctest: +SKIP

One unreadable file never sinks a batch: it becomes an entry in `corpus.errors` naming the file
and the reason, and the rest load. Offsets everywhere refer to `Report.raw_text`: the decoded
file, or for HTML the visible text extracted from it (for mojibake that was repaired: the repaired
text, with `Report.repair` saying what was undone).

Limits keep the work per file bounded whatever a file holds: at most MAX_BYTES are read (a city's
yearly report is a few hundred KB; a scraped page with inline images a few MB), and no line may be
longer than MAX_LINE_CHARS characters (a report's longest paragraph is a few thousand characters;
a whole report scraped onto one line is some tens of thousands). Files beyond them are reported by
name, not truncated. Only regular files are read: a named pipe or device posing as a .txt file is
reported, never waited on.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ReportError
from .clean import Cleaned, clean
from .decode import decode
from .htmltext import declared_charset, visible_text
from .metadata import Metadata, basis, infer
from .mojibake import repair as repair_mojibake

FORMATS = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
SIDECARS = {"metadata.csv", "sources.csv", "corrections.csv"}  # read beside the reports, never as one
MAX_BYTES = 32 * 1024 * 1024
MAX_LINE_CHARS = 100_000


@dataclass(frozen=True)
class Report:
    """One loaded report."""

    doc: str
    path: str
    raw_text: str
    cleaned: Cleaned
    meta: Metadata
    encoding: str
    format: str
    html_meta: dict[str, str] = field(default_factory=dict, repr=False)
    repair: str | None = None  # mojibake undone while loading ("ftfy: utf-8 read as latin-1")

    @property
    def text(self) -> str:
        """Cleaned, normalised text: what extraction reads."""
        return self.cleaned.text

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Raw-text offsets of a cleaned-text span."""
        return self.cleaned.raw_span(start, end)


@dataclass(frozen=True)
class LoadError:
    path: str
    reason: str
    doc: str | None = None  # the file's `doc` when it was listed (default: its name)

    @property
    def name(self) -> str:
        return self.doc or Path(self.path).name


@dataclass
class Corpus:
    """Reports that loaded, and the files that did not (with the reason)."""

    reports: list[Report]
    errors: list[LoadError]

    def __iter__(self) -> Iterator[Report]:
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    def __getitem__(self, doc: str | int) -> Report:
        if isinstance(doc, int):
            return self.reports[doc]
        for r in self.reports:
            if r.doc == doc:
                return r
        raise KeyError(doc)

    def documents(self) -> pd.DataFrame:
        """One row per file (loaded or not): the documents table."""
        return documents_table(self.reports, self.errors)


DOC_COLUMNS = {
    "doc": "string",
    "city": "string",
    "province": "string",
    "publisher": "string",
    "title": "string",
    "published": "string",
    "doc_type": "string",
    "report_year": "Int64",
    "years": "string",
    "basis": "string",
    "encoding": "string",
    "repair": "string",
    "format": "string",
    "raw_chars": "Int64",
    "chars": "Int64",
    "removed_lines": "Int64",
    "error": "string",
}


def doc_row(r: Report) -> dict[str, object]:
    """One report's row of the documents table, as a plain dict (cheap: built once per file)."""
    m = r.meta
    return {
                "doc": r.doc,
                "city": m.city,
                "province": m.province,
                "publisher": m.publisher,
                "title": m.title,
                "published": m.published.isoformat() if m.published else None,
                "doc_type": m.doc_type,
                "report_year": m.report_year,
                "years": ";".join(map(str, m.years)),
                "basis": basis(m),
                "encoding": r.encoding,
                "repair": r.repair,
                "format": r.format,
                "raw_chars": len(r.raw_text),
                "chars": len(r.text),
                "removed_lines": len(r.cleaned.removed),
                "error": None,
            }


def documents_table(reports: Iterable[Report], errors: Iterable[LoadError] = ()) -> pd.DataFrame:
    rows = [doc_row(r) for r in reports]
    for e in errors:
        rows.append({"doc": e.name, "error": e.reason})
    df = pd.DataFrame(rows, columns=list(DOC_COLUMNS))
    return df.astype(DOC_COLUMNS).sort_values("doc", kind="stable").reset_index(drop=True)


def read_report(path: str | os.PathLike, metadata: dict[str, object] | None = None, doc: str | None = None) -> Report:
    """Load one report file; raise ReportError (file + reason) when it cannot be used.

    `doc`: the report's name in the tables (default: the file name; a batch passes the path
    relative to the folder it was given, see `doc_names`)."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ReportError(str(p), f"unsupported file type {p.suffix or '(none)'!r}; expected .txt, .md, .html or .htm")
    data = read_bytes(p)
    return report_from_bytes(data, doc or p.name, str(p), fmt, metadata)


def read_bytes(path: str | os.PathLike) -> bytes:
    """A report file's bytes: from a regular file only, at most MAX_BYTES of them, read without
    waiting (a named pipe is refused, not read); ReportError (file + reason) otherwise."""
    p = Path(path)
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer (it is refused below)
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError as exc:
        raise ReportError(str(p), "file not found (missing, or removed after the folder was listed)") from exc
    except IsADirectoryError as exc:
        raise ReportError(str(p), "is a directory") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReportError(str(p), "symbolic link loop") from exc
        raise ReportError(str(p), f"cannot read: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ReportError(str(p), "is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise ReportError(str(p), "not a regular file (pipe, socket or device)")
        if st.st_size > MAX_BYTES:
            raise ReportError(str(p), f"file too large ({st.st_size:,} bytes; limit {MAX_BYTES:,})")
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # the file object closes it now
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ReportError(str(p), f"cannot read: {exc.strerror or exc}") from exc
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > MAX_BYTES:  # it grew while we read it
        raise ReportError(str(p), f"file too large (over {MAX_BYTES:,} bytes)")
    return data


def _check_lines(text: str, name: str) -> None:
    """Refuse text with a line longer than MAX_LINE_CHARS (bounded work downstream)."""
    if len(text) <= MAX_LINE_CHARS or max(map(len, text.splitlines())) <= MAX_LINE_CHARS:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise ReportError(
                name, f"line {number} is {len(line):,} characters long (limit {MAX_LINE_CHARS:,}): not report prose"
            )


def report_from_bytes(
    data: bytes, doc: str, path: str = "", fmt: str = "text", metadata: dict[str, object] | None = None
) -> Report:
    """Build a Report from file bytes: decode, (HTML: visible text), clean, infer metadata."""
    declared = declared_charset(data) if fmt == "html" else None
    text, encoding = decode(data, path or doc, declared)
    return report_from_text(text, doc, path, fmt, metadata, encoding)


def report_from_text(
    text: str,
    doc: str,
    path: str = "",
    fmt: str = "text",
    metadata: dict[str, object] | None = None,
    encoding: str = "utf-8",
) -> Report:
    """Build a Report from decoded text: limits, mojibake, (HTML: visible text), clean, metadata."""
    name = path or doc
    html_meta: dict[str, str] = {}
    if fmt != "html":
        _check_lines(text, name)
    # mojibake is undone on the whole document (an HTML page's source: its title and meta fields
    # too, and before visible_text turns the non-breaking spaces of mis-decoded bytes into spaces)
    text, repair = repair_mojibake(text, name)
    if fmt == "html":
        text, html_meta = visible_text(text)
        _check_lines(text, name)  # a minified page is one long line; its visible text is not
    raw = text.lstrip("\ufeff")
    cleaned = clean(raw, markdown=fmt == "markdown")
    if not cleaned.text.strip():
        raise ReportError(name, "no report text left after cleaning")
    meta = infer(cleaned.text, cleaned.header, html_meta)
    if metadata:
        meta = meta.override(metadata)
    return Report(doc, path, raw, cleaned, meta, encoding, fmt, html_meta, repair)


def list_files(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> tuple[list[Path], list[LoadError]]:
    """Expand files and folders (recursively, sorted, symlink loops skipped).

    The corpus is what was named: inside a given folder, a symbolic link (to a file or a folder)
    that leads out of every given folder is not followed, and is reported by name; links that
    stay inside are. A file named directly is read whatever it is. A folder that cannot be
    listed is an error naming it; the walk goes on with the rest.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    files: list[Path] = []
    errors: list[LoadError] = []
    inside = [os.path.realpath(p) for p in paths if Path(p).is_dir()]

    def unlistable(exc: OSError) -> None:
        errors.append(LoadError(str(exc.filename or exc), f"cannot list folder: {exc.strerror or exc}"))

    def outside(path: str) -> bool:
        """A symbolic link whose target is outside every given folder (reported as skipped)."""
        if not os.path.islink(path):
            return False
        target = os.path.realpath(path)
        if any(target == root or target.startswith(root.rstrip(os.sep) + os.sep) for root in inside):
            return False
        errors.append(LoadError(path, f"symbolic link to {target}, outside the given folders: not followed"))
        return True

    for item in paths:
        p = Path(item)
        if p.is_dir():
            seen: set[tuple[int, int]] = set()
            for root, dirs, names in os.walk(p, followlinks=True, onerror=unlistable):
                try:
                    st = os.stat(root)
                except OSError as exc:  # removed or replaced while we walk
                    unlistable(exc)
                    dirs[:] = []
                    continue
                if (st.st_dev, st.st_ino) in seen:
                    dirs[:] = []
                    continue
                seen.add((st.st_dev, st.st_ino))
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not outside(os.path.join(root, d)))
                for name in sorted(names):
                    if name.startswith(".") or name in SIDECARS or outside(os.path.join(root, name)):
                        continue
                    files.append(Path(root) / name)
        elif p.exists() or p.is_symlink():
            files.append(p)
        else:
            errors.append(LoadError(str(p), "no such file or folder"))
    return files, errors


def doc_names(files: list[Path], paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """Each file's `doc`: its path relative to the given folder it was found in ('/'-separated),
    or its name when it was named directly; unique within the list (a name that still occurs
    twice, e.g. the same file name given from two folders, is prefixed with its folder's path)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    roots = [Path(p) for p in paths if Path(p).is_dir()]
    names = []
    for f in files:
        root = next((r for r in roots if f.is_relative_to(r) and f != r), None)
        names.append(f.relative_to(root).as_posix() if root is not None else f.name)
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    if len(counts) == len(names):
        return names
    names = [f.as_posix() if counts[n] > 1 else n for f, n in zip(files, names)]
    seen: dict[str, int] = {}
    unique = []
    for n in names:  # the same path given twice: listed twice, told apart by a number
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return unique


def sidecar_metadata(files: list[Path]) -> dict[str, dict[str, object]]:
    """metadata.csv beside report files: a `file` column plus any Metadata field."""
    given: dict[str, dict[str, object]] = {}
    for folder in sorted({f.parent for f in files}):
        sidecar = folder / "metadata.csv"
        if sidecar.is_file():
            df = pd.read_csv(sidecar, dtype=str, keep_default_na=False)
            for row in df.to_dict("records"):
                given[str(folder / row.pop("file"))] = row
    return given


def file_metadata(
    files: list[Path], metadata: pd.DataFrame | dict[str, dict[str, object]] | None = None
) -> list[dict[str, object]]:
    """Each file's metadata overrides, field by field: a `metadata.csv` beside it, then the caller's
    `metadata` by file name, then by path (the caller wins). One rule for `load_reports` and the
    batch runner (`extract`/`build` commands)."""
    sidecar = sidecar_metadata(files)
    if isinstance(metadata, pd.DataFrame):
        metadata = {str(r.pop("file")): r for r in metadata.astype(object).to_dict("records")}
    given = metadata or {}
    return [{**sidecar.get(str(f), {}), **given.get(f.name, {}), **given.get(str(f), {})} for f in files]


def load_reports(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    metadata: pd.DataFrame | dict[str, dict[str, object]] | None = None,
) -> Corpus:
    """Load report files and folders into a Corpus.

    `metadata` (a DataFrame with a `file` column, or {file name: {field: value}}) and a
    `metadata.csv` beside the files override inferred metadata field by field.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    files, errors = list_files(paths)
    reports: list[Report] = []
    for f, doc, extra in zip(files, doc_names(files, paths), file_metadata(files, metadata)):
        try:
            reports.append(read_report(f, extra, doc))
        except ReportError as exc:
            errors.append(LoadError(exc.path, exc.reason, doc))
    return Corpus(reports, errors)
