"""Admin-editable override rules: keyword / regex / category / area → responsible unit.

A rule matches when every condition it sets holds (unset conditions are ignored; a rule with no
condition never matches). The matching rule with the highest priority wins (ties: the smallest id),
and it wins over the model. Rules are plain data: the app stores them and passes them in.

Regexes are written by admins and run on every case (in the web request of a suggestion and in the routing
job), so a pattern that backtracks catastrophically must not stall routing. They run on the ``regex``
package (``re``'s syntax, and a time limit per text, which ``re`` lacks):
a rule whose regex runs out of time does not match and is reported (``apply``'s ``skipped``).
When a rule is saved, ``check_speed`` also tries the regex on long repetitions of its own characters and
refuses one that runs out of time there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import regex

from routing.text import normalize

MATCH_TIMEOUT = 0.05  # seconds one rule's regex may run on one text
_PROBE_LENGTH = 400  # characters of a speed probe (a case text is at most a few thousand)
_log = logging.getLogger(__name__)


class RuleError(ValueError):
    """A rule that cannot be used; the message is for the admin (zh-CN)."""


@dataclass(frozen=True)
class Rule:
    id: int | str
    priority: int
    keyword: str | None
    regex: str | None
    category: str | None
    area: str | None  # district or street code; a district rule also covers its streets
    department_code: str
    note: str = ""
    _pattern: regex.Pattern | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (self.department_code or "").strip():
            raise RuleError(f"规则 {self.id}：必须指定承办单位")
        if not any((self.keyword, self.regex, self.category, self.area)):
            raise RuleError(f"规则 {self.id}：至少要设置关键词、正则、分类或区域中的一项")
        if self.regex:
            try:
                pattern = regex.compile(self.regex, regex.IGNORECASE | regex.VERSION0)
            except regex.error as exc:
                raise RuleError(f"规则 {self.id}：正则表达式无效（{exc}）：{self.regex}") from exc
            object.__setattr__(self, "_pattern", pattern)

    def matches(self, text: str, category: str | None, district: str | None, street: str | None) -> bool:
        """text must already be normalised (``routing.text.normalize``). Raises TimeoutError when the regex
        runs longer than MATCH_TIMEOUT on it."""
        if self.keyword and not any(normalize(k) in text for k in _keywords(self.keyword)):
            return False
        if self._pattern is not None and not self._pattern.search(text, timeout=MATCH_TIMEOUT):
            return False
        if self.category and self.category != category:
            return False
        return not (self.area and self.area not in (district, street))

    @classmethod
    def from_dict(cls, data: dict) -> Rule:
        """Build from stored data (keys as the fields; missing optional keys are None)."""
        try:
            return cls(
                id=data["id"],
                priority=int(data.get("priority") or 0),
                keyword=data.get("keyword") or None,
                regex=data.get("regex") or None,
                category=data.get("category") or None,
                area=data.get("area") or None,
                department_code=data["department_code"],
                note=data.get("note") or "",
            )
        except KeyError as exc:
            raise RuleError(f"规则缺少字段：{exc.args[0]}") from exc
        except (TypeError, ValueError) as exc:
            if isinstance(exc, RuleError):
                raise
            raise RuleError(f"规则 {data.get('id')}：优先级必须是整数") from exc


def check_speed(rule: Rule) -> None:
    """Raise RuleError when the rule's regex runs out of time on a probe text: each character of the pattern
    (and a few common ones) repeated, then a character that ends any match attempt — the shape of text on
    which nested quantifiers such as ``(a|aa)+$`` backtrack exponentially. Matching keeps its own time limit
    for patterns the probes miss."""
    if rule._pattern is None:
        return
    chars = [*[c for c in dict.fromkeys(rule.regex) if c.isalnum()][:16], "a", "1", " ", "的"]
    for char in dict.fromkeys(chars):
        for probe in (char * _PROBE_LENGTH + "\x00", (char + " ") * (_PROBE_LENGTH // 2) + "\x00"):
            try:
                rule._pattern.search(probe, timeout=MATCH_TIMEOUT)
            except TimeoutError:
                raise RuleError(
                    f"规则 {rule.id}：正则表达式匹配过慢（在 {len(probe)} 字的测试文本上超过 "
                    f"{MATCH_TIMEOUT:g} 秒，多为嵌套重复如 (a|aa)+ 引起的回溯），"
                    f"请简化：{rule.regex}"
                ) from None


def _keywords(keyword: str) -> list[str]:
    """ "噪音|扰民" or "噪音,扰民" or "噪音，扰民" → any of them (empty parts ignored)."""
    return [k for k in re.split(r"[|,，、]", keyword) if k.strip()]


def apply(
    rules: Iterable[Rule], text: str, category: str | None = None, place=None, skipped: list | None = None
) -> Rule | None:
    """The highest-priority rule matching (text, category, place); ``place`` is a gazetteer Place or None.
    A rule whose regex runs out of time does not match; its id is appended to ``skipped``."""
    norm = normalize(text or "")
    district = getattr(place, "district_code", None)
    street = getattr(place, "street_code", None)
    best: Rule | None = None
    for rule in rules:
        try:
            if not rule.matches(norm, category, district, street):
                continue
        except TimeoutError:
            _log.warning("routing rule %s skipped: its regex ran over %s s", rule.id, MATCH_TIMEOUT)
            if skipped is not None:
                skipped.append(rule.id)
            continue
        if (
            best is None
            or rule.priority > best.priority
            or (rule.priority == best.priority and str(rule.id) < str(best.id))
        ):
            best = rule
    return best
