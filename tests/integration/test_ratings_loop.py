"""The 差评 loop's other branches: unreasonable → explanation, malicious, appeal (申诉复核), revisit still poor →
重办 back to dispatch, the time-limit cards, the rating.poor schema and the workbench pages (the live socket
delivery is in tests/e2e/test_rating_e2e.py)."""

from __future__ import annotations

from datetime import timedelta

from hotline.realtime.publish import EVENT_FIELDS
from tests.integration.ratings_support import invitation_tokens, outbox


def _poor(app, api, make_case, phone, score=2, resolved=False) -> tuple[str, int]:
    number = make_case("replied", phone=phone).number
    token = invitation_tokens(api, number)[0]
    resp = app.test_client().post("/api/v1/ratings", json={"token": token, "score": score, "resolved": resolved})
    assert resp.status_code == 201, resp.get_json()
    return number, resp.get_json()["rectification_id"]


def test_resolved_false_with_good_score_is_still_poor(app, api, phone, make_case):
    number, rect_id = _poor(app, api, make_case, phone, score=4, resolved=False)
    assert rect_id
    assert api("agent1").get(f"/cases/{number}").get_json()["status"] == "replied"


def test_unreasonable_rating_is_explained_and_the_unit_may_appeal(app, api, phone, make_case):
    number, rect_id = _poor(app, api, make_case, phone, score=1)
    supervisor, handler = api("supervisor1"), api("handler_zjj")
    # the unit cannot appeal before verification
    early = handler.post(f"/rectifications/{rect_id}/appeal", json={"reason": "已按规定办理"})
    assert early.status_code == 422 and early.get_json()["error"]["code"] == "not_verified"
    resp = supervisor.post(
        f"/rectifications/{rect_id}/verify",
        json={"outcome": "unreasonable", "note": "市民诉求超出政策范围，已依法答复"},
    )
    assert resp.status_code == 200 and resp.get_json()["stage"] == "explaining"
    resp = handler.post(f"/rectifications/{rect_id}/appeal", json={"reason": "答复符合政策，请求不计入考核"})
    assert resp.status_code == 200 and resp.get_json()["appeal"]["status"] == "pending"
    twice = handler.post(f"/rectifications/{rect_id}/appeal", json={"reason": "再次申诉"})
    assert twice.status_code == 422 and twice.get_json()["error"]["code"] == "already_appealed"
    resp = supervisor.post(f"/rectifications/{rect_id}/appeal/decision", json={"uphold": True, "note": "申诉成立"})
    body = resp.get_json()
    assert body["appeal"]["status"] == "upheld" and body["rating"]["excluded"] is True
    resp = supervisor.post(f"/rectifications/{rect_id}/explain", json={"note": "已电话向市民解释政策依据"})
    body = resp.get_json()
    assert body["stage"] == "closed" and body["revisited_at"] and body["result"] == "closed"
    case = api("agent1").get(f"/cases/{number}").get_json()
    assert case["status"] == "closed"
    assert [e["action"] for e in case["events"]][-6:] == [
        "rating_poor",
        "rating_verify",
        "rating_appeal",
        "rating_appeal_decision",
        "rating_explain",
        "close",
    ]
    # a finished record takes no more actions
    late = supervisor.post(f"/rectifications/{rect_id}/explain", json={"note": "再解释"})
    assert late.status_code == 422 and late.get_json()["error"]["code"] == "invalid_stage"


def test_malicious_rating_is_excluded_and_appeal_rejected_keeps_rectification(app, api, phone, make_case):
    _, rect_id = _poor(app, api, make_case, phone)
    supervisor, handler = api("supervisor1"), api("handler_zjj")
    body = supervisor.post(
        f"/rectifications/{rect_id}/verify", json={"outcome": "malicious", "note": "市民承认故意差评"}
    ).get_json()
    assert body["rating"]["excluded"] is True and body["stage"] == "explaining"

    _, rect2 = _poor(app, api, make_case, "137" + phone[3:])
    supervisor.post(
        f"/rectifications/{rect2}/verify", json={"outcome": "reasonable", "note": "属实", "mode": "immediate"}
    )
    handler.post(f"/rectifications/{rect2}/appeal", json={"reason": "我们认为已经办结"})
    body = supervisor.post(
        f"/rectifications/{rect2}/appeal/decision", json={"uphold": False, "note": "差评属实，继续整改"}
    ).get_json()
    assert body["appeal"]["status"] == "rejected" and body["stage"] == "rectifying"
    assert body["rating"]["excluded"] is False and body["mode_label"] == "立行立改"


