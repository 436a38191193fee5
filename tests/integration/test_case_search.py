"""GET /api/v1/cases?q=… and the filters: number, phone (blind index), content/title/address words, dates."""

from __future__ import annotations

import uuid
from datetime import date

from tests.helpers import new_case


def numbers(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_json()
    return [c["number"] for c in resp.get_json()["items"]]


def test_search_by_content_word_address_phone_and_number(api, phone):
    agent = api("agent1")
    word = "测" + uuid.uuid4().hex[:6]  # a token no other case has
    a = new_case(agent, phone, content=f"小区门口的{word}井盖松动，车辆经过声音很大。", address="北城区幸福大道88号")
    other = "139" + str(uuid.uuid4().int % 10**8).zfill(8)
    b = new_case(agent, other, content="路灯不亮已经三天了，请尽快修理。")
    admin = api("dispatcher1")
    assert numbers(admin.get(f"/cases?q={word}")) == [a["number"]]
    assert numbers(admin.get(f"/cases?q={word[:3]}")) == [a["number"]]  # a substring of the word
    assert a["number"] in numbers(admin.get("/cases?q=幸福大道88号"))
    assert a["number"] in numbers(admin.get(f"/cases?q={phone}"))
    assert b["number"] not in numbers(admin.get(f"/cases?q={phone}"))
    assert numbers(admin.get(f"/cases?q={a['number']}")) == [a["number"]]
    assert numbers(admin.get(f"/cases?q={word}&status=closed")) == []
    assert numbers(admin.get(f"/cases?q=没有这样的内容{uuid.uuid4().hex}")) == []


def test_edited_text_is_searched_with_its_new_words(app, api, phone):
    from hotline.extensions import db
    from hotline.models import Case

    created = new_case(api("agent1"), phone)
    assert created["number"] in numbers(api("dispatcher1").get(f"/cases?q={phone}"))  # indexed by the search
    word = "改" + uuid.uuid4().hex[:6]
    with app.app_context():
        case = db.session.query(Case).filter_by(number=created["number"]).one()
        case.address = f"南城区{word}路1号"
        db.session.commit()
    assert numbers(api("dispatcher1").get(f"/cases?q={word}")) == [created["number"]]


def test_filters_dates_channel_category_and_clear_errors(api, phone):
    agent = api("agent1")
    word = "滤" + uuid.uuid4().hex[:6]
    created = new_case(agent, phone, content=f"{word}：噪音扰民", channel="web", category="环境保护")
    admin = api("dispatcher1")
    today = date.today().isoformat()
    base = f"/cases?q={word}"
    assert numbers(admin.get(f"{base}&channel=web&created_from=2020-01-01")) == [created["number"]]
    assert numbers(admin.get(f"{base}&channel=phone")) == []
    assert numbers(admin.get(f"{base}&created_to=2020-01-01")) == []
    assert numbers(admin.get(f"{base}&category=环境保护&created_from={today}")) == [created["number"]]
    for query, field in (
        ("created_from=2026-13-40", "created_from"),
        ("channel=fax", "channel"),
        ("category=无此类", "category"),
    ):
        resp = admin.get(f"/cases?{query}")
        assert resp.status_code == 400
        body = resp.get_json()
        assert field in body["error"]["fields"], body
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])


def test_a_department_user_finds_only_its_own_cases(api, make_case):
    word = "部" + uuid.uuid4().hex[:6]
    own = make_case("dispatched", unit="ZJJ", content=f"{word}：占道经营堵塞人行道")
    other = make_case("dispatched", unit="JTJ", content=f"{word}：占道经营堵塞人行道")
    assert numbers(api("handler_zjj").get(f"/cases?q={word}")) == [own.number]
    assert sorted(numbers(api("dispatcher1").get(f"/cases?q={word}"))) == sorted([own.number, other.number])
