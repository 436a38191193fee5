"""One observer process of the ``admin_cache`` bench: a real app on the shared instance, reading the four things
an admin changes through the same per-process caches requests use, every ~5 ms, each read in its own transaction
(as a request would). Prints ``{"t": wall time, "v": {...}}`` whenever what it sees changes.

    python -m tests.bench.admin_cache_child CATEGORY_PATH UNIT_CODE DAY SECONDS
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date


def main() -> None:
    path, unit_code, day, seconds = sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), float(sys.argv[4])
    from hotline import create_app
    from hotline.db import refcache
    from hotline.extensions import db
    from hotline.sla import deadlines

    app = create_app()
    with app.app_context():
        last = None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            category = refcache.category(path)
            unit = refcache.active_unit(unit_code)
            sign = deadlines.policy().get(("sign", "normal"))
            seen = {
                "category": [category.department_id, category.local] if category else None,
                "unit": unit.name if unit else None,
                "holiday": deadlines.calendar().is_workday(day),
                "sla": sign.amount if sign else None,
            }
            db.session.rollback()  # a request's boundary: the next read sees what was committed since
            if seen != last:
                print(json.dumps({"t": time.time(), "v": seen}, ensure_ascii=False), flush=True)
                last = seen
            time.sleep(0.005)


if __name__ == "__main__":
    main()
