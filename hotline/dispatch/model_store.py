"""The routing model shared by every host: the database holds the newest trained file, each process keeps a copy
in its own instance folder.

Training happens on one host (``flask routing train``, the scheduled retraining job); web processes and routing
workers run on many. ``publish`` stores the file the trainer just wrote as a ``routing_model_files`` row (in the
caller's transaction); ``sync`` — called by ``tables.load_model`` at most every ``CHECK_SECONDS`` per process —
compares the newest row's SHA-256 with the local file and, when they differ, writes the row's bytes next to it and
renames it into place (atomic), so the model cache reloads it by its new mtime. Without any row (a fresh install
that trained before this table existed, or a model copied by hand) the local file is used as it is.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import RoutingModelFile

CHECK_SECONDS = 30.0
KEEP = 3  # rows kept: the newest and two before it (to compare, or to copy back by hand)

_lock = threading.Lock()
_checked: dict[str, float] = {}  # instance folder -> monotonic time of the last check
_local_sha: dict[str, tuple[float, str]] = {}  # file path -> (mtime, sha256)


def _sha(path: Path) -> str | None:
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    hit = _local_sha.get(str(path))
    if hit and hit[0] == mtime:
        return hit[1]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    _local_sha[str(path)] = (mtime, digest)
    return digest


def publish(path: Path, source: str) -> RoutingModelFile:
    """Store the model file at ``path`` for every host (in the caller's transaction); keep the last KEEP."""
    data = Path(path).read_bytes()
    row = RoutingModelFile(sha256=hashlib.sha256(data).hexdigest(), size=len(data), data=data, source=source[:40])
    db.session.add(row)
    db.session.flush()
    keep = sa.select(RoutingModelFile.id).order_by(RoutingModelFile.id.desc()).limit(KEEP).scalar_subquery()
    db.session.execute(sa.delete(RoutingModelFile).where(RoutingModelFile.id.not_in(keep)))
    return row


def sync(path: Path, force: bool = False) -> bool:
    """Bring the local model file at ``path`` up to the newest published one; True when it was replaced. Checks the
    database at most every CHECK_SECONDS per instance folder unless ``force``."""
    key = str(Path(path).parent)
    now = time.monotonic()
    with _lock:
        if not force and now - _checked.get(key, -CHECK_SECONDS) < CHECK_SECONDS:
            return False
        _checked[key] = now
    newest = db.session.execute(
        sa.select(RoutingModelFile.id, RoutingModelFile.sha256).order_by(RoutingModelFile.id.desc()).limit(1)
    ).first()
    if newest is None or newest.sha256 == _sha(Path(path)):
        return False
    data = db.session.scalar(sa.select(RoutingModelFile.data).where(RoutingModelFile.id == newest.id))
    if data is None or hashlib.sha256(data).hexdigest() != newest.sha256:
        return False
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # atomic: a reader sees the old file or the new one, never half of it
    return True
