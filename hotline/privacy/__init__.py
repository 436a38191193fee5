"""Personal-data rights (个人信息保护法, PIPL): for one person found by a phone number, export everything held
(``export.py``: a ZIP of JSON + readable HTML) and erase it (``erase.py``: cases keep their content, the person's
name, numbers, identities and blind index go); the retention limit applied by a daily job with a dry-run report
first (``retention.py``). Every action is in the audit log.
(The cipher and blind index are hotline/citizens/privacy.py.)"""
