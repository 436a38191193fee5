"""The import graph of the app's own modules, and its cycles (stdlib only).

    python tools/importgraph.py                 # cycles, exit 1 when there are any; else "0 import cycles"
    python tools/importgraph.py --why A B       # the import lines that make module A depend on module B

Which imports count: every ``import``/``from … import`` anywhere in a module — at the top, inside functions and
methods, under ``if``/``try`` — except those under ``if TYPE_CHECKING:`` (never executed). A function-level import
is still a dependency: it only moves the moment the cycle bites from import time to call time.

How a name resolves: ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``;
``import a.b.c`` is an edge to ``a.b.c``. Relative imports are resolved against the importing module's package.

Edges to package ``__init__`` modules. Python executes every parent package's ``__init__`` before a submodule,
so ``import hotline.dispatch.service`` also runs ``hotline/__init__.py`` and ``hotline/dispatch/__init__.py``.
Such an implicit edge is counted when
  * the ``__init__`` has in-graph imports of its own (an ``__init__`` without them can never close a cycle, so
    the edge would only be noise in ``--why``), and
  * the package is not an ancestor of the importing module itself: a module's own parent packages have already
    run before its first line, so importing them again changes nothing. (Otherwise every package whose
    ``__init__`` imports its submodules — ``hotline.models``, ``hotline.api`` — would be a "cycle".)
An explicit import of a package (``from hotline.api import api_bp``, ``from hotline import create_app``) is
always an edge, whoever imports it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hotline", "routing", "knowledge_base", "workers")
ROOT_MODULES = ("wsgi",)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: Path
    line: int
    text: str  # the import statement as written (first line)
    implicit: bool = False  # a parent package's __init__ run by importing one of its submodules

    def where(self, root: Path) -> str:
        try:
            shown = self.path.relative_to(root)
        except ValueError:
            shown = self.path
        note = f"  (runs {self.target}/__init__.py)" if self.implicit else ""
        return f"{shown}:{self.line}: {self.text}{note}"


@dataclass
class Graph:
    root: Path
    files: dict[str, Path] = field(default_factory=dict)  # module name -> file
    packages: set[str] = field(default_factory=set)  # module names that are packages (__init__.py)
    edges: dict[str, dict[str, list[Edge]]] = field(default_factory=dict)  # source -> target -> edges

    def targets(self, module: str) -> Iterable[str]:
        return self.edges.get(module, {}).keys()


def discover(root: Path, packages: Iterable[str], root_modules: Iterable[str] = ()) -> dict[str, Path]:
    """Module name -> file for every .py file of ``packages`` (folders under ``root``) and ``root_modules``."""
    files: dict[str, Path] = {}
    for package in packages:
        base = root / package
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    for name in root_modules:
        path = root / f"{name}.py"
        if path.exists():
            files[name] = path
    return files


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def iter_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree``, at any depth, skipping the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(reversed(node.orelse))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _known_prefix(name: str, files: dict[str, Path]) -> str | None:
    """The longest prefix of dotted ``name`` that is one of our modules (``hotline.x.attr`` -> ``hotline.x``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in files:
            return candidate
        parts.pop()
    return None


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _resolve(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, files: dict[str, Path]) -> set[str]:
    """The modules of ours that ``node`` names explicitly."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            target = _known_prefix(alias.name, files)
            if target:
                found.add(target)
        return found
    if node.level:
        package_parts = module.split(".") if is_package else module.split(".")[:-1]
        if node.level > 1:
            package_parts = package_parts[: len(package_parts) - (node.level - 1)]
        base = ".".join(package_parts + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if submodule in files:
            found.add(submodule)
        else:
            target = _known_prefix(base, files)
            if target:
                found.add(target)
    return found


def build_graph(
    root: Path = ROOT, packages: Iterable[str] = PACKAGES, root_modules: Iterable[str] = ROOT_MODULES
) -> Graph:
    root = Path(root)
    files = discover(root, packages, root_modules)
    graph = Graph(root=root, files=files)
    graph.packages = {name for name, path in files.items() if path.name == "__init__.py"}
    explicit: dict[str, list[Edge]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lines = path.read_text(encoding="utf-8").splitlines()
        edges: list[Edge] = []
        for node in iter_imports(tree):
            text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            for target in sorted(_resolve(node, module, module in graph.packages, files)):
                edges.append(Edge(module, target, path, node.lineno, text))
        explicit[module] = edges
    # implicit edges: the parent packages' __init__ of every explicit target (see the module docstring)
    has_imports = {name for name in graph.packages if any(e.target != name for e in explicit[name])}
    for module, edges in explicit.items():
        own_ancestors = set(_ancestors(module))
        out: dict[str, list[Edge]] = {}
        for edge in edges:
            out.setdefault(edge.target, []).append(edge)
            for parent in _ancestors(edge.target):
                if parent in own_ancestors or parent == module or parent not in has_imports:
                    continue
                out.setdefault(parent, []).append(Edge(module, parent, edge.path, edge.line, edge.text, implicit=True))
        graph.edges[module] = out
    return graph


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm (iterative): every strongly connected component, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph.files):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.targets(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.targets(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycles(graph: Graph) -> list[list[str]]:
    """Components of more than one module, and modules that import themselves."""
    found = []
    for component in strongly_connected(graph):
        if len(component) > 1 or component[0] in graph.targets(component[0]):
            found.append(component)
    return sorted(found, key=lambda c: (-len(c), c))


def shortest_path(graph: Graph, source: str, target: str, within: set[str] | None = None) -> list[str] | None:
    """Modules from ``source`` to ``target`` (both included) along import edges, BFS; ``None`` when none."""
    previous: dict[str, str | None] = {source: None}
    queue = deque([source])
    while queue:
        node = queue.popleft()
        for child in sorted(graph.targets(node)):
            if within is not None and child not in within:
                continue
            if child == target:
                path = [child, node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return list(reversed(path))
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return None


def example_cycle(graph: Graph, component: list[str]) -> list[str]:
    """One closed path through the component: start, …, start."""
    start = component[0]
    if start in graph.targets(start):
        return [start, start]
    return shortest_path(graph, start, start, within=set(component)) or [start]


def describe_path(graph: Graph, path: list[str]) -> list[str]:
    lines = []
    for source, target in pairwise(path):
        edge = graph.edges[source][target][0]
        lines.append(f"    {source} -> {target}")
        lines.append(f"        {edge.where(graph.root)}")
    return lines


def report(graph: Graph) -> tuple[int, str]:
    found = cycles(graph)
    if not found:
        return 0, "0 import cycles"
    out = [f"{len(found)} import cycle(s):"]
    for number, component in enumerate(found, 1):
        out.append(f"\n[{number}] {len(component)} module(s): {', '.join(component)}")
        out.append("  for example:")
        out.extend(describe_path(graph, example_cycle(graph, component)))
    return 1, "\n".join(out)


def why(graph: Graph, source: str, target: str) -> tuple[int, str]:
    for name in (source, target):
        if name not in graph.files:
            return 2, f"unknown module: {name}"
    direct = graph.edges.get(source, {}).get(target)
    if direct:
        return 0, "\n".join(f"{source} -> {target}: {edge.where(graph.root)}" for edge in direct)
    path = shortest_path(graph, source, target)
    if path is None:
        return 1, f"{source} does not depend on {target}"
    return 0, "\n".join([f"{source} depends on {target} through:", *describe_path(graph, path)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder (default: this repository)")
    parser.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated top-level packages")
    parser.add_argument("--why", nargs=2, metavar=("A", "B"), help="print the import lines from module A to B")
    args = parser.parse_args(argv)
    graph = build_graph(args.root, [p for p in args.packages.split(",") if p], ROOT_MODULES)
    code, text = why(graph, *args.why) if args.why else report(graph)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
