"""Admin-editable override rules: keyword / regex / category / area → responsible unit.

A rule matches when every condition it sets holds (unset conditions are ignored; a rule with no
condition never matches). The matching rule with the highest priority wins (ties: the smallest id),
and it wins over the model. Rules are plain data: the app stores them and passes them in.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from routing.text import normalize


class RuleError(ValueError):
    """A rule that cannot be used; the message is for the admin (zh-CN)."""


@dataclass(frozen=True)
class Rule:
    id: int | str
    priority: int
    keyword: str | None
    regex: str | None
    category: str | None
    area: str | None          # district or street code; a district rule also covers its streets
    department_code: str
    note: str = ""
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (self.department_code or "").strip():
            raise RuleError(f"规则 {self.id}：必须指定承办单位")
        if not any((self.keyword, self.regex, self.category, self.area)):
            raise RuleError(f"规则 {self.id}：至少要设置关键词、正则、分类或区域中的一项")
        if self.regex:
            try:
                pattern = re.compile(self.regex, re.IGNORECASE)
            except re.error as exc:
                raise RuleError(f"规则 {self.id}：正则表达式无效（{exc}）：{self.regex}") from exc
            object.__setattr__(self, "_pattern", pattern)

    def matches(self, text: str, category: str | None, district: str | None, street: str | None) -> bool:
        """text must already be normalised (``routing.text.normalize``)."""
        if self.keyword and not any(normalize(k) in text for k in _keywords(self.keyword)):
            return False
        if self._pattern is not None and not self._pattern.search(text):
            return False
        if self.category and self.category != category:
            return False
        return not (self.area and self.area not in (district, street))

    @classmethod
    def from_dict(cls, data: dict) -> Rule:
        """Build from stored data (keys as the fields; missing optional keys are None)."""
        try:
            return cls(id=data["id"], priority=int(data.get("priority") or 0), keyword=data.get("keyword") or None,
                       regex=data.get("regex") or None, category=data.get("category") or None,
                       area=data.get("area") or None, department_code=data["department_code"],
                       note=data.get("note") or "")
        except KeyError as exc:
            raise RuleError(f"规则缺少字段：{exc.args[0]}") from exc
        except (TypeError, ValueError) as exc:
            if isinstance(exc, RuleError):
                raise
            raise RuleError(f"规则 {data.get('id')}：优先级必须是整数") from exc


def _keywords(keyword: str) -> list[str]:
    """"噪音|扰民" or "噪音,扰民" or "噪音，扰民" → any of them (empty parts ignored)."""
    return [k for k in re.split(r"[|,，、]", keyword) if k.strip()]


def apply(rules: Iterable[Rule], text: str, category: str | None = None, place=None) -> Rule | None:
    """The highest-priority rule matching (text, category, place); ``place`` is a gazetteer Place or None."""
    norm = normalize(text or "")
    district = getattr(place, "district_code", None)
    street = getattr(place, "street_code", None)
    best: Rule | None = None
    for rule in rules:
        if not rule.matches(norm, category, district, street):
            continue
        if best is None or rule.priority > best.priority or (
                rule.priority == best.priority and str(rule.id) < str(best.id)):
            best = rule
    return best
