"""URL converters. ``<int:ID>`` is bounded to the database's integer range: a larger number in a path (10**30) is
no row of ours and answers 404 like any unknown id, instead of overflowing the SQL parameter (a 500)."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the INTEGER primary keys (PostgreSQL's int4)


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)  # <int(max=N):ID> still sets its own
        super().__init__(url_map, *args, **kwargs)


def init_app(app) -> None:
    """Install before any blueprint registers its rules (converters are bound when a rule is added)."""
    app.url_map.converters["int"] = BoundedIntegerConverter
