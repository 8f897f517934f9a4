"""Pipeline (layer 6): running the stages over many files (batch: workers, cache, metadata.csv),
scoring against the gold annotations (evaluate) and the command line (cli)."""

__all__ = ["BatchResult", "process_file", "run"]


def __getattr__(name: str):
    """`BatchResult`, `process_file` and `run` (pipeline.batch), imported on first use: the
    command line parses its arguments before pandas is loaded."""
    if name in __all__:
        from . import batch

        return getattr(batch, name)
    raise AttributeError(f"module 'envcompare.pipeline' has no attribute {name!r}")
