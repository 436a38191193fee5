"""Per-process cache of reference rows every registration looks up: units by code, categories by path or
level-1 name. They change only through the admin's routing pages and the seed, which bump the routing
version in Redis after their commit (``hotline.dispatch.service.bump_version``); each process reads that
version at most once a second (``HOTLINE_REFCACHE_TTL``) and reloads on a change, so an edit reaches every
process within a second. The version also changes every ``HOTLINE_REFCACHE_MAX_AGE`` seconds (300), so a
bump lost to a Redis failure after the commit leaves the cache stale for at most that long.

A hit is attached to the request's session with ``merge(load=False)``: no SQL, and the case can refer to it
like any loaded row.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from flask import current_app

from hotline.db.insert import detached
from hotline.extensions import db
from hotline.models import Category, Department

_lock = threading.Lock()
_cache: dict[str, tuple[str, dict]] = {}  # database url -> (version, {key: detached row or None})
_seen: dict[str, tuple[str, float]] = {}  # database url -> (version, monotonic time it was read)
MAX_KEYS = 5000  # unknown codes are cached as None too: bound the dict against junk input


def _version(read) -> str:
    """The routing version, read from Redis at most once per VERSION_TTL seconds per process (a registration
    makes several Redis round trips already; an admin's edit reaches every process within that time)."""
    settings = current_app.config["HOTLINE"]
    now = time.monotonic()
    with _lock:
        seen = _seen.get(settings.database_url)
        if seen is not None and now - seen[1] < settings.refcache_ttl:
            return seen[0]
    version = read()
    with _lock:
        _seen[settings.database_url] = (version, now)
    return version


def _rows(version: str) -> dict | None:
    """This process's rows of ``version`` (None when the version is unknown: Redis unavailable)."""
    if not version:
        return None
    url = current_app.config["HOTLINE"].database_url
    with _lock:
        hit = _cache.get(url)
        if hit is None or hit[0] != version:
            hit = (version, {})
            _cache[url] = hit
        return hit[1]


def _detached(cls, row) -> object | None:
    return None if row is None else detached(cls, dict(row))


def _cached(key: tuple, cls, *queries):
    """The first row the ``queries`` (Core selects of ``cls``'s table) find, attached to the session."""
    from hotline.dispatch.service import current_version

    def load():
        for query in queries:
            row = db.session.execute(query).mappings().first()
            if row is not None:
                return _detached(cls, row)
        return None

    rows = _rows(_version(current_version))
    if rows is None:
        row = load()
    elif key in rows:
        row = rows[key]
    else:
        row = load()
        if len(rows) < MAX_KEYS:
            rows[key] = row
    return db.session.merge(row, load=False) if row is not None else None


def active_unit(code: str) -> Department | None:
    units = Department.__table__
    return _cached(("unit", code), Department, sa.select(units).where(units.c.code == code, units.c.active.is_(True)))


def category(value: str) -> Category | None:
    """A category by full path ("城乡建设/物业管理/…") or by level-1 name."""
    cats = Category.__table__
    return _cached(
        ("category", value),
        Category,
        sa.select(cats).where(cats.c.path == value),
        sa.select(cats).where(cats.c.level == 1, cats.c.name == value),
    )
