"""The admin page /admin/webhooks (zh-CN): list, add with Chinese form errors, delivery log, redeliver."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.extensions import db
from hotline.models import OutboxMessage, WebhookSubscription
from tests.integration.connected_support import admin_user


def test_admin_page_adds_lists_and_redelivers(app, make_user, tokens, make_case):
    name = admin_user(app, make_user)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {tokens[name]}"}
    settings = app.config["HOTLINE"]
    saved, settings.webhook_allow_private = settings.webhook_allow_private, True
    try:
        page = client.get("/admin/webhooks", headers=auth)
        assert page.status_code == 200 and "推送订阅" in page.get_data(as_text=True)

        bad = client.post(
            "/admin/webhooks",
            headers=auth,
            data={"url": "ftp://nope", "events": ["case.created"], "secret": "12345678"},
        )
        assert bad.status_code == 400 and "http://" in bad.get_data(as_text=True)

        url = "http://127.0.0.1:9/page-hook"
        added = client.post(
            "/admin/webhooks",
            headers=auth,
            data={"name": "页面测试", "url": url, "events": ["case.created"], "secret": "page-secret-1"},
        )
        assert added.status_code == 302
        with app.app_context():
            sub = db.session.scalar(sa.select(WebhookSubscription).where(WebhookSubscription.url == url))
            assert sub.events == ["case.created"] and sub.active
        case = make_case("registered")
        with app.app_context():
            row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == f"webhook:{sub.id}"))
            assert row is not None and row.case_id is not None
        log = client.get(f"/admin/webhooks?id={sub.id}", headers=auth).get_data(as_text=True)
        assert case.number in log and "重新推送" in log
        again = client.post(f"/admin/webhooks/{sub.id}", headers=auth, data={"op": "redeliver", "outbox_id": row.id})
        assert again.status_code == 302
        paused = client.post(f"/admin/webhooks/{sub.id}", headers=auth, data={"op": "pause"})
        assert paused.status_code == 302
        with app.app_context():
            count = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.recipient == f"webhook:{sub.id}"))
            assert count == 2 and not db.session.get(WebhookSubscription, sub.id).active
        assert client.get("/admin/webhooks", headers={"Authorization": f"Bearer {tokens['agent1']}"}).status_code == 403
    finally:
        settings.webhook_allow_private = saved
