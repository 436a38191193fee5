"""The per-process cache of units and categories (hotline/refcache.py): a hit costs no SQL and is attached to
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
    from hotline import refcache
    from hotline.extensions import connect_redis
    from hotline.routing_service import VERSION_KEY

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
