"""The build: reports -> every output of the registry (`present.outputs.OUTPUTS`), as one unit.

    build(paths, out, run, digest, check_current, jobs)   # what `envcompare build` does

One build computes each table once: the batch gives the facts, the documents and each report's
text counts and evidence page; the review step (`reviewing`) applies corrections.csv and flags
the facts; `comparison.analyse` gives every comparison table; the registry says which table goes
to which file; the workbook and the charts lay out the same tables. Memory follows the largest
table, not all of them: every figure (`facts_all`) and then each text table is written and let go
before the comparison tables are made. A corpus of up to ~10,000 reports has its text tables made
by a process of their own beside the review and the comparisons instead (`_TextTables`): the same
bytes, sooner.

A build is a transaction. Its outputs are written into `out/.envcompare-staging/` and moved into
place together once all are written: the old manifest is removed first and the new one written
last, so a build that fails or is killed leaves the previous outputs and their manifest as they
were (or, killed during the move, no manifest: the next build redoes everything). One build at a
time writes into a folder (`out/.envcompare-lock`); temporary files of killed runs and evidence
pages of reports no longer in the corpus are removed.

`to_excel` (the public verb `envcompare.to_excel`) is the workbook alone: facts -> analysis ->
workbook.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pandas as pd

from ..comparison.panel import Panel
from ..errors import BuildError
from ..extraction.tidy import with_fact_counts
from ..ingest.load import doc_names, list_files
from ..memory import compact, release_unused
from ..present.export import write_table
from ..present.output import atomic_write
from ..present.outputs import WORKBOOK, table_outputs
from ..present.panel_files import BINARY_FILES, write_panel_binaries
from . import reviewing
from .batch import BatchResult, DocResult, code_version

if TYPE_CHECKING:
    from ..comparison.analysis import Analysis
    from ..policytext.text import SharedTextStats, TextStats
    from ..present.chart_inputs import Chart
    from ..present.drawing import Drawing
    from ..review.table import Reviewed

MANIFEST = ".envcompare-build"  # what the outputs were built from, and the digest of each
LOCK = ".envcompare-lock"  # one build at a time into a folder
STAGE = ".envcompare-staging"  # a build's new outputs, until they are moved into place together
# temporary files of output.atomic_write (".name.XXXXXXXX.suffix") left behind by a killed run
TEMP_FILE = re.compile(r"\..+\.[A-Za-z0-9_]{8}(\.[A-Za-z0-9]+)?")


@dataclass
class Built:
    """What a build did: the batch's result and the review's, the number of catalog facts, and
    every output in the folder (relative names: tables, workbook and charts, then evidence pages),
    of which `kept` were left as the previous build wrote them (drawn from the same tables);
    `current` when nothing had to be done. The tables are let go once written: the batch's facts
    and the review's facts, `facts_all` and queue are empty here (read facts_all.csv, facts.csv
    and review.csv); `facts` and `flagged` count the catalog facts and the review queue's rows."""

    outputs: list[str]
    kept: list[str] = field(default_factory=list)
    result: BatchResult | None = None
    reviewed: Reviewed | None = None
    facts: int = 0
    flagged: int = 0
    current: bool = False


def to_excel(
    facts: pd.DataFrame,
    path: str | os.PathLike,
    documents: pd.DataFrame | None = None,
    references: pd.DataFrame | None = None,
    year: int | str | None = "latest",
    review: pd.DataFrame | None = None,
) -> Path:
    """Write the comparison workbook of a facts table to path (atomically); the same facts give
    the same bytes.

    documents: the documents table (corpus.documents() or tidy.documents_with_counts) for the
    Sources sheet (default: one row per document of the facts); references: reference lines
    (default data/references.csv); year: the Comparison sheet's year (None, a year, or "latest"
    per city); review: the review queue (envcompare.review.review_queue) for a Review sheet.
    """
    from ..comparison.analysis import analyse, documents_of
    from ..present.excel import write_workbook  # openpyxl loads with the workbook only

    analysis = analyse(facts, references, year)
    tables = {"documents": documents_of(facts) if documents is None else documents}
    if review is not None:
        tables["review"] = review
    return write_workbook(analysis, path, tables)


