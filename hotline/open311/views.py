"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under /open311/v2.

services = level-2 categories of the taxonomy; a request = a case (channel "app"); service_request_id = the case
number, so tokens resolve to it at once; status open|closed; agency_responsible = the lead unit;
expected_datetime = the reply deadline. Confidential cases (举报) are never listed, and long digit runs (phone
numbers) in descriptions are masked. Errors: ``[{"code", "description"}]`` (zh-CN), 400/403/404, and 503
(+ Retry-After) when the database or Redis cannot be reached.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, request, url_for
from werkzeug.exceptions import HTTPException

from hotline.auth.permissions import authenticate_api, can, public
from hotline.auth.tokens import user_for_token
from hotline.cases import operations as ops
from hotline.cases.workflow import OPEN_STATES
from hotline.citizens.phones import PhoneError, normalize
from hotline.errors import (
    DATABASE_DOWN,
    HTTP_MESSAGES,
    REDIS_DOWN,
    RETRY_AFTER,
    UNAVAILABLE_MESSAGES,
    ApiError,
    unavailable_dependency,
)
from hotline.extensions import db
from hotline.models import Case, Category
from hotline.open311.formats import errors, render
from hotline.portal.status import citizen_status
from hotline.web import idempotency
from hotline.web.validation import Str
from hotline.wechat.intake import infer_kind

open311_bp = Blueprint("open311", __name__)
open311_bp.before_request(authenticate_api)  # every endpoint is @public (POST checks its api_key itself)
FMT = "<any(json,xml):fmt>"
MAX_RESULTS = 1000
_DIGITS = re.compile(r"\d{7,}")


def _fmt() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


@open311_bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    return errors(_fmt(), err.status, err.message)


@open311_bp.errorhandler(PhoneError)
def _phone_error(err: PhoneError):
    return errors(_fmt(), 400, f"phone：{err.message}")


@open311_bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    status = err.code or 500
    return errors(_fmt(), status, HTTP_MESSAGES.get(status, ("", f"请求无法处理（HTTP {status}）"))[1])


def _unavailable(err: Exception):
    """The database or Redis cannot be reached (hotline/errors.py decides which): 503 + Retry-After, in
    GeoReport's error format."""
    response = errors(_fmt(), 503, UNAVAILABLE_MESSAGES[unavailable_dependency(err) or "database"])
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


for _down in (*DATABASE_DOWN, *REDIS_DOWN):
    open311_bp.register_error_handler(_down, _unavailable)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


def _level2(category: Category | None, cache: dict) -> Category | None:
    if category is None or category.level < 2:
        return None
    path = "/".join(category.path.split("/")[:2])
    if path not in cache:
        cache[path] = (
            category if category.level == 2 else db.session.scalar(sa.select(Category).where(Category.path == path))
        )
    return cache[path]


def _request_dict(case: Case, cache: dict) -> dict:
    service = _level2(case.category, cache)
    status = citizen_status(case, current_app.config["HOTLINE"].timezone)
    lead = case.lead_department
    return {
        "service_request_id": case.number,
        "status": "open" if case.status in OPEN_STATES else "closed",
        "status_notes": f"{status.label}：{status.meaning}",
        "service_name": service.name if service else None,
        "service_code": str(service.id) if service else None,
        "description": _DIGITS.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), case.content),
        "agency_responsible": lead.name if lead else None,
        "service_notice": status.reply,
        "requested_datetime": _iso(case.created_at),
        "updated_datetime": _iso(case.updated_at),
        "expected_datetime": _iso(case.deadline_reply),
        "address": case.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


@open311_bp.get(f"/discovery.{FMT}")
@public
def discovery(fmt: str):
    url = url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0]
    changeset = "2026-11-22T00:00:00Z"
    return render(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": "12345 政务服务便民热线（拨打 12345）",
            "key_service": "API 密钥即热线系统的 API 令牌：由管理员用 flask token create USERNAME 签发",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": url,
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        },
    )


def _services_query():
    parent = sa.orm.aliased(Category)
    return (
        sa.select(Category, parent.name)
        .join(parent, parent.id == Category.parent_id)
        .where(Category.level == 2)
        .order_by(Category.path)
    )


@open311_bp.get(f"/services.{FMT}")
@public
def services(fmt: str):
    rows = db.session.execute(_services_query()).all()
    return render(
        fmt,
        "services",
        [
            {
                "service_code": str(c.id),
                "service_name": c.name,
                "description": f"{group}：{c.name}",
                "metadata": False,
                "type": "realtime",
                "keywords": "",
                "group": group,
            }
            for c, group in rows
        ],
    )


def _service(code: str, status: int = 404) -> Category:
    row = (
        db.session.scalar(sa.select(Category).where(Category.id == int(code), Category.level == 2))
        if code.isascii() and code.isdigit() and len(code) < 10
        else None
    )
    if row is None:
        raise ApiError(status, "unknown_service", f"服务代码 {code[:20]} 不存在（请用 services 列出的 service_code）")
    return row


@open311_bp.get(f"/services/<code>.{FMT}")
@public
def service_definition(code: str, fmt: str):
    service = _service(code)
    return render(fmt, "service_definition", {"service_code": str(service.id), "attributes": []})


