"""Call recordings: streamed from the call platform through the app after the case's authorization, never linked
directly (the platform's address stays inside); every play is written to the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

import requests
from flask import Response, current_app, request

from hotline.cases.errors import DomainError, NotFound
from hotline.evidence.panels import recording_of
from hotline.extensions import db
from hotline.models import AuditLog, Case, User

PASS_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges")


class RecordingUnavailable(DomainError):
    status, code, message = 503, "recording_unavailable", "录音平台暂不可用，请稍后重试"


def _first_play() -> bool:
    """A play starts with a request for the beginning; the browser's later range requests are the same play."""
    raw = request.headers.get("Range", "")
    return not raw or raw.replace(" ", "").startswith("bytes=0-")


def stream(case: Case, user: User) -> Response:
    call = recording_of(case)
    if call is None or urlparse(call.recording_url).scheme not in ("http", "https"):
        raise NotFound("recording_not_found", f"工单 {case.number} 没有通话录音")
    headers = {"Range": request.headers["Range"]} if "Range" in request.headers else {}
    try:
        upstream = requests.get(
            call.recording_url, headers=headers, stream=True, timeout=current_app.config["HOTLINE"].media_fetch_timeout
        )
    except requests.RequestException as exc:
        raise RecordingUnavailable() from exc
    if upstream.status_code not in (200, 206) or not upstream.headers.get("Content-Type", "").startswith("audio/"):
        upstream.close()
        raise RecordingUnavailable("recording_unavailable", f"录音平台未返回录音（HTTP {upstream.status_code}）")
    if _first_play():
        db.session.add(
            AuditLog(
                user_id=user.id,
                action="recording.play",
                citizen_id=case.citizen_id,
                case_id=case.id,
                detail=f"播放通话录音 {call.call_id}"[:300],
                ip=(request.remote_addr or "")[:64],
                created_at=datetime.now(UTC),
            )
        )
        db.session.commit()

    def body():
        try:
            yield from upstream.iter_content(64 * 1024)
        finally:
            upstream.close()

    out = {k: upstream.headers[k] for k in PASS_HEADERS if k in upstream.headers}
    out.update({"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
    return Response(body(), status=upstream.status_code, headers=out, direct_passthrough=True)
