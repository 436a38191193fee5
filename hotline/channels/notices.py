"""Notices to the citizen about their case, sent by the channel the case came from (outbox, after commit)."""

from __future__ import annotations

from flask import current_app

from hotline.models import Case


def case_replied(case: Case, reply_text: str, department_name: str) -> None:
    """The unit replied: tell a WeChat citizen (web/phone citizens get the rating invitation by SMS)."""
    if case.channel != "wechat":  # cheap test first: no identity load on the hot reply path
        return
    from hotline.channels import wechat  # wechatpy is loaded only when a WeChat citizen is notified

    summary = reply_text if len(reply_text) <= 80 else reply_text[:80] + "…"
    text = (
        f"您的诉求（工单 {case.number}）已由{department_name}答复：{summary} 回复「查询 {case.number}」可查看办理详情。"
    )
    base = current_app.config["HOTLINE"].portal_base_url.rstrip("/")
    url = f"{base}/portal/status?number={case.number}" if base else None
    wechat.queue_notice(case, text, title="您的诉求已有答复", url=url)
