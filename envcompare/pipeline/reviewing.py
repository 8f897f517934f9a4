"""The review step of `extract` and `build`: corrections.csv read and applied to the batch's facts,
review flags and queue, evidence pages redrawn where a figure's status or flags show.

Corrections are applied to the extracted (and cached) facts on every run: changing
corrections.csv re-extracts nothing. A document's raw text is read again only where it is
needed: for the documents corrections name, and (build) to redraw the pages of documents with
corrected or flagged figures.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ReportError
from ..extraction.tidy import row_dicts
from ..ingest.load import Report, doc_names, file_metadata, list_files, read_report
from ..review.corrections import FILE_NAME, Correction, Occurrences, StaleCorrection, find_corrections
from ..review.flags import review_queue
from ..review.table import Reviewed, resolve_corrections, review_facts
from .batch import BatchResult

STALE_FILE = "corrections_stale.csv"
STALE_COLUMNS = {
    "file": "string", "row": "Int64", "line": "Int64", "doc": "string", "evidence": "string",
    "occurrence": "Int64", "match": "string", "action": "string", "reason": "string",
}


@dataclass
class RunCorrections:
    """The corrections of a run and the files they came from."""

    corrections: list[Correction]
    files: list[Path]
    beside: list[Path] = field(default_factory=list)  # corrections.csv among the reports, read or not

    def digest(self) -> str:
        """What the build's manifest records of them: each file's path and bytes."""
        h = hashlib.sha256()
        for f in self.files:
            h.update(f"{f}\0".encode())
            h.update(f.read_bytes())
        return h.hexdigest()[:20]


def run_corrections(paths: Sequence[str | os.PathLike], explicit: str | None) -> RunCorrections:
    """`--corrections FILE`, else the corrections.csv at the top of each folder given (or
    beside each file given). CorrectionError lists every problem of the files."""
    found, files = resolve_corrections(explicit if explicit else None, paths)
    return RunCorrections(found, files, find_corrections(paths))


class Reports:
    """A run's reports by `doc`, read again on demand (one at a time: the last one is kept)."""

    def __init__(self, paths: Sequence[str | os.PathLike]):
        files, _ = list_files(paths)
        self.where = {doc: (f, meta) for f, doc, meta in zip(files, doc_names(files, paths), file_metadata(files))}
        self.last: tuple[str, Report | None] | None = None

    def report(self, doc: str) -> Report | None:
        if self.last is None or self.last[0] != doc:
            found = self.where.get(doc)
            try:
                self.last = (doc, read_report(found[0], found[1] or None, doc) if found else None)
            except ReportError:
                self.last = (doc, None)
        return self.last[1]

    def raw_text(self, doc: str) -> str | None:
        report = self.report(doc)
        return report.raw_text if report is not None else None


def drop_correction_files(result: BatchResult, files: Iterable[Path]) -> None:
    """A corrections.csv inside a report folder is read as corrections: it is no failed report
    (the batch lists it as a file of an unsupported type)."""
    mine = {Path(f).resolve() for f in files}
    gone = {e.name for e in result.errors if Path(e.path).name == FILE_NAME and Path(e.path).resolve() in mine}
    if not gone:
        return
    result.errors = [e for e in result.errors if e.name not in gone]
    result.processed -= len(gone)
    docs = result.documents
    result.documents = docs[~(docs["doc"].isin(gone) & docs["error"].notna())].reset_index(drop=True)


class Seen:
    """Each figure's occurrence (the corrections.csv key) as the batch's workers found it, kept
    while the results arrive (`add` in the build's per-document callback): only those other than
    1, so it stays small."""

    def __init__(self) -> None:
        self.other: dict[tuple[str, int, int, str], int] = {}

    def add(self, facts: list[dict[str, object]]) -> None:
        for r in facts:
            k = r.get("occurrence", 1)
            if k != 1 and isinstance(k, int):
                self.other[(str(r["doc"]), int(r["start"]), int(r["end"]), str(r["evidence"]))] = k  # type: ignore[call-overload]

    def occurrence(self, doc: str, start: int, end: int, evidence: str) -> int:
        return self.other.get((doc, start, end, evidence), 1)


