"""The data-sharing feed (issue 21): every case change with a cursor in commit order.

- ``changes.py``: the change log's before-commit step — collects the transaction's case changes (cases created,
  timeline events, ratings), writes them to ``feed_changes`` with their cursors and hands them to the webhooks;
- ``reader.py``: pages of changes after a cursor (GET /api/v1/feed/cases, ``api.py``);
- ``export.py``: the increments as JSON Lines files / POSTed to an endpoint (hourly job workers/jobs/feed.py).
"""
