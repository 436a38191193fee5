"""Case search (issue 20): search terms, their index, the query behind ``/cases?q=`` and ``GET /api/v1/cases``."""
