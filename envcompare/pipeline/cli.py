"""Command line: `python -m envcompare` / `envcompare`. Each subcommand is one pipeline job."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pandas as pd

from ..errors import DataFileError
from ..extraction.tidy import with_fact_counts
from ..ingest.load import FORMATS, Corpus, doc_names, list_files, load_reports
from ..present.export import check_output_type, write_table
from ..present.output import atomic_write
from ..review.corrections import CorrectionError
from ..version import __version__
from . import reviewing
from .batch import CacheError, RunError


class UsageError(Exception):
    """A problem with what the command was asked to do: one line to stderr, exit status 2."""


def _n(count: int, noun: str) -> str:
    """'1 report', '2 reports'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _require_reports(loaded: int, errors: list, paths: Sequence[str]) -> None:
    """A usage error when nothing could be read: no files at all, or every file failed."""
    if not loaded and not errors:
        raise UsageError(f"no report files ({', '.join(FORMATS)}) under {', '.join(map(str, paths))}")
    if not loaded:
        reasons = "; ".join(f"{e.path}: {e.reason}" for e in errors[:3])
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        raise UsageError(f"no report could be loaded: {reasons}{more}")


def _load(args: argparse.Namespace) -> Corpus:
    corpus = load_reports(args.paths)
    _require_reports(len(corpus.reports), corpus.errors, args.paths)
    return corpus


def _finish(corpus: Corpus, args: argparse.Namespace) -> int:
    """Name every file that failed; exit 0 on partial success unless --strict."""
    for e in corpus.errors:
        print(f"skipped {e.path}: {e.reason}", file=sys.stderr)
    if not corpus.reports:
        print("envcompare: no report could be loaded", file=sys.stderr)
        return 1
    return 1 if corpus.errors and getattr(args, "strict", False) else 0


def cmd_load(args: argparse.Namespace) -> int:
    corpus = _load(args)
    docs = corpus.documents()
    if args.output:
        write_table(docs, Path(args.output))
        print(f"wrote {args.output} ({_n(len(docs), 'document')})")
    else:
        cols = ["doc", "city", "province", "doc_type", "report_year", "published", "chars", "error"]
        print(docs[cols].to_string(index=False))
    return _finish(corpus, args)


def _companion(path: Path) -> Path:
    """documents table beside a facts file: facts.csv -> facts.documents.csv"""
    return path.with_name(f"{path.stem}.documents{path.suffix}")


def _batch(args: argparse.Namespace, unmapped: bool, analyse: bool = False, each=None):
    """Extract every file under the paths with the run options of the command line."""
    from .batch import run

    result = run(
        args.paths, unmapped=unmapped, jobs=args.jobs, engine=args.engine, scheduler=args.scheduler,
        cache_dir=None if args.no_cache else args.cache, progress=False if args.quiet else None,
        analyse=analyse, each=each, doc_timeout=args.doc_timeout or None,
    )
    _require_reports(result.loaded, result.errors, args.paths)
    return result


def _finish_batch(result, args: argparse.Namespace) -> int:
    for e in result.errors:
        print(f"skipped {e.path}: {e.reason}", file=sys.stderr)
    return 1 if result.errors and args.strict else 0


def cmd_extract(args: argparse.Namespace) -> int:
    out = Path(args.output)
    check_output_type(out)
    found = _corrections(args)  # review: corrections.csv (before the batch: a bad file stops here)
    result = _batch(args, args.unmapped or bool(found.corrections))
    reviewed = reviewing.review_result(result, reviewing.Reports(args.paths), found)  # review: applied, flagged
    facts = reviewed.facts if not args.unmapped else reviewed.facts_all[reviewed.facts_all["status"].ne("rejected")]
    write_table(facts, out)
    write_table(with_fact_counts(result.documents, reviewed.facts), _companion(out))
    print(f"wrote {out} ({_n(len(facts), 'fact')} from {_n(result.loaded, 'report')}; "
          f"{result.from_cache} from the cache)")
    print(f"wrote {_companion(out)} ({_n(len(result.documents), 'document')})")
    reviewing.report(reviewed, found)
    return max(_finish_batch(result, args), reviewing.strict_status(reviewed, args.strict))


