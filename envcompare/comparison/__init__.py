"""Comparison (layer 4): the facts table -> city x indicator tables (years never mixed), ranks,
scores and composites, targets vs actuals, benchmarks, derived values, references, coverage.

    >>> from envcompare.comparison import compare, composite, targets_vs_actuals
    >>> analysis = analyse(facts)     # every table once: what build writes, the workbook shows   # doctest: +SKIP
"""

from .analysis import (
    Analysis,
    Comparison,
    Composite,
    DomainComparison,
    against_references,
    all_pairs_benchmark,
    analyse,
    benchmark,
    compare,
    comparison_tables,
    composite,
    coverage,
    derive_previous_year,
    governance_rates,
    load_references,
    scores,
    targets_vs_actuals,
)

__all__ = [
    "Analysis",
    "Comparison",
    "Composite",
    "DomainComparison",
    "against_references",
    "all_pairs_benchmark",
    "analyse",
    "benchmark",
    "compare",
    "comparison_tables",
    "composite",
    "coverage",
    "derive_previous_year",
    "governance_rates",
    "load_references",
    "scores",
    "targets_vs_actuals",
]
