"""Demo KB, part 1: service items (政务服务事项, 一次性告知) of the fictional 示范市, read from data/kb_items.json.

GROUPS: (department code, category path, place, phone, [(title, tags, conditions, materials, fees, time limit,
body)]). Item codes are "<department>-<nnn>" in list order; the hours and online channel are the city's
defaults unless a unit says otherwise in UNIT_HOURS.
"""

from __future__ import annotations

import json
from pathlib import Path

_FIELDS = ("title", "tags", "conditions", "materials", "fees", "time_limit", "body")

_DATA = json.loads((Path(__file__).parent / "data" / "kb_items.json").read_text(encoding="utf-8"))

HOURS: str = _DATA["hours"]
UNIT_HOURS: dict[str, str] = _DATA["unit_hours"]
ONLINE: str = _DATA["online"]
GROUPS: list[tuple] = [
    (g["department"], g["category"], g["place"], g["phone"], [tuple(item[f] for f in _FIELDS) for item in g["items"]])
    for g in _DATA["groups"]
]