def _corrections(args: argparse.Namespace) -> reviewing.RunCorrections:
    """The run's corrections (--corrections FILE or corrections.csv beside the reports); a
    malformed file is a usage error listing every problem."""
    try:
        return reviewing.run_corrections(args.paths, args.corrections)
    except CorrectionError as exc:
        raise UsageError("cannot use the corrections:\n  " + "\n  ".join(exc.problems)) from exc


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import LabelError, default_labels, evaluate, label_domains, labelled_docs, read_labels

    labels_path = Path(args.labels) if args.labels else default_labels()
    try:
        labels = read_labels(labels_path)
    except LabelError as exc:
        raise UsageError(str(exc)) from exc
    files, _ = list_files(args.paths)
    if not labelled_docs(labels) & set(doc_names(files, args.paths)):
        raise UsageError("no annotated documents among these paths")
    domains = [d.strip() for d in args.domains.split(",") if d.strip()] if args.domains else None
    if domains and not set(domains) & label_domains(labels):
        raise UsageError(f"the labels have no indicator of the domains {', '.join(domains)} "
                         f"(they have {', '.join(sorted(label_domains(labels))) or 'none'})")
    if args.output:
        check_output_type(Path(args.output))
    result = _batch(args, unmapped=False)
    try:
        ev = evaluate(result.facts, labels, domains=domains, docs=list(result.documents["doc"]))
    except LabelError as exc:
        raise UsageError(str(exc)) from exc
    if args.output:  # before the report, which may go to a pipe that closes early
        write_table(ev.table(), Path(args.output))
    _print_evaluation(ev, labels_path, args.misses)
    absent = sorted(labelled_docs(labels) - set(result.documents["doc"]))
    if absent:
        print(f"note: {len(absent)} labelled documents are not among these paths (not scored): "
              + ", ".join(absent[:5]) + (" ..." if len(absent) > 5 else ""), file=sys.stderr)
    if args.output:
        print(f"wrote {args.output} ({len(ev.labels)} labels, {len(ev.extras)} extras)")
    for e in result.errors:
        print(f"skipped {e.path}: {e.reason}", file=sys.stderr)
    return 0 if ev.recall >= args.min_recall and ev.precision >= args.min_precision else 1


def _print_evaluation(ev, labels_path: Path, all_misses: bool) -> None:
    def table(t: pd.DataFrame, name: str) -> str:
        t = t.rename(columns={"key": name})
        return t.to_string(index=False, na_rep="-", float_format=lambda x: f"{x:.3f}")

    qualified = int((ev.labels["qualifier"] != "").sum()) if len(ev.labels) else 0
    print(f"labels {labels_path}; domains {', '.join(ev.domains) or '-'}; "
          f"{qualified} labels with a qualifier (scored)")
    print(table(ev.by_doc, "document"))
    print()
    print(table(ev.by_domain, "domain"))
    missed = ev.labels[ev.labels["result"] == "missed"]
    print(f"\nmisses: {len(missed)}" + ("" if missed.empty else " by reason: " + "; ".join(
        f"{reason} {n}" for reason, n in missed["reason"].value_counts().items())))
    if all_misses:
        for r in missed.itertuples():
            print(f"  MISS {_describe_label(r)}\n       {r.reason}: {_describe_fact(r)}")
        print(f"extras: {len(ev.extras)}")
        for r in ev.extras.itertuples():
            print(f"  EXTRA {r.doc} {_describe_fact(r)}\n        "
                  + (r.reason if r.reason.startswith("no ") else f"{r.reason} vs label {_describe_label(r)}"))
    else:
        print(f"extras: {len(ev.extras)}  (--misses lists every miss and extra)")
    print(f"overall: {int(ev.by_doc['found'].sum())}/{int(ev.by_doc['labels'].sum())} labels found, "
          f"{int(ev.by_doc['right'].sum())} facts right, {int(ev.by_doc['wrong'].sum())} wrong")
    print(f"recall {ev.recall:.3f} precision {ev.precision:.3f}")


def _describe_label(r) -> str:
    q = f" [{r.qualifier}]" if r.qualifier else ""
    opt = " (optional)" if r.required == "optional" else ""
    return (f"{r.doc}:{r.line} {r.area or '-'} {r.year or '-'} {r.period or '-'} {r.indicator} {r.kind} "
            f"{r.value:g} {r.unit}{q}{opt} \u00ab{r.evidence}\u00bb")


def _describe_fact(r) -> str:
    if pd.isna(r.fact_value):
        return "no fact in the document has this value"
    def show(x):
        return "-" if pd.isna(x) or x == "" else x
    q = f" [{r.fact_qualifier}]" if not pd.isna(r.fact_qualifier) and r.fact_qualifier else ""
    return (f"fact {show(r.fact_city)} {show(r.fact_year)} {show(r.fact_period)} {r.fact_indicator} {r.fact_kind} "
            f"{r.fact_value:g} {r.fact_unit}{q} \u00ab{r.fact_evidence}\u00bb @{r.fact_start}")


