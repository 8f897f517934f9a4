"""Where the data files live and how they are read: data/ is the engine's vocabulary.

Files are read once per process and cached; they are never mutated, so the cache is not state
a caller can observe. (Cache keys hash the whole data folder: envcompare.pipeline.batch.code_version.) ENVCOMPARE_DATA points at another data folder (for experiments).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

PACKAGE_DATA = Path(__file__).resolve().parent.parent.parent / "data"


def data_dir() -> Path:
    return Path(os.environ.get("ENVCOMPARE_DATA", PACKAGE_DATA))


def data_path(name: str) -> Path:
    return data_dir() / name


@cache
def read_yaml(name: str) -> dict:
    with open(data_path(name), encoding="utf-8") as f:
        return yaml.safe_load(f)


@cache
def read_csv(name: str):
    import pandas as pd

    return pd.read_csv(data_path(name), dtype=str, keep_default_na=False, encoding="utf-8")
