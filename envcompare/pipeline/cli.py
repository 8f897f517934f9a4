"""Command line: `python -m envcompare` / `envcompare`. Each subcommand is one pipeline job
(`commands`); this module parses the arguments and turns the errors a user can act on into one
line and an exit status, without importing pandas or the stages for `--help`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import BuildError, CacheError, DataFileError, RunError, UsageError
from ..version import __version__
from .limits import DOC_TIMEOUT, available_cores


def _check_run_options(args: argparse.Namespace) -> None:
    """--scheduler needs --engine dask; --jobs is capped at the cores this process may use."""
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

    build_parser = sub.add_parser("build", help="the main job: reports -> out/ (tables, workbook, charts)",
                       description="Load, extract and compare the reports under PATH and write the results to --out.")
    build_parser.add_argument("paths", nargs="*", default=["seeds"], metavar="PATH", help="report files or folders (default: seeds)")
    build_parser.add_argument("-o", "--out", default="out", help="output folder (default: out)")
    build_parser.add_argument("--strict", action="store_true", help="exit non-zero when any file fails to load or a correction is stale")
    build_parser.add_argument("--corrections", metavar="FILE", help="corrections to apply (default: corrections.csv beside the reports)")
    _run_options(build_parser)
    build_parser.set_defaults(command_job="cmd_build")

    extract_parser = sub.add_parser("extract", help="extract every figure into the tidy facts table",
                        description="Extract facts from report files/folders; also writes a documents table beside them.")
    extract_parser.add_argument("paths", nargs="+", metavar="PATH", help="report files or folders")
    extract_parser.add_argument("-o", "--output", default="facts.csv", help="facts table: .csv (default facts.csv), .parquet or .xlsx")
    extract_parser.add_argument("--unmapped", action="store_true", help="also keep figures that match no catalog indicator (label column)")
    extract_parser.add_argument("--strict", action="store_true", help="exit non-zero when any file fails to load or a correction is stale")
    extract_parser.add_argument("--corrections", metavar="FILE", help="corrections to apply (default: corrections.csv beside the reports)")
    _run_options(extract_parser)
    extract_parser.set_defaults(command_job="cmd_extract")

    evaluate_parser = sub.add_parser("evaluate", help="recall and precision against hand labels, with the reason of every miss",
                        description="Extract the reports under PATH and score the facts against a labels file "
                                    "(README: Checking the extraction on your own sample).")
    evaluate_parser.add_argument("paths", nargs="*", default=["seeds"], metavar="PATH", help="labelled reports (default: seeds)")
    evaluate_parser.add_argument("--labels", metavar="LABELS.csv", help="hand labels (default: data/gold/labels.csv, the seeds' gold)")
    evaluate_parser.add_argument("--domains", metavar="D,D", help="indicator domains scored, e.g. air,water (default: every domain of the labels)")
    evaluate_parser.add_argument("--misses", action="store_true", help="list every miss and every extra (wrong fact) with its reason")
    evaluate_parser.add_argument("-o", "--output", metavar="FILE", help="write the per-label results (+ extras): .csv, .parquet or .xlsx")
    evaluate_parser.add_argument("--min-recall", type=float, default=0.0, metavar="R", help="exit 1 when the overall recall is below R")
    evaluate_parser.add_argument("--min-precision", type=float, default=0.0, metavar="P", help="exit 1 when the overall precision is below P")
    _run_options(evaluate_parser)
    evaluate_parser.set_defaults(command_job="cmd_evaluate")

    load_parser = sub.add_parser("load", help="load reports and show the documents table",
                        description="Load report files/folders and print (or write) one row per document.")
    load_parser.add_argument("paths", nargs="+", metavar="PATH", help="report files or folders")
    load_parser.add_argument("-o", "--output", help="write the table (.csv, .parquet or .xlsx) instead of printing it")
    load_parser.add_argument("--strict", action="store_true", help="exit non-zero when any file fails to load")
    load_parser.set_defaults(command_job="cmd_load")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)  # --help and usage errors end here, before pandas is loaded
    try:
        _check_run_options(args)
        from . import commands

        return int(getattr(commands, args.command_job)(args) or 0)
    except KeyboardInterrupt:
        print("envcompare: interrupted; outputs and cache are as they were before, or complete", file=sys.stderr)
        return 130
    except RunError as exc:
        print(f"envcompare: {exc}", file=sys.stderr)
        return 2
    except (UsageError, BuildError) as exc:
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
