"""What the public sees (/portal, no login): the 曝光台 of cases a supervisor chose to publish and whose citizen
agreed at intake, redacted (hotline/open311/redaction.py); public figures (monthly volumes, 三率 by unit); and the
published knowledge base (service guides, FAQ, 一次性告知) searched with the existing KB search."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, current_app, render_template, request

from hotline.auth.permissions import authenticate_page, public
from hotline.citizens.profile import citizen_name
from hotline.exports.filters import instants
from hotline.extensions import db, limiter
from hotline.kb import service as kb_service
from hotline.models import Case, CaseConsent, CasePublication, KbEntry, Rating, Rectification
from hotline.models.cases import RESULTS
from hotline.models.knowledge import SERVICE_FIELDS
from hotline.open311.redaction import redact, street_level
from hotline.ratings.rectification import OUTCOMES, STAGES
from hotline.reports.content import month_bounds
from hotline.stats import figures as stats_figures
from hotline.stats import summaries
from hotline.stats.periods import Period

public_bp = Blueprint("portal_public", __name__)
public_bp.before_request(authenticate_page)
PER_PAGE = 10
MAX_QUERY = 50


def _tz() -> str:
    return current_app.config["HOTLINE"].timezone


def exposure_condition():
    """Published by a supervisor, agreed to by the citizen at intake, not confidential."""
    return sa.and_(
        Case.confidential.is_(False),
        sa.exists().where(CasePublication.case_id == Case.id, CasePublication.public.is_(True)),
        sa.exists().where(CaseConsent.case_id == Case.id, CaseConsent.public.is_(True)),
    )


def _exposed(case: Case, ratings: dict, rects: dict) -> dict:
    names = [citizen_name(case.citizen) or ""]
    lead = next((a for a in case.assignments if a.role == "lead" and a.replied_at), None)
    rect = rects.get(case.id)
    rating = ratings.get(case.id)
    return {
        "number": case.number,
        "category": case.category.path.split("/")[0] if case.category else "其他",
        "date": case.created_at.astimezone(ZoneInfo(_tz())).date(),
        "title": redact(case.title, names) or "",
        "content": redact(case.content, names) or "",
        "address": street_level(case.address),
        "unit": case.lead_department.name if case.lead_department else "—",
        "result": RESULTS.get(lead.reply_result, "") if lead else "",
        "reply": redact(lead.reply_content, names) if lead else None,
        "rectification": {
            "outcome": OUTCOMES.get(rect.outcome, "核实中") if rect.outcome else "核实中",
            "stage": STAGES.get(rect.stage, rect.stage),
            "note": redact(rect.rectify_note or rect.explanation, names) or "",
        }
        if rect
        else None,
        "rating": rating,
    }


@public_bp.get("/exposure")
@limiter.limit(lambda: current_app.config["HOTLINE"].open311_rate_limit)
@public
def exposure():
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1
    total = db.session.scalar(sa.select(sa.func.count(Case.id)).where(exposure_condition()))
    cases = db.session.scalars(
        sa.select(Case)
        .where(exposure_condition())
        .options(so.selectinload(Case.category), so.selectinload(Case.lead_department), so.selectinload(Case.citizen))
        .order_by(Case.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    ids = [c.id for c in cases]
    ratings, rects = {}, {}
    if ids:
        latest = sa.select(Rating.case_id, Rating.score).where(Rating.case_id.in_(ids), Rating.excluded.is_(False))
        ratings = dict(db.session.execute(latest.order_by(Rating.id)).all())  # the latest one (after a revisit)
        for rect in db.session.scalars(
            sa.select(Rectification).where(Rectification.case_id.in_(ids)).order_by(Rectification.id)
        ):
            rects[rect.case_id] = rect
    items = [_exposed(c, ratings, rects) for c in cases]
    pages = max(1, -(-total // PER_PAGE))
    return render_template("portal/exposure.html", items=items, page=page, pages=pages, total=total)


def monthly_volumes(months: int, today: date) -> list[tuple[str, int]]:
    out = []
    first = today.replace(day=1)
    for _ in range(months):
        start, end = instants(first, month_bounds(first.strftime("%Y-%m"))[1], _tz())
        n = db.session.scalar(sa.select(sa.func.count(Case.id)).where(Case.created_at >= start, Case.created_at < end))
        out.append((first.strftime("%Y-%m"), n or 0))
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(out))


@public_bp.get("/figures")
@limiter.limit(lambda: current_app.config["HOTLINE"].open311_rate_limit)
@public
def figures():
    today = datetime.now(UTC).astimezone(ZoneInfo(_tz())).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    first, last = month_bounds(last_month)
    clock = stats_figures.Clock(ZoneInfo(_tz()), datetime.now(UTC))
    answer = summaries.ranking(Period(first, last), clock, None, current_app.config["HOTLINE"])
    rows = [u for u in answer["departments"] if u["counts"]["dispatched"]]
    return render_template("portal/figures.html", volumes=monthly_volumes(12, today), units=rows, period=last_month)


def kb_results(query: str, limit: int = 10) -> list[dict]:
    """Published KB entries matching ``query`` (the existing search), with their 一次性告知 fields."""
    hits = kb_service.search(query[:MAX_QUERY], limit=limit)
    if not hits:
        return []
    rows = {
        e.id: e
        for e in db.session.scalars(
            sa.select(KbEntry).where(KbEntry.id.in_([h["id"] for h in hits]), KbEntry.status == "published")
        )
    }
    out = []
    for h in hits:
        entry = rows.get(h["id"])
        if entry is None:
            continue
        fields = [
            (label, (entry.fields or {}).get(key))
            for key, label in SERVICE_FIELDS.items()
            if (entry.fields or {}).get(key)
        ]
        out.append(
            {
                "id": entry.id,
                "title": entry.title,
                "kind": entry.kind,
                "snippet": h["snippet"],
                "body": entry.body or "",
                "fields": fields,
            }
        )
    return out


@public_bp.get("/guide")
@limiter.limit(lambda: current_app.config["HOTLINE"].open311_rate_limit)
@public
def guide():
    query = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    results = kb_results(query) if query else []
    return render_template("portal/guide.html", query=query, results=results)


@public_bp.get("/guide/<int:entry_id>")
@public
def guide_entry(entry_id: int):
    entry = db.session.get(KbEntry, entry_id)
    if entry is None or entry.status != "published":
        abort(404)
    fields = [
        (label, (entry.fields or {}).get(key)) for key, label in SERVICE_FIELDS.items() if (entry.fields or {}).get(key)
    ]
    return render_template("portal/guide_entry.html", entry=entry, fields=fields)


def wechat_answer(query: str) -> str:
    """The reply to 「指南 …」 in WeChat: the best published entries, short."""
    results = kb_results(query, limit=3)
    if not results:
        return f"没有找到与「{query[:20]}」相关的办事指南。您可以直接发送文字描述诉求，或拨打 12345 咨询。"
    lines = [f"{i}. {r['title']}\n{(r['snippet'] or r['body'])[:80]}" for i, r in enumerate(results, 1)]
    return "为您找到以下办事指南：\n" + "\n".join(lines) + "\n详情请访问 12345 市民服务网站「办事指南」。"
