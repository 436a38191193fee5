"""Figures on a generated month (March 2025, Asia/Shanghai) with hand-computed answers: live, then from the daily
rollup (the same numbers), the rollup re-run (the same rows), drill-down to the cases behind a number. Runs on
SQLite by default and on PostgreSQL with DATABASE_URL (make test-pg)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.factories import Factories, FakeClock

SH = ZoneInfo("Asia/Shanghai")
A = "城乡建设/安全生产/事故处理"
B = "城乡建设/安全生产/安全生产管理"
C = "交通运输/出租车管理/运价监管"
MARCH = "from=2025-03-01&to=2025-03-31"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(UTC)


# (local time, channel, kind, category, district, status, unit, contacted); the answered one is closed on the spot
CASES = [
    ("2025-03-03 09:15", "phone", "complaint", A, "D01S01", "replied", "ZJJ", True),  # 1
    ("2025-03-03 09:40", "web", "consult", B, "D01S02", "registered", None, False),  # 2
    ("2025-03-03 14:05", "wechat", "complaint", C, "D02S01", "dispatched", "ZJJ", False),  # 3
    ("2025-03-10 09:05", "phone", "help", A, "D01S01", "replied", "ZJJ", False),  # 4
    ("2025-03-10 20:30", "phone", "complaint", None, None, "registered", None, False),  # 5
    ("2025-03-31 23:50", "phone", "report", A, "D02S01", "registered", None, False),  # 6: last minutes of March
    ("2025-04-01 00:10", "phone", "consult", A, "D01S01", "registered", None, False),  # 7: April (UTC: 31 March)
    ("2025-02-28 10:00", "phone", "consult", C, "D02S01", "registered", None, False),  # 8: previous period
    ("2024-03-15 10:00", "web", "consult", A, "D01S01", "registered", None, False),  # 9: a year before
    ("2025-03-10 11:00", "web", "consult", C, "D01", "answered", None, False),  # 10: 直接办结
    ("2025-03-20 10:00", "phone", "complaint", B, "D01S02", "handling", "CGJ", True),  # 11: never rated
]


@pytest.fixture(scope="module")
def month(app, tokens):
    from hotline.extensions import db
    from hotline.models import Case, RatingInvitation
    from hotline.ratings import service

    made = Factories(app, tokens, FakeClock())
    numbers = []
    for at, channel, kind, category, district, status, unit, contacted in CASES:
        answered = status == "answered"
        case = made.make_case(
            "closed" if answered else status,
            unit=unit or "ZJJ",
            channel=channel,
            kind=kind,
            category=category,
            district=district,
            contacted=contacted,
            answer="已按知识库答复" if answered else None,
            at=_at(at),
        )
        numbers.append(case.number)
    with app.app_context():  # ratings: case 1 rated 5 resolved on 5 March, case 4 rated 2 unresolved on 12 March
        for number, score, resolved, at in (
            (numbers[0], 5, True, "2025-03-05 10:00"),
            (numbers[3], 2, False, "2025-03-12 10:00"),
        ):
            case = db.session.scalar(sa.select(Case).where(Case.number == number))
            invitation = db.session.scalar(
                sa.select(RatingInvitation).where(RatingInvitation.case_id == case.id).order_by(RatingInvitation.id)
            )
            service.submit(invitation, score, resolved, "", "web", _at(at), check_expiry=False)
            db.session.commit()
    return numbers


def _get(api, path):
    resp = api("monitor1").get(path)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _ids(app):
    from hotline.extensions import db
    from hotline.models import Category, Department

    with app.app_context():
        cats = dict(db.session.execute(sa.select(Category.path, Category.id)).all())
        units = dict(db.session.execute(sa.select(Department.code, Department.id)).all())
    return cats, units


def _figures(api):
    return {
        "overview": _get(api, f"/stats/overview?{MARCH}"),
        **{
            f"hot-{by}-{level}": _get(api, f"/stats/hot?{MARCH}&by={by}&level={level}")
            for by in ("category", "area")
            for level in (1, 2, 3)
        },
        "departments": _get(api, f"/stats/departments?{MARCH}"),
    }


def _check_hand_computed(figures, cats, units):
    o = figures["overview"]
    assert o["total"] == 8
    assert {r["key"]: r["count"] for r in o["by_channel"] if r["count"]} == {"phone": 5, "web": 2, "wechat": 1}
    assert {r["key"]: r["count"] for r in o["by_kind"] if r["count"]} == {
        "complaint": 4,
        "consult": 2,
        "help": 1,
        "report": 1,
    }
    assert {r["day"]: r["count"] for r in o["by_day"] if r["count"]} == {
        "2025-03-03": 3,
        "2025-03-10": 3,
        "2025-03-20": 1,
        "2025-03-31": 1,
    }
    assert len(o["by_day"]) == 31
    assert {r["hour"]: r["count"] for r in o["by_hour"] if r["count"]} == {9: 3, 10: 1, 11: 1, 14: 1, 20: 1, 23: 1}
    assert o["trend"]["previous"] == {"from": "2025-01-29", "to": "2025-02-28", "total": 1, "change": 7.0}
    assert o["trend"]["last_year"] == {"from": "2024-03-01", "to": "2024-03-31", "total": 1, "change": 7.0}

    def hot(name):
        return [(i["label"], i["count"], i["previous"]) for i in figures[name]["items"]]

    assert hot("hot-category-1") == [("城乡建设", 5, 0), ("交通运输", 2, 1), ("未分类", 1, 0)]
    assert hot("hot-category-2") == [("城乡建设 / 安全生产", 5, 0), ("交通运输 / 出租车管理", 2, 1), ("未分类", 1, 0)]
    assert hot("hot-category-3") == [
        ("城乡建设 / 安全生产 / 事故处理", 3, 0),
        ("城乡建设 / 安全生产 / 安全生产管理", 2, 0),
        ("交通运输 / 出租车管理 / 运价监管", 2, 1),
        ("未分类", 1, 0),
    ]
    assert figures["hot-category-1"]["items"][1]["change_rate"] == 1.0
    assert figures["hot-category-1"]["items"][0]["id"] == cats["城乡建设"]
    assert hot("hot-area-1") == [("东城区", 5, 0), ("西城区", 2, 1), ("未标注区域", 1, 0)]
    area2 = hot("hot-area-2")
    assert sorted(area2) == sorted(
        [
            ("东城区 / 和平街道", 2, 0),
            ("东城区 / 东华街道", 2, 0),
            ("西城区 / 西关街道", 2, 1),
            ("东城区", 1, 0),
            ("未标注区域", 1, 0),
        ]
    )

    rows = {r["department_code"]: r for r in figures["departments"]["departments"]}
    assert set(rows) == {"ZJJ", "CGJ"}
    zjj, cgj = rows["ZJJ"], rows["CGJ"]
    assert zjj["counts"]["dispatched"] == 3 and zjj["counts"]["responded"] == 1
    assert zjj["counts"]["replied_on_time"] == 2 and zjj["counts"]["scores"] == {"2": 1, "5": 1}
    assert zjj["response_rate"] == 0.3333 and zjj["satisfaction_rate"] == 0.5 and zjj["resolution_rate"] == 0.5
    assert zjj["composite"] == 0.45  # 0.30 × 0.3333 + 0.35 × 0.5 + 0.35 × 0.5
    # no ratings: no satisfaction figure (not 1.0), the composite re-weighted over the response rate alone
    assert cgj["counts"]["ratings"] == 0 and cgj["satisfaction_rate"] is None and cgj["resolution_rate"] is None
    assert cgj["response_rate"] == 1.0 and cgj["composite"] == 1.0
    assert [r["department_code"] for r in figures["departments"]["departments"]] == ["CGJ", "ZJJ"]


def _rollup_rows(app):
    from hotline.extensions import db
    from hotline.models import StatsDaily, StatsUnitDaily

    with app.app_context():
        daily = db.session.execute(sa.select(StatsDaily.day, StatsDaily.dim, StatsDaily.key, StatsDaily.n)).all()
        cols = list(StatsUnitDaily.__table__.c)
        units = db.session.execute(sa.select(*cols)).all()
    return sorted(map(tuple, daily)), sorted(map(tuple, units))


def test_figures_live_equal_rollup_and_hand_computed(app, api, month):
    cats, units = _ids(app)
    live = _figures(api)
    _check_hand_computed(live, cats, units)

    result = app.test_cli_runner().invoke(args=["stats", "rollup", "--from", "2025-03-01", "--to", "2025-03-31"])
    assert result.exit_code == 0, result.output
    assert "31 天" in result.output and "工单 8 件" in result.output
    rows = _rollup_rows(app)
    assert (rows[0][0][0].isoformat(), rows[0][0][1:]) == ("2025-03-03", ("area", str(units["D01S01"]), 1))
    rolled = _figures(api)
    assert rolled == live  # the rollup gives the same numbers as counting live

    again = app.test_cli_runner().invoke(args=["stats", "rollup", "--from", "2025-03-01", "--to", "2025-03-31"])
    assert again.exit_code == 0, again.output
    assert _rollup_rows(app) == rows  # idempotent: the same rows after a re-run
    assert _figures(api) == live


def test_drill_down_lists_the_cases_behind_a_number(app, api, month):
    cats, units = _ids(app)

    def numbers(query):
        body = _get(api, f"/stats/cases?{MARCH}&{query}")
        assert body["total"] == len(body["items"])
        return {i["number"] for i in body["items"]}

    n = month
    assert numbers("channel=phone") == {n[0], n[3], n[4], n[5], n[10]}
    assert numbers("hour=9") == {n[0], n[1], n[3]}
    assert numbers("day=2025-03-10") == {n[3], n[4], n[9]}
    assert numbers(f"category={cats['城乡建设']}") == {n[0], n[1], n[3], n[5], n[10]}
    assert numbers(f"area={units['D01']}") == {n[0], n[1], n[3], n[9], n[10]}
    assert numbers("unit=ZJJ") == {n[0], n[2], n[3]}
    assert numbers("kind=help&channel=phone") == {n[3]}
    for query, field in (
        ("channel=fax", "channel"),
        ("hour=24", "hour"),
        ("category=x", "category"),
        ("day=2025-04-02", "day"),
    ):
        resp = api("monitor1").get(f"/stats/cases?{MARCH}&{query}")
        assert resp.status_code == 400 and field in resp.get_json()["error"]["fields"], query


def test_a_unit_sees_its_own_subtree_only(app, api, month):
    body = _get(api, f"/stats/overview?{MARCH}")
    assert body["scope"] == "city"
    resp = api("handler_zjj").get(f"/stats/overview?{MARCH}")
    mine = resp.get_json()
    assert resp.status_code == 200 and mine["scope"] == "unit" and mine["total"] == 3  # cases ZJJ leads
    cases = api("handler_zjj").get(f"/stats/cases?{MARCH}&channel=phone").get_json()
    assert {i["number"] for i in cases["items"]} <= {month[0], month[3]}


def test_dates_out_of_range_are_clear_400s_not_overflows(api):
    for path in ("/stats/overview", "/stats/hot", "/stats/departments", "/stats/cases"):
        for query, field in (("from=0001-01-01&to=0001-01-31", "from"), ("from=9999-12-01&to=9999-12-31", "from")):
            resp = api("monitor1").get(f"{path}?{query}")
            assert resp.status_code == 400, (path, query)
            assert field in resp.get_json()["error"]["fields"]


def test_bad_hot_arguments_are_clear_400s(api):
    for query, field in (("by=street", "by"), ("level=4", "level"), ("level=x", "level"), ("limit=0", "limit")):
        resp = api("monitor1").get(f"/stats/hot?{query}")
        assert resp.status_code == 400, query
        assert field in resp.get_json()["error"]["fields"]


def test_rollup_job_rolls_due_days_once(app):
    from workers.jobs.stats import rollup_stats

    now = datetime(2025, 6, 10, 3, 0, tzinfo=UTC)  # a window nobody rolled
    with app.app_context():
        first = rollup_stats(now=now)
        second = rollup_stats(now=now)
    assert first["days"] == 35 and second["days"] == 0
