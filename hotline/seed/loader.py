"""Load the demo city into the database. Idempotent: existing rows are kept, missing ones added."""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa

from hotline.auth.passwords import hash_password
from hotline.db.refcache import bump_version
from hotline.dispatch import lexicon, places
from hotline.extensions import db
from hotline.models import Category, Department, Place, SlaPolicy, User
from hotline.seed import city
from hotline.seed.kb import seed_kb
from hotline.sla.deadlines import default_rules

TAXONOMY = Path(__file__).with_name("taxonomy.csv")


def seed_departments() -> dict[str, Department]:
    existing = {d.code: d for d in db.session.scalars(sa.select(Department))}
    units = [{"code": city.CITY["code"], "name": city.CITY["name"], "kind": "city", "parent": None}, *city.DEPARTMENTS]
    for unit in units:  # parents come before children in the seed list
        if unit["code"] in existing:
            continue
        parent = existing.get(unit["parent"]) if unit["parent"] else None
        path = (parent.path if parent else "/") + unit["code"] + "/"
        dept = Department(code=unit["code"], name=unit["name"], kind=unit["kind"], parent=parent, path=path)
        db.session.add(dept)
        existing[unit["code"]] = dept
    db.session.flush()
    return existing


def _owner(path: str) -> dict | None:
    parts = path.split("/")
    if len(parts) == 3 and path in city.CATEGORY3_DEPARTMENTS:
        return city.CATEGORY3_DEPARTMENTS[path]
    if len(parts) >= 2:
        key = "/".join(parts[:2])
        if key in city.CATEGORY_DEPARTMENTS:
            return city.CATEGORY_DEPARTMENTS[key]
    code = city.LEVEL1_DEPARTMENTS.get(parts[0])
    return {"department": code, "local": False} if code else None


def seed_categories(departments: dict[str, Department]) -> int:
    existing = {c.path: c for c in db.session.scalars(sa.select(Category))}
    added = 0
    with TAXONOMY.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            names = [row["level1"].strip(), row["level2"].strip(), row["level3"].strip()]
            parent = None
            for level in range(1, 4):
                path = "/".join(names[:level])
                cat = existing.get(path)
                if cat is None:
                    owner = _owner(path)
                    cat = Category(
                        level=level,
                        name=names[level - 1],
                        path=path,
                        parent=parent,
                        department=departments.get(owner["department"]) if owner else None,
                        local=bool(owner and owner.get("local")),
                    )
                    db.session.add(cat)
                    existing[path] = cat
                    added += 1
                parent = cat
    db.session.flush()
    return added


def seed_users(departments: dict[str, Department], password: str = city.DEMO_PASSWORD) -> int:
    existing = set(db.session.scalars(sa.select(User.username)))
    added = 0
    hashed = hash_password(password)
    for spec in city.USERS:
        if spec["username"] in existing:
            continue
        db.session.add(
            User(
                username=spec["username"],
                name=spec["name"],
                role=spec["role"],
                department=departments.get(spec["department"]) if spec["department"] else None,
                password_hash=hashed,
                demo_password=True,  # production mode refuses to start until it is changed (hotline/users/setup.py)
            )
        )
        added += 1
    db.session.flush()
    return added


def seed_sla_policy() -> bool:
    if db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)):
        return False
    db.session.add(SlaPolicy(version=1, rules=default_rules(), active=True, note="DOMAIN.md 默认时限"))
    db.session.flush()
    return True


def seed_places() -> int:
    """The demo city's gazetteer (data/places.csv) into the places table; places already there are kept."""
    return places.load(city.PLACES, add_only=True).added


def seed_demo() -> dict:
    departments = seed_departments()
    report = {
        "departments": len(departments),
        "places_added": seed_places(),
        "categories_added": seed_categories(departments),
        "users_added": seed_users(departments),
        "sla_policy_added": seed_sla_policy(),
    }
    report["kb_entries_added"] = seed_kb()
    report["lexicon_added"] = lexicon.load_shipped()
    bump_version()  # every process reloads its cached units, categories and routing tables
    db.session.commit()
    return report


def is_empty() -> bool:
    return not db.session.scalar(sa.select(sa.func.count()).select_from(Department))


def demo_city_without_places() -> bool:
    """A demo database from before the places table: the demo city's units are there, its gazetteer is not."""
    demo = sa.select(Department.id).where(Department.code == city.CITY["code"], Department.name == city.CITY["name"])
    return db.session.scalar(demo) is not None and not db.session.scalar(sa.select(sa.func.count()).select_from(Place))
