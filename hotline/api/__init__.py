"""REST API under /api/v1 (JSON in, JSON out, errors per docs/api.md).

The blueprint object lives in ``blueprint.py``; importing this package registers every route module on it.
"""

from hotline.api import (  # noqa: F401 — each module adds its routes to api_bp
    alerts,
    cases,
    citizens,
    console,
    cti,
    dispatch,
    exports,
    figures,
    kb,
    notes,
    notifications,
    publication,
    ratings,
    rectifications,
    routing,
    routing_admin,
    routing_lexicon,
    saved_filters,
    sla,
    stats,
    supervision,
    users,
)
from hotline.api.blueprint import api_bp

__all__ = ["api_bp"]
