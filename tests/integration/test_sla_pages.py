"""Pages of the time-limit supervision: the monitor wall, card colours on the department portal, and the
case page's time-limit panel with its forms (real login, CSRF)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Assignment
from tests.integration.sla_support import dispatch_at, sh
from tests.integration.test_pages import Browser
from workers.jobs.sla import sweep_sla


def _red_case(app, phone) -> tuple[str, int]:
    """A case carded red on its first contact (dispatched in March, swept at its deadline)."""
    number, aid = dispatch_at(app, phone, sh(2026, 3, 2, 10), department="ZJJ")
    with app.app_context():
        due = db.session.get(Assignment, aid).deadline_contact
        sweep_sla(due)
    return number, aid


def _just_now() -> datetime:
    """A dispatch ten minutes ago: the pages act at the real time, so the deadlines must lie ahead of it."""
    return datetime.now(UTC) - timedelta(minutes=10)


def _row(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split("</tr>", 1)[0]


def test_monitor_wall_counts_and_lists_red_cards(app, phone):
    number, _ = _red_case(app, phone)
    monitor = Browser(app, "monitor1")
    page = monitor.html("/monitor")
    assert "时限监控" in page and 'data-live-region="monitor-wall"' in page
    red_list = page.split('id="wall-red-cards"', 1)[1]
    assert f'href="/cases/{number}"' in red_list and "首次联系" in red_list and "已超时" in red_list
    unit = _row(page, 'data-unit="ZJJ"')
    counts = [int(x) for x in re.findall(r"<td>(?:<span[^>]*>)?(\d+)", unit)]
    assert counts[0] >= 1 and counts[3] >= 1  # open, due today, yellow, red
    assert int(re.search(r'id="total-red">(\d+)<', page).group(1)) >= 1
    assert "/cases?department=" in unit  # drill-down to the unit's cases
    assert Browser(app, "supervisor1").get("/monitor").status_code == 200
    assert Browser(app, "handler_zjj").get("/monitor").status_code == 403
    assert Browser(app, "agent1").get("/monitor").status_code == 403
    assert "时限监控" in Browser(app, "admin").html("/monitor")


def test_department_inbox_colours_come_from_the_cards(app, phone):
    number, _ = _red_case(app, phone)
    page = Browser(app, "handler_zjj").html("/dept/")
    row = _row(page, f">{number}</a>")
    assert "sla-overdue" in row and "card-red" in row and "红牌" in row


def test_case_page_panel_and_forms(app, phone):
    number, _ = dispatch_at(app, phone, _just_now(), department="ZJJ")  # deadlines still ahead
    handler = Browser(app, "handler_zjj")
    page = handler.html(f"/cases/{number}")
    assert 'id="sla-panel"' in page and 'id="sla-pause"' in page and 'id="sla-extension"' in page
    assert 'id="sla-supervise"' not in page
    resp = handler.post(f"/cases/{number}/sla/pause", {"reason": "市民电话无人接听，等待回电"}, follow=True)
    page = resp.get_data(as_text=True)
    assert "已暂停计时" in page and 'id="sla-resume"' in page and "暂停计时" in page
    resp = handler.post(f"/cases/{number}/sla/pause", {"reason": "再次暂停"}, follow=True)
    assert "请勿重复暂停" in resp.get_data(as_text=True) or 'id="sla-pause"' not in resp.get_data(as_text=True)
    page = handler.post(f"/cases/{number}/sla/resume", {}, follow=True).get_data(as_text=True)
    assert "已恢复计时" in page
    page = handler.post(
        f"/cases/{number}/sla/extension", {"days": "2", "reason": "需要协调相关部门"}, follow=True
    ).get_data(as_text=True)
    assert "延期申请已提交" in page and "待审批" in page

    monitor = Browser(app, "monitor1")
    assert 'id="sla-extension_decision"' in monitor.html(f"/cases/{number}")
    page = monitor.post(
        f"/cases/{number}/sla/extension_decision", {"approve": "yes", "note": "同意"}, follow=True
    ).get_data(as_text=True)
    assert "已同意延期" in page and "已同意" in page

    supervisor = Browser(app, "supervisor1")
    page = supervisor.post(
        f"/cases/{number}/sla/supervise", {"level": "supervise", "note": "请三日内办结"}, follow=True
    ).get_data(as_text=True)
    assert "已发出督办" in page and "待承办单位确认" in page
    assert handler.post(f"/cases/{number}/sla/supervise", {"level": "remind", "note": "越权"}).status_code == 403
    page = handler.post(f"/cases/{number}/sla/supervise_ack", {"note": "已安排"}, follow=True).get_data(as_text=True)
    assert "已确认催办/督办" in page and "已确认" in page
    missing_csrf = handler.client.post(f"/cases/{number}/sla/pause", data={"reason": "没有令牌的提交"})
    assert missing_csrf.status_code == 400
    with app.app_context():
        actions = (
            db.session.execute(
                sa.text(
                    "SELECT action FROM case_events e JOIN cases c ON c.id = e.case_id"
                    " WHERE c.number = :n ORDER BY e.id"
                ),
                {"n": number},
            )
            .scalars()
            .all()
        )
    assert actions[-6:] == ["pause", "resume", "extension_request", "extension_decision", "supervise", "supervise_ack"]


def test_time_limit_forms_report_stale_copies_and_refusals(app, phone):
    """The time-limit forms go through the same action handling as the case page's own forms (those are
    checked in test_pages.py): a stale copy or a refused action is flashed in Chinese and nothing is stored."""
    number, _ = dispatch_at(app, phone, _just_now(), department="ZJJ")
    handler = Browser(app, "handler_zjj")
    version = int(re.search(r'name="version" value="(\d+)"', handler.html(f"/cases/{number}")).group(1))

    def events() -> list[str]:
        with app.app_context():
            return (
                db.session.execute(
                    sa.text(
                        "SELECT action FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.number = :n "
                        "ORDER BY e.id"
                    ),
                    {"n": number},
                )
                .scalars()
                .all()
            )

    before = events()
    # a page loaded before someone else changed the case still carries the older version
    resp = handler.post(
        f"/cases/{number}/sla/pause", {"reason": "等待市民回电", "version": str(version - 1)}, follow=True
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f"工单已被他人修改（当前版本 {version}）" in page and "已暂停计时" not in page
    # a refusal of the rules: nothing to resume
    page = handler.post(f"/cases/{number}/sla/resume", {"version": str(version)}, follow=True).get_data(as_text=True)
    assert "该工单没有暂停计时，无需恢复" in page
    assert events() == before
    # the current version goes through
    page = handler.post(
        f"/cases/{number}/sla/pause", {"reason": "等待市民回电", "version": str(version)}, follow=True
    ).get_data(as_text=True)
    assert "已暂停计时" in page and events() == [*before, "pause"]
