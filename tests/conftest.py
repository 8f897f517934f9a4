from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def sources() -> pd.DataFrame:
    return pd.read_csv(SEEDS / "sources.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def corpus():
    from envcompare import load_reports

    return load_reports(SEEDS)
