"""The layout rules of docs/architecture.md that a machine can check: folders, module sizes, import directions,
errors by layer. Imports are read with ``ast`` (every import statement, inside functions too)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tools.importgraph import ROOT, iter_imports

MAX_LINES = 400
# every Python module, migrations included (the generated initial schema is split in two: initial_schema_rest.py)
SIZED = ("hotline", "routing", "knowledge_base", "workers", "tests", "tools", "migrations")
HOTLINE_ROOT_MODULES = {"__init__.py", "config.py", "extensions.py", "errors.py"}
# packages whose code is the domain (operations, rules, queries): they raise domain errors, not HTTP ones
DOMAIN = ("cases", "sla", "dispatch", "kb", "citizens", "ratings", "channels", "wechat", "stats", "models", "db")
DOMAIN += ("realtime", "jobs")


def _py_files(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of everything ``path`` imports: ``from a.b import c`` gives ``a.b`` and ``a.b.c``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out = []
    for node in iter_imports(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
            continue
        base = node.module or ""
        if node.level:
            parent = package[: len(package) - (node.level - 1)]
            base = ".".join([*parent, *([base] if base else [])])
        out.append((node.lineno, base))
        out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return out


def _violations(folders: tuple[str, ...], forbidden, allowed=lambda path: False) -> list[str]:
    found = []
    for path in _py_files(*folders):
        if allowed(path):
            continue
        for line, name in _imported(path):
            if forbidden(name):
                found.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    return sorted(set(found))


def _under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_hotline_root_holds_only_packages_and_four_modules():
    modules = {p.name for p in (ROOT / "hotline").glob("*.py")}
    assert modules == HOTLINE_ROOT_MODULES


def test_no_module_over_400_lines():
    too_long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in _py_files(*SIZED)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not too_long, "split these modules:\n" + "\n".join(too_long)


def test_seed_data_is_imported_only_by_the_cli_and_the_seed_package():
    def allowed(path: Path) -> bool:
        rel = path.relative_to(ROOT).as_posix()
        return rel.startswith(("hotline/cli/", "hotline/seed/"))

    found = _violations(
        ("hotline", "routing", "knowledge_base", "workers"), lambda n: _under(n, "hotline.seed"), allowed
    )
    assert not found, "\n".join(found)


def test_pure_packages_import_neither_flask_nor_hotline():
    found = _violations(("routing", "knowledge_base"), lambda n: _under(n, "flask", "hotline", "workers"))
    assert not found, "\n".join(found)


def test_the_app_never_imports_workers():
    found = _violations(("hotline",), lambda n: _under(n, "workers"))
    assert not found, "jobs are enqueued by dotted name (hotline/jobs):\n" + "\n".join(found)


def _is_view(path: Path) -> bool:
    """A module that defines or serves a blueprint: views may speak HTTP."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
        if name == "Blueprint" or name.endswith("_bp"):
            return True
    return False


def test_domain_code_neither_imports_the_api_nor_raises_http_errors():
    folders = tuple(f"hotline/{d}" for d in DOMAIN)
    found = _violations(folders, lambda n: _under(n, "hotline.api") or n == "hotline.errors.ApiError", _is_view)
    assert not found, "raise a domain error (hotline/cases/errors.py) instead:\n" + "\n".join(found)


def test_every_module_is_in_a_package_folder_of_the_map():
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert top <= {"hotline", "routing", "knowledge_base", "workers", "tests", "tools", "migrations"}


@pytest.mark.parametrize("name", importlib.import_module("hotline.jobs").JOB_NAMES)
def test_job_names_enqueued_by_the_app_resolve_to_jobs(name):
    module, _, attr = name.rpartition(".")
    assert module.startswith("workers.jobs.")
    assert callable(getattr(importlib.import_module(module), attr))


def test_case_operations_never_depend_on_dispatch():
    """dispatch/ (the app side of routing) builds on cases/, never the reverse; only the case page, a view that
    composes the panels of several packages, shows dispatch's routing panel."""
    found = _violations(("hotline/cases",), lambda n: _under(n, "hotline.dispatch"), _is_view)
    assert not found, "\n".join(found)


def test_models_import_only_the_database_layer():
    """Models sit under every package; besides each other they read the extensions and the leaf of roles."""
    leaves = ("hotline.models", "hotline.extensions", "hotline.auth.roles")
    found = _violations(("hotline/models",), lambda n: _under(n, "hotline") and not _under(n, *leaves))
    assert not found, "\n".join(found)
