"""Reading GeoReport v2 parameters: comma lists (also when a parameter is repeated), exact service codes, W3C
dates, the 90-day window and the page. Every refusal is a 400 (404 for a service that does not exist) with a
zh-CN description; nothing malformed reaches a query."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, request

from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Category

WINDOW = timedelta(days=90)  # "may not span more than 90 days"; the default range is the most recent 90 days
STATUSES = ("open", "closed")
_CODE = re.compile(r"[1-9][0-9]{0,8}")  # a service_code as services.json lists it: the category id, no zeros in front
_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,32}")  # a case number (GD20261207-000001)
_WHOLE = re.compile(r"[0-9]{1,9}")


def listed(name: str) -> list[str]:
    """Every value of ``name``: repeated (``a=1&a=2``) and comma-delimited (``a=1,2``) alike, blanks dropped."""
    out: list[str] = []
    for raw in request.args.getlist(name):
        out += [part.strip() for part in raw.split(",") if part.strip()]
    return out


def service(code: str) -> Category:
    """The level-2 category whose service_code is exactly ``code`` ("051" is not "51"), else 404."""
    row = (
        db.session.scalar(sa.select(Category).where(Category.id == int(code), Category.level == 2))
        if _CODE.fullmatch(code)
        else None
    )
    if row is None or str(row.id) != code:
        raise ApiError(404, "unknown_service", f"服务代码 {code[:20]} 不存在（请用 services 列出的 service_code）")
    return row


def services(codes: list[str]) -> list[Category]:
    """The services of a GET filter: each code must be one services.json lists (400 otherwise)."""
    found = []
    for code in codes[:50]:
        try:
            found.append(service(code))
        except ApiError:
            raise ApiError(400, "unknown_service", f"service_code {code[:20]} 不存在") from None
    return found


def statuses() -> set[str]:
    wanted = set(listed("status"))
    if not wanted <= set(STATUSES):
        raise ApiError(400, "invalid_status", "status 只能是 open 或 closed（多个用逗号分隔）")
    return wanted


def request_ids(limit: int) -> list[str]:
    ids = listed("service_request_id")
    if len(ids) > limit:
        raise ApiError(400, "too_many_ids", f"service_request_id 一次最多 {limit} 个")
    for value in ids:
        if not _REQUEST_ID.fullmatch(value):
            raise ApiError(400, "invalid_id", f"service_request_id {value[:32]!r} 不是有效的诉求编号")
    return ids


def _date(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) > 40:
            raise ValueError(raw)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise ApiError(400, "invalid_date", f"{name} 必须是 W3C 日期时间，如 2026-11-01T00:00:00Z") from None


def window(now: datetime) -> tuple[datetime, datetime]:
    """[start_date, end_date]: by default the most recent 90 days; never more than 90 days."""
    start, end = _date("start_date"), _date("end_date")
    if end is None:
        end = min(now, start + WINDOW) if start is not None else now
    if start is None:
        start = end - WINDOW
    if start > end:
        raise ApiError(400, "invalid_date", "start_date 不能晚于 end_date")
    if end - start > WINDOW:
        raise ApiError(400, "invalid_date", "start_date 到 end_date 不得超过 90 天")
    return start, end


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE.fullmatch(raw) or not low <= int(raw) <= high:
        raise ApiError(400, "invalid_page", f"{name} 必须是 {low} 到 {high} 之间的整数")
    return int(raw)


def page() -> tuple[int, int]:
    """(page from 1, page_size) of the pagination extension; page_size at most HOTLINE_OPEN311_MAX_PAGE_SIZE."""
    settings = current_app.config["HOTLINE"]
    size = _whole(
        "page_size", min(settings.open311_page_size, settings.open311_max_page_size), 1, settings.open311_max_page_size
    )
    return _whole("page", 1, 1, 100_000), size
