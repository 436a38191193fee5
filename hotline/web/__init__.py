"""Shared HTTP helpers: request-body validation, code/name look-ups, Jinja filters, the health endpoint."""
