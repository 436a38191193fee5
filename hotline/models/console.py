"""The console event log: every Socket.IO event, durable and ordered, so a client that missed one can catch up.

Written by hotline/realtime/publish.py in the transaction of the change (it is also the transactional outbox of the
socket events), read by GET /api/v1/console/changes (hotline/realtime/eventlog.py), pruned by a daily job.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import JSONType, UTCDateTime, utcnow


class ConsoleEvent(db.Model):
    __tablename__ = "console_events"

    # the cursor: assigned just before the commit under the console_cursor row's lock, so ids grow in commit order
    id: so.Mapped[int] = so.mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))  # the Socket.IO event: case.created, call.ringing, …
    rooms: so.Mapped[list] = so.mapped_column(JSONType)  # ["role:agent", "department:ZJJ", "user:7", …]
    payload: so.Mapped[dict] = so.mapped_column(JSONType)  # as emitted, without the cursor (that is the id)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)


class ConsoleCursor(db.Model):
    """One row (id 1): the last cursor handed out, and the highest cursor the retention job has deleted."""

    __tablename__ = "console_cursor"

    id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    last: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    pruned: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
