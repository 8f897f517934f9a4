"""The engine holds no Chinese words: they are data (data/*.yaml, *.csv), read through
envcompare.vocab. Docstrings and comments may quote Chinese examples; string literals may not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "envcompare"
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# the extraction and ingest stages move their words to data/ in their own change (issue 14)
NOT_YET = {"extraction", "ingest"}


def chinese_literals(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """`file:line: 'literal'` for every string literal with Chinese in it that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [f"{path.relative_to(root)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and CHINESE.search(node.value)]


def test_no_chinese_string_literal_in_the_engine():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) if not NOT_YET & set(path.relative_to(PACKAGE).parts)
             for hit in chinese_literals(path)]
    assert not found, "Chinese words in the engine (move them to data/):\n  " + "\n  ".join(found)


def test_the_check_finds_a_literal_and_spares_docstrings_and_comments(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""全国 in a docstring."""\n\ndef f():\n    """其他."""\n    return "其他"  # 全国\n', encoding="utf-8")
    assert chinese_literals(module, tmp_path) == ["m.py:5: '其他'"]
