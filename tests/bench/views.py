"""Baseline endpoints for the benchmarks, served only by the bench's own app (tests/bench/wsgi.py).

Never enabled in production. They measure the stack under the case workflow:

- ``GET /bench/ping``: a trivial JSON answer (Flask + gunicorn + the app's before/after hooks).
- ``POST /bench/bare-insert``: one citizens, one citizen_phones, one cases and one case_events row,
  each a single SQLAlchemy Core INSERT on the request's session, then one commit. No authentication,
  encryption, blind index, routing, deadlines, case-number sequence or realtime publish.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import Blueprint, jsonify, request

from hotline.extensions import db
from hotline.models import Case, CaseEvent, Citizen, CitizenPhone

bench_bp = Blueprint("bench", __name__, url_prefix="/bench")


@bench_bp.get("/ping")
def ping():
    return jsonify({"ok": True})


@bench_bp.post("/bare-insert")
def bare_insert():
    body = request.get_json(silent=True) or {}
    phone = str(body.get("citizen_phone") or "")[:32]
    tag = uuid.uuid4().hex  # unique even when the body repeats a phone number
    now = datetime.now(UTC)
    session = db.session
    citizen_id = session.execute(
        Citizen.__table__.insert().values(tags=[], created_at=now, updated_at=now)
    ).inserted_primary_key[0]
    phone_id = session.execute(
        CitizenPhone.__table__.insert().values(
            citizen_id=citizen_id,
            phone_hash=tag + tag,
            phone_enc=phone or tag,
            masked=phone[:3] + "****",
            kind="mobile",
            created_at=now,
        )
    ).inserted_primary_key[0]
    case_id = session.execute(
        Case.__table__.insert().values(
            number="BN" + tag[:30],
            kind=str(body.get("kind") or "complaint")[:16],
            channel="phone",
            urgency="normal",
            status="registered",
            title="",
            content=str(body.get("content") or "bench"),
            address=str(body.get("address") or "")[:300],
            citizen_id=citizen_id,
            phone_id=phone_id,
            confidential=False,
            complex=False,
            created_at=now,
            updated_at=now,
            version=1,
        )
    ).inserted_primary_key[0]
    session.execute(
        CaseEvent.__table__.insert().values(
            case_id=case_id,
            action="create",
            to_status="registered",
            actor_label="bench",
            note="",
            data={},
            created_at=now,
        )
    )
    session.commit()
    return jsonify({"id": case_id}), 201
