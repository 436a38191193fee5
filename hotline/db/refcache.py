"""Per-process cache of reference rows every registration looks up: units by code, categories by path or
level-1 name. They change only through the admin's routing pages and the seed, which bump the routing
version in Redis after their commit (``bump_version`` below); each process reads that
version at most once a second (``HOTLINE_REFCACHE_TTL``) and reloads on a change, so an edit reaches every
process within a second. The version also changes every ``HOTLINE_REFCACHE_MAX_AGE`` seconds (300), so a
bump lost to a Redis failure after the commit leaves the cache stale for at most that long.

A hit is attached to the request's session with ``merge(load=False)``: no SQL, and the case can refer to it
like any loaded row.

The active places of the gazetteer (``places``) are cached the same way, as plain data: routing builds its
gazetteer from them and the KB's tokenizer keeps them whole. The version lives here (``bump_version``,
``current_version``); ``hotline.dispatch.service`` re-exports both.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from hotline.db.insert import detached
from hotline.db.transactions import after_commit
from hotline.extensions import connect_redis, db
from hotline.models import Category, Department, Place

VERSION_KEY = "hotline:routing:version"

_lock = threading.Lock()
_cache: dict[str, tuple[str, dict]] = {}  # database url -> (version, {key: detached row or None})
_seen: dict[str, tuple[str, float]] = {}  # database url -> (version, monotonic time it was read)
MAX_KEYS = 5000  # unknown codes are cached as None too: bound the dict against junk input
# the clocks, read through these names so a test can put a fake one in their place instead of sleeping
monotonic = time.monotonic  # between version checks (refcache_ttl)
wall_clock = time.time  # the period of refcache_max_age


def current_version() -> str:
    """The routing version every process compares its cached tables with: the counter in Redis plus the current
    period of ``refcache_max_age`` seconds. A bump lost after its commit (Redis unavailable at that moment) or a
    counter lost with Redis's data leaves caches stale for at most that long, since every process rebuilds when
    the period changes. With Redis down the counter reads as "down": the tables are loaded once and kept for the
    period like after a lost bump (not reloaded on every registration while the database carries intake
    alone); they are rebuilt when Redis answers again."""
    settings = current_app.config["HOTLINE"]
    period = int(wall_clock() // max(1, settings.refcache_max_age))
    try:
        counter = (connect_redis(settings).get(VERSION_KEY) or b"0").decode()
    except Exception as exc:
        current_app.logger.warning("routing version unavailable (%s); tables kept for at most the max age", exc)
        return f"down.{period}"
    return f"{counter}.{period}"


def bump_version() -> None:
    """Call when rules, the category mapping, units or places change: every process rebuilds after commit."""
    after_commit(lambda: connect_redis(current_app.config["HOTLINE"]).incr(VERSION_KEY))


def version() -> str:
    """The routing version as this process last saw it (read from Redis at most once per ``refcache_ttl``): other
    per-process caches (the SLA calendar and policy) key on it to follow an admin's change within that time."""
    return _version()


def _version(fresh: str | None = None) -> str:
    """The routing version, read from Redis at most once per ``refcache_ttl`` seconds per process (a
    registration makes several Redis round trips already; an admin's edit reaches every process within that
    time). ``fresh``: a version the caller has just read (taken as this process's latest)."""
    settings = current_app.config["HOTLINE"]
    now = monotonic()
    with _lock:
        seen = _seen.get(settings.database_url)
        if fresh is None and seen is not None and now - seen[1] < settings.refcache_ttl:
            return seen[0]
    version = current_version() if fresh is None else fresh
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


def _memo(key: tuple, load, version: str | None = None):
    """``load()``'s value, kept for this process until the version changes (loaded every time without one)."""
    rows = _rows(_version(version))
    if rows is None:
        return load()
    if key in rows:
        return rows[key]
    value = load()
    if len(rows) < MAX_KEYS:
        rows[key] = value
    return value


def _cached(key: tuple, cls, *queries):
    """The first row the ``queries`` (Core selects of ``cls``'s table) find, attached to the session."""

    def load():
        for query in queries:
            row = db.session.execute(query).mappings().first()
            if row is not None:
                return _detached(cls, row)
        return None

    row = _memo(key, load)
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


@dataclass(frozen=True)
class PlaceRow:
    """An active place of the gazetteer as plain data: its unit's code, kind, name and other spellings."""

    unit: str
    kind: str
    name: str
    aliases: tuple[str, ...] = ()


def _load_places() -> tuple[PlaceRow, ...]:
    rows = db.session.execute(
        sa.select(Department.code, Place.kind, Place.name, Place.aliases)
        .join(Department, Department.id == Place.department_id)
        .where(Place.active.is_(True))
        .order_by(Place.id)
    ).all()
    return tuple(PlaceRow(code, kind, name, tuple(aliases or ())) for code, kind, name, aliases in rows)


def places(version: str | None = None) -> tuple[PlaceRow, ...]:
    """The active places of the gazetteer (the same tuple until the version changes: compare by identity).
    ``version``: the routing version the caller has just read, so the tables it builds match it."""
    return _memo(("places",), _load_places, version)
