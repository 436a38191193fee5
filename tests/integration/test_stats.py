"""GET /api/v1/stats/departments: the assessment counts and rates follow what happened to the cases."""

from __future__ import annotations

from tests.integration.ratings_support import invitation_tokens


def _zjj(api, user="monitor1"):
    resp = api(user).get("/stats/departments")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    row = next((r for r in body["departments"] if r["department_code"] == "ZJJ"), None)
    return body, (
        row["counts"]
        if row
        else {
            "dispatched": 0,
            "responded": 0,
            "replied_on_time": 0,
            "ratings": 0,
            "scores": {},
            "resolved_yes": 0,
            "resolved_answered": 0,
            "returns": 0,
            "improper_returns": 0,
        }
    )


def _rate(api, number, score, resolved):
    [token] = invitation_tokens(api, number)
    resp = api("agent1").client.post("/api/v1/ratings", json={"token": token, "score": score, "resolved": resolved})
    assert resp.status_code == 201, resp.get_json()


def test_counts_and_rates_follow_the_cases(api, phone, make_case):
    _, before = _zjj(api)
    full = make_case("replied", phone=phone, contacted=True).number  # contacted, replied in time; rated 5 resolved
    _rate(api, full, 5, True)
    # replied without a first contact: not 响应; rated 1 unresolved
    no_contact = make_case("replied", phone=phone, reply="已答复。", result="explained").number
    _rate(api, no_contact, 1, False)
    bounced = make_case("returned", phone=phone).number  # the dispatcher rejects the return: an improper return
    resp = api("dispatcher1").post(f"/cases/{bounced}/return/decision", json={"accept": False, "note": "属于职责范围"})
    assert resp.status_code == 200, resp.get_json()

    body, after = _zjj(api)
    delta = {
        k: after[k] - before[k]
        for k in (
            "dispatched",
            "responded",
            "replied_on_time",
            "ratings",
            "resolved_yes",
            "resolved_answered",
            "returns",
            "improper_returns",
        )
    }
    assert delta == {
        "dispatched": 3,
        "responded": 1,
        "replied_on_time": 2,
        "ratings": 2,
        "resolved_yes": 1,
        "resolved_answered": 2,
        "returns": 1,
        "improper_returns": 1,
    }
    for score in ("5", "1"):
        assert after["scores"].get(score, 0) - before["scores"].get(score, 0) == 1
    row = next(r for r in body["departments"] if r["department_code"] == "ZJJ")
    assert row["response_rate"] == round(after["responded"] / after["dispatched"], 4)
    assert row["composite"] is not None and row["rank"] >= 1
    assert set(row) >= {"response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "composite", "counts"}
    ranks = [r["rank"] for r in body["departments"] if r["rank"] is not None]
    assert ranks == sorted(ranks)


def test_a_unit_sees_only_itself_and_its_sub_units(api, make_case):
    make_case("dispatched", unit="ZJJ")
    body, _ = _zjj(api, "handler_zjj")
    assert {r["department_code"] for r in body["departments"]} <= {"ZJJ"}
    other = api("handler_d01").get("/stats/departments").get_json()
    assert all(r["department_code"].startswith("D01") for r in other["departments"])


def test_bad_periods_are_clear_400s(api):
    client = api("monitor1")
    for query, field in (
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-05-02&to=2026-05-01", "from"),
        ("from=2024-01-01&to=2026-01-01", "to"),
        ("from=%00", "from"),
    ):
        resp = client.get(f"/stats/departments?{query}")
        assert resp.status_code == 400, query
        err = resp.get_json()["error"]
        assert err["code"] == "invalid_input" and field in err["fields"] and err["message"]
    ok = client.get("/stats/departments?from=2026-01-01&to=2026-01-31").get_json()
    assert ok["from"] == "2026-01-01" and ok["to"] == "2026-01-31"


def test_needs_a_staff_login(app):
    assert app.test_client().get("/api/v1/stats/departments").status_code == 401
