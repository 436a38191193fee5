"""分中心 (issue 17): a district's own hotline staff see — in the case lists, the dispatch queue, a case's page and
the statistics — only their district's cases; the city centre's staff see everything; the flag is audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.fixture()
def subcentre(app, api):
    admin = api("admin")
    resp = admin.client.put(
        "/api/v1/subcentres/D02", json={"subcentre": True}, headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert resp.status_code == 200 and resp.get_json()["subcentre"] is True
    yield "D02"
    admin.client.put(
        "/api/v1/subcentres/D02", json={"subcentre": False}, headers={"Authorization": f"Bearer {admin.token}"}
    )


def _numbers(resp) -> set[str]:
    body = resp.get_json()
    rows = body.get("cases") or body.get("items") or []
    return {c["number"] for c in rows}


def test_subcentre_staff_see_only_their_districts_cases(app, api, make_case, make_user, subcentre):
    west = make_case("registered", district="D02", content="西城区西关街道路面塌陷需要维修")
    east = make_case("registered", district="D01", content="东城区和平街道路灯不亮需要维修")
    west_done = make_case("dispatched", unit="ZJJ", district="D02")
    dispatcher = make_user(role="dispatcher", unit="D02", name="西城派单员")
    agent = make_user(role="agent", unit="D02S01", name="西城话务员")  # a unit within the district counts too
    centre = api("dispatcher1")

    mine = _numbers(api(dispatcher.username).get("/cases?per_page=100&status=registered,dispatched"))
    assert west.number in mine and west_done.number in mine and east.number not in mine
    assert api(dispatcher.username).get(f"/cases/{east.number}").status_code == 404
    assert api(agent.username).get(f"/cases/{east.number}").status_code == 404
    assert api(agent.username).get(f"/cases/{west.number}").status_code == 200

    queue = api(dispatcher.username).get("/routing/queue").get_json()
    waiting = {r["number"] for r in queue["waiting"]}
    assert west.number in waiting and east.number not in waiting
    # the city centre's queue is not scoped (oldest first, so these two may be beyond its first page in a long run)
    assert all(centre.get(f"/cases/{n}").status_code == 200 for n in (west.number, east.number))

    all_cases = _numbers(centre.get("/cases?per_page=100&status=registered,dispatched"))
    assert {west.number, east.number} <= all_cases

    stats = api(dispatcher.username).get("/stats/departments")
    assert stats.status_code == 200
    units = {row.get("code") or row.get("department_code") for row in stats.get_json().get("departments", [])}
    assert not units or all(u is None or u.startswith("D02") for u in units)


def test_a_case_registered_by_the_subcentre_stays_visible_to_it(app, api, make_user, subcentre, phone):
    agent = make_user(role="agent", unit="D02", name="西城话务员")
    resp = api(agent.username).post(
        "/cases",
        json={
            "citizen_phone": phone,
            "kind": "consult",
            "content": "咨询一下居住证办理需要哪些材料",
            "channel": "phone",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    number = resp.get_json()["number"]
    assert api(agent.username).get(f"/cases/{number}").status_code == 200


def test_the_flag_is_for_districts_only_and_audited(app, api, subcentre):
    from hotline.extensions import db
    from hotline.models import AuditEvent

    admin = api("admin")
    headers = {"Authorization": f"Bearer {admin.token}"}
    bad = admin.client.put("/api/v1/subcentres/D02S01", json={"subcentre": True}, headers=headers)
    assert bad.status_code == 400 and "区县" in bad.get_json()["error"]["message"]
    listed = {d["code"]: d["subcentre"] for d in admin.get("/subcentres").get_json()["districts"]}
    assert listed["D02"] is True and listed["D01"] is False
    assert api("dispatcher1").get("/subcentres").status_code == 403
    with app.app_context():
        row = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "subcentre.set", AuditEvent.target_id == "D02")
        ).all()[-1]
        assert row.after == {"subcentre": True} and row.actor_name == "admin"


def test_subcentre_page_toggles(app, subcentre):
    from tests.integration.test_pages import Browser

    admin = Browser(app, "admin")
    page = admin.html("/admin/org/subcentres")
    assert "分中心" in page and "西城区" in page
    resp = admin.post("/admin/org/subcentres/D03", {"subcentre": "y"}, follow=True)
    assert "已设为分中心" in resp.get_data(as_text=True)
    resp = admin.post("/admin/org/subcentres/D03", {}, follow=True)
    assert "已取消分中心" in resp.get_data(as_text=True)
