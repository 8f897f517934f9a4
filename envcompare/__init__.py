"""envcompare: figures from Chinese city environmental reports, as tidy comparable tables.

    >>> import envcompare
    >>> corpus = envcompare.load_reports("seeds")
    >>> corpus.documents()[["doc", "city", "doc_type", "report_year"]]   # doctest: +SKIP

Pipeline, one module per stage: load -> clean -> extract -> tidy -> compare -> present.
"""

from .compare import Comparison, compare
from .errors import ReportError
from .load import Corpus, LoadError, Report, load_reports, read_report
from .tidy import FACT_COLUMNS, extract

__version__ = "0.1.0"


def __getattr__(name: str):
    """`envcompare.to_excel` imports openpyxl on first use, not with every command."""
    if name == "to_excel":
        from .excel import to_excel

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
