"""Coordinates: WGS-84 (GPS, Open311, what the app stores) ⇄ GCJ-02 (the offset system of Chinese map services:
Amap/高德, Tencent; 天地图 uses CGCS2000 ≈ WGS-84), and the lat/long members of a request body.

The GCJ-02 transform is the published one (Krasovsky ellipsoid); ``gcj02_to_wgs84`` inverts it by iteration to
under a millimetre. Outside mainland China both are the identity."""

from __future__ import annotations

import math

from hotline.cases.errors import InvalidInput

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # its eccentricity squared
SYSTEMS = ("wgs84", "gcj02")


def out_of_china(lat: float, lng: float) -> bool:
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if out_of_china(lat, lng):
        return lat, lng
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    if out_of_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):  # fixed-point iteration: converges to < 1e-9 degrees in a handful of steps
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-10 and abs(dlng) < 1e-10:
            break
    return wlat, wlng


def _number(body: dict, name: str, label: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        value = "x"
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInput(
            "invalid_input", f"提交的内容有误：{label}应为 {low:g} 到 {high:g} 之间的数字", {name: "数值不正确"}
        )
    return number


def point_from(body: dict) -> tuple[float, float] | None:
    """(lat, long) in WGS-84 from ``lat``, ``long`` (and optional ``coordinate_system``: wgs84 default, or gcj02),
    None when neither is given; InvalidInput when only one is, or out of range."""
    lat = _number(body, "lat", "纬度", -90, 90)
    lng = _number(body, "long", "经度", -180, 180)
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        raise InvalidInput("invalid_input", "提交的内容有误：纬度和经度必须同时提供", {"lat": "须与 long 同时提供"})
    system = str(body.get("coordinate_system") or "wgs84").lower()
    if system not in SYSTEMS:
        raise InvalidInput("invalid_input", "坐标系只能是 wgs84 或 gcj02", {"coordinate_system": "可选：wgs84、gcj02"})
    if system == "gcj02":
        lat, lng = gcj02_to_wgs84(lat, lng)
    return round(lat, 7), round(lng, 7)
