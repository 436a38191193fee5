"""Idempotent intake: the ``Idempotency-Key`` header (``POST /api/v1/cases``, Open311 ``POST /requests``) and the
portal form's single-use form id. The same key of the same caller within 24 h gets the first answer again,
never a second case.

How: the key is claimed with ``INSERT … ON CONFLICT DO NOTHING`` on the unique (scope, key) in the request's
own transaction, and the answer is stored in that row before the commit (``Claim.store``). So a key is stored
if and only if its case is, with its answer; a request that fails leaves no key behind and may be retried. Of
concurrent requests with one key, PostgreSQL makes the others wait on the first one's uncommitted row, then
they find it committed and replay its answer (SQLite runs writing transactions one after the other). A key
older than 24 h is taken over by a conditional UPDATE; the daily job ``prune`` deletes old keys.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Response, make_response, request

from hotline.db.dialect import insert_ignore
from hotline.errors import ApiError, error_response
from hotline.extensions import db
from hotline.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
TTL = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII, e.g. a UUID
_TABLE = IdempotencyKey.__table__
_ROW = (_TABLE.c.id, _TABLE.c.fingerprint, _TABLE.c.status_code, _TABLE.c.content_type, _TABLE.c.body)
_ROW += (_TABLE.c.case_number, _TABLE.c.created_at)


class KeyReused(ApiError):
    """The key was already used, within 24 h, for a different request (HTTP 422)."""

    def __init__(self, case_number: str | None):
        made = f"（已用于工单 {case_number}）" if case_number else ""
        super().__init__(
            422,
            "idempotency_key_reused",
            f"该幂等键{made}已用于内容不同的另一个请求；新的请求请使用新的幂等键",
            {HEADER: "同一幂等键只能用于同一请求"},
        )
        self.case_number = case_number


@dataclass(frozen=True)
class Claim:
    """This request holds the key; store its answer before the commit."""

    scope: str
    key: str

    def store(self, status: int, body: str = "", content_type: str = "", case_number: str | None = None) -> None:
        db.session.execute(
            sa.update(_TABLE)
            .where(_TABLE.c.scope == self.scope, _TABLE.c.key == self.key)
            .values(status_code=status, body=body, content_type=content_type[:100], case_number=case_number)
        )

    def store_response(self, response: Response, case_number: str | None = None) -> None:
        self.store(response.status_code, response.get_data(as_text=True), response.content_type, case_number)


def fingerprint(*parts) -> str:
    """SHA-256 of the canonical JSON of ``parts`` (key order and white space of a JSON body do not count)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_fingerprint() -> str:
    """Method, path and body of the current request; a form's ``api_key`` (a credential) is left out."""
    body = request.get_json(silent=True) if request.is_json else None
    if body is None and request.form:
        body = {k: v for k, v in request.form.to_dict(flat=False).items() if k != "api_key"}
    if body is None:
        body = request.get_data(as_text=True)
    return fingerprint(request.method, request.path, body)


def begin(scope: str, key: str, print_: str, now: datetime):
    """Claim ``key`` of ``scope`` for this transaction. Returns a ``Claim`` when this request goes ahead, else
    the earlier request's row (its stored answer). Raises ``KeyReused`` for the same key with another request."""
    claimed = db.session.execute(
        insert_ignore(_TABLE, ["scope", "key"])
        .values(scope=scope, key=key, fingerprint=print_, created_at=now)
        .returning(_TABLE.c.id)  # no row: the key exists (rowcount of an INSERT is not reliable on every driver)
    ).scalar()
    if claimed is not None:
        return Claim(scope, key)
    where = (_TABLE.c.scope == scope, _TABLE.c.key == key)
    row = db.session.execute(sa.select(*_ROW).where(*where)).one_or_none()
    if row is not None and row.created_at < now - TTL:  # expired: one of the requests that find it takes it over
        fresh = {"fingerprint": print_, "created_at": now, "status_code": None, "body": None}
        fresh.update(content_type=None, case_number=None)
        taken = db.session.execute(
            sa.update(_TABLE).where(_TABLE.c.id == row.id, _TABLE.c.created_at == row.created_at).values(**fresh)
        ).rowcount
        if taken == 1:
            return Claim(scope, key)
        row = db.session.execute(sa.select(*_ROW).where(*where)).one_or_none()
    if row is None:  # pruned between the two statements: claim it now
        return begin(scope, key, print_, now)
    if row.fingerprint != print_:
        raise KeyReused(row.case_number)
    return row


def replay(row) -> Response:
    """The stored answer of an earlier request, marked ``Idempotent-Replayed: true``."""
    if row.status_code is None:  # not reachable while answers are stored with their key; kept as a guard
        response = make_response(
            error_response(409, "idempotency_in_progress", "使用该幂等键的请求正在处理，请稍后重试")
        )
        response.headers["Retry-After"] = "1"
        return response
    response = Response(row.body or "", status=row.status_code, content_type=row.content_type or None)
    response.headers[REPLAYED] = "true"
    return response


def from_header(user, now: datetime) -> tuple[Claim | None, Response | None]:
    """For an API intake: (claim, None) to go ahead, (None, replayed answer), or (None, None) without the header."""
    key = request.headers.get(HEADER)
    if key is None:
        return None, None
    key = key.strip()
    if not _KEY.fullmatch(key):
        raise ApiError(
            400,
            "invalid_idempotency_key",
            "幂等键（Idempotency-Key）须为 1 到 200 个可见 ASCII 字符，建议使用 UUID",
            {HEADER: "格式不正确"},
        )
    result = begin(f"user:{user.id}", key, request_fingerprint(), now)
    return (result, None) if isinstance(result, Claim) else (None, replay(result))


def prune(now: datetime, batch: int = 5000) -> int:
    """Delete keys older than 24 h, ``batch`` rows per statement; returns the number deleted."""
    cutoff, deleted = now - TTL, 0
    while True:
        ids = sa.select(_TABLE.c.id).where(_TABLE.c.created_at < cutoff).limit(batch)
        count = db.session.execute(sa.delete(_TABLE).where(_TABLE.c.id.in_(ids))).rowcount
        deleted += count
        if count < batch:
            return deleted
