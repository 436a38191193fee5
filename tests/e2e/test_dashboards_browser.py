"""Dashboards in real Chromium against a live stack seeded with a demo history (`flask seed --demo --history`):
overview, ranking, a unit's page, hot topics and the big screen, each with ECharts canvases drawn beside their
tables; on the big screen a case registered through the API arrives live (Socket.IO) and the figures move."""

from __future__ import annotations

import pytest
import requests

from hotline.seed.city import DEMO_PASSWORD
from tests.e2e.browser import ARTIFACTS, browser, login  # noqa: F401 — fixture
from tests.e2e.conftest import LiveStack

HISTORY_DAYS = 12


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    live = LiveStack(tmp_path_factory.mktemp("dashboards"))
    live.flask("db", "upgrade")
    out = live.flask("seed", "--demo", "--history", str(HISTORY_DAYS))
    assert "'history': {'cases':" in out
    try:
        live.start_web("web", live.port)
        live.start("worker", "worker")
        yield live
    finally:
        live.stop()


def _charts_drawn(page, at_least: int) -> int:
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-chart][data-drawn] canvas').length >= {at_least}", timeout=15000
    )
    return page.eval_on_selector_all("[data-chart][data-drawn] canvas", "els => els.length")


def test_overview_ranking_unit_and_hot_pages(city, browser):  # noqa: F811
    page = login(browser, city.url, "monitor1", DEMO_PASSWORD)
    page.goto(city.url + "/dashboards/?range=month")
    assert _charts_drawn(page, 4) >= 4
    month = int(page.inner_text("#kpi-month .dash-kpi-value"))
    assert month > 0  # the demo history fills this month's figures
    assert all(page.get_attribute(sel, "aria-label") for sel in ("[data-table=tbl-day]", "[data-table=tbl-channel]"))
    assert page.locator("#tbl-channel tbody tr").count() >= 6
    page.screenshot(path=str(ARTIFACTS / "dashboards-overview.png"), full_page=True)

    page.goto(city.url + "/dashboards/ranking")
    _charts_drawn(page, 1)
    ranked = page.locator("#tbl-ranking tbody tr[data-unit]")
    assert ranked.count() >= 3
    page.screenshot(path=str(ARTIFACTS / "dashboards-ranking.png"), full_page=True)

    page.goto(city.url + "/dashboards/hot?range=month&by=category&level=2")
    _charts_drawn(page, 1)
    assert page.locator("#tbl-hot tbody tr[data-label]").count() >= 5
    page.screenshot(path=str(ARTIFACTS / "dashboards-hot.png"), full_page=True)

    page.click("#tbl-hot tbody tr[data-label] td:nth-child(2) a")  # the cases behind the top number
    page.wait_for_function("() => document.querySelectorAll('#drill-cases tbody tr').length > 0", timeout=10000)
    assert "共 " in page.inner_text("#drill-summary")

    page.goto(city.url + "/dashboards/density?range=month")
    _charts_drawn(page, 1)
    page.wait_for_function(
        "() => Number(document.getElementById('density-map').dataset.pointsShown || 0) > 0", timeout=15000
    )  # the located cases of the demo history on evidence's map component
    assert page.locator("#tbl-streets tbody tr").count() >= 5
    page.screenshot(path=str(ARTIFACTS / "dashboards-density.png"), full_page=True)

    unit = login(browser, city.url, "handler_d01", DEMO_PASSWORD)  # a unit sees its own subtree
    unit.goto(city.url + "/dashboards/units/D01")
    _charts_drawn(unit, 2)
    codes = unit.eval_on_selector_all("#tbl-subtree tbody tr[data-unit]", "rs => rs.map(r => r.dataset.unit)")
    assert codes and all(code.startswith("D01") for code in codes)
    unit.screenshot(path=str(ARTIFACTS / "dashboards-unit.png"), full_page=True)
    assert unit.goto(city.url + "/dashboards/units/ZJJ").status == 404


def test_big_screen_draws_and_updates_live(city, browser):  # noqa: F811
    page = login(browser, city.url, "monitor1", DEMO_PASSWORD, viewport={"width": 1920, "height": 1080})
    page.goto(city.url + "/dashboards/screen")
    assert _charts_drawn(page, 4) >= 4
    page.wait_for_function("() => document.getElementById('live-status').dataset.state === 'up'", timeout=15000)
    before = int(page.inner_text("#screen-total"))
    token = city.token("agent1")
    resp = requests.post(
        f"{city.url}/api/v1/cases",
        json={
            "citizen_phone": "13912340000",
            "channel": "wechat",
            "kind": "complaint",
            "content": "大屏实时测试：路灯不亮",
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    page.wait_for_function(
        f"() => Number(document.getElementById('screen-total').textContent) === {before + 1}", timeout=15000
    )
    assert int(page.get_attribute("#dash-screen", "data-updates")) >= 1
    wechat = page.inner_text('[data-channel="wechat"]')
    assert int(wechat) >= 1
    page.screenshot(path=str(ARTIFACTS / "dashboards-screen.png"), full_page=True)