def build(
    paths: Sequence[str | os.PathLike],
    out: Path,
    run: Callable[[Callable[[DocResult], DocResult]], BatchResult],
    digest: str | None,
    corrections: reviewing.RunCorrections,
    check_current: bool = True,
    jobs: int = 1,
) -> Built:
    """Build every output of the reports under `paths` into `out`.

    `run(each)` runs the batch (unmapped figures kept, each report analysed) and calls `each` with
    every document's result as it arrives; `digest` is the inputs' digest (batch.inputs_digest,
    the corrections' included); `corrections` are applied to the facts (reviewing); with
    `check_current`, outputs built from the same inputs and unchanged since are left as they are
    (`Built.current`), unless some correction was stale (it is reported again). `jobs`:
    processes drawing the charts.
    """
    _output_folder(out)
    with BuildLock(out):
        _clean_stale(out)
        stage = out / STAGE
        try:
            current = _up_to_date(out, digest) if check_current else None
            if current and reviewing.STALE_FILE not in current:
                # same files, same code and data: every output would come out byte-identical
                return Built(current, current, current=True)
            return _build(paths, out, stage, run, digest, corrections, jobs)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _build(paths: Sequence[str | os.PathLike], out: Path, stage: Path,
           run: Callable[[Callable[[DocResult], DocResult]], BatchResult], digest: str | None,
           corrections: reviewing.RunCorrections, jobs: int) -> Built:
    """Extract, review, analyse, write every output into the stage, then move them into place."""
    from ..policytext.text import TextStats

    stage.mkdir()
    files, _ = list_files(paths)
    previous = _Previous(out)
    # the text counts' spill file in the stage: a process making the text tables reads it there
    per_document = _PerDocument(out, stage, _page_names(doc_names(files, paths)), TextStats(spill_folder=stage),
                                reviewing.Seen(), previous)
    result = run(per_document)
    release_unused()
    staging = _Staging(stage, previous)
    with _TextTables(per_document.stats, staging, beside=jobs > 1) as text_tables:
        return _review_and_write(paths, out, result, per_document, staging, text_tables, digest, corrections, jobs)


def _review_and_write(paths: Sequence[str | os.PathLike], out: Path, result: BatchResult, per_document: _PerDocument,
                      staging: _Staging, text_tables: _TextTables, digest: str | None,
                      corrections: reviewing.RunCorrections, jobs: int) -> Built:
    """The build after its batch: review, tables, workbook and charts into the stage, then the swap."""
    stage, previous = staging.stage, staging.previous
    reports = reviewing.Reports(paths)
    reviewed = reviewing.review_result(result, reports, corrections, per_document.seen, queue=False)
    # Every figure (facts_all) is the largest table and no other output is drawn from it: written
    # now, it and the batch's table it shares columns with are let go before the review queue and
    # the other tables are made, and before the pages are redrawn (from the few documents' rows
    # taken out first).
    redraw = reviewing.to_redraw(reviewed, also=per_document.deferred)
    staging.table("facts_all", reviewed.facts_all)
    reviewed.facts_all, result.facts = _empty_like(reviewed.facts_all), _empty_like(result.facts)
    release_unused()
    reviewing.with_queue(reviewed, per_document.seen)
    _redraw_pages(redraw, reviewed, reports, per_document)  # fills the queue's occurrences
    del redraw
    reviewed.queue = compact(reviewed.queue)  # only written and laid out from here on
    # The text tables (the next largest) are drawn from the text counts alone, and only the theme
    # chart's few rows are drawn from them: each is made, written and let go in turn, before the
    # comparison tables are made (unless a process made them beside the review: `_TextTables`).
    if not text_tables.beside:
        text_tables.themes()
        release_unused()
    tables = build_tables(result, reviewed, text_tables.themes)
    facts, flagged = len(reviewed.facts), len(reviewed.queue)
    # `tables` holds what is written of them (the facts compacted once compared)
    reviewed.facts, reviewed.queue = _empty_like(reviewed.facts), _empty_like(reviewed.queue)
    release_unused()
    # The chart process (~300 MB while it draws a chart of 300 cities) draws beside the tables
    # while they are written when they are few; else once they are written and let go (beside a
    # large corpus's tables it was the build's peak).
    charts = _ChartWork(tables.charts, staging)
    beside = _held_mb(tables) < CHARTS_BESIDE_TABLES_MB
    with contextlib.ExitStack() as drawings:
        drawing = drawings.enter_context(charts.start(jobs)) if beside else None
        _write_tables(tables, staging)
        del tables
        release_unused()
        (drawing or drawings.enter_context(charts.start(jobs))).wait()
    written = charts.done()
    for name in written.sources:
        per_document.outputs[name] = previous.outputs[name] if name in written.kept else _sha256(stage / name)
    pages = sorted(n for n in per_document.outputs if n not in written.sources)
    outputs = [*written.sources, *pages]
    staged = [n for n in written.sources if n not in written.kept]
    _swap_in(out, stage, {n: per_document.outputs[n] for n in outputs}, [*staged, *per_document.staged], digest,
             {**written.sources, **per_document.sources}, previous.outputs)
    fresh = set(staged) | set(per_document.staged)
    return Built(outputs, [n for n in outputs if n not in fresh], result, reviewed, facts, flagged)


