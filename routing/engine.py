"""Routing engine: case text + address → top-3 {category, department_code, score}, auto-dispatch,
emergency number, out-of-scope guidance, place, the rule that decided.

Pure: the app passes in everything (model or None, mapping, gazetteer, rules, threshold).

Order of decisions:
1. emergency (``emergency.detect``) and out-of-scope (``emergency.out_of_scope``) are flagged; such a
   case is never auto-dispatched;
2. place: the gazetteer on the address, else on the text;
3. categories: the model's top-3 calibrated probabilities, or hand-made keywords without a model;
   a category the model never learned (the labelled history covers 7 of the 15 level-1 categories)
   whose keywords alone match is added last and stops auto-dispatch;
4. an override rule (highest priority) wins over the model: its unit (and its category, if it names
   one) goes first;
5. departments: a local (属地) category with a known place goes to the street if known, else the
   district; any other category to its mapped city department;
6. auto = a model is loaded, nothing flagged, and the top score ≥ threshold (or a rule decided).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from routing.emergency import detect, out_of_scope
from routing.fine import FineRouter
from routing.gazetteer import Gazetteer, Place
from routing.keywords import keyword_scores
from routing.rules import Rule, apply

NO_MODEL_NOTE = "未加载分类模型，仅按规则和关键词派单"
DEFAULT_THRESHOLD = 0.8
UNSEEN_MIN = 0.6  # keyword share of a category unknown to the model (0.6 = its keywords alone matched)


@dataclass
class Suggestion:
    suggestions: list[dict]  # [{category, department_code, score}], best first, at most k
    auto: bool
    emergency: str | None = None  # "119" | "110" | "120" | "122"
    out_of_scope: dict | None = None  # {reason, answer}
    place: Place | None = None
    rule_id: int | str | None = None
    model_used: bool = False
    note: str = ""
    emergency_phrase: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready: the docs/api.md shape plus the extras."""
        return {
            "suggestions": self.suggestions,
            "auto": self.auto,
            "emergency": self.emergency,
            "out_of_scope": self.out_of_scope,
            "place": asdict(self.place) if self.place else None,
            "rule_id": self.rule_id,
            "model_used": self.model_used,
            "note": self.note,
        }


def mapping_from_seed(
    level1_departments: dict[str, str], category_departments: dict[str, dict], min_local_share: float = 0.5
) -> dict[str, tuple[str, bool]]:
    """Level-1 mapping from the seed tables: unit = LEVEL1_DEPARTMENTS, local when at least
    ``min_local_share`` of its level-2 categories are 属地 (``{"department", "local"}`` values)."""
    out: dict[str, tuple[str, bool]] = {}
    for level1, unit in level1_departments.items():
        flags = [bool(v.get("local")) for k, v in category_departments.items() if k.split("/")[0] == level1]
        out[level1] = (unit, bool(flags) and sum(flags) / len(flags) >= min_local_share)
    return out


def resolve_department(category: str, mapping: dict, place: Place | None) -> str | None:
    """Unit for a category: 属地 → street/district of the place when known, else the mapped unit."""
    entry = mapping.get(category)
    if entry is None:
        return place.district_code if place else None
    if isinstance(entry, dict):
        unit, local = entry.get("department"), bool(entry.get("local"))
    else:
        unit, local = entry[0], bool(entry[1])
    if local and place is not None:
        return place.street_code or place.district_code or unit
    return unit


