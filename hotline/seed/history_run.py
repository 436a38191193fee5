"""Play the demo city's planned past (hotline/seed/history.py) through the real operations — the same code that
handles live cases, so the history is consistent by construction (timeline events, assignments, deadlines, SLA
cards from the sweeper run at each simulated morning and afternoon, ratings, rectifications) — then roll up the
figures of those days. Steps are played in time order across cases; a step due after now is left undone (recent
cases stay open). Committed once per simulated day.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from hotline.cases import operations as ops
from hotline.cases.errors import DomainError
from hotline.cases.workflow import InvalidTransition
from hotline.citizens.phones import normalize
from hotline.extensions import db
from hotline.models import Case, Category, Department, OutboxMessage, RatingInvitation, Rectification, User
from hotline.ratings import rectification, service
from hotline.seed.history import PlannedCase, Step, plan
from hotline.sla import supervision
from hotline.sla.sweeper import sweep_cards, sweep_escalations
from hotline.stats import rollup

log = logging.getLogger(__name__)
SWEEP_HOURS = (10, 16)  # the SLA sweep at these local hours of every simulated day


class Players:
    """The demo users who act: agent, dispatcher, monitor, supervisor, and one handler per unit (made if missing)."""

    def __init__(self):
        by_name = {u.username: u for u in db.session.scalars(sa.select(User).where(User.department_id.is_(None)))}
        self.agent, self.dispatcher = by_name["agent1"], by_name["dispatcher1"]
        self.monitor, self.supervisor = by_name["monitor1"], by_name["supervisor1"]
        self._handlers: dict[int, User] = {}

    def handler(self, unit: Department) -> User:
        found = self._handlers.get(unit.id) or db.session.scalar(
            sa.select(User)
            .where(User.department_id == unit.id, User.role == "department_handler", User.active.is_(True))
            .order_by(User.id)
            .limit(1)
        )
        if found is None:
            found = User(
                username=f"hist_{unit.code.lower()}",
                name=f"{unit.name}承办人",
                role="department_handler",
                department=unit,
                password_hash="!",  # noqa: S106 — no password: signs in nowhere, acts in the demo history only
            )
            db.session.add(found)
            db.session.flush()
        self._handlers[unit.id] = found
        return found


def generate(days: int, now: datetime | None = None, per_day: int = 10, seed: int = 12345, progress=None) -> dict:
    """Generate ``days`` days of history before today and roll them up; returns counts. ``progress(done, days)``
    is called as each day is finished (make run prints it)."""
    if days <= 0:
        return {"cases": 0, "days": 0}
    now = now or datetime.now(UTC)
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    today = now.astimezone(zone).date()
    categories = {c.path: c for c in db.session.scalars(sa.select(Category).where(Category.level == 3))}
    units = {d.code: d for d in db.session.scalars(sa.select(Department).where(Department.active.is_(True)))}
    streets = sorted(code for code, d in units.items() if d.kind == "street")
    planned = plan(days, today, zone, sorted(categories), streets, per_day=per_day, seed=seed)
    players, rng = Players(), random.Random(seed + 1)
    queue: list = []
    order = itertools.count()
    for i, case in enumerate(planned):
        heapq.heappush(queue, (case.created_at.astimezone(UTC), next(order), i, -1))
    cases: dict[int, int] = {}  # plan index -> case id
    sweeps = [
        datetime.combine(today - timedelta(days=back), time(hour), zone).astimezone(UTC)
        for back in range(days, 0, -1)
        for hour in SWEEP_HOURS
    ]
    day_of = None
    while queue:
        at, _, i, step_no = heapq.heappop(queue)
        if at > now:
            break
        while sweeps and sweeps[0] <= at:
            _sweep(sweeps.pop(0))
        if day_of != at.date():
            db.session.commit()
            day_of = at.date()
            if progress is not None:
                progress(min(days, max(0, days - (today - at.astimezone(zone).date()).days)), days)
        item = planned[i]
        ok = _play(item, step_no, at, cases, i, categories, units, players, rng)
        if ok and step_no + 1 < len(item.steps):
            heapq.heappush(queue, (item.steps[step_no + 1].at.astimezone(UTC), next(order), i, step_no + 1))
    for moment in sweeps:
        if moment <= now:
            _sweep(moment)
    _quiet(list(cases.values()))
    db.session.commit()
    first = today - timedelta(days=days)
    for day in rollup.days_between(first, today - timedelta(days=1)):
        rollup.roll_day(day, zone, now)
    db.session.commit()
    return {"cases": len(cases), "days": days}


def _sweep(moment: datetime) -> None:
    sweep_cards(moment, 5000)
    sweep_escalations(moment, 5000)


def _quiet(case_ids: list[int]) -> None:
    """History is not news: its cases need no routing, and its messages and notices were dealt with long ago."""
    for chunk in range(0, len(case_ids), 500):
        ids = case_ids[chunk : chunk + 500]
        db.session.execute(sa.update(Case).where(Case.id.in_(ids)).values(routing_pending=False))
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.case_id.in_(ids), OutboxMessage.status == "pending")
            .values(status="sent")
        )


def _play(item: PlannedCase, step_no: int, at: datetime, cases, i, categories, units, players, rng) -> bool:
    nested = db.session.begin_nested()
    try:
        if step_no < 0:
            case = _create(item, at, categories, units, players, rng)
            cases[i] = case.id
        else:
            case = db.session.get(Case, cases[i])
            _step(case, item, item.steps[step_no], at, units, players)
        nested.commit()
        return True
    except (DomainError, InvalidTransition) as err:  # a plan the rules refuse: the case stays where it is
        nested.rollback()
        log.debug("history step %s refused: %s", step_no, err)
        return False


def _create(item: PlannedCase, at: datetime, categories, units, players, rng) -> Case:
    phone = normalize("13" + f"{rng.randrange(10**9):09d}")
    new = ops.NewCase(
        channel=item.channel,
        kind=item.kind,
        content=item.content,
        phone=phone,
        address=f"{units[item.street].name}某小区",
        district=units[item.street],
        category=categories[item.category],
    )
    case = ops.create_case(new, players.agent, at)
    if rng.random() < 0.6:  # a location (as the API, WeChat or the portal's picker give one) around its street
        lat, lng = _anchor(item.street)
        case.lat, case.lng = round(lat + rng.gauss(0, 0.004), 6), round(lng + rng.gauss(0, 0.005), 6)
        case.location_source = "api"
    return case


def _anchor(street: str) -> tuple[float, float]:
    """A fictional spot for a street of the demo city: districts around the configured centre, streets around them."""
    lat, _, lng = current_app.config["HOTLINE"].map_center.partition(",")
    district, number = int(street[1:3]), int(street[4:6]) if len(street) >= 6 else 0
    return (
        float(lat) + 0.05 * ((district - 1) // 3 - 0.5) + 0.012 * (number % 3 - 1),
        float(lng) + 0.06 * ((district - 1) % 3 - 1) + 0.014 * (number // 3 - 1),
    )


def _lead_unit(case: Case, units) -> Department:
    category = case.category
    owner = category.department if category is not None else None
    if owner is None and category is not None and category.parent is not None:
        owner = category.parent.department
    if owner is None or (category is not None and category.local):
        owner = case.district
    return owner or units["C"]


def _step(case: Case, item: PlannedCase, step: Step, at: datetime, units, players) -> None:
    p = players
    act = step.action
    lead = case.lead_department
    if act == "answer":
        ops.answer(case, p.agent, "已依据知识库向市民答复。", None, at)
    elif act == "dispatch":
        ops.dispatch(case, _lead_unit(case, units), p.dispatcher, at)
    elif act == "return":
        ops.return_case(case, p.handler(lead), "不属于本单位职责范围", at)
    elif act == "decide":
        accept = step.data["accept"]
        district = case.district.parent if case.district and case.district.kind == "street" else case.district
        ops.decide_return(case, p.dispatcher, accept, district if accept else None, "经核实", at)
    elif act == "sign":
        ops.sign(case, p.handler(lead), at)
    elif act == "contact":
        ops.contact(case, p.handler(lead), "已电话联系市民", at)
    elif act == "extend":
        supervision.request_extension(case, p.handler(lead), step.data["days"], "需协调多个部门", at)
        supervision.decide_extension(case, p.monitor, True, "同意延期", at + timedelta(hours=1))
    elif act == "reply":
        ops.reply(case, p.handler(lead), "经现场核查，已按规定处理并答复市民。", step.data["result"], at)
    elif act in ("rate", "revisit"):
        purpose = "revisit" if act == "revisit" else "reply"
        invitation = db.session.scalar(
            sa.select(RatingInvitation)
            .where(RatingInvitation.case_id == case.id, RatingInvitation.purpose == purpose)
            .order_by(RatingInvitation.id.desc())
            .limit(1)
        )
        if invitation is not None:
            service.submit(invitation, step.data["score"], step.data["resolved"], "", "sms", at, check_expiry=False)
    elif act in ("verify", "rectify", "explain"):
        rect = db.session.scalar(
            sa.select(Rectification).where(Rectification.case_id == case.id).order_by(Rectification.id.desc())
        )
        if rect is None:
            return
        if act == "verify":
            outcome = "reasonable" if step.data["reasonable"] else "unreasonable"
            mode = "immediate" if step.data["reasonable"] else None
            rectification.verify(rect, p.supervisor, outcome, "已电话核实", at, mode=mode)
        elif act == "rectify":
            rectification.rectify(rect, p.handler(lead), "已整改到位", at)
        else:
            rectification.explain(rect, p.supervisor, "已向市民解释政策依据", at)
    elif act == "close":
        ops.close(case, p.agent, "回访市民，对办理结果无异议", at)