def _empty_like(table: pd.DataFrame) -> pd.DataFrame:
    """A table with the columns and dtypes of `table` and no rows, sharing none of its memory (a
    slice of Arrow-backed columns would keep all of it; a categorical column keeps no categories)."""
    return pd.DataFrame({name: pd.array([], dtype="category" if isinstance(dtype, pd.CategoricalDtype) else dtype)
                         for name, dtype in table.dtypes.items()})


def _redraw_pages(redraw: reviewing.Redraw, reviewed: Reviewed, reports: reviewing.Reports,
                  per_document: _PerDocument) -> None:
    """The pages of corrected or flagged documents redrawn (before the review queue is written:
    redrawing fills its `occurrence`), unless the previous build drew the same page from the same
    worker page and rows."""
    for doc, html in reviewing.pages(redraw, reviewed, reports, keep=per_document.keep_redrawn,
                                     worker_page=per_document.worker_page, seen=per_document.seen):
        per_document.stage_page(doc, html.encode("utf-8"))


@dataclass
class _PerDocument:
    """What a build does with each document as it arrives: its text counts are added to the
    corpus totals and its evidence page is staged (if it changed); then both are dropped."""

    out: Path
    stage: Path
    pages: dict[str, str]  # document -> its evidence page (relative name)
    stats: TextStats  # the corpus's text counts so far
    seen: reviewing.Seen  # each figure's corrections.csv occurrence, as the workers found it
    previous: _Previous
    outputs: dict[str, str] = field(default_factory=dict)  # every output of the build -> its sha256
    staged: dict[str, None] = field(default_factory=dict)  # the pages written anew, in order (the others are unchanged)
    folders: set[Path] = field(default_factory=set)  # the stage's folders made so far
    # A page the review redraws (a conflict needs the corpus) is recorded as drawn from its worker
    # page and its rows ("worker sha:rows digest"), so the next build keeps it if neither changed.
    sources: dict[str, str] = field(default_factory=dict)
    drawn: dict[str, str] = field(default_factory=dict)  # document -> sha256 of its worker page
    deferred: set[str] = field(default_factory=set)  # documents whose worker page was last redrawn

    def __call__(self, doc: DocResult) -> DocResult:
        self.seen.add(doc.facts)
        if doc.text is not None:
            self.stats.add(doc.text)
        if doc.evidence is not None:
            name = doc.doc_row["doc"]
            data = doc.evidence.encode("utf-8")
            self.drawn[name] = hashlib.sha256(data).hexdigest()
            if self.previous.sources.get(self._page(name), "").startswith(self.drawn[name] + ":"):
                self.deferred.add(name)  # the review will most likely keep the redrawn page: not staged now
            else:
                self.stage_page(name, data)
        return replace(doc, text=None, evidence=None)

    def _page(self, doc: str) -> str:
        return self.pages.get(doc) or _page_names([doc])[doc]

    def keep_redrawn(self, doc: str, rows: list[dict[str, object]]) -> bool:
        """Whether the page the review would redraw for `doc` from `rows` is the previous build's
        (same worker page, same rows, file intact): then it is kept, not redrawn."""
        if doc not in self.drawn:
            return False
        name = self._page(doc)
        source = f"{self.drawn[doc]}:{_rows_digest(rows)}"
        self.sources[name] = source
        if not self.previous.keeps([name], source):
            return False
        self.outputs[name] = self.previous.outputs[name]
        return True

    def worker_page(self, doc: str) -> str | None:
        """The page the worker drew for `doc`, read back from the stage (or from the folder, where
        the same bytes were already): None when it was deferred, or is no longer those bytes."""
        if doc in self.deferred or doc not in self.drawn:
            return None
        name = self._page(doc)
        try:
            data = ((self.stage if name in self.staged else self.out) / name).read_bytes()
        except OSError:
            return None
        return data.decode("utf-8") if hashlib.sha256(data).hexdigest() == self.drawn[doc] else None

    def stage_page(self, doc: str, data: bytes) -> None:
        """A document's evidence page (again, when the review redraws it): staged if it changed."""
        name = self._page(doc)
        self.outputs[name] = hashlib.sha256(data).hexdigest()
        self.staged.pop(name, None)
        if not _same_bytes(self.out / name, data):
            # a plain write: the stage is this build's own folder, and its files reach out/ only
            # by the swap, after all are written and synced (no temporary file and rename per page)
            path = self.stage / name
            if path.parent not in self.folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.folders.add(path.parent)
            path.write_bytes(data)
            self.staged[name] = None


