"""The outputs of a build, listed once: the build writes the tables it names, the workbook takes
its sheets (and the About sheet's lines) from its entry, and a test holds the README's list of
output files to it.

Each entry names a file of the output folder (a family of files: `figures/*.png`), the table it
is drawn from (a key of the build's tables: `facts`, `targets` …; None for what is not one
table), and what it holds. The workbook's entry also lists its sheets, each with the table it
shows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sheet:
    """A sheet of the workbook: its name, the table it shows, and its line on the About sheet.

    `table` is a key of the build's tables, or `about` (the sheet itself) or `domains` (one sheet
    per domain, named after it: the name here, `<domain>`, stands for them on the About sheet). A
    sheet whose table a workbook is not given (the review queue, to a plain `to_excel`) is left
    out."""

    name: str
    table: str
    note: str


@dataclass(frozen=True)
class Output:
    """A file (or family of files) of the output folder; `optional`: written only when its table
    is made (stale corrections)."""

    file: str
    table: str | None
    description: str
    sheets: tuple[Sheet, ...] = ()
    optional: bool = False


WORKBOOK_SHEETS = (
    Sheet("About", "about", "this sheet: what each sheet is, the documents used, how to read the colours"),
    Sheet("Comparison", "comparison", "cities side by side: one row per city and year (latest per city by default), "
                                      "one column per indicator"),
    Sheet("Scores", "scores", "0-1 min-max scores per indicator (1 = best) and composite scores (equal weights, entropy "
                              "weights, TOPSIS), only over one year's set of at least 5 cities reporting the same "
                              "indicators; the note says why not"),
    Sheet("Weights", "weights", "the indicators each composite used, their weights, and why the others were left out"),
    Sheet("Sensitivity", "sensitivity", "each city's composite rank under each method and leaving each indicator out "
                                        "(empty, with the reason, when no composite is computed)"),
    Sheet("<domain>", "domains", "one sheet per domain (air, water, ...): actual rows, then target rows, for every city "
                                 "and year"),
    Sheet("Targets", "targets", "each target against the same city's actual for the same indicator and year: met / not "
                                "met / no actual yet"),
    Sheet("Benchmark", "benchmark", "one city's actuals against another city's targets"),
    Sheet("References", "against_references", "actuals against GB 3095-2012, the WHO 2021 guidelines and national "
                                              "averages: exceeds / meets, ratio"),
    Sheet("Derived", "derived", "previous-year values implied by a value and its year-on-year change (kind = derived), "
                                "with both sources"),
    Sheet("Coverage", "coverage", "how many facts each city has per indicator, year and kind: check this before "
                                  "comparing"),
    Sheet("Review", "review", "the review queue: flagged facts with the reasons, those that feed comparisons first "
                              "(README: Review and correct)"),
    Sheet("Facts", "facts", "the tidy facts table: every figure with its evidence and raw-text offsets, its review "
                            "status and flags"),
    Sheet("Sources", "documents", "the documents and their metadata"),
)

WORKBOOK = "envcompare.xlsx"

OUTPUTS: tuple[Output, ...] = (
    Output("facts.csv", "facts", "the catalog facts, one row per figure, after the corrections, with review status and flags"),
    Output("facts_all.csv", "facts_all", "the same, the figures of no catalog indicator (`label`) and the rejected facts"),
    Output("review.csv", "review", "the review queue: every flagged fact with its reasons"),
    Output("corrections_stale.csv", "corrections_stale", "corrections that no longer fit their report", optional=True),
    Output("documents.csv", "documents", "one row per file: its metadata, encoding, repairs, error and number of facts"),
    Output("comparison.csv", "comparison", "city x indicator, each city's latest year"),
    Output("comparison_notes.csv", "comparison_notes", "why a cell is empty or a column stands apart"),
    Output("comparison_all_years.csv", "comparison_all_years", "city x indicator for every year each city reports"),
    Output("scores.csv", "scores", "0-1 scores per indicator and the composites (equal, entropy, TOPSIS)"),
    Output("weights.csv", "weights", "the weights each composite used and why an indicator was left out"),
    Output("sensitivity.csv", "sensitivity", "each city's rank under each method and leaving each indicator out"),
    Output("targets.csv", "targets", "targets against actuals of the same city and qualifier"),
    Output("benchmark.csv", "benchmark", "one city's actuals against another city's targets"),
    Output("against_references.csv", "against_references", "actuals against standards, guidelines and national averages"),
    Output("derived.csv", "derived", "previous-year values implied by a value and its change"),
    Output("coverage.csv", "coverage", "facts per city and indicator"),
    Output("theme_shares.csv", "theme_shares", "share of words and sentences per policy theme"),
    Output("attention.csv", "attention", "the environmental attention index"),
    Output("keywords.csv", "keywords", "distinctive keywords per city, year and document type"),
    Output("plan_vs_summary.csv", "plan_vs_summary", "theme shares of plans against reported results"),
    Output("panel.csv", "panel", "the city-year panel: one row per place and year, one column per comparable indicator"),
    Output("panel_long.csv", "panel_long", "the panel's values, one row each, with the document and offsets they came from"),
    Output("panel_variables.csv", "panel_variables", "each panel variable: its indicator column, names, unit and label"),
    Output("panel.parquet", None, "the panel for Python and R"),
    Output("panel_long.parquet", None, "the panel's long form for Python and R"),
    Output("panel.dta", None, "the panel for Stata (version 118, UTF-8, variable labels)"),
    Output(WORKBOOK, None, "the workbook: the tables above for Excel", WORKBOOK_SHEETS),
    Output("figures/*.png", None, "the charts"),
    Output("figures/*.svg", None, "the charts, as vector graphics"),
    Output("evidence/<file name>.html", None, "each report with every extracted figure highlighted"),
    Output(".envcompare-build", None, "the manifest: the digest of the inputs and of every output"),
    Output(".envcompare-lock", None, "present while a build writes into the folder"),
)


def table_outputs() -> tuple[Output, ...]:
    """The outputs that are one table each, written by its file extension (.csv)."""
    return tuple(o for o in OUTPUTS if o.table is not None)


def workbook_sheets() -> tuple[Sheet, ...]:
    """The workbook's sheets, in order (its entry of OUTPUTS)."""
    return next(o.sheets for o in OUTPUTS if o.file == WORKBOOK)
