"""The authorization matrix, generated from the capability table: every principal × every endpoint of
``app.url_map`` (every method; page actions expanded from their modules' ``ACTIONS`` tables), the expected answer
derived from the view's own declaration (``@requires`` → ``view._capability``, ``@public``, ``@citizen_only``)
and ``CAPABILITIES`` — so a new endpoint is covered the day it is added — and checked against the real answer:

1. the capability gate, on objects that do not exist: anonymous → 401 (API) or the login page; a role without
   the capability → 403 ``forbidden``; with it → neither (404/400/… — nothing exists to act on);
2. isolation, on real cases (a unit's live case, a returned one, a district's case handed to its street, a
   confidential report, a closed one) and a 差评 record: a department principal that may not see the object gets
   exactly the answer of a missing one (404), one that may gets 200 on every GET; department principals never
   see the reporter of any case, confidential ones included.

Principals: anonymous, the seven roles, another unit's handler, a district's handler, a street's handler and
admin. Prints ``authz matrix: N pairs checked, V violations``.
"""

from __future__ import annotations

import re
import sys

import pytest
import sqlalchemy as sa

from hotline.auth.permissions import CAPABILITIES, PUBLIC_ENDPOINTS
from hotline.auth.roles import DEPARTMENT
from hotline.extensions import db
from tests import counts

MISSING_CASE = "GD20000101-000001"
MISSING_ID = 999999999
PRINCIPALS = (
    None,  # anonymous
    "agent1",
    "dispatcher1",
    "monitor1",
    "supervisor1",
    "admin",
    "handler_zjj",
    "admin_zjj",
    "handler_shj",  # another unit
    "handler_d01",  # a district
    "handler_d01s01",  # a street of that district
    "admin_d01s01",
    "auditor1",  # 审计员: the audit log, nothing else (issue 17)
)
REPORTER = "举报人孙保密"
# Asked only anonymously: as a signed-in principal it ends every session of that shared demo user, which later
# tests' sessions would not survive.
ANONYMOUS_ONLY = {("auth.logout", "POST")}


class Matrix:
    def __init__(self, app, tokens):
        self.app, self.tokens = app, tokens
        self.pairs, self.violations = 0, []
        with app.app_context():
            from hotline.models import Department, User

            rows = db.session.execute(
                sa.select(User.username, User.role, Department.code, Department.path).outerjoin(
                    Department, Department.id == User.department_id
                )
            ).all()
            self.unit_paths = dict(db.session.execute(sa.select(Department.code, Department.path)).all())
        self.users = {r.username: r for r in rows}

    def role(self, username):
        return None if username is None else self.users[username].role

    def holds(self, username, capability: str) -> bool:
        return username is not None and capability in CAPABILITIES[self.role(username)]

    def request(self, username, method: str, path: str, i: int):
        client = self.app.test_client()
        headers = {"Authorization": f"Bearer {self.tokens[username]}"} if username else {}
        kwargs = {
            "headers": headers,
            "environ_base": {"REMOTE_ADDR": f"10.99.{i % 250}.{PRINCIPALS.index(username) + 1}"},
        }
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            kwargs["json" if path.startswith("/api/") else "data"] = {}
        return client.open(path, method=method, **kwargs)

    def check(self, ok: bool, what) -> None:
        self.pairs += 1
        if not ok:
            self.violations.append(what)


def _code(resp) -> str | None:
    body = resp.get_json(silent=True) or {}
    return (body.get("error") or {}).get("code") if isinstance(body, dict) else None


def _to_login(resp) -> bool:
    return resp.status_code == 302 and "/login" in resp.headers.get("Location", "")


def _actions(view) -> dict[str, str] | None:
    """A page endpoint with an <action>: its module's ACTIONS table, action -> the capability it needs."""
    table = getattr(sys.modules.get(view.__module__), "ACTIONS", None)
    if not isinstance(table, dict):
        return None
    out = {}
    for name, spec in table.items():
        capability = getattr(spec, "capability", None) or (spec[0] if isinstance(spec, tuple) else None)
        if isinstance(capability, str):
            out[name] = capability
    return out or None


def variants(app):
    """(rule, view, method, action, capabilities needed) for every route and method: a page action needs the
    route's capability and the action's own (its ``ACTIONS`` entry), like the view checks them."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        outer = getattr(view, "_capability", None)
        actions = _actions(view) if "action" in rule.arguments and outer else None
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for action, inner in (actions or {"missing-action": None}).items():
                needs = tuple(c for c in (outer, inner) if c)
                yield rule, view, method, action, needs


ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def fill(rule, values: dict) -> str:
    """The rule's path with every argument filled: ``values`` first, else a value naming nothing that exists."""

    def one(match: re.Match) -> str:
        converter, name = match.group(1) or "default", match.group(2)
        if name in values:
            return str(values[name])
        if converter == "int":
            return str(MISSING_ID)
        if converter == "any":
            return sorted(rule._converters[name].items)[0]
        if name == "number":
            return MISSING_CASE
        if name == "day":
            return "2099-01-01"
        return "missing-x"

    return ARG.sub(one, rule.rule)


