"""GET /requests, /requests/{id} and /tokens/{token}: the public feed (hotline/open311/publication.py decides
what is in it and how much of each case it shows).

GET /requests: ``service_request_id`` (comma list, overrides every other argument), else ``start_date``/``end_date``
(default the most recent 90 days, at most 90), ``service_code`` and ``status`` (comma lists or repeated), and the
pagination extension's ``page``/``page_size`` (default HOTLINE_OPEN311_PAGE_SIZE, at most
HOTLINE_OPEN311_MAX_PAGE_SIZE — well under the specification's 1,000); newest first."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from hotline.auth.permissions import public
from hotline.cases.workflow import OPEN_STATES
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Case, Category, Open311Request
from hotline.open311 import queries as q
from hotline.open311.blueprint import FMT, open311_bp
from hotline.open311.formats import render
from hotline.open311.intake import token_hash
from hotline.open311.publication import is_public, public_case, public_query, request_items

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@open311_bp.get(f"/requests.{FMT}")
@public
def list_requests(fmt: str):
    settings = current_app.config["HOTLINE"]
    query = public_query()
    ids = q.request_ids(settings.open311_max_page_size)
    if ids:  # "This overrides all other arguments."
        query = query.where(Case.number.in_(ids))
    else:
        start, end = q.window(datetime.now(UTC))
        query = query.where(Case.created_at >= start, Case.created_at <= end)
        if services := q.services(q.listed("service_code")):
            query = query.join(Category, Category.id == Case.category_id).where(
                sa.or_(*[sa.or_(Category.id == s.id, Category.path.startswith(s.path + "/")) for s in services])
            )
        wanted = q.statuses()
        if wanted == {"open"}:
            query = query.where(Case.status.in_([s.value for s in OPEN_STATES]))
        elif wanted == {"closed"}:
            query = query.where(Case.status.not_in([s.value for s in OPEN_STATES]))
        page, size = q.page()
        query = query.offset((page - 1) * size).limit(size)
    rows = list(db.session.scalars(query.order_by(Case.id.desc())).unique())
    return render(fmt, "service_requests", request_items(rows))


@open311_bp.get(f"/requests/<number>.{FMT}")
@public
def get_request(number: str, fmt: str):
    return render(fmt, "service_requests", request_items([public_case(number)]))


@open311_bp.get(f"/tokens/<token>.{FMT}")
@public
def token_lookup(token: str, fmt: str):
    """A token from POST /requests: its service_request_id when the request is public, else none (a confidential
    report has no public id). A public request's own number also works as its token (requests are realtime)."""
    if not _TOKEN.fullmatch(token):
        raise ApiError(404, "unknown_token", "token 不存在")
    submitted = db.session.scalar(sa.select(Open311Request).where(Open311Request.token_hash == token_hash(token)))
    if submitted is not None:
        case = db.session.get(Case, submitted.case_id)
        number = case.number if case is not None and is_public(case) else None
        return render(fmt, "service_requests", [{"service_request_id": number, "token": token}])
    try:
        case = public_case(token)
    except ApiError:
        raise ApiError(404, "unknown_token", f"token {token[:32]} 不存在") from None
    return render(fmt, "service_requests", [{"service_request_id": case.number, "token": token}])
