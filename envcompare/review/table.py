"""The reviewed facts table: extraction, then the researcher's corrections, then review flags.

    >>> import envcompare
    >>> facts = envcompare.extract("seeds")                      # corrections.csv beside them, if any
    >>> r = envcompare.review.review("seeds", corrections="my_corrections.csv")   # doctest: +SKIP
    >>> r.facts, r.facts_all, r.stale, r.queue                                     # doctest: +SKIP

Corrections are applied to what the extractor produced (unmapped figures included, so that a
`set` can give one an indicator); rejected facts leave the facts table and stay in `facts_all`
with status `rejected`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..extraction.tidy import FACT_COLUMNS, UNMAPPED_COLUMNS
from ..extraction.tidy import extract as extract_only
from ..ingest.load import Corpus, Report, load_reports
from .corrections import (
    FILE_NAME,
    REVIEW_COLUMNS,
    Correction,
    CorrectionError,
    StaleCorrection,
    apply_corrections,
    corrections_from_frame,
    find_corrections,
    load_corrections,
)
from .flags import QUEUE_COLUMNS, flag_facts, review_queue

REVIEWED_COLUMNS: dict[str, str] = {**FACT_COLUMNS, **REVIEW_COLUMNS}
REVIEWED_UNMAPPED_COLUMNS: dict[str, str] = {**UNMAPPED_COLUMNS, **REVIEW_COLUMNS}

CorrectionsArg = (
    str | os.PathLike | Iterable[str | os.PathLike] | pd.DataFrame | list[Correction] | bool | None
)


class StaleCorrectionWarning(UserWarning):
    """A correction that no longer fits its document (not applied)."""


class StaleCorrectionError(ValueError):
    """Stale corrections with strict=True: every one, one line each."""

    def __init__(self, stale: list[StaleCorrection]):
        super().__init__("\n".join(map(str, stale)))
        self.stale = stale


@dataclass
class Reviewed:
    """The facts after review.

    facts: catalog facts with `status` (extracted, corrected, added, confirmed) and `flags`;
    facts_all: every figure (unmapped ones with their `label`) and the rejected facts (status
    `rejected`); stale: corrections that no longer fit (not applied); elsewhere: corrections
    naming documents not in this run; queue: the review queue (flagged facts, those that feed
    comparisons first)."""

    facts: pd.DataFrame
    facts_all: pd.DataFrame
    stale: list[StaleCorrection] = field(default_factory=list)
    elsewhere: list[Correction] = field(default_factory=list)
    queue: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({c: pd.Series(dtype=t) for c, t in QUEUE_COLUMNS.items()}))
    applied: int = 0


def resolve_corrections(corrections: CorrectionsArg, paths: Iterable[str | os.PathLike] | None = None) -> tuple[list[Correction], list[Path]]:
    """(corrections, the files they came from). None: the corrections.csv of `paths` (a
    folder's top, or beside a file given directly); False: none; a path or paths; a DataFrame
    with the corrections.csv columns; or Correction objects."""
    if corrections is False:
        return [], []
    if corrections is None or corrections is True:
        files = find_corrections(paths or [])
        return load_corrections(files), files
    if isinstance(corrections, pd.DataFrame):
        return corrections_from_frame(corrections), []
    if isinstance(corrections, (str, os.PathLike)):
        corrections = [corrections]
    items = list(corrections)  # type: ignore[arg-type]
    if all(isinstance(c, Correction) for c in items):
        return items, []  # type: ignore[return-value]
    files = [Path(p) for p in items]  # type: ignore[arg-type]
    return load_corrections(files), files


def review_facts(
    extracted: pd.DataFrame,
    documents: pd.DataFrame | None,
    corrections: Iterable[Correction],
    raw_text: Callable[[str], str | None],
    queue: bool = True,
) -> Reviewed:
    """Corrections, then flags, on an extracted facts table (with or without unmapped figures).

    `raw_text(doc)`: a document's raw text, read for the documents corrections name and for those
    in the review queue, for each figure's occurrence. queue=False: the queue is left empty
    (`review_queue(reviewed.facts)` makes it when the caller wants it)."""
    applied = apply_corrections(extracted, corrections, raw_text, documents)
    everything = applied.facts
    catalog = everything["indicator"].notna().to_numpy()
    flags = np.full(len(everything), None, dtype=object)  # one string column made once (setting
    if catalog.any():  # the flagged rows into an Arrow-backed column copied it through Python objects)
        flags[catalog] = flag_facts(everything[catalog], documents).to_numpy(dtype=object, na_value=None)
    everything = everything.assign(flags=pd.array(flags, dtype="string"))
    columns = REVIEWED_UNMAPPED_COLUMNS if "label" in everything.columns else REVIEWED_COLUMNS
    everything = _typed(everything[list(columns)], columns).reset_index(drop=True)
    keep = (everything["indicator"].notna() & everything["status"].ne("rejected")).to_numpy()
    facts = everything[keep][list(REVIEWED_COLUMNS)].astype(REVIEWED_COLUMNS).reset_index(drop=True)
    reviewed = Reviewed(facts, everything, applied.stale, applied.elsewhere, applied=applied.applied)
    if queue:
        reviewed.queue = review_queue(facts, raw_text)
    return reviewed


def _typed(table: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """`table` with the dtypes of `columns`, except that a text column held as categories stays
    categorical (a batch's compact table: `batch.run(compact=True)`)."""
    return table.astype({name: dtype for name, dtype in columns.items()
                         if not (dtype == "string" and isinstance(table[name].dtype, pd.CategoricalDtype))})


def _without_correction_files(corpus: Corpus, files: list[Path]) -> Corpus:
    """A corrections.csv inside a report folder is read as corrections, not reported as a report
    of an unsupported type."""
    mine = {f.resolve() for f in files}
    errors = [e for e in corpus.errors if not (Path(e.path).name == FILE_NAME and Path(e.path).resolve() in mine)]
    return corpus if len(errors) == len(corpus.errors) else Corpus(corpus.reports, errors)


def review(
    reports: Corpus | Iterable[Report] | Report | str | os.PathLike | Iterable[str | os.PathLike],
    corrections: CorrectionsArg = None,
    unmapped: bool = False,
) -> Reviewed:
    """Load (if given paths), extract, correct and flag: see `Reviewed`.

    corrections: None reads the corrections.csv of the folders (or beside the files) given as
    paths (a Corpus has none); False: none; a path, paths, a DataFrame or Correction objects.
    """
    paths = None
    if isinstance(reports, (str, os.PathLike)):
        paths = [reports]
    elif not isinstance(reports, (Corpus, Report)):
        reports = list(reports)
        if reports and all(isinstance(r, (str, os.PathLike)) for r in reports):
            paths = reports
    found, files = resolve_corrections(corrections, paths)
    if paths is not None:
        corpus = _without_correction_files(load_reports(paths), files)
    elif isinstance(reports, Corpus):
        corpus = reports
    else:
        corpus = Corpus([reports] if isinstance(reports, Report) else list(reports), [])  # type: ignore[arg-type]
    everything = extract_only(corpus, unmapped=True if found else unmapped)
    texts = {r.doc: r for r in corpus.reports}
    reviewed = review_facts(everything, corpus.documents(), found, lambda doc: texts[doc].raw_text if doc in texts else None)
    if not unmapped and "label" in reviewed.facts_all.columns:  # extracted with unmapped figures for the corrections
        every = reviewed.facts_all
        reviewed.facts_all = every[every["indicator"].notna()].drop(columns="label").reset_index(drop=True)
    return reviewed


def extract(
    reports: Corpus | Iterable[Report] | Report | str | os.PathLike | Iterable[str | os.PathLike],
    unmapped: bool = False,
    corrections: CorrectionsArg = None,
    strict: bool = False,
) -> pd.DataFrame:
    """The facts table of some reports (a Corpus, Reports, or paths to load), corrected and
    flagged: the extractor's figures with `status`, `flags` and `correction` columns.

    unmapped=True also keeps figures of no catalog indicator (`label` names the quantity).
    corrections: see `review`. A stale correction is a StaleCorrectionWarning, or with
    strict=True a StaleCorrectionError; a malformed corrections file is a CorrectionError.
    """
    reviewed = review(reports, corrections, unmapped)
    if reviewed.stale and strict:
        raise StaleCorrectionError(reviewed.stale)
    for s in reviewed.stale:
        warnings.warn(str(s), StaleCorrectionWarning, stacklevel=2)
    if not unmapped:
        return reviewed.facts
    live = reviewed.facts_all["status"].ne("rejected").to_numpy()
    return reviewed.facts_all[live].reset_index(drop=True)


__all__ = [
    "REVIEWED_COLUMNS",
    "REVIEWED_UNMAPPED_COLUMNS",
    "CorrectionError",
    "Reviewed",
    "StaleCorrectionError",
    "StaleCorrectionWarning",
    "extract",
    "resolve_corrections",
    "review",
    "review_facts",
]
