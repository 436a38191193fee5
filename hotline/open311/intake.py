"""POST /requests: a service request becomes a case (channel "app"), as the GeoReport v2 specification defines
the call. Required: ``api_key`` (an API token of a user holding case.create, else 403), ``service_code`` (404 when
no service has it), a location (``lat``+``long``, ``address_string`` or ``address_id``). Optional, as the
specification says: ``description`` (up to 4,000 characters), ``phone``, ``first_name``/``last_name``,
``media_url`` (kept in its own field, returned as ``media_url``), ``email``/``device_id``/``account_id`` (not
kept). ``lat``/``long`` are stored on the case (``cases.lat``/``lng``, ``location_source`` "open311").

A report that is confidential (举报: the reporter is protected, the case never public) answers with a ``token``
and a notice instead of a ``service_request_id`` that would 404: GET /tokens/{token} answers the token with no id.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, request
from sqlalchemy.orm.attributes import set_committed_value

from hotline.auth.permissions import can, public
from hotline.auth.tokens import user_for_token
from hotline.cases import operations as ops
from hotline.citizens.phones import normalize
from hotline.citizens.profile import cipher
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.jobs import FETCH_MEDIA, enqueue_on_commit
from hotline.models import Case, Citizen, CitizenPhone, Open311Request
from hotline.open311 import queries as q
from hotline.open311.blueprint import FMT, open311_bp
from hotline.open311.formats import render
from hotline.web import idempotency
from hotline.web.validation import Str
from hotline.wechat.intake import infer_kind

MAX_DESCRIPTION = 4000  # "free form text limited to 4,000 characters"
ANONYMOUS = "open311"  # citizen_phones.kind of a reporter who gave no phone number
CONFIDENTIAL_NOTICE = (
    "您的举报已受理。举报件依法保密，不在公开接口中显示，因此不提供公开的诉求编号；"
    "可用本 token 调用 GET /tokens/{token} 确认受理，办理进展请拨打 12345 查询。"
)
NOTICE = "您的诉求已受理，办理进展可用 service_request_id 查询。"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _text(name: str, label: str, max_len: int) -> str | None:
    raw = request.form.get(name)
    if raw is None or not raw.strip():
        return None
    value, problem = Str(label, max_len=max_len).check(raw)
    if problem:
        raise ApiError(400, "invalid", f"{name}：{problem}")
    return value


def _coordinate(name: str, low: float, high: float) -> float | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw) if len(raw) <= 32 else float("nan")
    except ValueError:
        raise ApiError(400, "invalid", f"{name} 必须是数字（WGS84 十进制度）") from None
    if not low <= value <= high:  # also NaN and ±inf
        raise ApiError(400, "invalid", f"{name} 超出范围（{low:g} 到 {high:g}）")
    return value


def _client():
    key = (request.form.get("api_key") or "").strip()
    user = user_for_token(key) if key and len(key) < 200 else None
    if user is None or not can(user, "case.create"):  # the api_key of a user who may register cases
        raise ApiError(403, "invalid_api_key", "api_key 无效或无权提交诉求")
    return user


def _anonymous_reporter(now: datetime) -> CitizenPhone:
    """A reporter who gave no phone: a citizen file of their own with an identity that cannot be dialled."""
    key = f"{ANONYMOUS}:{secrets.token_urlsafe(16)}"
    citizen = Citizen(name_enc=None, tags=[], created_at=now, updated_at=now)
    row = CitizenPhone(
        citizen=citizen,
        phone_hash=cipher().blind_index(key),
        phone_enc=cipher().encrypt(key),
        masked="Open311 匿名",
        kind=ANONYMOUS,
        created_at=now,
    )
    db.session.add_all([citizen, row])
    db.session.flush()
    return row


def _place_case(case: Case, lat: float, lng: float) -> None:
    """Store the client's coordinates on the case with a Core UPDATE (the case's ``version`` stays put)."""
    values = {"lat": lat, "lng": lng, "location_source": "open311"}
    db.session.execute(sa.update(Case).where(Case.id == case.id).values(**values))
    for key, value in values.items():
        set_committed_value(case, key, value)


@open311_bp.post(f"/requests.{FMT}")
@public
def create_request(fmt: str):
    now = datetime.now(UTC)
    user = _client()
    claim, earlier = idempotency.from_header(user, now)  # the same Idempotency-Key: the first answer
    if earlier is not None:
        return earlier
    code = (request.form.get("service_code") or "").strip()
    if not code:
        raise ApiError(400, "missing", "缺少必填参数 service_code（见 services 列表）")
    service = q.service(code)  # 404 when no service has this code
    lat, lng = _coordinate("lat", -90, 90), _coordinate("long", -180, 180)
    if (lat is None) != (lng is None):
        raise ApiError(400, "missing_location", "lat 和 long 必须同时提供")
    address = _text("address_string", "地址", 300)
    address_id = _text("address_id", "地址编号", 64)
    if address is None and lat is None and address_id is None:
        raise ApiError(400, "missing_location", "需要位置：lat 和 long，或 address_string，或 address_id")
    limit = min(MAX_DESCRIPTION, current_app.config["HOTLINE"].max_content_chars)
    description = _text("description", "诉求内容", limit)
    raw_phone = _text("phone", "联系电话", 64)
    phone = normalize(raw_phone) if raw_phone else None
    last, first = _text("last_name", "姓", 25), _text("first_name", "名", 25)
    name = (last or "") + (first or "") or None
    media = _text("media_url", "图片链接", 500)
    if media and not media.lower().startswith(("http://", "https://")):
        raise ApiError(400, "invalid", "media_url 必须是 http(s) 链接")
    if address is None:
        address = f"坐标 {lat:.6f},{lng:.6f}" if lat is not None else f"地址编号 {address_id}"
    content = description or f"（Open311 提交，未填写描述）{service.name}"
    case = ops.create_case(
        ops.NewCase(
            channel="app",
            kind=infer_kind(description or ""),
            content=content,
            phone=phone,
            phone_row=None if phone is not None else _anonymous_reporter(now),
            citizen_name=name,
            address=address,
            category=service,
        ),
        user,
        now,
    )
    if lat is not None:
        _place_case(case, lat, lng)
    if media:  # fetched by the media queue: SSRF-safe, limits, type by content (hotline/evidence/fetch.py)
        enqueue_on_commit(FETCH_MEDIA, case.id, media)
    token = secrets.token_urlsafe(18) if case.confidential else None
    db.session.add(
        Open311Request(
            case_id=case.id,
            token_hash=token_hash(token) if token else None,
            media_url=media,
            name_enc=cipher().encrypt(name) if name else None,
            client_id=user.id,
            created_at=now,
        )
    )
    if token:  # the spec: a token, never with the id (which the public feed would not answer)
        answer = {"token": token, "service_notice": CONFIDENTIAL_NOTICE, "account_id": None}
    else:
        answer = {"service_request_id": case.number, "service_notice": NOTICE, "account_id": None}
    response = render(fmt, "service_requests", [answer], 201)
    if claim is not None:
        claim.store_response(response, case.number)
    db.session.commit()
    return response