@pytest.fixture(scope="module")
def objects(app, tokens):
    """Real objects for the isolation part, made through the real operations."""
    from tests.factories import Factories, FakeClock
    from tests.helpers import ApiClient
    from tests.integration.ratings_support import invitation_tokens

    make = Factories(app, tokens, FakeClock()).make_case
    api = lambda username: ApiClient(app.test_client(), tokens[username])  # noqa: E731
    cases = {
        "live_zjj": make("dispatched", unit="ZJJ").number,
        "closed_zjj": make("closed", unit="ZJJ").number,
        "confidential_zjj": make(
            "handling", unit="ZJJ", kind="report", confidential=True, citizen_name=REPORTER
        ).number,
        "returned_shj": make("returned", unit="SHJ").number,
        "street": make("dispatched", unit="D01").number,
    }
    street = api("handler_d01")
    version = street.get(f"/cases/{cases['street']}").get_json()["version"]
    resp = street.post(
        f"/cases/{cases['street']}/subdispatch",
        json={"department_code": "D01S01", "note": "街道办理", "version": version},
    )
    assert resp.status_code == 200, resp.get_json()
    rated = make("replied", unit="ZJJ").number
    [token] = invitation_tokens(api, rated)
    rect = app.test_client().post("/api/v1/ratings", json={"token": token, "score": 1, "resolved": False})
    assert rect.status_code == 201, rect.get_json()
    # which units' principals may read each (docs/domain.md, "Who sees a case"): by unit code
    readers = {
        "live_zjj": {"ZJJ"},
        "closed_zjj": {"ZJJ"},
        "confidential_zjj": {"ZJJ"},
        "returned_shj": set(),  # returned: not even the unit that held it
        "street": {"D01", "D01S01"},  # the district (delegated) and its street
    }
    return {"cases": cases, "readers": readers, "rect": rect.get_json()["rectification_id"], "rect_readers": {"ZJJ"}}


def _unit_reads(matrix: Matrix, username, units: set[str]) -> bool:
    """Centre principals read everything; a department principal reads what its unit or a sub-unit may."""
    if matrix.role(username) not in DEPARTMENT:
        return True
    me = matrix.users[username]
    return any(matrix.unit_paths[code].startswith(me.path) for code in units)


def test_authorization_matrix(app, tokens, objects):
    matrix = Matrix(app, tokens)
    declared = 0
    for i, (rule, view, method, action, needs) in enumerate(variants(app)):
        public = getattr(view, "_public", False)
        citizen_only = getattr(view, "_citizen_only", False)
        matrix.check(public or bool(needs), ("undeclared", rule.rule))
        declared += 1
        path = fill(rule, {"action": action})
        for username in PRINCIPALS:
            if username and (rule.endpoint, method) in ANONYMOUS_ONLY:
                continue
            resp = matrix.request(username, method, path, i)
            where = (username, method, path)
            ok = resp.status_code < 500 or (resp.status_code == 503 and _code(resp) is not None)  # a named 503
            if citizen_only:
                ok = ok and (resp.status_code == 403 if username else resp.status_code not in (401, 403))
            elif public:
                ok = ok and _code(resp) != "forbidden"  # the capability table is never consulted
            elif username is None:  # 401 (JSON) or the login page; a form post is refused before (no CSRF token)
                ok = ok and (
                    resp.status_code == 401 or _to_login(resp) or (method != "GET" and resp.status_code == 400)
                )
            elif all(matrix.holds(username, c) for c in needs):
                ok = ok and resp.status_code not in (401, 403)
            else:
                ok = ok and resp.status_code == 403
            matrix.check(ok, (*where, resp.status_code, _code(resp)))
    gate_pairs = matrix.pairs

    # isolation on real objects: every route with a case number or a 差评 id
    for i, (rule, view, method, action, needs) in enumerate(variants(app)):
        if getattr(view, "_public", False) or not needs:
            continue
        if "number" in rule.arguments:
            targets = [(objects["cases"][k], objects["readers"][k], "number") for k in objects["cases"]]
        elif "rect_id" in rule.arguments:
            targets = [(objects["rect"], objects["rect_readers"], "rect_id")]
        else:
            continue
        for target, units, name in targets:
            path, missing = fill(rule, {"action": action, name: target}), fill(rule, {"action": action})
            for username in PRINCIPALS[1:]:
                if not all(matrix.holds(username, c) for c in needs):
                    continue  # the gate above: 403 whatever the object
                reads = _unit_reads(matrix, username, units)
                if reads and method != "GET":
                    continue  # would act on a real case: the gate part covers the declaration
                resp = matrix.request(username, method, path, i)
                if reads and resp.status_code == 404:  # visible case, absent part (e.g. no recording): not the
                    gone = matrix.request(username, method, missing, i)  # missing case's answer
                    ok = _code(resp) != _code(gone)
                elif reads:
                    ok = resp.status_code == 200
                else:
                    gone = matrix.request(username, method, missing, i)
                    ok = (resp.status_code, _code(resp)) == (gone.status_code, _code(gone)) and resp.status_code == 404
                matrix.check(ok, ("isolation", username, method, path, resp.status_code, _code(resp)))

    # department principals never see the reporter (a confidential report included), in the API nor the page
    for key in ("confidential_zjj", "live_zjj"):
        number = objects["cases"][key]
        for username in ("handler_zjj", "admin_zjj"):
            for path in (f"/api/v1/cases/{number}", f"/cases/{number}"):
                resp = matrix.request(username, "GET", path, 0)
                text = resp.get_data(as_text=True)
                matrix.check(
                    resp.status_code == 200 and REPORTER not in text and "王小明" not in text, (username, path)
                )

    counts.report(f"authz matrix: {matrix.pairs} pairs checked, {len(matrix.violations)} violations")
    counts.report(
        f"authz matrix: {declared} endpoint×method variants × {len(PRINCIPALS)} principals "
        f"({gate_pairs} capability-gate pairs, {matrix.pairs - gate_pairs} isolation/reporter pairs)"
    )
    assert not matrix.violations, "\n".join(map(str, matrix.violations[:200]))
