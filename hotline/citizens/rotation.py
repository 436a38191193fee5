"""Re-encrypt personal data with the current data key (after HOTLINE_DATA_KEY changed)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from hotline.citizens.profile import cipher
from hotline.extensions import db
from hotline.models import Citizen, CitizenPhone

COLUMNS = ((CitizenPhone, "phone_enc"), (Citizen, "name_enc"))
BATCH = 1000


def rotate(progress: Callable[[str], None] = print) -> int:
    """Re-encrypt every value not yet under the current key; batched, restartable. Returns rows changed."""
    c = cipher()
    changed = 0
    for model, column in COLUMNS:
        col = getattr(model, column)
        last_id = 0
        done = 0
        total = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(col.is_not(None)))
        while True:
            rows = db.session.execute(
                sa.select(model.id, col).where(model.id > last_id, col.is_not(None)).order_by(model.id).limit(BATCH)
            ).all()
            if not rows:
                break
            for row_id, value in rows:
                if c.needs_rotation(value):
                    db.session.execute(
                        sa.update(model).where(model.id == row_id).values({column: c.encrypt(c.decrypt(value))})
                    )
                    changed += 1
            last_id = rows[-1][0]
            done += len(rows)
            db.session.commit()
            progress(f"{model.__tablename__}.{column}: {done}/{total}")
    return changed