def review_result(result: BatchResult, reports: Reports, found: RunCorrections, seen: Seen | None = None,
                  queue: bool = True) -> Reviewed:
    """The batch's facts corrected and flagged, and their review queue (`with_queue`; reports are
    read again only for the documents corrections name). queue=False: no queue yet (a build makes
    it once every figure is written and let go)."""
    drop_correction_files(result, [*found.files, *found.beside])
    reviewed = review_facts(result.facts, result.documents, found.corrections, reports.raw_text, queue=False)
    if queue:
        with_queue(reviewed, seen)
    return reviewed


def with_queue(reviewed: Reviewed, seen: Seen | None = None) -> None:
    """The review queue of the reviewed facts; with `seen` (a build), each figure's `occurrence`
    as the workers found it."""
    q = review_queue(reviewed.facts)
    if seen is not None and len(q):
        at = [seen.occurrence(d, int(s), int(e), str(v)) for d, s, e, v in zip(q["doc"], q["start"], q["end"], q["evidence"])]
        q = q.assign(occurrence=pd.array([k if k > 0 else None for k in at], dtype="Int64"))
    reviewed.queue = q


@dataclass
class Redraw:
    """What the review shows on evidence pages beyond their workers' flags (`to_redraw`): the
    documents with a corrected, added, confirmed or rejected figure, or a conflict with a figure
    elsewhere (and those named `also`); `by_hand` those with a reviewer's figure; `rows`, every
    catalog figure of those documents (rows of `facts_all`). Small beside `facts_all`, which can
    then be written and let go before a page is drawn."""

    rows: pd.DataFrame
    docs: set[str]
    by_hand: set[str]


def to_redraw(reviewed: Reviewed, also: Collection[str] = ()) -> Redraw:
    """The documents whose pages the review redraws, and their catalog figures (see `Redraw`);
    masks over `facts_all`, only the rows of those documents copied."""
    every = reviewed.facts_all
    catalog = every["indicator"].notna().to_numpy(dtype=bool)
    conflict = every["flags"].str.contains("conflict: ", regex=False).fillna(False).to_numpy(dtype=bool)
    reviewed_by_hand = catalog & every["status"].ne("extracted").fillna(True).to_numpy(dtype=bool)
    doc = every["doc"]
    docs = set(doc[reviewed_by_hand | (catalog & conflict)].tolist()) | set(also)
    by_hand = set(doc[reviewed_by_hand].tolist())
    return Redraw(every[catalog & doc.isin(docs).to_numpy(dtype=bool)], docs, by_hand)


def pages(redraw: Redraw, reviewed: Reviewed, reports: Reports, keep: Callable[[str, list[dict]], bool] | None = None,
          worker_page: Callable[[str], str | None] | None = None, seen: Seen | None = None) -> Iterator[tuple[str, str]]:
    """(doc, evidence page) for every document `redraw` names (a page that shows more than its
    worker could draw: `batch.process_file` draws each figure's own flags). Fills the review
    queue's `occurrence` on the way (the raw text is read once per document).

    Of a document whose figures all stand as extracted (their queue rows' occurrences are then
    the workers', already in the queue): `keep(doc, rows)` True means the page already drawn from
    these rows stays; else its worker's page (`worker_page(doc)`, None when not at hand) is drawn
    again with the review's flags (`evidence.with_rows`, with the workers' occurrences in `seen`),
    without reading the report."""
    from ..present.evidence import evidence_page

    queue = reviewed.queue
    occurrence = queue["occurrence"].astype(object).tolist()
    at: dict[str, list[int]] = {}
    for k, doc in enumerate(queue["doc"].tolist()):
        at.setdefault(doc, []).append(k)
    evidence, starts = queue["evidence"].tolist(), queue["start"].tolist()
    for doc, rows in _rows_by_document(redraw.rows, redraw.docs):
        if doc not in redraw.by_hand:
            if keep is not None and keep(doc, rows):
                continue
            page = _flagged_again(worker_page(doc) if worker_page else None, doc, rows, seen)
            if page is not None:
                yield doc, page
                continue
        report = reports.report(doc)
        if report is None:
            continue
        yield doc, evidence_page(report, rows).html
        found = Occurrences(report.raw_text)
        for k in at.get(doc, []):
            occurrence[k] = found(str(evidence[k]), int(starts[k])) or pd.NA
    reviewed.queue = queue.assign(occurrence=pd.array(occurrence, dtype="Int64"))


