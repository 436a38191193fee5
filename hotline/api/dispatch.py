"""Dispatch API: the dispatcher's queue, a case's routing result and citizens, second-level dispatch,
emergency transfer, per-unit return counts."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.api.cases import _done, now
from hotline.auth.permissions import access_case, requires, visible_cases_filter
from hotline.cases.citizens import case_citizens, merged_cases
from hotline.dispatch import operations as dispatching
from hotline.dispatch.workbench import queue
from hotline.extensions import db
from hotline.models import CaseRouting
from hotline.web import lookups
from hotline.web.validation import Str, expect_version, json_body, parse


def routing_block(case) -> dict:
    r = db.session.get(CaseRouting, case.id)
    master = case.merged_into_id and db.session.get(type(case), case.merged_into_id)
    return {
        "pending": bool(case.routing_pending),  # the routing job has not run yet
        "suggestions": r.suggestions if r else [],
        "auto": r.auto if r else False,
        "emergency": r.emergency if r else None,
        "out_of_scope": r.out_of_scope if r else None,
        "duplicates": r.duplicates if r else [],
        "note": r.note if r else "",
        "transferred_to": r.transferred_to if r else None,
        "merged_into": {"number": master.number, "status": master.status} if master else None,
        "merged": [c.number for c in merged_cases(case)],
    }


@api_bp.get("/cases/<number>/routing")
@requires("case.routing")
def case_routing(number: str):
    case = access_case(current_user, number, "case.routing")
    body = routing_block(case)
    body["citizens"] = [
        {"case_number": ref.case_number, "phone": ref.phone.masked if ref.phone else None}
        for ref in case_citizens(case)
    ]
    return jsonify(body)


@api_bp.get("/routing/queue")
@requires("dispatch.queue")
def routing_queue():
    """The dispatcher's workbench as JSON: waiting cases with their suggestions, the return queue and
    the per-unit return counts."""
    return jsonify(queue(visible=visible_cases_filter(current_user)).to_dict())  # 分中心: their district


@api_bp.post("/cases/<number>/subdispatch")
@requires("case.subdispatch")
def subdispatch(number: str):
    case = access_case(current_user, number, "case.subdispatch")
    body = json_body()
    data = parse(
        {"department_code": Str("街道/镇代码", required=True, max_len=32), "note": Str("派单意见", max_len=1000)}, body
    )
    expect_version(case, body)
    street = lookups.department(data["department_code"])
    dispatching.subdispatch(case, current_user, street, data["note"] or "", now())
    return _done(case)


@api_bp.post("/cases/<number>/transfer")
@requires("case.transfer")
def transfer(number: str):
    case = access_case(current_user, number, "case.transfer")
    body = json_body()
    data = parse(
        {
            "number": Str("转接号码", required=True, choices=dispatching.EMERGENCY_LINES),
            "note": Str("转接说明", max_len=1000),
        },
        body,
    )
    expect_version(case, body)
    dispatching.transfer_emergency(case, current_user, data["number"], data["note"] or "", now())
    return _done(case)


@api_bp.get("/routing/returns")
@requires("dispatch.returns")
def return_counts():
    return jsonify({"units": dispatching.return_counts()})


@api_bp.post("/cases/<number>/category")
@requires("case.reclassify")
def reclassify(number: str):
    """The dispatcher corrects the category (taught to the router at its next scheduled retraining)."""
    case = access_case(current_user, number, "case.reclassify")
    body = json_body()
    data = parse({"category": Str("分类", required=True, max_len=200)}, body)
    expect_version(case, body)
    dispatching.reclassify(case, current_user, lookups.category(data["category"]), now())
    return _done(case)
