"""The package's shape: no import cycle, no function that shares its dotted name with a module,
and importing any submodule never changes what `gv.<name>` is."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import grokvid_nb

PACKAGE = Path(grokvid_nb.__file__).resolve().parent
ROOT = PACKAGE.parent


def _module_files() -> dict[str, Path]:
    files = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        files[name] = path
    return files


def _import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (any import: top level, in a function or
    under TYPE_CHECKING). Importing one's own parent package is not an edge."""
    files = _module_files()
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + ".") \
                        and target != "grokvid_nb":
                    graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_graph_walker_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_package() -> None:
    graph = _import_graph()
    assert "grokvid_nb._job" in graph["grokvid_nb._client"]  # the walker sees real edges
    assert _cycle(graph) is None


def test_adapters_import_nothing_from_the_engine_or_the_views() -> None:
    allowed = {"grokvid_nb._exceptions", "grokvid_nb._secrets", "grokvid_nb._types"}
    for name, targets in _import_graph().items():
        if name.startswith("grokvid_nb.adapters"):
            outside = {t for t in targets if not t.startswith("grokvid_nb.adapters")}
            assert outside <= allowed, (name, outside - allowed)


def test_the_sandbox_stands_alone() -> None:
    for name, targets in _import_graph().items():
        if name.startswith("grokvid_nb.sandbox"):
            assert all(t.startswith("grokvid_nb.sandbox") for t in targets), (name, targets)


def _all_modules() -> list[str]:
    names = ["grokvid_nb"]
    for info in pkgutil.walk_packages([str(PACKAGE)], "grokvid_nb."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
    return names


def test_no_function_shares_its_dotted_name_with_a_module() -> None:
    modules = {name: importlib.import_module(name) for name in _all_modules()}
    assert "grokvid_nb.adapters._validate" in modules
    clashes = []
    for name, module in modules.items():
        for attr, value in vars(module).items():
            dotted = f"{name}.{attr}"
            if dotted in modules and not isinstance(value, types.ModuleType):
                clashes.append(dotted)
    assert clashes == []


_PROBE = """
import importlib, json, pkgutil, sys, types
import grokvid_nb as gv
before = {name: id(getattr(gv, name)) for name in gv.__all__}
kinds = {name: type(getattr(gv, name)).__name__ for name in gv.__all__}
for info in pkgutil.walk_packages(gv.__path__, "grokvid_nb."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
after = {name: id(getattr(gv, name)) for name in gv.__all__}
modules = sorted(n for n in gv.__all__ if isinstance(getattr(gv, n), types.ModuleType))
print(json.dumps({"changed": sorted(n for n in before if before[n] != after[n]),
                  "modules": modules, "kinds": kinds}))
"""

_PROBE_IMPORTS_FIRST = """
import importlib, json, pkgutil, types
import grokvid_nb
for info in pkgutil.walk_packages(grokvid_nb.__path__, "grokvid_nb."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
import grokvid_nb as gv
print(json.dumps({name: type(getattr(gv, name)).__name__ for name in gv.__all__}))
"""


def _run(code: str) -> object:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(300)
def test_importing_any_submodule_never_changes_a_public_name() -> None:
    probe = _run(_PROBE)
    assert isinstance(probe, dict)
    assert probe["changed"] == [] and probe["modules"] == []
    # and the other order: every submodule first, then the public names
    assert _run(_PROBE_IMPORTS_FIRST) == probe["kinds"]
    assert probe["kinds"]["providers"] == "function" and probe["kinds"]["compare"] == "function"