def _rows_digest(rows: list[dict[str, object]]) -> str:
    """What a page is drawn from besides its report: its fact rows, every value in order."""
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BuildTables:
    """The tables of one build other than every figure and the text tables (written and let go
    before these are made), by the name the outputs registry knows them by, the analysis the
    comparison tables come from (the workbook lays it out), and each chart's input."""

    tables: dict[str, pd.DataFrame]
    analysis: Analysis
    charts: list[Chart]


def _write_text_tables(stats: TextStats, staging: _Staging) -> dict[str, pd.DataFrame]:
    """Each text table made, written into the stage (or kept) and let go before the next is made;
    returns the theme chart's input (`chart_inputs.theme_bars`), all that the rest of the build
    needs of them."""
    from ..present.chart_inputs import theme_bars

    themes: dict[str, pd.DataFrame] = {}
    makers: dict[str, Callable[[], pd.DataFrame]] = {
        "theme_shares": stats.theme_shares,
        "attention": stats.attention,
        "keywords": lambda: stats.keywords(top=20),
        "plan_vs_summary": stats.plan_vs_summary,
    }
    for name, make in makers.items():
        table = make()
        if name == "theme_shares":
            themes = theme_bars(table)
        staging.table(name, table)
        del table
    return themes


# text counts spilled (MB) between which a process makes the text tables beside the review: below,
# starting it (~1.5 s) costs more than the tables take; above, its memory would add to the review's
TEXT_TABLES_BESIDE_MB = (8, 256)


