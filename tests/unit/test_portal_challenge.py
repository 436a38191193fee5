"""The portal's question cannot be answered offline: the form carries an opaque id, the answer stays in the
database, each question answers once (right or wrong), expires, and needs no Redis. Still no SMS, still read
out by screen readers, still in the large-font mode."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from hotline.extensions import db
from hotline.models import Case
from tests import counts
from tests.integration.portal_support import fill, hidden, solve, submit


@pytest.fixture()
def portal(app, monkeypatch):
    settings = app.config["HOTLINE"]
    monkeypatch.setattr(settings, "portal_min_fill_seconds", 0)
    monkeypatch.setattr(settings, "portal_rate_limit_ip", "1000 per minute")
    monkeypatch.setattr(settings, "portal_rate_limit_phone", "1000 per minute")
    return app.test_client()


def _phone() -> str:
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


def _stored(app, marker: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.content.contains(marker)))


def offline_answer(token: str) -> str | None:
    """What the scripted attack does: read the operands out of the form's hidden token without the server's key
    (an itsdangerous token is signed, not encrypted) and compute the answer. None: nothing to compute from."""
    try:
        _valid, data = URLSafeSerializer("the attacker does not know the key").loads_unsafe(token)
        a, b, plus = int(data["a"]), int(data["b"]), bool(data["p"])
    except (KeyError, TypeError, ValueError):
        return None
    return str(a + b if plus else a - b)


def test_25_scripted_offline_submissions_store_nothing(app, portal):
    marker = uuid.uuid4().hex[:8]
    computed, refused = 0, 0
    for i in range(25):
        html = portal.get("/portal/submit").get_data(as_text=True)
        token = hidden(html, "challenge")
        answer = offline_answer(token)
        computed += answer is not None
        data = {
            "csrf_token": hidden(html, "csrf_token"),
            "challenge": token,
            "answer": answer or "",
            "phone": _phone(),
            "name": "",
            "kind": "help",
            "content": f"脚本提交的诉求内容第{i}条 {marker}",
            "district": "",
            "address": "",
            "website": "",
        }
        resp = submit(portal, data, ip=f"10.77.{i}.1")
        refused += resp.status_code == 400
    stored = _stored(app, marker)
    counts.report(
        f"portal offline attack: 25 scripted submissions, {computed} answers computed offline, {stored} stored"
    )
    assert stored == 0 and refused == 25
    assert computed == 0  # the form holds nothing to compute from
    # the same page read by a person (the question's text) still goes through
    person = fill(portal, _phone(), f"路口的红绿灯坏了 {marker}")
    assert submit(portal, person).status_code == 303
    assert _stored(app, marker) == 1


def test_a_solved_question_cannot_be_replayed_for_other_requests(app, portal):
    marker = uuid.uuid4().hex[:8]
    data = fill(portal, _phone(), f"第一条诉求：小区路灯不亮 {marker}")
    assert submit(portal, data).status_code == 303
    answers = []
    for i in range(24):  # the same solved question, other content or other phones
        resp = submit(portal, {**data, "content": f"重放的诉求第{i}条 {marker}", "phone": _phone()})
        answers.append(resp.status_code)
    assert _stored(app, marker) == 1
    assert set(answers) <= {400, 422}
    again = submit(portal, data)  # the very same form again (a reload): the same case, nothing new
    assert again.status_code == 303 and _stored(app, marker) == 1


def test_a_wrong_answer_spends_the_question(app, portal):
    marker = uuid.uuid4().hex[:8]
    html = portal.get("/portal/submit").get_data(as_text=True)
    right = solve(html)
    data = fill(portal, _phone(), f"垃圾桶满了没人清理 {marker}")
    data.update(challenge=hidden(html, "challenge"), csrf_token=hidden(html, "csrf_token"))
    wrong = submit(portal, {**data, "answer": str(int(right) + 1)})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and "答案不正确" in page
    assert hidden(page, "challenge") != data["challenge"]  # a new question to answer
    late = submit(portal, {**data, "answer": right})  # the right answer, too late: the question is spent
    assert late.status_code == 400 and "已经使用过" in late.get_data(as_text=True)
    assert _stored(app, marker) == 0


def test_unknown_and_expired_questions_are_refused(app, portal):
    from hotline.models import PortalChallenge

    marker = uuid.uuid4().hex[:8]
    data = fill(portal, _phone(), f"公园的座椅坏了 {marker}")
    forged = submit(portal, {**data, "challenge": "A" * 43})
    assert forged.status_code == 400 and "页面验证信息无效" in forged.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(PortalChallenge, data["challenge"])
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    expired = submit(portal, data)
    assert expired.status_code == 400 and "页面已过期" in expired.get_data(as_text=True)
    assert _stored(app, marker) == 0


def test_the_question_lives_in_the_database_and_needs_no_redis(app, monkeypatch):
    from hotline.models import PortalChallenge
    from hotline.portal import challenge

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("redis is down")

    monkeypatch.setattr(redis.Redis, "execute_command", down)
    monkeypatch.setattr(app.config["HOTLINE"], "portal_min_fill_seconds", 0)
    now = datetime.now(UTC)
    with app.app_context():
        issued = challenge.issue(now)
        db.session.commit()
        row = db.session.get(PortalChallenge, issued.token)
        assert row is not None and len(issued.token) == 43 and issued.token.isascii()
        assert row.expires_at - row.issued_at == challenge.MAX_AGE
        passed = challenge.verify(issued.token, row.answer, now + timedelta(seconds=5))
        db.session.commit()
        assert passed.fresh and passed.form_id == issued.token
        assert not challenge.verify(issued.token, row.answer, now + timedelta(seconds=6)).fresh  # spent
        db.session.rollback()
        old = challenge.issue(now - timedelta(hours=5))  # long expired: pruned
        db.session.commit()
        assert challenge.prune(now) >= 1
        db.session.commit()
        assert db.session.get(PortalChallenge, old.token) is None


def test_the_question_is_read_out_and_works_in_large_font(app, portal):
    for large in ("0", "1"):
        portal.set_cookie("portal_large", large)
        html = portal.get("/portal/submit").get_data(as_text=True)
        assert '<label for="answer">验证题：<span id="question">' in html  # the question is the field's label
        assert solve(html)  # in words a screen reader reads out
        assert 'aria-describedby="answer-hint"' in html and 'id="answer-hint"' in html
        assert 'aria-required="true"' in html and 'inputmode="numeric"' in html
        assert "短信" not in html.split('id="request-form"')[1]  # no SMS code anywhere in the form
