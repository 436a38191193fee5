"""好差评 end to end over HTTP: reply → invitation in the outbox → rating by link (1 = 非常不满意) → 核实 →
整改 by the unit → 回访 → rating 5 → closed, every step on the timeline; the token is single-use and expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.helpers import run_jobs
from tests.integration.ratings_support import invitation_tokens, outbox, sent_messages


def _rate(app, token, score, resolved=True, comment=None):
    body = {"token": token, "score": score, "resolved": resolved}
    if comment is not None:
        body["comment"] = comment
    return app.test_client().post("/api/v1/ratings", json=body)


def test_poor_rating_loop_end_to_end(app, api, phone, make_case):
    number = make_case("replied", phone=phone).number
    messages = outbox(api, number)
    invites = [m for m in messages if m["kind"] == "rating_invitation"]
    assert len(invites) == 1
    sms = invites[0]
    assert sms["channel"] == "sms" and sms["recipient"] == phone[:3] + "****" + phone[-4:]
    assert "/r/" in sms["text"] and sms["url"] in sms["text"] and "已责令餐馆" in sms["text"]
    assert sms["link_masked"] and "仅发送给市民" in sms["url"]  # staff see that a link went out, not the link
    [sent] = [m for m in sent_messages(app, number) if m.get("kind") == "rating_invitation"]
    assert sent["url"] in sent["text"]  # the citizen's message carries the link
    token = sent["url"].rsplit("/r/", 1)[1]

    page = app.test_client().get(f"/r/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert number in html and "非常不满意" in html and "非常满意" in html

    resp = _rate(app, token, 1, False, "油烟还是很大，没有任何改变")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["rating"]["score_label"] == "非常不满意" and body["rating"]["poor"] is True
    rect_id = body["rectification_id"]
    assert rect_id and body["case_status"] == "replied"

    again = _rate(app, token, 5)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_rated"
    assert "已评价" in again.get_json()["error"]["message"]
    assert app.test_client().get(f"/r/{token}").status_code == 409

    supervisor, handler = api("supervisor1"), api("handler_zjj")
    rect = supervisor.get(f"/rectifications/{rect_id}").get_json()
    assert rect["stage"] == "verifying" and rect["due_at"] and rect["department_code"] == "ZJJ"
    listed = supervisor.get("/rectifications?stage=verifying").get_json()["items"]
    assert rect_id in [r["id"] for r in listed]
    # another unit does not see it
    assert api("handler_shj").get(f"/rectifications/{rect_id}").status_code == 404

    resp = supervisor.post(
        f"/rectifications/{rect_id}/verify",
        json={"outcome": "reasonable", "note": "电话核实：油烟仍然扰民，差评合理", "mode": "deadline", "days": 5},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["stage"] == "rectifying" and resp.get_json()["mode_label"] == "限期整改"
    # only the rated unit rectifies
    assert api("handler_shj").post(f"/rectifications/{rect_id}/rectify", json={"note": "已整改"}).status_code == 404
    resp = handler.post(f"/rectifications/{rect_id}/rectify", json={"note": "餐馆已加装油烟净化器，现场复查达标"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["stage"] == "revisiting"

    revisit = [m for m in sent_messages(app, number) if m.get("kind") == "rating_invitation"]
    assert len(revisit) == 2 and "整改" in revisit[-1]["text"]
    token2 = revisit[-1]["url"].rsplit("/r/", 1)[1]
    assert token2 != token
    resp = _rate(app, token2, 5, True, "已经没有油烟了，谢谢")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["case_status"] == "closed"

    rect = supervisor.get(f"/rectifications/{rect_id}").get_json()
    assert rect["stage"] == "closed" and rect["result"] == "closed" and rect["revisited_at"]
    assert rect["revisit_rating"]["score"] == 5
    final = api("agent1").get(f"/cases/{number}").get_json()
    assert final["status"] == "closed"
    actions = [e["action"] for e in final["events"]]
    assert actions == [
        "create",
        "dispatch",
        "sign",
        "reply",
        "rating_invite",
        "rate",
        "rating_poor",
        "rating_verify",
        "rectify",
        "rate",
        "rectify_revisit",
        "close",
    ]
    assert [r["score"] for r in final["ratings"]] == [1, 5]
    assert supervisor.get("/rectifications").get_json()["revisit"]["rate_label"] == "100%"

    # the relay delivers the SMS through the (logging) sender
    run_jobs(app)
    assert {m["status"] for m in outbox(api, number) if m["channel"] == "sms"} == {"sent"}


def test_expired_and_forged_tokens_are_refused(app, api, phone, make_case):
    from hotline.extensions import db
    from hotline.models import Case
    from hotline.ratings.invitations import invite
    from hotline.ratings.tokens import make_token

    number = make_case("replied", phone=phone).number
    token = invitation_tokens(api, number)[0]
    nonce, mac = token.split(".")
    forged = f"{nonce}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    with app.app_context():
        unknown = make_token("unknown-nonce-1234567")
    for bad in (forged, "x" * 22 + "." + "y" * 22, "abc", unknown):
        resp = _rate(app, bad, 4)
        assert resp.status_code == 404, bad
        assert resp.get_json()["error"]["code"] == "invalid_token"
        assert app.test_client().get(f"/r/{bad}").status_code == 404

    with app.app_context():
        case = db.session.scalar(sa.select(Case).where(Case.number == number))
        old = invite(case, case, "reply", "旧的答复", datetime.now(UTC) - timedelta(days=30))
        expired = old.token
        db.session.commit()
    resp = _rate(app, expired, 5)
    assert resp.status_code == 410 and resp.get_json()["error"]["code"] == "token_expired"
    assert "过期" in resp.get_json()["error"]["message"]
    page = app.test_client().get(f"/r/{expired}")
    assert page.status_code == 410 and "过期" in page.get_data(as_text=True)
    # the valid one still works, once
    assert _rate(app, token, 4).status_code == 201


def test_good_rating_closes_the_case(app, api, phone, make_case):
    number = make_case("replied", phone=phone).number
    token = invitation_tokens(api, number)[0]
    resp = _rate(app, token, 4, True)
    assert resp.status_code == 201 and resp.get_json()["rectification_id"] is None
    case = api("agent1").get(f"/cases/{number}").get_json()
    assert case["status"] == "closed" and case["events"][-1]["action"] == "close"


def test_merged_duplicates_all_get_the_reply_and_an_invitation(app, api, phone):
    from tests.helpers import new_case

    agent, dispatcher, handler = api("agent1"), api("dispatcher1"), api("handler_zjj")
    master = new_case(agent, phone)["number"]
    other_phone = "137" + phone[3:]
    dup = new_case(agent, other_phone, citizen_name="李四")["number"]
    assert dispatcher.post(f"/cases/{dup}/merge", json={"into": master}).status_code == 200
    dispatcher.post(f"/cases/{master}/dispatch", json={"department_code": "ZJJ"})
    handler.post(f"/cases/{master}/sign", json={})
    handler.post(f"/cases/{master}/reply", json={"content": "已处理完毕。", "result": "resolved"})
    invites = [m for m in outbox(api, master) if m["kind"] == "rating_invitation"]
    assert sorted(m["recipient"] for m in invites) == sorted(p[:3] + "****" + p[-4:] for p in (phone, other_phone))
    assert any(dup in m["text"] and master in m["text"] for m in invites)
    dup_case = agent.get(f"/cases/{dup}").get_json()
    assert dup_case["events"][-1]["action"] == "reply_notice"
