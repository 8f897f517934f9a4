"""Imports go one way: each stage package imports only from the stages before it (issue 14).

Every module under envcompare/ is parsed (not imported); every import in it counts, also one
inside a function or under `if TYPE_CHECKING`. A module may import:
  - a module of a lower layer, or of its own package;
  - the foundation modules (errors, memory, version), which import nothing from envcompare.
It may not import a higher layer, a different package of its own layer (comparison <-> policytext),
the top-level package `envcompare` itself, or a name starting with "_" from another module; and
the module import graph has no cycle. The top package's __init__ and __main__ are exempt as importers.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "envcompare"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
LAYERS = {"vocab": 0, "ingest": 1, "extraction": 2, "review": 3, "comparison": 4, "policytext": 4, "present": 5, "pipeline": 6}
FOUNDATION = {"errors", "memory", "version"}
EXEMPT = {PACKAGE, f"{PACKAGE}.__main__"}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def layer(module: str) -> tuple[int, str]:
    """(layer, group) of a module: the foundation is (-1, 'foundation'); stages by their package."""
    parts = module.split(".")
    if module == PACKAGE or len(parts) < 2:
        return (99, PACKAGE)  # the top package re-exports every stage: nothing inside may import it
    if parts[1] in FOUNDATION and len(parts) == 2:
        return (-1, "foundation")
    if parts[1] in LAYERS:
        return (LAYERS[parts[1]], parts[1])
    raise AssertionError(f"{module}: not in a known stage package ({', '.join(LAYERS)}) nor the foundation "
                         f"({', '.join(sorted(FOUNDATION))}); add it to tests/test_architecture.py")


def imports(module: str, path: Path, modules: dict[str, Path]) -> list[tuple[int, str, list[str]]]:
    """(line, imported envcompare module, names taken from it) for every import in the file."""
    is_package = path.name == "__init__.py"
    base_parts = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    found.append((node.lineno, alias.name, []))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base_parts[: len(base_parts) - (node.level - 1)]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not (target == PACKAGE or target.startswith(PACKAGE + ".")):
                continue
            names = []
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in modules:  # `from . import text`: the module is imported
                    found.append((node.lineno, submodule, []))
                else:
                    names.append(alias.name)
            if names:
                found.append((node.lineno, target, names))
    return found


def problems(root: Path = ROOT) -> list[str]:
    modules = all_modules(root)
    out: list[str] = []
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        if module in EXEMPT:
            continue
        src_layer, src_group = layer(module)
        for line, target, names in imports(module, path, modules):
            where = f"{path.relative_to(root.parent)}:{line}: {module} imports {target}"
            if target not in modules:
                out.append(f"{where}: no such module")
                continue
            graph[module].add(target)
            dst_layer, dst_group = layer(target)
            if target != module and dst_layer > src_layer:
                out.append(f"{where}: {dst_group} (layer {dst_layer}) is above {src_group} (layer {src_layer})")
            elif dst_layer == src_layer and dst_group != src_group:
                out.append(f"{where}: {dst_group} and {src_group} are the same layer ({src_layer}): they may not import each other")
            private = [n for n in names if n.startswith("_") and not (n.startswith("__") and n.endswith("__"))]
            if private and target != module:
                out.append(f"{where}: private name(s) {', '.join(private)}")
            if any(part.startswith("_") and not part.startswith("__") for part in target.split(".")):
                out.append(f"{where}: private module")
    out += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the package is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(path_back(graph, min(component), set(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def path_back(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """A shortest import path from `start` back to itself inside one strongly connected component."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & within):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise AssertionError(f"no path back to {start}")


def test_imports_go_one_way():
    found = problems()
    assert not found, "imports against the layering (vocab < ingest < extraction < review < comparison | policytext < present < pipeline):\n  " + "\n  ".join(found)


def test_every_module_has_a_layer():
    for module in all_modules():
        if module not in EXEMPT:
            layer(module)


def test_the_check_catches_bad_imports(tmp_path):
    """The checker itself: a lower stage importing a higher one, a sideways import, a private name
    and a cycle are all reported."""
    pkg = tmp_path / PACKAGE
    for sub in ("vocab", "ingest", "comparison", "policytext"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "vocab" / "a.py").write_text("def f():\n    from ..ingest.b import thing\n")
    (pkg / "vocab" / "z.py").write_text("_hidden = 1\n")
    (pkg / "ingest" / "b.py").write_text("from ..vocab.z import _hidden\nfrom . import c\nthing = 1\n")
    (pkg / "ingest" / "c.py").write_text("from .b import thing\n")
    (pkg / "comparison" / "d.py").write_text("import envcompare.policytext.e\n")
    (pkg / "policytext" / "e.py").write_text("from envcompare import errors\n")
    found = "\n".join(problems(pkg))
    assert "envcompare.vocab.a imports envcompare.ingest.b: ingest (layer 1) is above vocab (layer 0)" in found
    assert "private name(s) _hidden" in found
    assert "policytext and comparison are the same layer" in found
    assert "import cycle: envcompare.ingest.b -> envcompare.ingest.c -> envcompare.ingest.b" in found
    assert "envcompare.policytext.e imports envcompare.errors" not in found  # the foundation is open to all


def test_no_package_reexports_a_name_of_its_own_modules():
    """`envcompare.extract` is the function, never the module: no package's __init__ binds a name
    that is also one of its modules or sub-packages (the attribute would depend on import order)."""
    modules = all_modules()
    found = []
    for package, path in modules.items():
        if path.name != "__init__.py":
            continue
        children = {m.rsplit(".", 1)[1] for m in modules if m.rsplit(".", 1)[0] == package and m != package}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                bound = {alias.asname or alias.name for alias in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                bound = {node.name}
            elif isinstance(node, ast.Assign):
                bound = {t.id for t in node.targets if isinstance(t, ast.Name)}
            else:
                continue
            found += [f"{package}: {name}" for name in sorted(bound & children) if node.col_offset == 0]
    assert not found, "names that shadow a module of the same package:\n  " + "\n  ".join(found)
