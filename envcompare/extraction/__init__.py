"""Extraction (layer 2): Reports -> facts: quantities, indicator names and the constructions
between them (reader), scraped tables, and the tidy facts table with raw-text offsets (tidy)."""

from .reader import Fact, extract_facts
from .tidy import FACT_COLUMNS, UNMAPPED_COLUMNS, extract

__all__ = ["FACT_COLUMNS", "UNMAPPED_COLUMNS", "Fact", "extract", "extract_facts"]