class _TextTables:
    """The text tables, made, written into the stage (or kept) and let go; `themes()` returns the
    theme chart's input once they are. With `beside` (jobs > 1 and a corpus whose spilled text
    counts are within TEXT_TABLES_BESIDE_MB: ~20 MB at 1,000 generated reports, ~200 MB at 10,000,
    the seeds' far below) a process of their own makes them while this one reviews the facts and
    makes the comparisons, on the core the batch's workers left idle: 1,000 reports ~2-3 s, 10,000
    ~20 s. It is started afresh ("spawn": it shares no page with this one, so the tree's RSS counts
    what it holds, ~250 MB at 10,000 reports) and handed the text counts without their spilled
    word counts, which it reads from the spill file in the stage (`TextStats.shared`). A larger
    corpus makes them here, between the review and the comparisons, so that their memory never
    adds to either's. The outputs are the same bytes either way."""

    def __init__(self, stats: TextStats, staging: _Staging, beside: bool):
        self.stats = stats
        self.staging = staging
        low, high = TEXT_TABLES_BESIDE_MB
        self.beside = beside and low * 1e6 <= stats.spilled < high * 1e6
        self._themes: dict[str, pd.DataFrame] | None = None
        self._process = self._answer = None
        if self.beside:
            import multiprocessing as mp

            context = mp.get_context("spawn")
            self._answer, reply = context.Pipe(duplex=False)
            self._process = context.Process(target=_text_tables_process, name="envcompare-text-tables", daemon=True,
                                            args=(stats.shared(), staging.stage, staging.previous, reply))
            self._process.start()
            reply.close()

    def themes(self) -> dict[str, pd.DataFrame]:
        """The theme chart's input; the tables are made (or their process is waited for) at the
        first call. Its spilled word counts are in the tables then: the temporary file goes."""
        if self._themes is None:
            self._themes = self._wait() if self._process is not None else _write_text_tables(self.stats, self.staging)
            self.stats.close()
        return self._themes

    def _wait(self) -> dict[str, pd.DataFrame]:
        try:
            made, answer = self._answer.recv()
        except EOFError:
            self._process.join()
            raise BuildError(f"the process making the text tables ended without them (exit code "
                             f"{self._process.exitcode})") from None
        self._process.join()
        self._process = None
        if not made:
            raise answer
        done, digests, themes = answer
        self.staging.add(done, digests)
        return themes

    def __enter__(self) -> _TextTables:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:  # left early (an error): stop it
            self._process.terminate()
            self._process.join()
            self._process = None
        if self._answer is not None:
            self._answer.close()


def _text_tables_process(shared: SharedTextStats, stage: Path, previous: _Previous, reply) -> None:
    """The process of `_TextTables`: the text tables written into the stage, and what it wrote (or
    kept) with the theme chart's input sent back; an error is sent back to be raised."""
    staging = _Staging(stage, previous)
    try:
        with shared.open() as stats:
            answer = (True, (staging.done, staging.tables, _write_text_tables(stats, staging)))
    except Exception as exc:  # raised in the build, as if made there
        answer = (False, exc)
    try:
        reply.send(answer)
    except Exception as exc:  # what does not pickle goes back as text
        why = exc if answer[0] else f"{type(answer[1]).__name__}: {answer[1]}"
        reply.send((False, BuildError(f"making the text tables in their own process failed: {why}")))
    finally:
        reply.close()


def build_tables(result: BatchResult, reviewed: Reviewed, themes: Callable[[], dict[str, pd.DataFrame]]) -> BuildTables:
    """The reviewed catalog facts, the review queue (and the stale corrections, if any), documents,
    comparison and panel tables: each computed once; and the charts' inputs (`themes()`: the theme
    chart's, from the text tables, asked for once the comparisons are made). The facts are
    compacted once they are compared (`compact`): from here on they are only written and laid out."""
    from ..comparison.analysis import analyse
    from ..comparison.panel import panel
    from ..present.chart_inputs import key_charts

    analysis = analyse(reviewed.facts)
    city_years = panel(reviewed.facts, actuals=analysis.all_years)  # the same comparison: not made twice
    charts = key_charts(analysis.facts, analysis.references, analysis.judged(), themes())
    documents = with_fact_counts(result.documents, reviewed.facts)
    facts = compact(reviewed.facts)
    analysis = replace(analysis, facts=facts)
    tables = {
        "facts": facts,
        "review": reviewed.queue,
        **({"corrections_stale": reviewing.stale_table(reviewed.stale)} if reviewed.stale else {}),
        "documents": documents,
        **analysis.tables(),
        "panel": city_years.wide,
        "panel_long": city_years.long,
        "panel_variables": city_years.variables,
    }
    return BuildTables(tables, analysis, charts)


@dataclass
class Written:
    """The files of the registry a build has (tables, panel files, workbook, charts), in the
    registry's order, each with the digest of what it is drawn from; those `kept` from the
    previous build because that did not change (the others are in the stage)."""

    sources: dict[str, str] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)


