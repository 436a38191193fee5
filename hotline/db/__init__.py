"""Database plumbing: engine tuning, dialect helpers, SQL functions, the fast insert path, bulk statements,
after-commit hooks and the per-process reference cache.
"""
