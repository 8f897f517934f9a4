"""Pipeline (layer 6): running the stages over many files (batch: workers, cache, metadata.csv),
scoring against the gold annotations (evaluate) and the command line (cli)."""

from .batch import BatchResult, process_file, run

__all__ = ["BatchResult", "process_file", "run"]