MANIFEST = ".envcompare-build"  # what the outputs were built from, and the digest of each
LOCK = ".envcompare-lock"  # one build at a time into a folder
STAGE = ".envcompare-staging"  # a build's new outputs, until they are moved into place together
# temporary files of output.atomic_write (".name.XXXXXXXX.suffix") left behind by a killed run
TEMP_FILE = re.compile(r"\..+\.[A-Za-z0-9_]{8}(\.[A-Za-z0-9]+)?")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


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


class _BuildLock:
    """out/.envcompare-lock holds the pid of the build writing into out/. A lock whose build no
    longer runs (killed) is taken over; a live one stops this build with one line."""

    def __init__(self, out: Path):
        self.path = out / LOCK
        self.mine = f"{os.getpid()} {socket.gethostname()}\n"

    def __enter__(self) -> _BuildLock:
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._check_holder()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.mine)
            return self
        raise UsageError(f"cannot take the build lock {self.path}: other builds keep taking it")

    def _check_holder(self) -> None:
        try:
            held = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        pid_text, _, host = held.strip().partition(" ")
        pid = int(pid_text) if pid_text.isdigit() else 0
        if pid and host == socket.gethostname() and _alive(pid):
            raise UsageError(f"another build (pid {pid}) is writing into {self.path.parent}; wait for it to finish "
                             f"(or delete {self.path} if no build is running)")
        if pid and host and host != socket.gethostname():
            raise UsageError(f"a build on {host} (pid {pid}) is writing into {self.path.parent}; wait for it to "
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


def _swap_in(out: Path, stage: Path, outputs: dict[str, str], staged: list[str], inputs: str | None) -> None:
    """Move a build's staged outputs into place and record them. The old manifest goes first and
    the new one comes last: a crash in between leaves no manifest, and the next build redoes all."""
    old = _read_manifest(out) or {"outputs": {}}
    os.sync()  # the staged files are on disk before any of them replaces a previous output
    (out / MANIFEST).unlink(missing_ok=True)
    for name in staged:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / name, target)
    for name in set(old["outputs"]) - set(outputs):  # what the last build wrote and this one did not
        with contextlib.suppress(OSError):
            (out / name).unlink()
    evidence = out / "evidence"
    if evidence.is_dir():  # pages of reports no longer in the corpus
        for page in sorted(evidence.rglob("*.html"), reverse=True):
            if page.relative_to(out).as_posix() not in outputs:
                page.unlink(missing_ok=True)
        for folder in sorted((p for p in evidence.rglob("*") if p.is_dir()), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # empty ones only
    os.sync()
    manifest = {"format": 1, "inputs": inputs, "outputs": outputs}
    atomic_write(out / MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=0, sort_keys=True), encoding="utf-8"))


