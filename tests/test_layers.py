"""The package's layout holds: imports go one way down the layers, and never in a loop.

CLI → servers → build pipeline → build stages → local stack, analytics → clients, store →
config → content → errors. A module may import from its own layer or any layer below it; an
import that runs back up, or modules that import each other round a loop (even inside a
function or under ``TYPE_CHECKING``), fail here, naming the modules and the line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import sitegen

PACKAGE = Path(sitegen.__file__).parent

# Lowest first. A pattern is a module, or "pkg.*" for everything inside pkg (not pkg itself).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("sitegen", "sitegen.errors")),
    ("content", ("sitegen.content", "sitegen.content.*")),
    ("config", ("sitegen.config", "sitegen.config.*")),
    (
        "clients and store",
        ("sitegen.source", "sitegen.source.*", "sitegen.store", "sitegen.store.*"),
    ),
    (
        "local stack and analytics",
        ("sitegen.stack", "sitegen.stack.*", "sitegen.analytics", "sitegen.analytics.*"),
    ),
    ("build stages", ("sitegen.build.*",)),
    ("build pipeline", ("sitegen.build", "sitegen.build.pipeline")),
    ("servers", ("sitegen.server", "sitegen.server.*")),
    ("CLI", ("sitegen.cli", "sitegen.cli.*", "sitegen.__main__")),
]
MAX_TOP_LEVEL = 12  # modules directly in sitegen/, a package counting as one


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.file.relative_to(PACKAGE.parent)}:{self.line}: {self.source} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path) -> list[Import]:
    """Every sitegen module ``name`` imports, wherever the import statement stands."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from pkg import mod` depends on the module pkg.mod, not on pkg's __init__
            targets = [
                f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in MODULES else origin
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target in MODULES and target != name:
                found.append(Import(name, target, path, node.lineno))
    return found


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def layer_of(name: str) -> tuple[int, str]:
    """The layer of the longest pattern that matches ``name``."""
    best: tuple[int, int, str] | None = None
    for rank, (label, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if pattern.endswith(".*"):
                matches = name.startswith(pattern[:-1])
                weight = len(pattern) - 2
            else:
                matches = name == pattern
                weight = len(pattern) + 1  # an exact name beats the package's wildcard
            if matches and (best is None or weight > best[0]):
                best = (weight, rank, label)
    if best is None:
        raise AssertionError(f"{name} belongs to no layer: add it to LAYERS in {__file__}")
    return best[1], best[2]


def test_every_module_has_a_layer():
    for name in MODULES:
        layer_of(name)


def test_no_import_runs_up_the_layers():
    upward = []
    for imports in GRAPH.values():
        for imp in imports:
            (low, low_label), (high, high_label) = layer_of(imp.source), layer_of(imp.target)
            if high > low:
                upward.append(f"{imp} ({low_label} → {high_label})")
    assert not upward, "imports that run back up the layers:\n" + "\n".join(upward)


def strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the groups of modules that import each other round."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_import_cycles():
    graph = {name: sorted({imp.target for imp in imports}) for name, imports in GRAPH.items()}
    loops = strongly_connected(graph)
    described = []
    for group in loops:
        members = set(group)
        edges = [str(imp) for name in group for imp in GRAPH[name] if imp.target in members]
        described.append(" ↔ ".join(group) + "\n    " + "\n    ".join(edges))
    assert not loops, "modules that import each other round a loop:\n" + "\n".join(described)


def test_the_cycle_finder_finds_cycles():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": ["e2"], "e2": []}
    assert strongly_connected(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("sitegen.build", "build pipeline"),
        ("sitegen.build.pages", "build stages"),
        ("sitegen.store", "clients and store"),
        ("sitegen.cli.commands.build", "CLI"),
    ],
)
def test_layer_patterns(module: str, layer: str):
    assert layer_of(module)[1] == layer


def test_the_top_level_stays_small():
    top = [
        p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").is_file())
    ]
    assert len(top) <= MAX_TOP_LEVEL, f"sitegen/ has {len(top)} modules: {sorted(top)}"
