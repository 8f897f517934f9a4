"""Where the data files live and how they are read: data/ is the engine's vocabulary.

Files are read once per process and cached; they are never mutated, so the cache is not state
a caller can observe. (Cache keys hash the whole data folder: envcompare.pipeline.batch.code_version.)
ENVCOMPARE_DATA points at another data folder (for experiments). Every YAML and CSV file is checked
against its declared schema as it is read (`schema.SCHEMAS`): what the engine gets fits, with the
defaults of left-out keys filled in.

The folder is found from the `envcompare` package, wherever this module lives: an installed wheel
carries the top-level data/ as `envcompare/_data` (setup.py copies it in); a checkout or an
editable install reads data/ beside the package.
"""

from __future__ import annotations

import io
import os
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from ..errors import DataFileError
from .schema import validate


def _package_data() -> Path:
    package = Path(str(files("envcompare")))
    shipped = package / "_data"
    return shipped if shipped.is_dir() else package.parent / "data"


PACKAGE_DATA = _package_data()


def data_dir() -> Path:
    return Path(os.environ.get("ENVCOMPARE_DATA", PACKAGE_DATA))


def data_path(name: str) -> Path:
    return data_dir() / name


def read_text(name: str) -> str:
    """A data file's text; a missing or unreadable file is a DataFileError naming its path."""
    path = data_path(name)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(path, exc.strerror or str(exc)) from exc


@cache
def read_yaml(name: str):
    """A YAML data file, checked against its schema (DataSchemaError naming the file and key)."""
    path = data_path(name)
    try:
        content = yaml.safe_load(read_text(name))
    except yaml.YAMLError as exc:
        raise DataFileError(path, "not valid YAML: " + " ".join(str(exc).split())) from None
    return validate(name, content, path)


@cache
def read_csv(name: str):
    """A CSV data file, every cell as text (empty cells ""), checked against its schema."""
    import pandas as pd

    frame = pd.read_csv(io.StringIO(read_text(name)), dtype=str, keep_default_na=False)
    return validate(name, frame, data_path(name))
