"""Exports (导出): any list or table — cases with the case-list filters, the unit ranking, hot topics, ratings, the
audit log — to XLSX or CSV, written by a background job (workers/jobs/exports.py) with streamed writing
(openpyxl write-only mode: memory does not grow with rows), progress stored on the ``exports`` row, and the file
downloadable by its requester only. Personal data is masked unless the requester may unmask (``citizen.unmask``);
every export and download is audited (hotline/audit).

- ``filters.py``: the filters of each kind of export, checked before the job is queued (Chinese errors)
- ``sources.py``: what each kind of export writes (headers, a count, rows in id pages)
- ``writer.py``: XLSX / CSV writing, streamed
- ``service.py``: request an export, run it (the job's body), the file's place
"""
