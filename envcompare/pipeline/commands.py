"""The command line's jobs (`envcompare build | extract | evaluate | load`), run by `cli.main`
once the arguments are parsed: importing this module loads pandas and the stages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..errors import UsageError
from ..extraction.tidy import with_fact_counts
from ..ingest.load import FORMATS, Corpus, doc_names, list_files, load_reports
from ..present.export import check_output_type, write_table
from ..review.corrections import CorrectionError
from . import reviewing


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


def _batch(args: argparse.Namespace, unmapped: bool, analyse: bool = False, each=None, compact: bool = False):
    """Extract every file under the paths with the run options of the command line (the
    process's Arrow buffers on jemalloc from here on: `memory.arrow_on_jemalloc`)."""
    from ..memory import arrow_on_jemalloc
    from .batch import run

    arrow_on_jemalloc()

    result = run(
        args.paths, unmapped=unmapped, jobs=args.jobs, engine=args.engine, scheduler=args.scheduler,
        cache_dir=None if args.no_cache else args.cache, progress=False if args.quiet else None,
        analyse=analyse, each=each, doc_timeout=args.doc_timeout or None, compact=compact,
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
        evaluation = evaluate(result.facts, labels, domains=domains, docs=list(result.documents["doc"]))
    except LabelError as exc:
        raise UsageError(str(exc)) from exc
    if args.output:  # before the report, which may go to a pipe that closes early
        write_table(evaluation.table(), Path(args.output))
    _print_evaluation(evaluation, labels_path, args.misses)
    absent = sorted(labelled_docs(labels) - set(result.documents["doc"]))
    if absent:
        print(f"note: {len(absent)} labelled documents are not among these paths (not scored): "
              + ", ".join(absent[:5]) + (" ..." if len(absent) > 5 else ""), file=sys.stderr)
    if args.output:
        print(f"wrote {args.output} ({len(evaluation.labels)} labels, {len(evaluation.extras)} extras)")
    for e in result.errors:
        print(f"skipped {e.path}: {e.reason}", file=sys.stderr)
    return 0 if evaluation.recall >= args.min_recall and evaluation.precision >= args.min_precision else 1


def _print_evaluation(evaluation, labels_path: Path, all_misses: bool) -> None:
    def table(t: pd.DataFrame, name: str) -> str:
        t = t.rename(columns={"key": name})
        return t.to_string(index=False, na_rep="-", float_format=lambda x: f"{x:.3f}")

    qualified = int((evaluation.labels["qualifier"] != "").sum()) if len(evaluation.labels) else 0
    print(f"labels {labels_path}; domains {', '.join(evaluation.domains) or '-'}; "
          f"{qualified} labels with a qualifier (scored)")
    print(table(evaluation.by_doc, "document"))
    print()
    print(table(evaluation.by_domain, "domain"))
    missed = evaluation.labels[evaluation.labels["result"] == "missed"]
    print(f"\nmisses: {len(missed)}" + ("" if missed.empty else " by reason: " + "; ".join(
        f"{reason} {n}" for reason, n in missed["reason"].value_counts().items())))
    if all_misses:
        for r in missed.itertuples():
            print(f"  MISS {_describe_label(r)}\n       {r.reason}: {_describe_fact(r)}")
        print(f"extras: {len(evaluation.extras)}")
        for r in evaluation.extras.itertuples():
            print(f"  EXTRA {r.doc} {_describe_fact(r)}\n        "
                  + (r.reason if r.reason.startswith("no ") else f"{r.reason} vs label {_describe_label(r)}"))
    else:
        print(f"extras: {len(evaluation.extras)}  (--misses lists every miss and extra)")
    print(f"overall: {int(evaluation.by_doc['found'].sum())}/{int(evaluation.by_doc['labels'].sum())} labels found, "
          f"{int(evaluation.by_doc['right'].sum())} facts right, {int(evaluation.by_doc['wrong'].sum())} wrong")
    print(f"recall {evaluation.recall:.3f} precision {evaluation.precision:.3f}")


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


def cmd_build(args: argparse.Namespace) -> int:
    """Every output of the registry into --out, as one unit (pipeline.build)."""
    from .batch import inputs_digest
    from .build import build

    found = _corrections(args)  # review: corrections.csv (before the batch: a bad file stops here)
    digest = inputs_digest(args.paths, unmapped=True, analyse=True,
                           options=f"doc_timeout={args.doc_timeout};corrections={found.digest()}")
    built = build(args.paths, Path(args.out), lambda each: _batch(args, unmapped=True, analyse=True, each=each, compact=True),
                  digest, found, check_current=not args.no_cache, jobs=args.jobs)
    if built.current:
        print(f"up to date: no report, code or data file changed since the last build; "
              f"the {len(built.outputs)} outputs in {args.out} are current")
        return 0
    result, reviewed = built.result, built.reviewed
    assert result is not None and reviewed is not None
    print(f"loaded {_n(result.loaded, 'report')} from {', '.join(map(str, args.paths))} ({len(result.errors)} failed); "
          f"{_n(result.from_cache, 'document')} came from the cache, {result.processed} "
          f"{'was' if result.processed == 1 else 'were'} extracted")
    print(f"extracted {_n(built.facts, 'catalog fact')}; {_n(built.flagged, 'fact')} flagged for review (review.csv)")
    reviewing.report(reviewed, found)
    _say_written(Path(args.out), built.outputs, set(built.kept))
    return max(_finish_batch(result, args), reviewing.strict_status(reviewed, args.strict))


PAGES_LISTED = 20  # evidence pages named one by one; more are counted


def _say_written(out: Path, outputs: list[str], kept: set[str]) -> None:
    """Each output written (evidence pages one by one up to PAGES_LISTED, else counted), and how
    many were kept because what they are drawn from did not change."""
    fresh = [name for name in outputs if name not in kept]
    pages = [name for name in fresh if name.startswith("evidence/")]
    for name in fresh:
        if len(pages) <= PAGES_LISTED or name not in pages:
            print(f"wrote {out / name}")
    if len(pages) > PAGES_LISTED:
        print(f"wrote {_n(len(pages), 'evidence page')} into {out / 'evidence'}")
    if kept:
        print(f"kept {_n(len(kept), 'output')} unchanged since the last build (drawn from the same tables)")


