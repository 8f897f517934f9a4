"""Command line: `python -m envcompare` / `envcompare`. Each subcommand is one pipeline job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .load import Corpus, load_reports
from .output import write_table


def _report_errors(corpus: Corpus) -> None:
    for e in corpus.errors:
        print(f"skipped {e.path}: {e.reason}", file=sys.stderr)


def cmd_load(args: argparse.Namespace) -> int:
    corpus = load_reports(args.paths)
    docs = corpus.documents()
    if args.output:
        write_table(docs, Path(args.output))
        print(f"wrote {args.output} ({len(docs)} documents)")
    else:
        cols = ["doc", "city", "province", "doc_type", "report_year", "published", "chars", "error"]
        print(docs[cols].to_string(index=False))
    _report_errors(corpus)
    return 0 if corpus.reports or not corpus.errors else 1


def cmd_build(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    corpus = load_reports(args.paths)
    docs = corpus.documents()
    written = [write_table(docs, out / "documents.csv")]
    print(f"loaded {len(corpus)} reports from {', '.join(map(str, args.paths))} ({len(corpus.errors)} failed)")
    for path in written:
        print(f"wrote {path}")
    _report_errors(corpus)
    return 0 if corpus.reports else 1


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
    b.set_defaults(func=cmd_build)

    ld = sub.add_parser("load", help="load reports and show the documents table",
                        description="Load report files/folders and print (or write) one row per document.")
    ld.add_argument("paths", nargs="+", metavar="PATH", help="report files or folders")
    ld.add_argument("-o", "--output", help="write the table (.csv, .parquet or .xlsx) instead of printing it")
    ld.set_defaults(func=cmd_load)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
