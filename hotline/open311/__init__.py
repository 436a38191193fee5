"""Open311 GeoReport v2 under /open311/v2: services = level-2 categories, requests = cases (docs/api.md)."""
