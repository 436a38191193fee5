"""Outbound webhooks (issue 21): subscriptions, signed deliveries through the outbox, the delivery log.

- ``payloads.py``: the events and their bodies (personal data masked unless the subscription may unmask);
- ``fanout.py``: the outbox rows of one event for every matching subscription, in the caller's transaction —
  ``enqueue_event("alert.raised", data)`` is the entry point for events that are not case changes;
- ``signing.py``: ``X-Hotline-Signature`` = sha256=HEX(HMAC(secret, timestamp + "." + body));
- ``delivery.py``: one HTTP attempt (SSRF guard, timeout) and the back-off schedule (24 h, then flagged);
- ``subscriptions.py``: validated edits and redelivery (API ``api.py``, admin page ``pages.py``).

The relay is ``workers/jobs/webhooks.py`` (queue ``notify``).
"""
