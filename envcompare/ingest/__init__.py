"""Ingest (layer 1): report files -> Report objects: read bytes, decode, undo mojibake, HTML ->
visible text, clean, infer metadata (with a metadata.csv beside the files). Report and Corpus live here."""

from .load import Corpus, LoadError, Report, list_files, load_reports, read_report

__all__ = ["Corpus", "LoadError", "Report", "list_files", "load_reports", "read_report"]