def cmd_build(args: argparse.Namespace) -> int:
    out = Path(args.out)
    _output_folder(out)
    with _BuildLock(out):
        _clean_stale(out)
        stage = out / STAGE
        try:
            return _build(args, out, stage)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _build(args: argparse.Namespace, out: Path, stage: Path) -> int:
    from .batch import inputs_digest

    found = _corrections(args)
    digest = inputs_digest(args.paths, unmapped=True, analyse=True,
                           options=f"doc_timeout={args.doc_timeout};corrections={found.digest()}")
    current = None if args.no_cache else _up_to_date(out, digest)
    if current and reviewing.STALE_FILE not in current:  # stale corrections are reported again
        # same files, same code and data: every output would come out byte-identical
        print(f"up to date: no report, code or data file changed since the last build; "
              f"the {len(current)} outputs in {out} are current")
        return 0
    from ..policytext.text import TextStats

    stage.mkdir()
    files, _ = list_files(args.paths)
    pages = _page_names(doc_names(files, args.paths))
    stats = TextStats()
    outputs: dict[str, str] = {}  # every output of this build (relative name) -> its sha256
    staged: list[str] = []  # those written anew (the others are unchanged evidence pages)

    seen = reviewing.Seen()  # review: each figure's corrections.csv occurrence, from the workers

    def each(doc):  # runs as each document arrives: its page is staged (if changed), its counts added
        seen.add(doc.facts)
        if doc.text is not None:
            stats.add(doc.text)
        if doc.evidence is not None:
            name = pages.get(doc.doc_row["doc"]) or _page_names([doc.doc_row["doc"]])[doc.doc_row["doc"]]
            data = doc.evidence.encode("utf-8")
            outputs[name] = hashlib.sha256(data).hexdigest()
            if not _same_bytes(out / name, data):
                atomic_write(stage / name, lambda p: p.write_bytes(data), durable=False)
                staged.append(name)
        return replace(doc, text=None, evidence=None)

    result = _batch(args, unmapped=True, analyse=True, each=each)
    # review: corrections applied, facts flagged; pages of corrected or flagged documents redrawn
    reports = reviewing.Reports(args.paths)
    reviewed = reviewing.review_result(result, reports, found, seen)
    for doc, html in reviewing.pages(reviewed, reports):
        name, data = pages.get(doc) or _page_names([doc])[doc], html.encode("utf-8")
        outputs[name] = hashlib.sha256(data).hexdigest()
        if name in staged:
            staged.remove(name)
        if not _same_bytes(out / name, data):
            atomic_write(stage / name, lambda p, data=data: p.write_bytes(data), durable=False)
            staged.append(name)
    everything, facts = reviewed.facts_all, reviewed.facts
    docs = with_fact_counts(result.documents, facts)
    from ..comparison.analysis import all_pairs_benchmark, comparison_tables, load_references, targets_vs_actuals
    from ..present.excel import to_excel

    written = [
        write_table(facts, stage / "facts.csv"),
        write_table(everything, stage / "facts_all.csv"),
        write_table(docs, stage / "documents.csv"),
        write_table(shares := stats.theme_shares(), stage / "theme_shares.csv"),
        write_table(stats.attention(), stage / "attention.csv"),
        write_table(stats.keywords(top=20), stage / "keywords.csv"),
        write_table(stats.plan_vs_summary(), stage / "plan_vs_summary.csv"),
        write_table(reviewed.queue, stage / "review.csv"),
    ]
    if reviewed.stale:
        written.append(write_table(reviewing.stale_table(reviewed.stale), stage / reviewing.STALE_FILE))
    written += [write_table(table, stage / f"{name}.csv") for name, table in comparison_tables(facts).items()]
    judged = pd.concat([targets_vs_actuals(facts), all_pairs_benchmark(facts)], ignore_index=True)
    from ..present.charts import start_key_figures

    # the chart workers draw while this process writes the workbook
    with start_key_figures(facts, load_references(), judged, shares, stage / "figures", jobs=args.jobs) as charts:
        written.append(to_excel(facts, stage / "envcompare.xlsx", documents=docs, review=reviewed.queue))
        written += charts.wait()
    tables = [Path(p).relative_to(stage).as_posix() for p in written]
    for name in tables:
        outputs[name] = _sha256(stage / name)
    page_names = sorted(n for n in outputs if n not in tables)
    _swap_in(out, stage, {n: outputs[n] for n in [*tables, *page_names]}, [*tables, *staged], digest)
    print(f"loaded {_n(result.loaded, 'report')} from {', '.join(map(str, args.paths))} ({len(result.errors)} failed); "
          f"{_n(result.from_cache, 'document')} came from the cache, {result.processed} "
          f"{'was' if result.processed == 1 else 'were'} extracted")
    print(f"extracted {_n(len(facts), 'catalog fact')}; {_n(len(reviewed.queue), 'fact')} flagged for review (review.csv)")
    reviewing.report(reviewed, found)
    for name in [*tables, *page_names]:
        print(f"wrote {out / name}")
    return max(_finish_batch(result, args), reviewing.strict_status(reviewed, args.strict))


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _output_folder(out: Path) -> None:
    """Create the output folder; a file where it (or a folder above it) should be is a usage error."""
    for path in (out, *out.parents):
        if path.exists():
            if not path.is_dir():
                raise UsageError(f"{path} is not a folder (-o/--out names the folder build writes into)")
            break
    out.mkdir(parents=True, exist_ok=True)


def _check_run_options(args: argparse.Namespace) -> None:
    """--scheduler needs --engine dask; --jobs is capped at the cores this process may use."""
    from .batch import available_cores

    if getattr(args, "scheduler", None) and args.engine != "dask":
        raise UsageError("--scheduler needs --engine dask (it names a Dask scheduler)")
    if not hasattr(args, "jobs"):
        return
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1 (got {args.jobs})")
    if getattr(args, "doc_timeout", None) is not None and args.doc_timeout < 0:
        raise UsageError(f"--doc-timeout must be 0 (no limit) or more seconds (got {args.doc_timeout:g})")
    cores = available_cores()
    if args.jobs is None:
        args.jobs = cores
    elif args.jobs > cores and not (args.engine == "dask" and args.scheduler):
        print(f"note: --jobs {args.jobs} capped at {cores}, the cores available", file=sys.stderr)
        args.jobs = cores