def _form_text(name: str, label: str, **kw) -> str | None:
    raw = request.form.get(name)
    if raw is None or not raw.strip():
        if kw.get("required"):
            raise ApiError(400, "missing", f"缺少必填参数 {name}（{label}）")
        return None
    value, problem = Str(label, **kw).check(raw)
    if problem:
        raise ApiError(400, "invalid", f"{name}：{problem}")
    return value


def _coordinate(name: str, low: float, high: float) -> float | None:
    raw = request.form.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, "invalid", f"{name} 必须是数字（WGS84 十进制度）") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid", f"{name} 超出范围（{low:g} 到 {high:g}）")
    return value


@open311_bp.post(f"/requests.{FMT}")
@public
def create_request(fmt: str):
    key = (request.form.get("api_key") or "").strip()
    user = user_for_token(key) if key and len(key) < 200 else None
    if user is None or not can(user, "case.create"):  # the api_key of a user who may register cases
        raise ApiError(403, "invalid_api_key", "api_key 无效或无权提交诉求")
    claim, earlier = idempotency.from_header(user, datetime.now(UTC))  # the same Idempotency-Key: the first answer
    if earlier is not None:
        return earlier
    service = _service(request.form.get("service_code", "").strip(), status=400)
    lat, lon = _coordinate("lat", -90, 90), _coordinate("long", -180, 180)
    address = _form_text("address_string", "地址", max_len=300)
    if address is None and (lat is None or lon is None) and not request.form.get("address_id"):
        raise ApiError(400, "missing_location", "需要位置：lat 和 long，或 address_string")
    limit = current_app.config["HOTLINE"].max_content_chars
    description = _form_text("description", "诉求内容", required=True, max_len=limit, min_len=2)
    phone = normalize(_form_text("phone", "联系电话", required=True, max_len=64))
    last, first = _form_text("last_name", "姓", max_len=25), _form_text("first_name", "名", max_len=25)
    name = (last or "") + (first or "")
    media = _form_text("media_url", "图片链接", max_len=500)
    if media and not media.startswith(("http://", "https://")):
        raise ApiError(400, "invalid", "media_url 必须是 http(s) 链接")
    content = description + (f"\n图片：{media}" if media else "")
    if address is None:
        address = f"坐标 {lat:.6f},{lon:.6f}" if lat is not None and lon is not None else ""
    case = ops.create_case(
        ops.NewCase(
            channel="app",
            kind=infer_kind(description),
            content=content,
            phone=phone,
            citizen_name=name or None,
            address=address,
            category=service,
        ),
        user,
        datetime.now(UTC),
    )
    number = case.number
    response = render(
        fmt, "service_requests", [{"service_request_id": number, "service_notice": "", "account_id": None}], 201
    )
    if claim is not None:
        claim.store_response(response, number)
    db.session.commit()
    return response


def _date(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise ApiError(400, "invalid_date", f"{name} 必须是 W3C 日期时间，如 2026-11-01T00:00:00Z") from None


@open311_bp.get(f"/requests.{FMT}")
@public
def list_requests(fmt: str):
    query = sa.select(Case).where(Case.confidential.is_(False))
    ids = [i.strip() for i in request.args.get("service_request_id", "").split(",") if i.strip()][:MAX_RESULTS]
    if ids:
        query = query.where(Case.number.in_(ids))
    else:
        start, end = _date("start_date"), _date("end_date")
        now = datetime.now(UTC)
        end = end or now
        start = start or end - timedelta(days=90)
        if start > end:
            raise ApiError(400, "invalid_date", "start_date 不能晚于 end_date")
        query = query.where(Case.created_at >= start, Case.created_at <= end)
        if code := request.args.get("service_code", "").strip():
            service = _service(code, status=400)
            query = query.join(Category, Category.id == Case.category_id).where(
                sa.or_(Category.id == service.id, Category.path.startswith(service.path + "/"))
            )
        if status := request.args.get("status", "").strip():
            wanted = {s.strip() for s in status.split(",")}
            if not wanted <= {"open", "closed"}:
                raise ApiError(400, "invalid_status", "status 只能是 open 或 closed")
            if wanted == {"open"}:
                query = query.where(Case.status.in_([s.value for s in OPEN_STATES]))
            elif wanted == {"closed"}:
                query = query.where(Case.status.not_in([s.value for s in OPEN_STATES]))
    cache: dict = {}
    rows = db.session.scalars(query.order_by(Case.id.desc()).limit(MAX_RESULTS)).all()
    return render(fmt, "service_requests", [_request_dict(c, cache) for c in rows])


def _public_case(number: str) -> Case:
    case = (
        db.session.scalar(sa.select(Case).where(Case.number == number, Case.confidential.is_(False)))
        if len(number) <= 32 and "\x00" not in number
        else None
    )
    if case is None:
        raise ApiError(404, "not_found", f"诉求 {number[:32]} 不存在")
    return case


@open311_bp.get(f"/requests/<number>.{FMT}")
@public
def get_request(number: str, fmt: str):
    return render(fmt, "service_requests", [_request_dict(_public_case(number), {})])


@open311_bp.get(f"/tokens/<token>.{FMT}")
@public
def token_lookup(token: str, fmt: str):
    case = _public_case(token)  # requests are created synchronously: the token is the request id
    return render(fmt, "service_requests", [{"service_request_id": case.number, "token": token}])
