"""The CTI webhook against replays (issue 16): events dated outside HOTLINE_CTI_WINDOW_SECONDS are refused with a
clear Chinese 400 (a replayed old ``ringing`` pops nothing), dates out of datetime's range are a 400 and never a
500, and a replayed ``recording`` report says ``duplicate: true``."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import Call, ConsoleEvent


def post_cti(app, payload: dict):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    sig = "sha256=" + hmac.new(app.config["HOTLINE"].cti_secret.encode(), raw, hashlib.sha256).hexdigest()
    return app.test_client().post(
        "/api/v1/cti/events", data=raw, content_type="application/json", headers={"X-Hotline-Signature": sig}
    )


def event(kind: str, call_id: str, at: datetime | str, **extra) -> dict:
    when = at if isinstance(at, str) else at.isoformat()
    return {"event": kind, "call_id": call_id, "caller": "13912345678", "agent": "agent1", "at": when, **extra}


def new_call_id() -> str:
    return "fresh-" + uuid.uuid4().hex[:10]


def pops(app, call_id: str) -> int:
    """call.ringing events logged for ``call_id`` (every Socket.IO event is a console_events row first)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(ConsoleEvent.payload).where(ConsoleEvent.kind == "call.ringing")).all()
        return sum(1 for payload in rows if payload.get("call_id") == call_id)


def stored(app, call_id: str) -> Call | None:
    with app.app_context():
        call = db.session.scalar(sa.select(Call).where(Call.call_id == call_id))
        db.session.expunge_all()
        return call


@pytest.mark.parametrize("at", ["2020-03-01T09:30:00+08:00", "2099-01-01T00:00:00Z"])
def test_a_replayed_old_or_future_ringing_is_refused_and_pops_nothing(app, at):
    call_id = new_call_id()
    resp = post_cti(app, event("ringing", call_id, at))
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "stale_event" and "5 分钟" in error["message"] and "重放" in error["message"]
    assert "at" in error["fields"]
    assert stored(app, call_id) is None and pops(app, call_id) == 0


def test_the_same_ringing_inside_the_window_pops_once(app):
    call_id, now = new_call_id(), datetime.now(UTC)
    assert post_cti(app, event("ringing", call_id, now)).get_json()["duplicate"] is False
    assert pops(app, call_id) == 1
    again = post_cti(app, event("ringing", call_id, now))
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert pops(app, call_id) == 1


@pytest.mark.parametrize("skew", [timedelta(minutes=-4, seconds=-50), timedelta(minutes=4, seconds=50)])
def test_events_inside_the_window_are_taken(app, skew):
    resp = post_cti(app, event("ringing", new_call_id(), datetime.now(UTC) + skew))
    assert resp.status_code == 200, resp.get_json()


@pytest.mark.parametrize("skew", [timedelta(minutes=-5, seconds=-30), timedelta(minutes=5, seconds=30)])
def test_events_just_outside_the_default_window_are_refused(app, skew):
    resp = post_cti(app, event("answered", new_call_id(), datetime.now(UTC) + skew))
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "stale_event"


def test_the_window_is_a_setting(app, monkeypatch):
    forty_minutes_ago = datetime.now(UTC) - timedelta(minutes=40)
    assert post_cti(app, event("ended", new_call_id(), forty_minutes_ago)).status_code == 400
    monkeypatch.setattr(app.config["HOTLINE"], "cti_window_seconds", 3600)
    assert post_cti(app, event("ended", new_call_id(), forty_minutes_ago)).status_code == 200
    monkeypatch.setattr(app.config["HOTLINE"], "cti_window_seconds", 90)
    resp = post_cti(app, event("ended", new_call_id(), datetime.now(UTC) - timedelta(minutes=2)))
    assert resp.status_code == 400 and "90 秒" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+14:00",  # leaves datetime's range when converted to UTC
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59.999999+00:00",
        "2026-13-45T25:61:00",
        "1e308",
        "",
        "２０２６-12-07T08:00:00",
    ],
)
def test_out_of_range_and_garbage_dates_are_a_400(app, at):
    resp = post_cti(app, event("ringing", new_call_id(), at))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    error = resp.get_json()["error"]
    assert "at" in error["fields"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])


def test_a_replayed_recording_report_is_a_duplicate(app):
    call_id, now = new_call_id(), datetime.now(UTC)
    for kind, offset in (("ringing", 0), ("answered", 3), ("ended", 60)):
        assert post_cti(app, event(kind, call_id, now + timedelta(seconds=offset))).status_code == 200
    report = event("recording", call_id, now + timedelta(seconds=61), recording_url="https://pbx.example/rec/1.wav")
    first = post_cti(app, report).get_json()
    assert first["duplicate"] is False
    again = post_cti(app, report)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    bare = post_cti(app, event("recording", call_id, now + timedelta(seconds=62)))  # no address: nothing new
    assert bare.get_json()["duplicate"] is True
    moved = {**report, "recording_url": "https://pbx.example/rec/1-final.wav"}
    assert post_cti(app, moved).get_json()["duplicate"] is False
    call = stored(app, call_id)
    assert call.recording_url.endswith("1-final.wav") and call.seen_events.count("recording") == 1
