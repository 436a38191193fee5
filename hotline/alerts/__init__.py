"""Risk alerts (预警, 风险防控): a worker job (workers/jobs/alerts.py, every 15 minutes) finds

- clusters: a (category, area) whose case count over the sliding window stands out from its baseline
  (``rules.py``: Poisson tail or z-score, settings ``HOTLINE_ALERT_*`` in hotline/config.py);
- repeat callers whose contacts escalate (``HOTLINE_ALERT_REPEAT_CONTACTS`` cases within ``…_REPEAT_DAYS``);
- units whose on-time reply rate fell below ``HOTLINE_ALERT_ON_TIME_RATE``;

and raises each once (``raising.py``: a unique key per alert, ON CONFLICT DO NOTHING, and no second alert on the
same subject while the first is recent), linking the cases, with an in-app notice to monitors and supervisors, the
socket event ``alert.raised`` and the hooks of ``raising.LISTENERS`` (webhooks subscribe there).
"""
