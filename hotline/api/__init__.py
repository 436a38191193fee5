"""REST API under /api/v1 (JSON in, JSON out, errors per docs/api.md).

The blueprint object lives in ``blueprint.py``; importing this package registers every route module on it.
"""

from hotline.api import (  # noqa: F401 — each module adds its routes to api_bp
    cases,
    citizens,
    console,
    cti,
    dispatch,
    kb,
    notifications,
    publication,
    ratings,
    rectifications,
    routing,
    routing_admin,
    sla,
    stats,
    supervision,
    users,
)
from hotline.api.blueprint import api_bp

__all__ = ["api_bp"]
