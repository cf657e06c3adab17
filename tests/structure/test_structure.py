"""The package's structure: no import cycles, no import from a higher layer, OpenSim models opened in one place.

Imports are read from the source with :mod:`ast` (every ``import`` statement, including those inside functions
and ``TYPE_CHECKING`` blocks), so a circle hidden behind a lazy import is found too. The layers are those drawn in
``docs/development.md``; a module may import from its own layer and from the layers below it.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "biopose_opensim"

#: Layer of each top-level module or package, lowest first (docs/development.md, "Layers").
LAYERS: dict[str, int] = {
    **dict.fromkeys(("errors", "atomic", "paths", "io", "metrics", "plots", "distributed"), 0),
    "config": 1,
    "osim": 2,
    **dict.fromkeys(("kinematics", "bodymodels", "markers", "motion", "activities"), 3),
    "keypoints": 4,
    "datasets": 5,
    "training": 6,
    **dict.fromkeys(("neurik", "hmr"), 7),
    **dict.fromkeys(("labeling", "synth", "adapters", "render", "prediction", "comparison", "video"), 8),
    **dict.fromkeys(("cli", "label", "train", "evaluate", "predict", "compare"), 9),
}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the package that ``name`` imports (a ``from pkg import sub`` names the submodule)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                keep = len(base) - node.level + (1 if path.name == "__init__.py" else 0)
                target = ".".join(base[:keep] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


def _graph() -> dict[str, set[str]]:
    """Import graph; a package's ``__init__`` re-exporting its own submodules is not an edge back to them."""
    return {name: {m for m in _imports(name, path) if not name.startswith(m + ".")} for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def _layer(module: str) -> int | None:
    """A module's layer; ``__main__`` modules are command-line modules, the top layer."""
    parts = module.split(".")
    if parts[-1] == "__main__":
        return max(LAYERS.values())
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_every_top_level_module_has_a_layer():
    tops = {m.split(".")[1] for m in MODULES if m.count(".") >= 1} - {"__main__", "data"}
    assert sorted(tops - set(LAYERS)) == []


def test_the_checker_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_no_import_from_a_higher_layer():
    upward = []
    for name, deps in _graph().items():
        own = _layer(name)
        for dep in deps:
            other = _layer(dep)
            if own is not None and other is not None and other > own:
                upward.append(f"{name} -> {dep}")
    assert sorted(upward) == []


def test_models_are_opened_only_in_osim():
    """Every OpenSim model is opened through ``osim.model.load_model`` (one error message naming the file)."""
    files = sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
    direct = [f"{p.relative_to(ROOT)}:{i}" for p in files if not p.is_relative_to(PACKAGE / "osim")
              for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\b(osim|opensim)\.Model\(", line)]
    assert direct == []
