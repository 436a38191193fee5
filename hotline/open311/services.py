"""GET discovery, the service list and a service definition. Services are the level-2 categories of the
taxonomy: ``service_code`` is the category id exactly as listed ("051" is not service 51), ``group`` the level-1
name, ``keywords`` the level-3 names. No service asks for attributes, so every one says ``metadata: false`` and
its definition has no attributes — the same answer both ways (POST needs only the spec's own fields)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from hotline.auth.permissions import public
from hotline.extensions import db
from hotline.models import Category
from hotline.open311 import queries as q
from hotline.open311.blueprint import FMT, open311_bp
from hotline.open311.formats import render

CHANGESET = "2026-12-07T00:00:00Z"


@open311_bp.get(f"/discovery.{FMT}")
@public
def discovery(fmt: str):
    url = url_for("open311.services", fmt="json", _external=True).rsplit("/", 1)[0]
    return render(
        fmt,
        "discovery",
        {
            "changeset": CHANGESET,
            "contact": "12345 政务服务便民热线（拨打 12345）",
            "key_service": "API 密钥即热线系统的 API 令牌：由管理员用 flask token create USERNAME 签发",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": url,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        },
    )


def _keywords() -> dict[int, str]:
    rows = db.session.execute(sa.select(Category.parent_id, Category.name).where(Category.level == 3)).all()
    out: dict[int, list[str]] = {}
    for parent_id, name in rows:
        out.setdefault(parent_id, []).append(name)
    return {k: ",".join(sorted(v)) for k, v in out.items()}


@open311_bp.get(f"/services.{FMT}")
@public
def services(fmt: str):
    parent = sa.orm.aliased(Category)
    rows = db.session.execute(
        sa.select(Category, parent.name)
        .join(parent, parent.id == Category.parent_id)
        .where(Category.level == 2)
        .order_by(Category.path)
    ).all()
    keywords = _keywords()
    return render(
        fmt,
        "services",
        [
            {
                "service_code": str(c.id),
                "service_name": c.name,
                "description": f"{group}：{c.name}",
                "metadata": bool(definition_attributes(c)),
                "type": "realtime",
                "keywords": keywords.get(c.id, ""),
                "group": group,
            }
            for c, group in rows
        ],
    )


def definition_attributes(service: Category) -> list[dict]:
    """The extra fields a service asks for: none (the taxonomy has no per-service questions)."""
    return []


@open311_bp.get(f"/services/<code>.{FMT}")
@public
def service_definition(code: str, fmt: str):
    service = q.service(code)
    return render(
        fmt, "service_definition", {"service_code": str(service.id), "attributes": definition_attributes(service)}
    )