def test_revisit_still_poor_reopens_the_case_for_dispatch(app, api, phone, make_case):
    number, rect_id = _poor(app, api, make_case, phone, score=1)
    supervisor, handler = api("supervisor1"), api("handler_zjj")
    supervisor.post(
        f"/rectifications/{rect_id}/verify",
        json={"outcome": "reasonable", "note": "属实", "mode": "deadline", "days": 15},
    )
    handler.post(f"/rectifications/{rect_id}/rectify", json={"note": "已约谈餐馆负责人"})
    # the supervisor's revisit call records the new rating (instead of the citizen's link)
    resp = supervisor.post(
        f"/rectifications/{rect_id}/revisit", json={"score": 2, "resolved": False, "note": "回访市民：油烟依旧"}
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["stage"] == "reopened" and body["revisit_rating"]["channel"] == "revisit_call"
    case = api("dispatcher1").get(f"/cases/{number}").get_json()
    assert case["status"] == "reopened"
    assert [e["action"] for e in case["events"]][-3:] == ["rate", "rectify_revisit", "reopen"]
    # the revisit link sent to the citizen is now used up
    token = invitation_tokens(api, number)[-1]
    assert (
        app.test_client().post("/api/v1/ratings", json={"token": token, "score": 5, "resolved": True}).status_code
        == 409
    )
    # 重办: back to dispatch
    resp = api("dispatcher1").post(f"/cases/{number}/dispatch", json={"department_code": "ZJJ"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "dispatched"


def test_rectification_deadlines_card_yellow_then_red_once(app, api, phone, make_case):
    from hotline.extensions import db
    from hotline.models import Rectification
    from hotline.ratings.sweep import sweep

    number, rect_id = _poor(app, api, make_case, phone)
    with app.app_context():
        rect = db.session.get(Rectification, rect_id)
        yellow_at, due_at = rect.yellow_at, rect.due_at
        assert yellow_at < due_at
        assert (rect_id, "yellow") not in sweep(yellow_at - timedelta(minutes=1))
        assert (rect_id, "yellow") in sweep(yellow_at + timedelta(minutes=1))
        assert (rect_id, "yellow") not in sweep(yellow_at + timedelta(minutes=2))  # idempotent
        assert (rect_id, "red") in sweep(due_at + timedelta(minutes=1))
        assert rect_id not in [r for r, _ in sweep(due_at + timedelta(hours=5))]
        db.session.commit()
    case = api("supervisor1").get(f"/cases/{number}").get_json()
    cards = [(e["action"], e["data"]["limit"]) for e in case["events"] if e["action"].endswith("_card")]
    assert cards == [("yellow_card", "rectify_verify"), ("red_card", "rectify_verify")]
    # a new stage starts a new limit without a card
    body = (
        api("supervisor1")
        .post(
            f"/rectifications/{rect_id}/verify",
            json={"outcome": "reasonable", "note": "属实", "mode": "deadline", "days": 3},
        )
        .get_json()
    )
    assert body["card"] is None and body["due_at"]


def test_rating_poor_schema_is_enforced():
    import pytest

    from hotline.realtime.publish import PayloadError, check_payload

    good = dict.fromkeys(EVENT_FIELDS["rating.poor"], None)
    check_payload("rating.poor", good)
    with pytest.raises(PayloadError):
        check_payload("rating.poor", {**good, "phone": "13800000000"})
    with pytest.raises(PayloadError):
        check_payload("rating.poor", {k: v for k, v in good.items() if k != "score"})


def test_outbox_endpoint_guards(app, api, phone, make_case):
    assert api("agent1").get("/outbox?case=GD20260101-000001").status_code == 403
    resp = api("supervisor1").get("/outbox")
    assert resp.status_code == 400 and resp.get_json()["error"]["fields"]["case"]
    assert api("supervisor1").get("/outbox?case=GD19990101-000001").status_code == 404
    assert app.test_client().get("/api/v1/outbox?case=x").status_code == 401
    number = make_case("replied", phone=phone).number
    assert all(phone not in m["recipient"] for m in outbox(api, number))
