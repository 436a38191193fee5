"""The REST API's OpenAPI 3.1 document (``GET /api/v1/openapi.json``) and its rendered reference (``/api/docs``).

Generated from the code, not written by hand: the operations are the app's url_map under ``/api/v1`` (every rule and
method), the security of each comes from its view's ``@requires`` capability or ``@public``, and request bodies are
converted from the same validation specs the views parse (``hotline/web/validation.py``). What the url_map cannot
say — a summary, the request body of a view that parses inline, query parameters, the response shape and the case
workflow's links — is kept in one central registry (``registry.py``, ``registry_more.py``) rather than in every view
module; ``tests/contract`` asserts that every API rule has an entry and fuzzes the document with schemathesis.
"""
