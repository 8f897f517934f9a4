"""envcompare: figures from Chinese city environmental reports, as tidy comparable tables.

    >>> import envcompare
    >>> corpus = envcompare.load_reports("seeds")
    >>> corpus.documents()[["doc", "city", "doc_type", "report_year"]]   # doctest: +SKIP

Pipeline, one package per stage, each importing only from the ones before it:
vocab -> ingest -> extraction -> review -> comparison | policytext -> present -> pipeline.
`envcompare.extract` gives the reviewed facts table: the extractor's figures with a researcher's
corrections (corrections.csv) applied and review flags (`envcompare.review`).
"""

from .comparison import Comparison, compare
from .errors import ReportError
from .ingest import Corpus, LoadError, Report, load_reports, read_report
from .review import REVIEWED_COLUMNS as FACT_COLUMNS
from .review import extract
from .version import __version__


def __getattr__(name: str):
    """`envcompare.to_excel` imports openpyxl on first use, not with every command."""
    if name == "to_excel":
        from .pipeline.build import to_excel

        return to_excel
    raise AttributeError(f"module 'envcompare' has no attribute {name!r}")
__all__ = [
    "FACT_COLUMNS",
    "Comparison",
    "Corpus",
    "LoadError",
    "Report",
    "ReportError",
    "__version__",
    "compare",
    "extract",
    "load_reports",
    "read_report",
    "to_excel",
]
