"""Location messages: kept for the citizen's next request, which they then locate.

WeChat sends a location (``Location_X``/``Location_Y``, ``Label``) as a message of its own, usually before or
after the text. The last location of an openid is kept for ``WINDOW``; the next request that openid registers in
that time gets it: the case's address is the label (routing reads it like any address), the coordinates stay
in ``wechat_locations`` with the case's id and, where the cases table has coordinate columns (``cases.lat``/``lng``,
added for Open311), on the case too (``location_source`` "wechat"). A location nobody used is deleted once the
window has passed (``prune``), so no whereabouts are kept without a request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from hotline.evidence.geo import gcj02_to_wgs84
from hotline.extensions import db
from hotline.models import Case, WechatLocation
from hotline.wechat.messages import Location

WINDOW = timedelta(minutes=30)

RECEIVED = (
    "已收到您发送的位置{where}。\n请再用文字描述您要反映的问题（什么事、什么时间），我们会把位置一并登记；"
    "30 分钟内发送的文字诉求都会附上这个位置。"
)
UNREADABLE = "没有识别出您发送的位置，请用文字描述地点（区、街道、门牌号或附近地标）。"


def store(openid_hash: str, location: Location | None, now: datetime) -> tuple[str, str]:
    """Keep the location for the citizen's next request; returns (action, reply)."""
    if location is None:
        return "refused", UNREADABLE
    db.session.add(
        WechatLocation(
            openid_hash=openid_hash,
            lat=location.lat,
            lng=location.lng,
            scale=location.scale,
            label=location.label,
            received_at=now,
        )
    )
    return "location", RECEIVED.format(where=f"：{location.label}" if location.label else "")


def pending(openid_hash: str, now: datetime) -> WechatLocation | None:
    """The openid's latest location not yet used by a request, if it came within the window."""
    return db.session.scalar(
        sa.select(WechatLocation)
        .where(
            WechatLocation.openid_hash == openid_hash,
            WechatLocation.case_id.is_(None),
            WechatLocation.received_at >= now - WINDOW,
        )
        .order_by(WechatLocation.received_at.desc(), WechatLocation.id.desc())
        .limit(1)
    )


def address_of(location: WechatLocation) -> str:
    """The case's address: the map's label, or the coordinates when WeChat sent none."""
    return location.label or f"微信位置：纬度 {location.lat:.6f}，经度 {location.lng:.6f}"


def attach(location: WechatLocation, case: Case) -> None:
    location.case_id = case.id
    if "lat" in Case.__table__.c:  # cases.lat/lng (Open311's coordinates): the case carries them too
        lat, lng = gcj02_to_wgs84(location.lat, location.lng)  # WeChat sends GCJ-02; cases keep WGS-84
        values = {"lat": round(lat, 7), "lng": round(lng, 7), "location_source": "wechat"}
        db.session.execute(sa.update(Case).where(Case.id == case.id).values(**values))  # ``version`` stays put


def prune(now: datetime) -> int:
    """Delete the locations no request used within the window."""
    unused = (
        sa.select(WechatLocation.id)
        .where(WechatLocation.case_id.is_(None), WechatLocation.received_at < now - WINDOW)
        .limit(1000)
        .with_for_update(skip_locked=True)
    )
    return db.session.execute(sa.delete(WechatLocation).where(WechatLocation.id.in_(unused))).rowcount or 0
