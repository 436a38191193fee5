"""The per-process cache of units and categories (hotline/db/refcache.py): a hit costs no SQL and is attached to
the request's session; a bumped routing version is seen once the check interval has passed."""

from __future__ import annotations

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
    from hotline.dispatch.service import VERSION_KEY
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


def test_a_lost_version_bump_is_outlived_by_the_max_age(app):
    """An admin's edit whose bump never reached Redis (it failed after the commit) is seen once the
    max-age period turns over, without any bump."""
    import time

    from hotline.db import refcache
    from hotline.dispatch.service import bump_version
    from hotline.models import Department

    settings = app.config["HOTLINE"]
    old = settings.refcache_ttl, settings.refcache_max_age
    settings.refcache_ttl, settings.refcache_max_age = 0.0, 2
    rename = sa.update(Department).where(Department.code == "D01")
    with app.app_context():
        original = db.session.scalar(sa.select(Department.name).where(Department.code == "D01"))
        try:
            time.sleep(2.02 - time.time() % 2)  # at the start of a period: the steps below take milliseconds
            assert refcache.active_unit("D01").name == original
            db.session.execute(rename.values(name="改名后的区"))
            db.session.commit()  # no bump_version(): as if the INCR after the commit had failed
            db.session.remove()
            assert refcache.active_unit("D01").name == original  # the same period: still the cached row
            time.sleep(2.02 - time.time() % 2)  # into the next period
            db.session.remove()
            assert refcache.active_unit("D01").name == "改名后的区"
        finally:
            settings.refcache_ttl, settings.refcache_max_age = old
            db.session.remove()
            db.session.execute(rename.values(name=original))
            bump_version()
            db.session.commit()
