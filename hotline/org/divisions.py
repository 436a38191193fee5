"""Standard administrative divisions (行政区划: province → city → district/county) as a starting point for a city's
unit file: ``flask places suggest-divisions 江苏省 南京市`` prints an org-import CSV of the city and its districts.

The table is the one the ``cpca`` package ships (``cpca/resources/adcodes.csv``: 12-digit division code, name). It is
read as a file found through the package's import spec, without importing ``cpca`` itself (its ``__init__`` loads
pandas and builds a matcher we do not need). The table dates from cpca's last release (0.5.5, 2020 codes): recent
changes (a county made a district, merged districts) are not in it, so the output is a draft to check, never
imported unread. Streets and communities are not in any such package: they come from the city's own file."""

from __future__ import annotations

import csv
import importlib.util
import io
from functools import lru_cache
from pathlib import Path

from hotline.org.units import COLUMNS


class DivisionError(ValueError):
    pass


@lru_cache(maxsize=1)
def table() -> dict[str, str]:
    """Division code (12 digits) → name; empty when cpca is not installed."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {row["adcode"]: row["name"].strip() for row in csv.DictReader(fh)}


_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _matches(name: str, wanted: str) -> bool:
    """江苏省 ~ 江苏, 南京市 ~ 南京, 广西壮族自治区 ~ 广西."""
    wanted = wanted.strip()
    return name == wanted or (len(wanted) >= 2 and _short(name) == _short(wanted))


def districts(province: str, city: str) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """((city code, city name), [(district code, name), …]) with 6-digit division codes; a municipality
    (北京市 北京市) lists the districts under its 市辖区."""
    codes = table()
    if not codes:
        raise DivisionError("未安装行政区划数据（cpca），请先执行 pip install -r requirements.txt")
    provinces = [c for c, n in codes.items() if c.endswith("0" * 10) and _matches(n, province)]
    if not provinces:
        raise DivisionError(f"找不到省份「{province}」：请写全称，如 江苏省、广西壮族自治区、北京市")
    prov = provinces[0][:2]
    cities = [c for c, n in codes.items() if c[:2] == prov and c.endswith("0" * 8) and c[2:4] != "00"]
    chosen = [c for c in cities if _matches(codes[c], city)]
    if not chosen and _matches(codes[provinces[0]], city):  # a municipality: the province is the city
        chosen = cities
        city_code, city_name = prov + "0000", codes[provinces[0]]
    elif chosen:
        city_code, city_name = chosen[0][:6], codes[chosen[0]]
    else:
        names = "、".join(codes[c] for c in sorted(cities) if codes[c] not in ("市辖区", "县"))
        raise DivisionError(f"{codes[provinces[0]]}没有「{city}」：可选 {names}")
    prefixes = {c[:4] for c in chosen}
    found = [
        (c[:6], n)
        for c, n in sorted(codes.items())
        if c[:4] in prefixes and c.endswith("0" * 6) and c[4:6] != "00" and n != "市辖区"
    ]
    return (city_code, city_name), found


def suggest_csv(province: str, city: str, city_code: str | None = None) -> str:
    """An org-import CSV (``code,name,kind,parent_code,aliases,active``): the city, then each district/county with
    its short form as an alias (鼓楼区 → 鼓楼)."""
    (code, name), found = districts(province, city)
    code = city_code or code
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow([code, name, "city", "", "", 1])
    for district_code, district in found:
        short = district[:-1] if len(district) >= 3 and district[-1] in "区县市旗" else ""
        writer.writerow([district_code, district, "district", code, short, 1])
    return out.getvalue()
