"""Knowledge base core, pure (no Flask, no ``hotline``): tokenising, term vectors, the search index, file import.

The app side (database, lifecycle, API, pages) lives in ``hotline/kb/``.
"""