def suggest(
    text: str,
    address: str | None = None,
    *,
    model=None,
    mapping: dict,
    gazetteer: Gazetteer | None,
    rules: Iterable[Rule] = (),
    threshold: float = DEFAULT_THRESHOLD,
    k: int = 3,
    fine: FineRouter | None = None,
) -> Suggestion:
    """``fine``: the fine-grained router (level-3/level-2 category and unit from the lexicon, category map and
    KB, see routing/fine.py); without it, level-1 categories only (model or keywords)."""
    text = text or ""
    notes: list[str] = []
    emergency = detect(text)
    scope = out_of_scope(text)
    place = None
    if gazetteer is not None:
        place = (gazetteer.locate(address) if address else None) or gazetteer.locate(text)
    fine_ranked = _fine_ranked(fine, text, place, model, k) if fine is not None else None

    unseen = None
    if fine_ranked:
        ranked = [(c.level1, c.score) for c in fine_ranked]
        if model is None:
            notes.append(NO_MODEL_NOTE)
        elif ranked[0][0] not in model.classes:  # decided by the lexicon alone: never auto-dispatched
            unseen = ranked[0]
            notes.append(f"分类模型未学习过「{unseen[0]}」类（按词表判断），请人工确认")
    elif model is not None:
        ranked = model.predict_top(text, k=k)
        # the labelled history may not cover every level-1 category: a category the model never learned
        # whose keywords are the only ones in the text is added as the last suggestion, and the case is
        # not auto-dispatched; the model's own ranking is never reordered
        unseen = next(((c, p) for c, p in keyword_scores(text)[:1] if c not in model.classes and p >= UNSEEN_MIN), None)
        if unseen is not None and k >= 2:
            kept = ranked[: k - 1]
            rest = max(0.0, 1.0 - sum(p for _, p in kept))
            ranked = [*kept, (unseen[0], min(rest, kept[-1][1]) if kept else rest)]
            notes.append(f"分类模型未学习过「{unseen[0]}」类（关键词提示），请人工确认")
    else:
        ranked = keyword_scores(text)[:k]
        notes.append(NO_MODEL_NOTE)

    top_category = ranked[0][0] if ranked else None
    skipped: list = []
    rule = apply(rules, text, top_category, place, skipped)
    notes += [f"规则 {rid} 的正则表达式匹配超时，已跳过，请管理员简化" for rid in skipped]
    if fine_ranked:
        suggestions = [_fine_suggestion(c, place, model) for c in fine_ranked]
    else:
        suggestions = [
            {"category": c, "department_code": resolve_department(c, mapping, place), "score": round(p, 4)}
            for c, p in ranked
        ]
    if rule is not None:
        category = rule.category or top_category
        first = {"category": category, "department_code": rule.department_code, "score": 1.0}
        if fine_ranked:
            first |= {"path": category, "why": "命中规则"}
            rest = [s for s in suggestions if s["department_code"] != rule.department_code]
        else:
            rest = [s for s in suggestions if s["category"] != category]
        suggestions = [first, *rest][:k]
        notes.append(f"命中规则 {rule.id}" + (f"：{rule.note}" if rule.note else ""))

    confident = rule is not None or (unseen is None and bool(ranked) and ranked[0][1] >= threshold)  # unrounded
    auto = (
        model is not None
        and confident
        and emergency is None
        and scope is None
        and suggestions[0]["department_code"] is not None
    )
    if emergency is not None:
        notes.append(f"疑似紧急情况（{emergency.phrase}），请立即转接 {emergency.number}")
    if scope is not None:
        notes.append(f"不属于派单范围（{scope.reason}），请答复指引，不派单")
    if model is not None and suggestions and not auto and emergency is None and scope is None and unseen is None:
        notes.append(f"置信度 {suggestions[0]['score']:.2f} 低于自动派单阈值 {threshold:.2f}，请人工确认")
    if not suggestions:
        notes.append("未能判断分类，请人工选择")
    return Suggestion(
        suggestions=suggestions,
        auto=auto,
        emergency=emergency.number if emergency else None,
        out_of_scope={"reason": scope.reason, "answer": scope.answer} if scope else None,
        place=place,
        rule_id=rule.id if rule else None,
        model_used=model is not None,
        note="；".join(notes),
        emergency_phrase=emergency.phrase if emergency else None,
    )


def _fine_ranked(fine: FineRouter, text: str, place, model, k: int) -> list:
    """The fine router's candidates; with a model its level-1 probabilities are blended in. Without a model the
    scores stay modest (≤ 0.6, like keywords): no auto-dispatch without a model."""
    proba = dict(model.predict_top(text, k=len(model.classes))) if model is not None else None
    ranked = fine.rank(text, place, proba, k)
    if model is None:
        for c in ranked:
            c.score *= 0.6
    return ranked


def _fine_suggestion(c, place, model) -> dict:
    why = []
    if c.words:
        why.append("匹配词：" + "、".join(c.words[:6]))
    if c.local and place is not None:
        why.append(f"属地：{place.mention or place.alias}")
    if model is not None:
        why.append("分类模型（一级分类）")
    return {
        "category": c.level1,
        "department_code": c.unit,
        "score": round(c.score, 4),
        "path": c.path,
        "why": "；".join(why),
    }
