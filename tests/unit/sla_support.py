"""Helpers for the hotline.sla.clock table tests: Shanghai datetimes and limits in one short call."""

from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.sla.clock import Limit

SH = ZoneInfo("Asia/Shanghai")


def sh(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def wd(n):
    return Limit(n, "work_days")


def wh(n):
    return Limit(n, "work_hours")


def ch(n):
    return Limit(n, "clock_hours")


def nd(n):
    return Limit(n, "natural_days")
