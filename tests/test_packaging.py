"""`pip install .` gives a working tool: data/ ships inside the wheel and is found there, as in a checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA_FILES = sorted(p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data").rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts)


def test_a_checkout_reads_the_top_level_data_folder():
    from envcompare.vocab.resources import PACKAGE_DATA

    assert PACKAGE_DATA.resolve() == (ROOT / "data").resolve()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # a copy: setuptools builds in the source tree (build/, *.egg-info)
    for name in ("envcompare", "data"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, source / name)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    (path,) = out.glob("envcompare-*.whl")
    return path


def test_the_wheel_carries_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert len(DATA_FILES) > 15
    missing = [name for name in DATA_FILES if f"envcompare/_data/{name}" not in names]
    assert missing == []
    assert not any(name.startswith("data/") for name in names)  # no top-level package named data


def test_an_installed_wheel_finds_its_data_from_anywhere(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import envcompare.vocab.resources as r, envcompare.vocab.places as p; "
            "print(r.PACKAGE_DATA); print(len(r.read_csv('places.csv')))")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ENVCOMPARE_DATA")}
    env["PYTHONPATH"] = str(site)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=elsewhere)
    assert res.returncode == 0, res.stderr
    where, rows = res.stdout.split()
    assert Path(where) == site / "envcompare" / "_data"
    assert int(rows) == len((ROOT / "data" / "places.csv").read_text(encoding="utf-8").splitlines()) - 1
