"""Admin API for the routing lexicon (/routing/lexicon): everyday words per category by which the fine-grained
router reaches the level-3/level-2 category and its unit. Reading is open to dispatchers and monitors; changing
is for admins."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from flask_login import current_user

from hotline.api.blueprint import api_bp
from hotline.auth.permissions import requires
from hotline.dispatch import lexicon
from hotline.errors import ApiError
from hotline.extensions import db
from hotline.models import Category, RoutingLexicon
from hotline.web.validation import Bool, Str, json_body, parse


def lexicon_dict(row: RoutingLexicon) -> dict:
    unit = row.category.department
    return {
        "category": row.category.path,
        "category_id": row.category_id,
        "words": row.word_list,
        "enabled": row.enabled,
        "department_code": unit.code if unit else None,
        "local": row.category.local,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


@api_bp.get("/routing/lexicon")
@requires("routing.view")
def list_lexicon():
    return jsonify({"items": [lexicon_dict(r) for r in lexicon.rows()]})


@api_bp.put("/routing/lexicon")
@requires("routing.admin")
def save_lexicon():
    data = parse(
        {
            "category": Str("分类路径", required=True, max_len=255, min_len=2),
            "words": Str("词语", required=True, max_len=8000),
            "enabled": Bool("是否启用"),
        },
        json_body(),
    )
    category = db.session.scalar(sa.select(Category).where(Category.path == data["category"]))
    if category is None:
        raise ApiError(400, "invalid_category", f"分类不存在：{data['category']}", {"category": "分类不存在"})
    try:
        row = lexicon.save(category, data["words"], data["enabled"], current_user.id)
    except lexicon.LexiconInvalid as err:
        db.session.rollback()
        raise ApiError(400, "invalid_words", err.message, {"words": err.message}) from None
    out = lexicon_dict(row)
    db.session.commit()
    return jsonify(out)
