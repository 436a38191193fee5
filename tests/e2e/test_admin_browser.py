"""Administration pages in real Chromium (issue 17): the admin imports a year's holidays on the holiday page (the
year's banner goes away), and the auditor — whose home is the audit log — filters it to logins and downloads the
CSV of what the filter shows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from hotline.seed.city import DEMO_PASSWORD
from tests.e2e.browser import ARTIFACTS, browser, login  # noqa: F401 — fixture
from tests.e2e.conftest import LiveStack

YEAR = 2043  # chinese-calendar does not know it; no other test writes it


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    live = LiveStack(tmp_path_factory.mktemp("admin"))
    live.env["HOTLINE_TOTP_ROLES"] = "none"  # the admin signs in with a password here (TOTP has its own tests)
    live.flask("db", "upgrade")
    live.flask("seed", "--demo")
    try:
        live.start_web("web", live.port)
        yield live
    finally:
        live.stop()


def test_admin_imports_holidays_on_the_page(city, browser, tmp_path):  # noqa: F811
    page = login(browser, city.url, "admin", DEMO_PASSWORD)
    page.goto(f"{city.url}/admin/policy/holidays?year={YEAR}")
    assert f"本表没有 {YEAR} 年的日期" in page.inner_text("#holiday-table")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,kind,name\n{YEAR}-01-01,holiday,元旦\n{YEAR}-01-32,holiday,错\n", encoding="utf-8")
    page.set_input_files("#holiday-file", str(bad))
    page.click("#holiday-file >> xpath=ancestor::form//button[@type='submit']")
    page.wait_for_selector("#import-result")
    assert "未导入" in page.inner_text("#import-result")
    first_error = page.inner_text("#import-result table tbody tr td:first-child")
    assert first_error == "3" and "日期" in page.inner_text("#import-result table")  # the bad row, in Chinese
    good = tmp_path / "good.csv"
    good.write_text(f"日期,类型,名称\n{YEAR}-01-01,放假,元旦\n{YEAR}-01-03,workday,调休\n", encoding="utf-8")
    page.set_input_files("#holiday-file", str(good))
    page.click("#holiday-file >> xpath=ancestor::form//button[@type='submit']")
    page.wait_for_selector("#import-result")
    assert "已导入" in page.inner_text("#import-result")
    table = page.inner_text("#holiday-table")
    assert f"{YEAR}-01-01" in table and "调休上班" in table
    page.screenshot(path=str(ARTIFACTS / "admin-holidays.png"), full_page=True)


def test_auditor_filters_the_log_and_downloads_csv(city, browser):  # noqa: F811
    login(browser, city.url, "nobody", "wrong-password").close()  # a failure for the log
    page = login(browser, city.url, "auditor1", DEMO_PASSWORD)
    assert page.url.endswith("/admin/audit")
    assert page.locator("#audit-table tbody tr[data-action]").count() > 0
    page.select_option("#f-kind", "login")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    actions = page.eval_on_selector_all("#audit-table tbody tr[data-action]", "rows => rows.map(r => r.dataset.action)")
    assert actions and all(a.startswith("login.") for a in actions)
    assert "login.failure" in actions and "login.success" in actions
    with page.expect_download() as info:
        page.click("#audit-csv")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "时间" and len(rows) - 1 == int(page.inner_text("#audit-total"))
    assert all(r[1] == "登录与退出" for r in rows[1:])
    page.screenshot(path=str(ARTIFACTS / "admin-audit.png"), full_page=True)
    page.goto(city.url + "/cases")
    assert "没有权限" in page.content() or page.url.endswith("/admin/audit")
