"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under /open311/v2 — docs/api.md, "Open311".

services = level-2 categories of the taxonomy; a request = a case (channel "app"); service_request_id = the case
number; status open|closed; agency_responsible = the lead unit; expected_datetime = the reply deadline. The
public feed shows only what the city chose (hotline/open311/publication.py), redacted (redaction.py).

The blueprint and what all endpoints share (errors in the spec's format, jurisdiction_id, rate limit, unknown
paths) are in ``blueprint.py``; the endpoints in ``services.py`` (discovery, services), ``intake.py`` (POST),
``feed.py`` (GET requests, tokens). Importing this module registers them all.
"""

from hotline.open311 import feed, intake, services  # noqa: F401 — each module adds its routes to open311_bp
from hotline.open311.blueprint import open311_bp

__all__ = ["open311_bp"]