ROWS_AT_ONCE = 20_000  # fact rows turned into dicts at a time by `_rows_by_document`


def _rows_by_document(facts: pd.DataFrame, docs: Collection[str]) -> Iterator[tuple[str, list[dict]]]:
    """(doc, its fact rows as dicts, None for missing) for each document of `facts`, in order of
    first appearance, then (doc, []) for the other `docs`, sorted. Rows are made ROWS_AT_ONCE or so
    at a time: the dicts of every flagged figure of a large corpus at once were the build's peak."""
    positions = facts.groupby("doc", sort=False).indices if len(facts) else {}
    names = list(positions)
    start = 0
    while start < len(names):
        end, size = start, 0
        while end < len(names) and (size == 0 or size + len(positions[names[end]]) <= ROWS_AT_ONCE):
            size += len(positions[names[end]])
            end += 1
        part = facts.take(np.concatenate([positions[doc] for doc in names[start:end]]))
        rows_of: dict[str, list[dict]] = {doc: [] for doc in names[start:end]}
        for r in row_dicts(part):
            rows_of[r["doc"]].append(r)
        yield from rows_of.items()
        start = end
    for doc in sorted(set(docs) - positions.keys()):
        yield doc, []  # a document named in `also` with no figure left


def _flagged_again(page: str | None, doc: str, rows: list[dict], seen: Seen | None) -> str | None:
    """A worker's page drawn again with the review's flags (None: no such page, or not one of these rows)."""
    from ..present.evidence import with_rows

    if page is None or seen is None:
        return None
    rows = [{**r, "occurrence": seen.occurrence(doc, int(r["start"]), int(r["end"]), str(r["evidence"]))} for r in rows]
    try:
        return with_rows(page, rows).html
    except ValueError:
        return None


def stale_table(stale: list[StaleCorrection]) -> pd.DataFrame:
    rows = [{"file": s.correction.source, "row": s.correction.row, "line": s.correction.line, "doc": s.correction.doc,
             "evidence": s.correction.evidence, "occurrence": s.correction.occurrence, "match": s.correction.match,
             "action": s.correction.action, "reason": s.reason} for s in stale]
    return pd.DataFrame(rows, columns=list(STALE_COLUMNS)).astype(STALE_COLUMNS)


def report(reviewed: Reviewed, found: RunCorrections) -> None:
    """Say what the corrections did: applied, stale (each by name), for documents not in the run."""
    if not found.corrections:
        return
    names = ", ".join(str(f) for f in found.files) or "the corrections given"
    print(f"corrections: {reviewed.applied} of {len(found.corrections)} applied from {names}"
          + (f"; {len(reviewed.stale)} stale" if reviewed.stale else ""))
    for s in reviewed.stale:
        print(f"{s}", file=sys.stderr)
    if reviewed.elsewhere:
        docs = sorted({c.doc for c in reviewed.elsewhere})
        more = f" (+{len(docs) - 3} more)" if len(docs) > 3 else ""
        print(f"note: {len(reviewed.elsewhere)} corrections name documents not in this run (not applied): "
              + ", ".join(docs[:3]) + more, file=sys.stderr)


def strict_status(reviewed: Reviewed, strict: bool) -> int:
    """1 with --strict when a correction is stale (the message names how many), else 0."""
    if strict and reviewed.stale:
        n = len(reviewed.stale)
        print(f"envcompare: {n} stale correction{'s' if n != 1 else ''} (--strict): fix or remove "
              f"{'them' if n != 1 else 'it'} in corrections.csv", file=sys.stderr)
        return 1
    return 0