def _run_options(p: argparse.ArgumentParser) -> None:
    from .batch import DOC_TIMEOUT

    p.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default and most: the cores available)")
    p.add_argument("--engine", choices=["processes", "dask"], default="processes", help="how documents are mapped (default: processes)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: an existing Dask scheduler (default: local processes)")
    p.add_argument("--cache", default=".envcompare-cache", metavar="DIR", help="per-document result cache (default: .envcompare-cache)")
    p.add_argument("--no-cache", action="store_true", help="extract every document again, ignore and keep no cache")
    p.add_argument("--doc-timeout", type=float, default=DOC_TIMEOUT, metavar="SECONDS",
                   help=f"a document that takes longer is recorded as failed (default {DOC_TIMEOUT:g}; 0: no limit)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="envcompare",
        description="Extract and compare figures from Chinese city environmental reports.",
    )
    p.add_argument("--version", action="version", version=f"envcompare {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="the main job: reports -> out/ (tables, workbook, charts)",
                       description="Load, extract and compare the reports under PATH and write the results to --out.")
    b.add_argument("paths", nargs="*", default=["seeds"], metavar="PATH", help="report files or folders (default: seeds)")
    b.add_argument("-o", "--out", default="out", help="output folder (default: out)")
    b.add_argument("--strict", action="store_true", help="exit non-zero when any file fails to load or a correction is stale")
    b.add_argument("--corrections", metavar="FILE", help="corrections to apply (default: corrections.csv beside the reports)")
    _run_options(b)
    b.set_defaults(func=cmd_build)

    ex = sub.add_parser("extract", help="extract every figure into the tidy facts table",
                        description="Extract facts from report files/folders; also writes a documents table beside them.")
    ex.add_argument("paths", nargs="+", metavar="PATH", help="report files or folders")
    ex.add_argument("-o", "--output", default="facts.csv", help="facts table: .csv (default facts.csv), .parquet or .xlsx")
    ex.add_argument("--unmapped", action="store_true", help="also keep figures that match no catalog indicator (label column)")
    ex.add_argument("--strict", action="store_true", help="exit non-zero when any file fails to load or a correction is stale")
    ex.add_argument("--corrections", metavar="FILE", help="corrections to apply (default: corrections.csv beside the reports)")
    _run_options(ex)
    ex.set_defaults(func=cmd_extract)

    ev = sub.add_parser("evaluate", help="recall and precision against hand labels, with the reason of every miss",
                        description="Extract the reports under PATH and score the facts against a labels file "
                                    "(README: Checking the extraction on your own sample).")
    ev.add_argument("paths", nargs="*", default=["seeds"], metavar="PATH", help="labelled reports (default: seeds)")
    ev.add_argument("--labels", metavar="LABELS.csv", help="hand labels (default: data/gold/labels.csv, the seeds' gold)")
    ev.add_argument("--domains", metavar="D,D", help="indicator domains scored, e.g. air,water (default: every domain of the labels)")
    ev.add_argument("--misses", action="store_true", help="list every miss and every extra (wrong fact) with its reason")
    ev.add_argument("-o", "--output", metavar="FILE", help="write the per-label results (+ extras): .csv, .parquet or .xlsx")
    ev.add_argument("--min-recall", type=float, default=0.0, metavar="R", help="exit 1 when the overall recall is below R")
    ev.add_argument("--min-precision", type=float, default=0.0, metavar="P", help="exit 1 when the overall precision is below P")
    _run_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    ld = sub.add_parser("load", help="load reports and show the documents table",
                        description="Load report files/folders and print (or write) one row per document.")
    ld.add_argument("paths", nargs="+", metavar="PATH", help="report files or folders")
    ld.add_argument("-o", "--output", help="write the table (.csv, .parquet or .xlsx) instead of printing it")
    ld.add_argument("--strict", action="store_true", help="exit non-zero when any file fails to load")
    ld.set_defaults(func=cmd_load)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        _check_run_options(args)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("envcompare: interrupted; outputs and cache are as they were before, or complete", file=sys.stderr)
        return 130
    except RunError as exc:
        print(f"envcompare: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"envcompare: {exc}", file=sys.stderr)
        return 2
    except CacheError as exc:
        print(f"envcompare: {exc} (or run with --no-cache)", file=sys.stderr)
        return 2
    except DataFileError as exc:  # data/ missing or damaged: an installation problem
        print(f"envcompare: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        return 0
    except OSError as exc:  # unwritable output, full disk ...
        print(f"envcompare: cannot write {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # e.g. an output type we do not write
        print(f"envcompare: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