class _Staging:
    """Writes the registry's outputs into the stage, one at a time: an output is kept instead when
    the previous build drew it from the same source (and its files are still as it wrote them).
    `done`: what is written or kept so far; `tables`: the tables whose outputs are."""

    def __init__(self, stage: Path, previous: _Previous):
        self.stage = stage
        self.previous = previous
        self.done = Written()
        self.digest = _Digests()
        self.tables: dict[str, str] = {}  # table -> its digest

    def output(self, names: list[str], source: str, write: Callable[[], list[Path]]) -> None:
        """`names` drawn from `source`, by `write` (which returns the paths it wrote)."""
        if names and self.previous.keeps(names, source):
            self.done.kept.update(names)
        else:
            names = [Path(p).relative_to(self.stage).as_posix() for p in write()]
        self.done.sources.update(dict.fromkeys(names, source))

    def add(self, done: Written, tables: dict[str, str]) -> None:
        """What another process wrote into (or kept for) the same stage, and its tables' digests."""
        self.done.sources.update(done.sources)
        self.done.kept.update(done.kept)
        self.tables.update(tables)

    def table(self, name: str, table: pd.DataFrame) -> None:
        """The outputs of the registry that are the table `name` (a .csv)."""
        self.tables[name] = source = self.digest(table)
        for o in table_outputs():
            if o.table == name:
                self.output([o.file], source, lambda f=o.file: [write_table(table, self.stage / f)])


def _write_tables(built: BuildTables, staging: _Staging) -> None:
    """Every table of the registry not written yet, the panel files and the workbook into the
    stage, except those whose tables are the same as for the previous build."""
    from ..present.excel import write_workbook

    tables, analysis = built.tables, built.analysis
    stage, digest, output = staging.stage, staging.digest, staging.output
    for name in dict.fromkeys(o.table for o in table_outputs() if o.table in tables or not o.optional):
        if name not in staging.tables:
            staging.table(name, tables[name])
    city_years = Panel(tables["panel"], tables["panel_long"], tables["panel_variables"])
    output(list(BINARY_FILES), digest(city_years.wide, city_years.long, city_years.variables),
           lambda: write_panel_binaries(city_years, stage))
    workbook = digest(analysis.references, *(tables[name] for name in sorted(tables)))
    output([WORKBOOK], workbook, lambda: [write_workbook(analysis, stage / WORKBOOK, tables)])


CHARTS_BESIDE_TABLES_MB = 64  # tables held while writing, under which the charts are drawn beside them


class _ChartWork:
    """The build's charts: which to draw (those drawn from the same input as for the previous
    build are kept), each one's source, and the drawing (`start`): by the chart process and, once
    it waits, this one (jobs > 1)."""

    def __init__(self, charts: list[Chart], staging: _Staging):
        self.charts = charts
        self.staging = staging
        self.sources = [staging.digest.of_chart(chart) for chart in charts]
        self.redrawn = [not staging.previous.keeps(_figure_names(c), d) for c, d in zip(charts, self.sources, strict=True)]

    def start(self, jobs: int) -> Drawing:
        from ..present.drawing import start_drawing

        return start_drawing(list(compress(self.charts, self.redrawn)), self.staging.stage / "figures", jobs=jobs)

    def done(self) -> Written:
        """Every output so far, the charts' included, in the registry's order."""
        done = self.staging.done
        for chart, source, drawn in zip(self.charts, self.sources, self.redrawn, strict=True):  # in chart order
            if not drawn:
                done.kept.update(_figure_names(chart))
            done.sources.update(dict.fromkeys(_figure_names(chart), source))
        order = {o.file: i for i, o in enumerate(table_outputs())}  # tables written ahead take their place again
        done.sources = dict(sorted(done.sources.items(), key=lambda item: order.get(item[0], len(order))))
        return done


def _held_mb(built: BuildTables) -> float:
    """The memory of the tables a build holds while it writes them."""
    return sum(float(t.memory_usage(deep=True).sum()) for t in built.tables.values()) / 1e6


def _figure_names(chart: Chart) -> list[str]:
    """A chart's files, relative to the output folder."""
    return [f"figures/{name}" for name in chart.files()]


