"""Exports (hotline/exports): write one requested file; daily, delete files past their keeping time."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.exports import service
from workers.context import job


@job
def run_export(export_id: int, now: datetime | None = None) -> dict:
    return service.run(export_id, now)


@job
def prune_exports(now: datetime | None = None) -> dict:
    return {"pruned": service.prune(now or datetime.now(UTC))}
