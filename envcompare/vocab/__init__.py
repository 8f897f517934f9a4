"""Vocabulary (layer 0): access to data/ and what is read from it: the indicator catalog and the
place gazetteer. Imports nothing from the other stages."""

from .catalog import Indicator, indicators
from .places import lookup
from .resources import data_dir, data_path, read_csv, read_yaml

__all__ = ["Indicator", "data_dir", "data_path", "indicators", "lookup", "read_csv", "read_yaml"]
