"""Department isolation (docs/domain.md, "Who sees a case"): a unit reads a case only through a live, delegated
or replied task of its own; after returning it, it reads nothing; whatever it may not see answers exactly like
a case that does not exist (404, never 403); GET /users shows a unit only its own people."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.extensions import db

MISSING = "GD20000101-000009"


def _pages(api, username: str):
    client = api(username)
    return lambda path: client.client.get(path, headers=client._headers())


def _visible(api, username: str, number: str) -> bool:
    """What every read path says, which must agree: the API, the case page, the API list and the page list."""
    client, page = api(username), _pages(api, username)
    one = client.get(f"/cases/{number}").status_code
    html = page(f"/cases/{number}").status_code
    listed = number in [c["number"] for c in client.get(f"/cases?q={number}").get_json()["items"]]
    in_page_list = f">{number}<" in page(f"/cases?q={number}").get_data(as_text=True)
    assert (one, html) in ((200, 200), (404, 404)), (username, number, one, html)
    assert listed == in_page_list == (one == 200), (username, number, one, listed, in_page_list)
    return one == 200


def test_after_returning_a_case_the_unit_no_longer_reads_it(api, make_case):
    number = make_case("dispatched", unit="SHJ").number
    assert _visible(api, "handler_shj", number) and _visible(api, "admin_shj", number)
    resp = api("handler_shj").post(f"/cases/{number}/return", json={"reason": "不属于本单位职责，请改派"})
    assert resp.status_code == 200, resp.get_json()
    assert not _visible(api, "handler_shj", number) and not _visible(api, "admin_shj", number)
    assert api("handler_shj").post(f"/cases/{number}/sign", json={}).status_code == 404
    assert _visible(api, "dispatcher1", number)

    # the dispatcher rejects the return (不当退回): the task is live again, and so is the unit's view
    decision = {"accept": False, "note": "属于本单位职责，请继续办理"}
    assert api("dispatcher1").post(f"/cases/{number}/return/decision", json=decision).status_code == 200
    assert _visible(api, "handler_shj", number)

    # returned again and moved to another unit: the first unit is out for good, the new one reads it
    api("handler_shj").post(f"/cases/{number}/return", json={"reason": "确实不属于本单位职责"})
    decision = {"accept": True, "department_code": "RSJ", "note": "改派人社局"}
    assert api("dispatcher1").post(f"/cases/{number}/return/decision", json=decision).status_code == 200
    assert not _visible(api, "handler_shj", number) and _visible(api, "handler_rsj", number)


def test_a_replied_unit_keeps_reading_through_rating_and_after_closing(api, make_case):
    replied = make_case("replied", unit="ZJJ").number
    closed = make_case("closed", unit="ZJJ").number
    for number in (replied, closed):
        assert _visible(api, "handler_zjj", number) and _visible(api, "admin_zjj", number)
        assert not _visible(api, "handler_shj", number)


def test_district_and_its_street_after_subdispatch(api, make_case):
    number = make_case("dispatched", unit="D01").number
    assert _visible(api, "handler_d01", number) and not _visible(api, "handler_d01s01", number)
    version = api("handler_d01").get(f"/cases/{number}").get_json()["version"]
    resp = api("handler_d01").post(
        f"/cases/{number}/subdispatch", json={"department_code": "D01S01", "note": "请街道处理", "version": version}
    )
    assert resp.status_code == 200, resp.get_json()
    # the district answers for its street (delegated), the street reads its own task, nobody else does
    assert _visible(api, "handler_d01", number) and _visible(api, "handler_d01s01", number)
    assert _visible(api, "admin_d01s01", number)
    assert not _visible(api, "handler_zjj", number)


def test_what_a_unit_may_not_see_answers_like_a_missing_case(app, api, make_case):
    """Every case endpoint: for another unit's case the same status and error code as for a number that does not
    exist — the 403 of the old code told a department user which case numbers exist."""
    from hotline.auth.permissions import CAPABILITIES
    from hotline.models import User

    number = make_case("dispatched", unit="ZJJ").number
    rules = [r for r in app.url_map.iter_rules() if "<number>" in r.rule and r.rule.startswith("/api/v1/cases/")]
    compared = 0
    for username in ("handler_shj", "admin_shj", "handler_d01s01"):
        with app.app_context():
            role = db.session.scalar(sa.select(User.role).where(User.username == username))
        client = api(username)
        for rule in rules:
            view = app.view_functions[rule.endpoint]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                answers = []
                for target in (number, MISSING):
                    path = rule.rule.removeprefix("/api/v1").replace("<number>", target)
                    resp = client.get(path) if method == "GET" else client.post(path, json={})
                    body = resp.get_json(silent=True) or {}
                    answers.append((resp.status_code, body.get("error", {}).get("code")))
                assert answers[0] == answers[1], (username, method, rule.rule, answers)
                expected = 404 if view._capability in CAPABILITIES[role] else 403
                assert answers[0][0] == expected, (username, method, rule.rule, answers)
                compared += 1
    assert compared >= 3 * 20
    assert api("handler_zjj").get(f"/cases/{number}").status_code == 200  # its own unit still reads it


def test_another_units_rectification_is_a_404(app, api, make_case):
    from hotline.models import Case, Rectification
    from tests.integration.ratings_support import invitation_tokens

    number = make_case("replied", unit="ZJJ").number
    [token] = invitation_tokens(api, number)
    resp = app.test_client().post("/api/v1/ratings", json={"token": token, "score": 1, "resolved": False})
    rect_id = resp.get_json()["rectification_id"]
    with app.app_context():
        case_id = db.session.scalar(sa.select(Case.id).where(Case.number == number))
        assert db.session.scalar(sa.select(Rectification.id).where(Rectification.case_id == case_id)) == rect_id
    assert api("handler_zjj").get(f"/rectifications/{rect_id}").status_code == 200
    for username in ("handler_shj", "handler_d01s01"):
        resp = api(username).get(f"/rectifications/{rect_id}")
        missing = api(username).get("/rectifications/999999999")
        assert resp.status_code == missing.status_code == 404
        assert resp.get_json()["error"]["code"] == missing.get_json()["error"]["code"]


def test_users_list_is_scoped_to_what_a_role_needs(api):
    def listed(username: str) -> list[dict]:
        resp = api(username).get("/users")
        assert resp.status_code == 200
        return resp.get_json()["users"]

    everyone = listed("agent1")
    assert {u["department_code"] for u in everyone} >= {None, "ZJJ", "SHJ", "D01", "D01S01"}
    assert len(listed("supervisor1")) == len(listed("admin")) == len(everyone)  # centre roles as before

    zjj = listed("handler_zjj")
    assert zjj and {u["department_code"] for u in zjj} == {"ZJJ"}
    assert {"handler_zjj", "admin_zjj"} <= {u["username"] for u in zjj}
    assert {u["department_code"] for u in listed("admin_d01")} == {"D01", "D01S01"}  # a district and its streets
    assert {u["department_code"] for u in listed("handler_d01s01")} == {"D01S01"}
    assert [u["username"] for u in api("handler_zjj").get("/users?role=agent").get_json()["users"]] == []


def test_a_unit_role_without_a_unit_sees_no_case_and_only_itself(api, make_case, make_user):
    number = make_case("dispatched", unit="ZJJ").number
    loose = make_user(role="department_handler", unit=None)
    assert not _visible(api, loose.username, number)
    assert [u["username"] for u in api(loose.username).get("/users").get_json()["users"]] == [loose.username]


def test_kb_feedback_on_a_case_the_unit_may_not_see_answers_like_a_missing_number(api, make_case):
    """POST /kb/feedback names a case: another unit's case gets the answer of a number that does not exist."""
    other = make_case("dispatched", unit="ZJJ").number
    own = make_case("dispatched", unit="SHJ").number

    def feedback(number: str):
        body = {"kind": "not_found", "query": "噪音扰民怎么投诉", "case_number": number}
        return api("handler_shj").post("/kb/feedback", json=body)

    missing, foreign, mine = feedback(MISSING), feedback(other), feedback(own)
    assert missing.status_code == foreign.status_code == 400
    assert foreign.get_json()["error"]["code"] == missing.get_json()["error"]["code"] == "unknown_case"
    assert foreign.get_json()["error"]["fields"] == missing.get_json()["error"]["fields"]
    assert mine.status_code == 201, mine.get_json()
