"""REST /api/v1/webhooks — outbound webhook subscriptions and their delivery log (admins: ``webhook.admin``).

A blueprint of its own, registered under /api/v1 beside the API's (same authentication and JSON errors)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from flask_login import current_user

from hotline.auth.permissions import authenticate_api, requires
from hotline.extensions import db
from hotline.feed import changes  # noqa: F401 — the change log's listeners queue the deliveries
from hotline.web.validation import json_body, query_int
from hotline.webhooks import subscriptions as subs

webhooks_api_bp = Blueprint("webhooks_api", __name__)
webhooks_api_bp.before_request(authenticate_api)


def _private() -> bool:
    return bool(current_app.config["HOTLINE"].webhook_allow_private)


@webhooks_api_bp.post("/webhooks")
@requires("webhook.admin")
def webhook_create():
    sub = subs.create(json_body(), current_user, datetime.now(UTC), _private())
    db.session.commit()
    return jsonify({"id": sub.id, **subs.view(sub)}), 201


@webhooks_api_bp.get("/webhooks")
@requires("webhook.admin")
def webhook_list():
    rows = subs.all_subscriptions()
    return jsonify({"webhooks": [subs.view(s) for s in rows]})


@webhooks_api_bp.get("/webhooks/<int:sub_id>")
@requires("webhook.admin")
def webhook_get(sub_id: int):
    return jsonify(subs.view(subs.get(sub_id)))


@webhooks_api_bp.patch("/webhooks/<int:sub_id>")
@requires("webhook.admin")
def webhook_update(sub_id: int):
    sub = subs.get(sub_id)
    subs.update(sub, json_body(), current_user, datetime.now(UTC), _private())
    db.session.commit()
    return jsonify(subs.view(sub))


@webhooks_api_bp.delete("/webhooks/<int:sub_id>")
@requires("webhook.admin")
def webhook_delete(sub_id: int):
    subs.delete(subs.get(sub_id), current_user)
    db.session.commit()
    return "", 204


@webhooks_api_bp.get("/webhooks/<int:sub_id>/deliveries")
@requires("webhook.admin")
def webhook_deliveries(sub_id: int):
    limit = query_int("limit", 100, 1, 1000)
    return jsonify({"deliveries": subs.deliveries(subs.get(sub_id), limit)})


@webhooks_api_bp.post("/webhooks/<int:sub_id>/deliveries/<int:outbox_id>/redeliver")
@requires("webhook.admin")
def webhook_redeliver(sub_id: int, outbox_id: int):
    again = subs.redeliver(subs.get(sub_id), outbox_id, current_user, datetime.now(UTC))
    db.session.commit()
    return jsonify({"id": again.id, "status": again.status}), 202
