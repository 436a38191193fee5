"""hotline/db/insert.py writes a new row in one statement and attaches it as a loaded instance: the stored row
and the instance must be what the ORM's own flush would have made of the same object."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case, CaseEvent
from tests.helpers import new_case


def test_none_is_omitted_like_the_orm_so_the_column_default_applies(app, api):
    from hotline.db.insert import insert_loaded

    case = new_case(api("agent1"), "137" + f"{uuid.uuid4().int % 10**8:08d}")
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == case["number"]))
        event = insert_loaded(CaseEvent(case_id=case_id, action="note", note=None, actor_label=None))
        assert event.id is not None and event in db.session
        assert (event.note, event.actor_label, event.created_at is not None) == ("", "", True)
        db.session.commit()
        stored = db.session.execute(
            sa.select(CaseEvent.note, CaseEvent.actor_label).where(CaseEvent.id == event.id)
        ).one()
        assert tuple(stored) == ("", "")
