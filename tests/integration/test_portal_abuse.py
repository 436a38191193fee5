"""SMS-free anti-abuse: 100 submissions in a minute from one address / for one phone are throttled with a clear
zh-CN message, and every accepted one is stored (cases in the DB = 2xx answers after the redirect)."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Case
from tests.integration.portal_support import fill, submit

SUBMISSIONS = 100


@pytest.fixture()
def limits(app, monkeypatch):
    settings = app.config["HOTLINE"]
    monkeypatch.setattr(settings, "portal_min_fill_seconds", 0)
    monkeypatch.setattr(settings, "portal_rate_limit_ip", "5 per minute;30 per hour")
    monkeypatch.setattr(settings, "portal_rate_limit_phone", "3 per minute;10 per day")
    return settings


def _storm(app, make) -> tuple[list, list[str]]:
    """SUBMISSIONS form posts from 10 threads (each its own browser session); returns (responses, numbers shown)."""
    responses, numbers, lock = [], [], threading.Lock()

    def worker(indexes):
        client = app.test_client()
        for i in indexes:
            phone, ip, content = make(i)
            first = submit(client, fill(client, phone, content, ip=ip), ip=ip)
            final = client.get(first.headers["Location"]) if first.status_code == 303 else first
            with lock:
                responses.append(final)
                if final.status_code == 200:
                    numbers.append(final.get_data(as_text=True).split('id="case-number">')[1][:17])

    threads = [threading.Thread(target=worker, args=(range(t, SUBMISSIONS, 10),)) for t in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses, numbers


def _stored(app, marker: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Case.number).where(Case.content.contains(marker))))


def _check(app, responses, numbers, marker, allowed):
    ok = [r for r in responses if r.status_code == 200]
    throttled = [r for r in responses if r.status_code == 429]
    assert len(responses) == SUBMISSIONS and len(ok) + len(throttled) == SUBMISSIONS
    assert len(ok) == allowed
    html = throttled[0].get_data(as_text=True)
    assert "您提交得太频繁了" in html and "秒后再试" in html and "12345" in html
    assert "您填写的内容" in html and marker in html  # the citizen can copy what they wrote
    assert int(throttled[0].headers["Retry-After"]) > 0
    assert sorted(_stored(app, marker)) == sorted(numbers)  # every accepted submission is a case, no more


def test_one_address_submitting_100_times_in_a_minute(app, limits):
    marker, ip = uuid.uuid4().hex[:10], f"198.51.100.{uuid.uuid4().int % 250 + 1}"

    def make(i):
        return "139" + f"{uuid.uuid4().int % 10**8:08d}", ip, f"第{i}次反映：小区噪音扰民 {marker}"

    responses, numbers = _storm(app, make)
    _check(app, responses, numbers, marker, allowed=5)


def test_one_phone_submitting_100_times_in_a_minute_from_many_addresses(app, limits):
    marker, phone = uuid.uuid4().hex[:10], "139" + f"{uuid.uuid4().int % 10**8:08d}"

    def make(i):
        return phone, f"203.0.113.{i + 1}", f"第{i}次反映：路面塌陷 {marker}"

    responses, numbers = _storm(app, make)
    _check(app, responses, numbers, marker, allowed=3)
    # the same phone written another way (+86 prefix) is the same phone for the limit
    client = app.test_client()
    again = submit(client, fill(client, "+86 " + phone, f"再次反映 {marker}", ip="203.0.113.250"), ip="203.0.113.250")
    assert again.status_code == 429


def test_throttle_answer_is_json_for_json_clients(app, limits):
    ip, client = f"192.0.2.{uuid.uuid4().int % 250 + 1}", app.test_client()
    for _ in range(5):
        phone = "139" + f"{uuid.uuid4().int % 10**8:08d}"
        assert submit(client, fill(client, phone, "路灯不亮已经一周了", ip=ip), ip=ip).status_code == 303
    phone = "139" + f"{uuid.uuid4().int % 10**8:08d}"
    resp = submit(
        client, fill(client, phone, "路灯不亮已经一周了", ip=ip), ip=ip, headers={"Accept": "application/json"}
    )
    assert resp.status_code == 429
    error = resp.get_json()["error"]
    assert error["code"] == "too_many_requests" and "您提交得太频繁了" in error["message"]


def test_status_lookups_are_limited_per_address(app, monkeypatch):
    monkeypatch.setattr(app.config["HOTLINE"], "portal_lookup_rate_limit", "3 per minute")
    ip, client = f"192.0.2.{uuid.uuid4().int % 250 + 1}", app.test_client()
    from tests.integration.portal_support import csrf_of

    token = csrf_of(client, "/portal/status")
    codes = [
        client.post(
            "/portal/status",
            data={"csrf_token": token, "number": f"GD20261122-00000{i}", "phone": "13800138000"},
            environ_base={"REMOTE_ADDR": ip},
        ).status_code
        for i in range(5)
    ]
    assert codes == [404, 404, 404, 429, 429]
    throttled = client.post(
        "/portal/status",
        data={"csrf_token": token, "number": "GD20261122-000009", "phone": "13800138000"},
        environ_base={"REMOTE_ADDR": ip},
    )
    assert throttled.status_code == 429 and "您查询得太频繁了" in throttled.get_data(as_text=True)
