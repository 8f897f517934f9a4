"""Comparison (layer 4): the facts table -> city x indicator tables (years never mixed), ranks,
scores and composites, targets vs actuals, benchmarks, derived values, references, coverage.

    >>> from envcompare.comparison import compare, composite, targets_vs_actuals
"""

from .analysis import (
    Comparison,
    Composite,
    against_references,
    all_pairs_benchmark,
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
    "Comparison",
    "Composite",
    "against_references",
    "all_pairs_benchmark",
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
