"""No import cycles among the app's modules, counting imports inside functions (tools/importgraph.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tools import importgraph


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_app_has_no_import_cycles():
    graph = importgraph.build_graph()
    code, text = importgraph.report(graph)
    assert code == 0, text
    assert text == "0 import cycles"


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import helper\n",
            "pkg/b.py": """
                def helper():
                    from pkg import a  # hidden in a function: still a dependency

                    return a
            """,
            "pkg/c.py": "import pkg.a\n",
        },
    )
    graph = importgraph.build_graph(tmp_path, ["pkg"], ())
    assert importgraph.cycles(graph) == [["pkg.a", "pkg.b"]]
    code, text = importgraph.report(graph)
    assert code == 1
    assert "pkg/b.py:3: from pkg import a" in text
    assert importgraph.main(["--root", str(tmp_path), "--packages", "pkg"]) == 1


def test_type_checking_imports_and_unrelated_packages_do_not_count(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """
                from typing import TYPE_CHECKING

                import json
                from pkg import b

                if TYPE_CHECKING:
                    from pkg.c import Thing
            """,
            "pkg/b.py": "",
            "pkg/c.py": "from pkg import a\n",
        },
    )
    graph = importgraph.build_graph(tmp_path, ["pkg"], ())
    assert set(graph.targets("pkg.a")) == {"pkg.b"}
    assert importgraph.report(graph) == (0, "0 import cycles")


def test_a_package_init_that_imports_is_an_edge_of_its_submodules_importers(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.sub.x import X\n",
            "pkg/sub/__init__.py": "from pkg.sub import y\n",  # runs y whenever anyone imports pkg.sub.x
            "pkg/sub/x.py": "X = 1\n",
            "pkg/sub/y.py": "from pkg.other import helper\n",
            "pkg/other.py": "from pkg.sub.x import X\n\ndef helper():\n    return X\n",
        },
    )
    graph = importgraph.build_graph(tmp_path, ["pkg"], ())
    # pkg.other -> pkg.sub.x runs pkg/sub/__init__.py, which imports y, which imports pkg.other: a real cycle
    assert importgraph.cycles(graph) == [["pkg.other", "pkg.sub", "pkg.sub.y"]]
    # a module's own parent packages are no edge (they ran before it): pkg.sub.y is not in a cycle with pkg
    assert "pkg" not in graph.targets("pkg.sub.y")
    code, text = importgraph.why(graph, "pkg.other", "pkg.sub")
    assert code == 0 and "runs pkg.sub/__init__.py" in text


def test_relative_imports_resolve(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from . import b\nfrom .sub import c\n",
            "pkg/b.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "from .. import a\n",
        },
    )
    graph = importgraph.build_graph(tmp_path, ["pkg"], ())
    assert set(graph.targets("pkg.a")) == {"pkg.b", "pkg.sub.c"}
    assert importgraph.cycles(graph) == [["pkg.a", "pkg.sub.c"]]