class _Digests:
    """What a set of tables holds (columns, dtypes, every value, in order) and the code that
    writes them: an output drawn from tables with the same digest comes out with the same bytes.
    Each table is hashed once per build, however many outputs are drawn from it: a table's hash is
    kept by its id while it lives (a table let go takes its hash with it, so the id of a new one
    never finds it)."""

    def __init__(self) -> None:
        self.each: dict[int, bytes] = {}

    def __call__(self, *frames: pd.DataFrame) -> str:
        h = hashlib.sha256(code_version().encode())
        for frame in frames:
            key = id(frame)
            if key not in self.each:
                self.each[key] = self._of(frame)
                weakref.finalize(frame, self.each.pop, key, None)
            h.update(self.each[key])
        return h.hexdigest()

    def of_chart(self, chart: Chart) -> str:
        """A chart's input (`chart_inputs.Chart`): its name, drawing and language, and what it draws
        (tables with their row labels, lists of names)."""
        h = hashlib.sha256(code_version().encode())
        h.update(json.dumps([chart.stem, chart.draw, chart.lang], ensure_ascii=False).encode())
        for chunk in self._chunks(chart.data):
            h.update(chunk)
        return h.hexdigest()

    def _chunks(self, value: object) -> Iterator[bytes]:
        """A value of a chart's input as bytes: tables (the row labels included), their tuples and
        lists, and plain values by their type and text."""
        if isinstance(value, pd.DataFrame):
            yield b"table"
            yield self._of(value, index=True)
        elif isinstance(value, (tuple, list)):
            yield f"{type(value).__name__}[{len(value)}]".encode()
            for item in value:
                yield from self._chunks(item)
        else:
            yield json.dumps([type(value).__name__, str(value)], ensure_ascii=False).encode()

    @staticmethod
    def _of(frame: pd.DataFrame, index: bool = False) -> bytes:
        h = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()], ensure_ascii=False).encode())
        h.update(str(len(frame)).encode())
        try:
            if index:
                h.update(json.dumps([str(n) for n in frame.index.names], ensure_ascii=False).encode())
            h.update(pd.util.hash_pandas_object(frame, index=index).to_numpy().tobytes())
        except TypeError:  # a cell that cannot be hashed (a list): never the same, always written
            h.update(os.urandom(16))
        return h.digest()


class _Previous:
    """The outputs of the previous build into the folder (its manifest): which were drawn from
    which tables, and their bytes' digests."""

    def __init__(self, out: Path):
        self.out = out
        manifest = _read_manifest(out)
        self.outputs: dict[str, str] = manifest["outputs"] if manifest else {}
        sources = manifest.get("sources") if manifest else None
        self.sources: dict[str, str] = sources if isinstance(sources, dict) else {}

    def keeps(self, names: list[str], source: str) -> bool:
        """Every one of `names` was drawn from `source` and is still as the previous build wrote it."""
        for name in names:
            if self.sources.get(name) != source or name not in self.outputs:
                return False
            try:
                if _sha256(self.out / name) != self.outputs[name]:
                    return False
            except OSError:
                return False
        return True

    def names(self, source: str, under: str) -> list[str]:
        """The files under `under` the previous build drew from `source`, if they are all intact
        (none otherwise: they are drawn again)."""
        names = [n for n, s in self.sources.items() if n.startswith(under) and s == source]
        return names if names and self.keeps(names, source) else []


# --- the transaction: lock, manifest, staging ---------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _read_manifest(out: Path) -> dict | None:
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != 1 or not isinstance(manifest.get("outputs"), dict):
        return None
    return manifest


def _up_to_date(out: Path, digest: str | None) -> list[str] | None:
    """The outputs of the last build, when they were built from the same inputs (files, names, options,
    code and data) and every one of them is still there with the bytes that build wrote."""
    manifest = _read_manifest(out)
    if digest is None or manifest is None or manifest.get("inputs") != digest:
        return None
    for name, sha in manifest["outputs"].items():
        try:
            if _sha256(out / name) != sha:
                return None
        except OSError:
            return None
    return list(manifest["outputs"])


