"""Command line: `python -m envcompare` / `envcompare`. Each subcommand is one pipeline job."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from . import __version__
from .batch import CacheError
from .errors import DataFileError
from .load import FORMATS, Corpus, load_reports
from .output import atomic_write, check_output_type, write_table
from .tidy import extract, with_fact_counts


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
    import pandas as pd

    from .evaluate import annotated_docs, load_gold, misses, score

    corpus = _load(args)
    docs = annotated_docs([r.doc for r in corpus], args.gold)
    if not docs:  # scoring would compare nothing with every gold file: recall 0 for no reason
        raise UsageError(f"no annotated documents among these paths (gold files are named after the reports they "
                         f"annotate, in {args.gold or 'data/gold'})")
    facts = extract(corpus)
    gold = load_gold(args.gold)
    table = score(facts, gold, docs)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        fp, fn = misses(facts, gold, docs)
        cols = ["doc", "indicator", "value", "unit", "kind", "year", "period", "city", "evidence"]
        print(f"\nfalse positives ({len(fp)}):")
        print(fp[cols].to_string(index=False) if len(fp) else "  none")
        print(f"\nmissed gold facts ({len(fn)}):")
        print(fn[cols].to_string(index=False) if len(fn) else "  none")
    worst = table[["precision", "recall"]].min().min()
    return 0 if worst >= args.threshold else 1


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
    from .text import TextStats

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
    from .compare import all_pairs_benchmark, comparison_tables, load_references, targets_vs_actuals
    from .excel import to_excel

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
    from .present import start_key_figures

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

    ev = sub.add_parser("evaluate", help="score extraction against the hand-made gold annotations",
                        description="Precision and recall per document and per domain against data/gold, with the misses.")
    ev.add_argument("paths", nargs="*", default=["seeds"], metavar="PATH", help="annotated reports (default: seeds)")
    ev.add_argument("--gold", type=Path, default=None, help="gold folder (default: data/gold)")
    ev.add_argument("--threshold", type=float, default=0.95, help="exit non-zero below this precision/recall (default 0.95)")
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
