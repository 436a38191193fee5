"""RQ side: the job modules (jobs/), the cron table (schedule.py), the worker and scheduler commands (cli.py).

``workers`` imports ``hotline``, never the reverse: the app enqueues jobs by dotted name after commit through
``hotline.jobs``.
"""
