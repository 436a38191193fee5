"""Factories for the test fixtures ``make_case``, ``make_user`` and ``clock`` (tests/conftest.py).

``make_case(status="replied", unit="CGJ")`` brings a fresh case to that state through the real operations
(``hotline.cases.operations``): every state change goes through the workflow and writes its timeline event,
exactly as the API's requests would. Nothing here writes a status column.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import has_app_context

from hotline.extensions import db

CONTENT = "小区楼下餐馆油烟扰民，晚上十点还在营业，希望处理。"
REPLY = "已责令餐馆安装油烟净化器并限期整改。"
# the states make_case can reach, each after the one before it on the path register → … → close
PATH = ("registered", "dispatched", "handling", "replied", "closed")
STATUSES = (*PATH, "returned")


class FakeClock:
    """Time that moves only when the test moves it.

    ``clock()`` is the current instant (aware, UTC); ``clock.advance(minutes=5)`` moves it and returns the new
    instant. ``clock.time`` and ``clock.monotonic`` stand in for ``time.time`` / ``time.monotonic`` where the code
    reads an injectable clock (hotline/db/refcache.py), so a test advances the clock instead of sleeping.
    """

    def __init__(self, start: datetime | None = None):
        self.current = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> datetime:
        self.current = moment
        return moment

    def time(self) -> float:
        return self.current.timestamp()

    monotonic = time


def fresh_phone() -> str:
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


@contextmanager
def session_of(app):
    """The current app context's session, or one of a context pushed for the block."""
    if has_app_context():
        yield db.session
        return
    with app.app_context():
        yield db.session


def _done(session, *rows) -> tuple:
    """Commit and reload; outside a test's own app context the rows come back detached with their columns loaded
    (``case.number``, ``case.status``, ``user.username`` read fine; relations do not)."""
    session.commit()
    for row in rows:
        session.refresh(row)
    return rows


def user(username: str):
    from hotline.models import User

    found = db.session.scalar(sa.select(User).where(User.username == username))
    assert found is not None, f"no user {username!r}"
    return found


def department(code: str):
    from hotline.web import lookups

    return lookups.department(code)


class Factories:
    """The ``make_case`` / ``make_user`` fixtures: one instance per test, sharing the session's app and tokens."""

    def __init__(self, app, tokens: dict, clock: FakeClock):
        self.app, self.tokens, self.clock = app, tokens, clock

    def make_user(self, role: str = "department_handler", unit: str | None = None, *, name: str = "测试用户"):
        """A new active user of ``role`` in unit ``unit`` (a code), committed, with an API token in ``tokens``:
        ``api(make_user(unit="CGJ").username)`` speaks as them."""
        with session_of(self.app) as session:
            row = self._new_user(role, unit, name)
            return _done(session, row)[0]

    def _new_user(self, role: str, unit: str | None, name: str = "测试用户"):
        from hotline.auth.tokens import create_token
        from hotline.models import User
        from hotline.web import lookups

        row = User(
            username=f"t_{role}_{uuid.uuid4().hex[:8]}",
            name=name,
            role=role,
            department=lookups.department(unit) if unit else None,
            password_hash="!",  # no password: signs in by token only
        )
        db.session.add(row)
        self.tokens[row.username] = create_token(row)
        return row

    def handler_of(self, code: str):
        """A department handler of unit ``code``: a demo user, or one made for it (e.g. 城管局 CGJ has none)."""
        from hotline.models import Department, User

        found = db.session.scalar(
            sa.select(User)
            .join(Department, User.department_id == Department.id)
            .where(Department.code == code, User.role == "department_handler", User.active.is_(True))
            .order_by(User.id)
            .limit(1)
        )
        return found or self._new_user("department_handler", code)

    def make_case(
        self,
        status: str = "registered",
        *,
        unit: str = "ZJJ",
        urgency: str = "normal",
        channel: str = "phone",
        kind: str = "complaint",
        content: str = CONTENT,
        phone: str | None = None,
        citizen_name: str | None = "王小明",
        category: str | None = None,
        district: str | None = None,
        address: str = "",
        title: str = "",
        confidential: bool | None = None,
        contacted: bool = False,
        reply: str = REPLY,
        result: str = "resolved",
        answer: str | None = None,
        at: datetime | None = None,
        step: timedelta = timedelta(0),
    ):
        """A new case brought to ``status`` by the real operations, committed; returns the Case.

        registered → dispatched (to ``unit`` as lead, by dispatcher1) → handling (signed by a handler of ``unit``;
        first contact recorded if ``contacted``) → replied (``reply``/``result``) → closed (by agent1). "returned":
        dispatched, then returned by the unit. With ``answer``, "closed" is a direct answer (直接办结) instead.
        The operations happen at ``at`` (default: the ``clock`` fixture's instant), each ``step`` after the last.
        """
        from hotline.cases import operations as ops
        from hotline.citizens.phones import normalize
        from hotline.web import lookups

        if status not in STATUSES:
            raise ValueError(f"make_case cannot reach {status!r}; it knows {', '.join(STATUSES)}")
        moments = _moments(at or self.clock(), step)
        with session_of(self.app) as session:
            new = ops.NewCase(
                channel=channel,
                kind=kind,
                content=content,
                phone=normalize(phone or fresh_phone()),
                citizen_name=citizen_name,
                title=title,
                address=address,
                district=lookups.district(district) if district else None,
                urgency=urgency,
                category=lookups.category(category) if category else None,
                confidential=confidential,
            )
            case = ops.create_case(new, user("agent1"), next(moments))
            if answer is not None:
                assert status == "closed", "answer= closes the case directly: use it with status='closed'"
                # 直接办结 requires a category: the given one, else a level-1 one of the demo taxonomy
                chosen = case.category or lookups.category("城乡建设")
                ops.answer(case, user("agent1"), answer, None, next(moments), category=chosen)
                return _done(session, case)[0]
            target = "dispatched" if status == "returned" else status
            steps = PATH[1 : PATH.index(target) + 1]
            handler = self.handler_of(unit) if steps[1:] or status == "returned" else None
            for state in steps:
                if state == "dispatched":
                    ops.dispatch(case, lookups.department(unit), user("dispatcher1"), next(moments))
                elif state == "handling":
                    ops.sign(case, handler, next(moments))
                    if contacted:
                        ops.contact(case, handler, "已电话联系市民", next(moments))
                elif state == "replied":
                    ops.reply(case, handler, reply, result, next(moments))
                elif state == "closed":
                    ops.close(case, user("agent1"), "回访满意", next(moments))
            if status == "returned":
                ops.return_case(case, handler, "不属于本单位职责", next(moments))
            assert case.status == status, (case.status, status)
            return _done(session, case)[0]


def _moments(start: datetime, step: timedelta):
    moment = start
    while True:
        yield moment
        moment += step
