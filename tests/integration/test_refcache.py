"""The per-process cache of units and categories (hotline/db/refcache.py): a hit costs no SQL and is attached to
the request's session; a bumped routing version is seen once the check interval has passed."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hotline.extensions import db


class Statements:
    def __init__(self, engine):
        self.count = 0
        self.engine = engine
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs):
        self.count += 1

    def close(self):
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


def test_units_and_categories_are_cached_until_the_version_changes(app):
    from hotline.db import refcache
    from hotline.db.refcache import VERSION_KEY
    from hotline.extensions import connect_redis

    settings = app.config["HOTLINE"]
    old_ttl, settings.refcache_ttl = settings.refcache_ttl, 0.0  # check the version on every call
    try:
        with app.app_context():
            first = refcache.active_unit("D01")
            assert first is not None and first.name and first in db.session
            counter = Statements(db.engine)
            try:
                again = refcache.active_unit("D01")
                cat = refcache.category("环境保护")
                cat_again = refcache.category("环境保护")
                assert again is first and cat is cat_again and cat.level == 1
                before = counter.count
                db.session.remove()
                attached = refcache.active_unit("D01")  # a new session: merged, still no SQL
                assert attached in db.session and attached.code == "D01" and counter.count == before
                assert refcache.active_unit("NOPE") is None and refcache.active_unit("NOPE") is None
                unknown_sql = counter.count
                connect_redis(settings).incr(VERSION_KEY)  # what an admin's edit does after its commit
                assert refcache.active_unit("D01").code == "D01"
                assert counter.count > unknown_sql  # reloaded from the database
            finally:
                counter.close()
    finally:
        settings.refcache_ttl = old_ttl


@pytest.fixture()
def frozen(app, clock, monkeypatch):
    """refcache's clocks replaced by the fake ``clock``, set at the start of a max-age period; the TTL 1 s and the
    max age 300 s. Afterwards the fake check times are forgotten (real monotonic time is far smaller)."""
    from hotline.db import refcache

    settings = app.config["HOTLINE"]
    monkeypatch.setattr(refcache, "monotonic", clock.monotonic)
    monkeypatch.setattr(refcache, "wall_clock", clock.time)
    monkeypatch.setattr(settings, "refcache_ttl", 1.0)
    monkeypatch.setattr(settings, "refcache_max_age", 300)
    clock.set(datetime.fromtimestamp(int(clock.time()) // 300 * 300 + 300, UTC))
    yield clock
    with refcache._lock:
        refcache._seen.clear()


@contextmanager
def renamed_d01(name: str):
    """Unit D01 renamed to ``name`` in the database, without a version bump; restored (and bumped) after."""
    from hotline.db.refcache import bump_version
    from hotline.models import Department

    rename = sa.update(Department).where(Department.code == "D01")
    original = db.session.scalar(sa.select(Department.name).where(Department.code == "D01"))
    db.session.execute(rename.values(name=name))
    db.session.commit()  # no bump_version(): as if the INCR after the commit had failed
    try:
        yield original
    finally:
        db.session.remove()
        db.session.execute(rename.values(name=original))
        bump_version()
        db.session.commit()


def test_a_version_bump_is_seen_once_the_ttl_has_passed(app, frozen):
    from hotline.db import refcache
    from hotline.db.refcache import VERSION_KEY
    from hotline.extensions import connect_redis

    with app.app_context():
        original = refcache.active_unit("D01").name
        with renamed_d01("改名后的区"):
            connect_redis(app.config["HOTLINE"]).incr(VERSION_KEY)  # the admin's bump after the commit
            frozen.advance(seconds=0.9)
            db.session.remove()
            assert refcache.active_unit("D01").name == original  # the version was checked 0.9 s ago
            frozen.advance(seconds=0.2)
            db.session.remove()
            assert refcache.active_unit("D01").name == "改名后的区"


def test_a_lost_version_bump_is_outlived_by_the_max_age(app, frozen):
    """An admin's edit whose bump never reached Redis (it failed after the commit) is seen once the
    max-age period turns over, without any bump."""
    from hotline.db import refcache

    with app.app_context():
        original = refcache.active_unit("D01").name
        with renamed_d01("改名后的区"):
            frozen.advance(seconds=299)
            db.session.remove()
            assert refcache.active_unit("D01").name == original  # the same period: still the cached row
            frozen.advance(seconds=1)  # into the next period
            db.session.remove()
            assert refcache.active_unit("D01").name == "改名后的区"
