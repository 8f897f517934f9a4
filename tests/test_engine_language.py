"""The engine holds no word of the language (issue 14): every Chinese word, numeral, connector
and punctuation mark the extraction reads is data (data/constructions/, data/clean.yaml), loaded
and compiled once. Parsed, not imported: a CJK character written in any string literal under
envcompare/ other than a docstring is an error. Escapes (`"\\u4e00"`, the bounds of the CJK
ideograph range) are not words and pass: the check reads the literal as written in the source.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "envcompare"
# CJK ideographs (with extension A and the compatibility block), CJK symbols and punctuation
# (、。《》「」〔〕), full-width forms ((,: ｜), and the curly quotes Chinese text uses (“”‘’)
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2018\u2019\u201c\u201d]")



def docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                found.add(id(body[0].value))
    return found


def cjk_literals(source: str) -> list[tuple[int, str]]:
    """(line, literal as written) of every non-docstring string literal holding a CJK character."""
    tree = ast.parse(source)
    skip = docstring_nodes(tree)
    inside_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    out = []
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inside_fstrings:
            continue
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            written = ast.get_source_segment(source, node) or ""
            if CJK.search(written):
                out.append((node.lineno, written))
    return out


def test_no_cjk_literal_in_the_engine():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if "__pycache__" in path.parts:
            continue
        for line, written in cjk_literals(path.read_text(encoding="utf-8")):
            found.append(f"envcompare/{name}:{line}: {written[:60]}")
    assert not found, "words of the language belong in data/ (constructions/ or clean.yaml):\n  " + "\n  ".join(found)


def test_the_check_sees_literals_but_not_docstrings_or_escapes():
    source = (
        'def f():\n    """全国: a docstring."""\n    a = "\\u4e00"\n    b = "目标"\n'
        '    c = f"{a}年"\n    d = re.compile(r"[,;。]")\n    return a  # 注释\n'
    )
    assert [line for line, _ in cjk_literals(source)] == [4, 5, 6]
