"""Packaging hook (the rest of the metadata is in pyproject.toml): ship the top-level data/ folder.

data/ stays at the top of the repository (it is the engine's vocabulary, edited and reviewed as
data, not code). A wheel carries a copy as envcompare/_data, which envcompare.resources finds
through importlib.resources; a checkout or an editable install reads data/ itself. The sdist
carries data/ through MANIFEST.in, so a wheel built from the sdist has it too.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_data(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads data/ from the checkout
            return
        source = Path(__file__).resolve().parent / "data"
        target = Path(self.build_lib) / "envcompare" / "_data"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"))


setup(cmdclass={"build_py": build_py_with_data})
