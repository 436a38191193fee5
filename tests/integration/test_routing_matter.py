"""Duplicates of the same matter in other words (routing/matter.py through hotline.dispatch.duplicates): an open
停水 case at 幸福小区 is found for "幸福小区今天一早就停水了"; another matter at the same estate is not."""

from __future__ import annotations

import uuid

from tests.helpers import new_case, run_jobs


def _phone() -> str:
    return "137" + f"{uuid.uuid4().int % 10**8:08d}"


def test_same_matter_in_other_words_is_found_and_another_matter_is_not(app, api):
    agent = api("agent1")
    tag = uuid.uuid4().hex[:4]
    first = new_case(
        agent,
        _phone(),
        content=f"幸福小区停水两天了，物业也没有贴通知，家里老人做饭都成问题（{tag}）",
        address="",
        district_code="D01",
        category="城乡建设",
    )
    run_jobs(app)  # routed: its duplicate-check keys (MinHash bands and the matter's topic keys) are stored
    found = agent.post("/routing/duplicates", json={"content": "幸福小区今天一早就停水了"}).get_json()
    assert found["district_code"] == "D01"
    assert first["number"] in [d["number"] for d in found["duplicates"]]
    other = agent.post("/routing/duplicates", json={"content": "幸福小区晚上有人跳广场舞，音响太吵了"}).get_json()
    assert first["number"] not in [d["number"] for d in other["duplicates"]]
    # the same matter elsewhere is not the same matter
    elsewhere = agent.post("/routing/duplicates", json={"content": "锦绣花园今天一早就停水了"}).get_json()
    assert first["number"] not in [d["number"] for d in elsewhere["duplicates"]]
    # the routing job shows it to the dispatcher too
    second = new_case(agent, _phone(), content="幸福小区家里水龙头拧开一滴水都没有", address="", category=None)
    run_jobs(app)
    stored = agent.get(f"/cases/{second['number']}/routing").get_json()
    assert first["number"] in [d["number"] for d in stored["duplicates"]]
