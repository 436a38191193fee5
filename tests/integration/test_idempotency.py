"""``Idempotency-Key`` on POST /api/v1/cases (and Open311, and the portal's form id): the same key of the same
caller within 24 h answers the first answer and never makes a second case (issue 15)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case, IdempotencyKey
from tests import counts
from tests.integration.test_assignment_races import dialect, five_xx, race


def body(phone: str, marker: str, **extra) -> dict:
    return {
        "channel": "phone",
        "kind": "complaint",
        "content": f"小区门口占道经营，影响通行 {marker}",
        "citizen_phone": phone,
        "address": "东城区人民路8号",
        **extra,
    }


def cases_with(app, marker: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.content.contains(marker)))


def key_header() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_replay_returns_the_first_answer(app, api, phone):
    marker, headers = uuid.uuid4().hex[:8], key_header()
    first = api("agent1").post("/cases", json=body(phone, marker), headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = api("agent1").post("/cases", json=body(phone, marker), headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and again.content_type == first.content_type
    # key order and white space of the JSON body do not make it another request
    reordered = dict(reversed(list(body(phone, marker).items())))
    third = api("agent1").post("/cases", json=reordered, headers=headers)
    assert third.get_json()["number"] == first.get_json()["number"]
    assert cases_with(app, marker) == 1
    # without the header every request is a new case, as before
    assert api("agent1").post("/cases", json=body(phone, marker)).status_code == 201
    assert cases_with(app, marker) == 2


def test_the_same_key_with_another_body_is_refused(app, api, phone):
    marker, headers = uuid.uuid4().hex[:8], key_header()
    first = api("agent1").post("/cases", json=body(phone, marker), headers=headers)
    other = api("agent1").post("/cases", json=body(phone, marker, address="西城区解放路1号"), headers=headers)
    assert other.status_code == 422
    error = other.get_json()["error"]
    assert error["code"] == "idempotency_key_reused" and "幂等键" in error["message"]
    assert first.get_json()["number"] in error["message"] and cases_with(app, marker) == 1


def test_keys_are_per_user_and_a_failed_request_leaves_no_key(app, api, phone):
    marker, headers = uuid.uuid4().hex[:8], key_header()
    bad = api("agent1").post("/cases", json={**body(phone, marker), "kind": "gossip"}, headers=headers)
    assert bad.status_code == 400  # rolled back with its key: the corrected request goes through
    first = api("agent1").post("/cases", json=body(phone, marker), headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    other_user = api("dispatcher1").post("/cases", json=body(phone, marker), headers=headers)
    assert other_user.status_code == 201 and other_user.get_json()["number"] != first.get_json()["number"]
    assert cases_with(app, marker) == 2


def test_a_malformed_key_is_a_400(api, phone):
    for key in ("", "a b", "x" * 201, "clé"):
        resp = api("agent1").post("/cases", json=body(phone, "bad"), headers={"Idempotency-Key": key})
        assert resp.status_code == 400, key
        assert resp.get_json()["error"]["code"] == "invalid_idempotency_key"


def test_20_concurrent_posts_with_one_key_make_one_case(app, tokens, phone):
    marker, headers = uuid.uuid4().hex[:8], key_header()
    answers = race(app, tokens["agent1"], "/cases", body(phone, marker), n=20, headers=headers)
    statuses = Counter(status for status, _ in answers)
    numbers = {b.get("number") for status, b in answers if status == 201}
    made = cases_with(app, marker)
    counts.report(
        f"Idempotency-Key x20 ({dialect(app)}): {made} case, {statuses[201]} × 201 with {len(numbers)} number, "
        f"{statuses[409]} × 409, {five_xx(statuses)} × 5xx"
    )
    assert made == 1 and len(numbers) == 1 and five_xx(statuses) == 0
    assert statuses[201] + statuses[409] == 20


def test_keys_expire_after_24_hours(app, api, phone):
    from workers.jobs.idempotency import prune_idempotency_keys

    marker, headers = uuid.uuid4().hex[:8], key_header()
    first = api("agent1").post("/cases", json=body(phone, marker), headers=headers).get_json()["number"]
    key = headers["Idempotency-Key"]
    with app.app_context():
        old = datetime.now(UTC) - timedelta(hours=25)
        db.session.execute(sa.update(IdempotencyKey).where(IdempotencyKey.key == key).values(created_at=old))
        db.session.commit()
    later = api("agent1").post("/cases", json=body(phone, marker), headers=headers)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert later.get_json()["number"] != first and cases_with(app, marker) == 2
    # the daily job deletes keys older than 24 h and keeps younger ones; a second run finds nothing
    stale = str(uuid.uuid4())
    api("agent1").post("/cases", json=body(phone, marker + "x"), headers={"Idempotency-Key": stale})
    with app.app_context():
        old = datetime.now(UTC) - timedelta(hours=24, minutes=1)
        db.session.execute(sa.update(IdempotencyKey).where(IdempotencyKey.key == stale).values(created_at=old))
        db.session.commit()
        assert prune_idempotency_keys() >= 1
        assert prune_idempotency_keys() == 0
        left = set(db.session.scalars(sa.select(IdempotencyKey.key).where(IdempotencyKey.key.in_([key, stale]))))
    assert left == {key}


def test_the_job_is_in_the_cron_table():
    from workers.jobs.idempotency import prune_idempotency_keys
    from workers.schedule import CRON_TABLE

    assert (prune_idempotency_keys, "default", 24 * 3600) in [(f, str(q), i) for f, q, i in CRON_TABLE]


def test_open311_honours_the_header(app, tokens, phone):
    client, marker, headers = app.test_client(), uuid.uuid4().hex[:8], key_header()
    with app.app_context():
        from hotline.models import Category

        code = str(db.session.scalar(sa.select(Category.id).where(Category.level == 2).limit(1)))
    form = {
        "api_key": tokens["agent1"],
        "service_code": code,
        "description": f"路灯不亮已经一周 {marker}",
        "phone": phone,
        "address_string": "人民路12号",
    }
    first = client.post("/open311/v2/requests.json", data=form, headers=headers)
    again = client.post("/open311/v2/requests.json", data=form, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    changed = client.post("/open311/v2/requests.json", data={**form, "phone": "13900000000"}, headers=headers)
    assert changed.status_code == 422 and changed.get_json()[0]["code"] == 422
    assert cases_with(app, marker) == 1


def test_portal_form_sent_again_with_other_content_is_refused(app, monkeypatch, phone):
    from tests.integration.portal_support import fill, submit

    settings = app.config["HOTLINE"]
    monkeypatch.setattr(settings, "portal_min_fill_seconds", 0)
    monkeypatch.setattr(settings, "portal_rate_limit_ip", "1000 per minute")
    monkeypatch.setattr(settings, "portal_rate_limit_phone", "1000 per minute")
    client, marker = app.test_client(), uuid.uuid4().hex[:8]
    data = fill(client, phone, f"路口红绿灯坏了，车辆乱行 {marker}")
    assert submit(client, data).status_code == 303
    edited = submit(client, {**data, "content": f"路口红绿灯坏了，改一下内容 {marker}"})
    assert edited.status_code == 422 and "已经提交过" in edited.get_data(as_text=True)
    assert cases_with(app, marker) == 1
