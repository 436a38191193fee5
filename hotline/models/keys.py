"""The fingerprints of the shared keys the database was written with (``flask keys check``).

One row per key: the first host that starts on a database records its fingerprints; every later host (and a
restore onto a fresh host) is compared with them. A fingerprint is the first 12 hex digits of an HMAC-SHA256
of a fixed label under the key (``hotline/citizens/keyset.py``) — never the key itself.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from hotline.extensions import db
from hotline.models.types import UTCDateTime, utcnow


class KeyFingerprint(db.Model):
    __tablename__ = "key_fingerprints"

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)  # setting name, e.g. "index_key"
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(16))
    host: so.Mapped[str] = so.mapped_column(sa.String(255), default="")  # the host that recorded it
    recorded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
