"""Command line: `python -m envcompare` / `envcompare`. Each subcommand is one pipeline job."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ..extraction.tidy import with_fact_counts
from ..ingest.load import FORMATS, Corpus, list_files, load_reports
from ..present.export import check_output_type, write_table
from ..present.output import atomic_write
from ..version import __version__
from .batch import CacheError


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
        analyse=analyse, each=each,
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
    result = _batch(args, args.unmapped)
    write_table(result.facts, out)
    write_table(result.documents, _companion(out))
    print(f"wrote {out} ({_n(len(result.facts), 'fact')} from {_n(result.loaded, 'report')}; "
          f"{result.from_cache} from the cache)")
    print(f"wrote {_companion(out)} ({_n(len(result.documents), 'document')})")
    return _finish_batch(result, args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import LabelError, default_labels, evaluate, label_domains, labelled_docs, read_labels

    labels_path = Path(args.labels) if args.labels else default_labels()
    try:
        labels = read_labels(labels_path)
    except LabelError as exc:
        raise UsageError(str(exc)) from exc
    files, _ = list_files(args.paths)
    if not labelled_docs(labels) & {f.name for f in files}:
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


BUILD_STAMP = ".envcompare-build"


def _up_to_date(out: Path, digest: str | None) -> list[str] | None:
    """The outputs of the last build, when they were built from the same inputs and all exist."""
    stamp = out / BUILD_STAMP
    if digest is None or not stamp.is_file():
        return None
    recorded, *names = stamp.read_text(encoding="utf-8").split("\n")
    if recorded == digest and all((out / name).is_file() for name in names if name):
        return names
    return None


def cmd_build(args: argparse.Namespace) -> int:
    from .batch import inputs_digest

    out = Path(args.out)
    _output_folder(out)
    if not args.no_cache and (current := _up_to_date(out, inputs_digest(args.paths, unmapped=True, analyse=True))):
        # same files, same code and data: every output would come out byte-identical
        print(f"up to date: no report, code or data file changed since the last build; "
              f"the {len(current)} outputs in {out} are current")
        return 0
    from ..policytext.text import TextStats

    stats = TextStats()
    pages: list[Path] = []

    def each(doc):  # runs as each document arrives: its page is written, its counts added
        if doc.text is not None:
            stats.add(doc.text)
        if doc.evidence is not None:
            page = out / "evidence" / f"{Path(doc.doc_row['doc']).stem}.html"
            pages.append(_write_if_changed(page, doc.evidence))
        return replace(doc, text=None, evidence=None)

    result = _batch(args, unmapped=True, analyse=True, each=each)
    everything = result.facts
    facts = everything[everything["indicator"].notna()].drop(columns="label").reset_index(drop=True)
    docs = with_fact_counts(result.documents, facts)
    from ..comparison.analysis import all_pairs_benchmark, comparison_tables, load_references, targets_vs_actuals
    from ..present.excel import to_excel

    written = [
        write_table(facts, out / "facts.csv"),
        write_table(everything, out / "facts_all.csv"),
        write_table(docs, out / "documents.csv"),
        write_table(shares := stats.theme_shares(), out / "theme_shares.csv"),
        write_table(stats.attention(), out / "attention.csv"),
        write_table(stats.keywords(top=20), out / "keywords.csv"),
        write_table(stats.plan_vs_summary(), out / "plan_vs_summary.csv"),
    ]
    written += [write_table(table, out / f"{name}.csv") for name, table in comparison_tables(facts).items()]
    judged = pd.concat([targets_vs_actuals(facts), all_pairs_benchmark(facts)], ignore_index=True)
    from ..present.charts import start_key_figures

    # the chart workers draw while this process writes the workbook
    with start_key_figures(facts, load_references(), judged, shares, out / "figures", jobs=args.jobs) as charts:
        written.append(to_excel(facts, out / "envcompare.xlsx", documents=docs))
        written += charts.wait()
    written += pages
    if result.inputs:
        os.sync()  # evidence pages are written without a flush each; the stamp vouches for them
        names = [str(Path(p).relative_to(out)) for p in written]
        atomic_write(out / BUILD_STAMP, lambda p: p.write_text("\n".join([result.inputs, *names]), encoding="utf-8"))
    print(f"loaded {_n(result.loaded, 'report')} from {', '.join(map(str, args.paths))} ({len(result.errors)} failed); "
          f"{_n(result.from_cache, 'document')} came from the cache, {result.processed} "
          f"{'was' if result.processed == 1 else 'were'} extracted")
    print(f"extracted {_n(len(facts), 'catalog fact')}")
    for path in written:
        print(f"wrote {path}")
    return _finish_batch(result, args)


def _output_folder(out: Path) -> None:
    """Create the output folder; a file where it (or a folder above it) should be is a usage error."""
    for path in (out, *out.parents):
        if path.exists():
            if not path.is_dir():
                raise UsageError(f"{path} is not a folder (-o/--out names the folder build writes into)")
            break
    out.mkdir(parents=True, exist_ok=True)


def _write_if_changed(path: Path, content: str) -> Path:
    """Write a page unless it already holds exactly this (an unchanged report keeps its file)."""
    data = content.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return path
    except OSError:
        pass
    return atomic_write(path, lambda p: p.write_bytes(data), durable=False)


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    p.add_argument("--engine", choices=["processes", "dask"], default="processes", help="how documents are mapped (default: processes)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: an existing Dask scheduler (default: local processes)")
    p.add_argument("--cache", default=".envcompare-cache", metavar="DIR", help="per-document result cache (default: .envcompare-cache)")
    p.add_argument("--no-cache", action="store_true", help="extract every document again, ignore and keep no cache")
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
    b.add_argument("--strict", action="store_true", help="exit non-zero when any file fails to load")
    _run_options(b)
    b.set_defaults(func=cmd_build)

    ex = sub.add_parser("extract", help="extract every figure into the tidy facts table",
                        description="Extract facts from report files/folders; also writes a documents table beside them.")
    ex.add_argument("paths", nargs="+", metavar="PATH", help="report files or folders")
    ex.add_argument("-o", "--output", default="facts.csv", help="facts table: .csv (default facts.csv), .parquet or .xlsx")
    ex.add_argument("--unmapped", action="store_true", help="also keep figures that match no catalog indicator (label column)")
    ex.add_argument("--strict", action="store_true", help="exit non-zero when any file fails to load")
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
        return int(args.func(args) or 0)
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
