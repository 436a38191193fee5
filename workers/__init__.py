"""RQ side: the job modules (jobs/), the cron table (schedule.py), the worker and scheduler commands (cli.py).

``workers`` imports ``hotline``, never the reverse: the app enqueues jobs by dotted name after commit through
``hotline.jobs`` (re-exported here for the job modules' convenience).
"""

from __future__ import annotations

from hotline.jobs import QUEUES, enqueue_on_commit, get_queue

__all__ = ["QUEUES", "enqueue_on_commit", "get_queue"]