class BuildLock:
    """out/.envcompare-lock holds the pid of the build writing into out/. A lock whose build no
    longer runs (killed) is taken over; a live one stops this build with one line."""

    def __init__(self, out: Path):
        self.path = out / LOCK
        self.mine = f"{os.getpid()} {socket.gethostname()}\n"

    def __enter__(self) -> BuildLock:
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._check_holder()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.mine)
            return self
        raise BuildError(f"cannot take the build lock {self.path}: other builds keep taking it")

    def _check_holder(self) -> None:
        try:
            held = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        pid_text, _, host = held.strip().partition(" ")
        pid = int(pid_text) if pid_text.isdigit() else 0
        if pid and host == socket.gethostname() and _alive(pid):
            raise BuildError(f"another build (pid {pid}) is writing into {self.path.parent}; wait for it to finish "
                             f"(or delete {self.path} if no build is running)")
        if pid and host and host != socket.gethostname():
            raise BuildError(f"a build on {host} (pid {pid}) is writing into {self.path.parent}; wait for it to "
                             f"finish (or delete {self.path} if no build is running)")
        print(f"note: taking over the lock of a build that no longer runs ({self.path})", file=sys.stderr)
        with contextlib.suppress(OSError):
            if self.path.read_text(encoding="utf-8") == held:  # not already taken over by another build
                self.path.unlink()

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(OSError):
            if self.path.read_text(encoding="utf-8") == self.mine:
                self.path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return False
    return True


def _clean_stale(out: Path) -> None:
    """Temporary files and a staging folder left by a killed build (the lock says none runs)."""
    shutil.rmtree(out / STAGE, ignore_errors=True)
    for folder in (out, out / "evidence", out / "figures"):
        if not folder.is_dir():
            continue
        tree = folder.rglob(".*") if folder != out else folder.glob(".*")
        for path in tree:
            if path.name not in (MANIFEST, LOCK) and TEMP_FILE.fullmatch(path.name) and path.is_file():
                path.unlink(missing_ok=True)


def _page_names(docs: list[str]) -> dict[str, str]:
    """Each document's evidence page, relative to the output folder: evidence/<doc without its
    suffix>.html, or evidence/<doc>.html for documents whose names differ only in the suffix."""
    def safe(doc: str) -> str:
        parts = [p if p != ".." else "_" for p in PurePosixPath(doc).parts if p not in ("/", ".", "")]
        return "/".join(parts) or "_"

    short = {d: "evidence/" + str(PurePosixPath(safe(d)).with_suffix("")) + ".html" for d in docs}
    taken: dict[str, int] = {}
    for page in short.values():
        taken[page] = taken.get(page, 0) + 1
    return {d: page if taken[page] == 1 else f"evidence/{safe(d)}.html" for d, page in short.items()}


def _swap_in(out: Path, stage: Path, outputs: dict[str, str], staged: list[str], inputs: str | None,
             sources: dict[str, str], previous: dict[str, str]) -> None:
    """Move a build's staged outputs into place and record them (with what each is drawn from);
    remove what the previous build recorded and this one did not make. The old manifest goes first
    and the new one comes last: a crash in between leaves no manifest, and the next build redoes all."""
    os.sync()  # the staged files are on disk before any of them replaces a previous output
    (out / MANIFEST).unlink(missing_ok=True)
    for name in staged:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / name, target)
    for name in set(previous) - set(outputs):  # what the last build wrote and this one did not
        with contextlib.suppress(OSError):
            (out / name).unlink()
    _remove_stale_pages(out, outputs)
    os.sync()
    manifest = {"format": 1, "inputs": inputs, "outputs": outputs, "sources": sources}
    atomic_write(out / MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=0, sort_keys=True), encoding="utf-8"))


def _remove_stale_pages(out: Path, outputs: dict[str, str]) -> None:
    """Evidence pages of reports no longer in the corpus, and the folders they leave empty."""
    evidence = out / "evidence"
    if not evidence.is_dir():
        return
    for page in sorted(evidence.rglob("*.html"), reverse=True):
        if page.relative_to(out).as_posix() not in outputs:
            page.unlink(missing_ok=True)
    for folder in sorted((p for p in evidence.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # empty ones only


def _output_folder(out: Path) -> None:
    """Create the output folder; a file where it (or a folder above it) should be is an error."""
    for path in (out, *out.parents):
        if path.exists():
            if not path.is_dir():
                raise BuildError(f"{path} is not a folder (-o/--out names the folder build writes into)")
            break
    out.mkdir(parents=True, exist_ok=True)
