"""envcompare: figures from Chinese city environmental reports, as tidy comparable tables.

    >>> import envcompare
    >>> corpus = envcompare.load_reports("seeds")
    >>> corpus.documents()[["doc", "city", "doc_type", "report_year"]]   # doctest: +SKIP

Pipeline, one package per stage, each importing only from the ones before it:
vocab -> ingest -> extraction -> review -> comparison | policytext -> present -> pipeline.
`envcompare.extract` gives the reviewed facts table: the extractor's figures with a researcher's
corrections (corrections.csv) applied and review flags (`envcompare.review`).
"""

from .errors import ReportError
from .version import __version__

# public name -> (module, name there): imported on first use, so that `import envcompare` and the
# command line's --help do not load pandas, jieba or openpyxl
_PUBLIC = {
    "Comparison": (".comparison", "Comparison"),
    "compare": (".comparison", "compare"),
    "Corpus": (".ingest", "Corpus"),
    "LoadError": (".ingest", "LoadError"),
    "Report": (".ingest", "Report"),
    "load_reports": (".ingest", "load_reports"),
    "read_report": (".ingest", "read_report"),
    "FACT_COLUMNS": (".review", "REVIEWED_COLUMNS"),
    "extract": (".review", "extract"),
    "to_excel": (".pipeline.build", "to_excel"),
}


_STAGES = ("vocab", "ingest", "extraction", "review", "comparison", "policytext", "present", "pipeline")


def __getattr__(name: str):
    """The public API and the stage packages (`envcompare.extraction` …), imported on first use."""
    import importlib

    if name in _PUBLIC:
        module, attribute = _PUBLIC[name]
        value = getattr(importlib.import_module(module, __name__), attribute)
        globals()[name] = value
        return value
    if name in _STAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'envcompare' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


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
