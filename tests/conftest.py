from __future__ import annotations

import os
import shutil
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


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture
def program():
    """program(name, package) -> the program's path. Missing, the test skips on a developer's
    machine and fails under CI=true: CI installs the real clients (.ci/run), so a missing one
    is a broken CI, not a reason to pass silently."""

    def need(name: str, package: str) -> str:
        path = shutil.which(name)
        if path is None:
            message = f"{name} is not installed (Debian package {package})"
            if on_ci():
                pytest.fail(f"{message}; CI=true: .ci/run must install it")
            pytest.skip(message)
        return path

    return need
