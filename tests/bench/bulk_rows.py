"""The bulk loader's rows: per citizen of the plan, its rows of each table, and each table's COPY columns.

Phone numbers are normalised, masked, encrypted and blind-indexed exactly as the app does it
(``hotline.citizens.phones`` and the instance's ``DataCipher``); names are encrypted too.
"""

from __future__ import annotations

from datetime import timedelta

from tests.bench.bulk_plan import (
    ASSIGNMENT_STATUS,
    COMMENTS,
    EVENT_OFFSET,
    PATHS,
    REPLIES,
    STATUS,
    TRANSITION,
    CitizenPlan,
    Refs,
)


def _call_id(citizen: CitizenPlan, n: int) -> str:
    return f"BL{citizen.id:08d}-{n:02d}"


class Rows:
    """Row builders: each takes one CitizenPlan and returns that citizen's rows of one table."""

    def __init__(self, refs: Refs, cipher):
        from hotline.citizens.phones import mask, normalize

        self.refs, self.cipher, self.normalize, self.mask = refs, cipher, normalize, mask
        self.phone_kinds: dict[str, int] = {}

    def citizens(self, c: CitizenPlan) -> list[tuple]:
        return [(c.id, self.cipher.encrypt(c.name), c.tags, c.created_at, c.created_at)]

    def _phone(self, phone_id: int, c: CitizenPlan, raw: str) -> tuple:
        p = self.normalize(raw)  # exactly the app's key, mask, ciphertext and blind index
        self.phone_kinds[p.kind] = self.phone_kinds.get(p.kind, 0) + 1
        return (
            phone_id,
            c.id,
            self.cipher.blind_index(p.key),
            self.cipher.encrypt(p.key),
            self.mask(p),
            p.kind,
            c.created_at,
        )

    def citizen_phones(self, c: CitizenPlan) -> list[tuple]:
        rows = [self._phone(c.phone_id, c, c.phone)]
        if c.second_phone_id:
            rows.append(self._phone(c.second_phone_id, c, c.second_phone))
        return rows

    def calls(self, c: CitizenPlan) -> list[tuple]:
        rows = []
        span = max(1, int((self.refs.now - timedelta(days=1) - c.created_at).total_seconds()))
        agents = self.refs.agents
        for n in range(c.calls):
            ringing = c.created_at + timedelta(seconds=(n * 7919 * 3607 + c.id * 131) % span)
            duration = 30 + (c.id * 31 + n * 17) % 600
            answered = ringing + timedelta(seconds=8)
            rows.append(
                (
                    _call_id(c, n),
                    c.id,
                    c.phone_id,
                    agents[(c.id + n) % len(agents)],
                    "12345",
                    "ended",
                    ringing,
                    answered,
                    answered + timedelta(seconds=duration),
                    duration,
                    '["ringing", "answered", "ended"]',
                    ringing,
                )
            )
        return rows

    def cases(self, c: CitizenPlan) -> list[tuple]:
        rows = []
        for k in c.cases:
            events = PATHS[k.path]
            last = k.created_at + EVENT_OFFSET[events[-1]]
            dispatched = k.created_at + EVENT_OFFSET["dispatch"] if k.department_id else None
            status = STATUS[k.path]
            rows.append(
                (
                    k.id,
                    k.number,
                    k.kind,
                    k.channel,
                    "normal",
                    status,
                    k.content[:20],
                    f"{k.content}（{k.id}）",
                    "人民路1号",
                    k.category_id,
                    k.district_id,
                    c.id,
                    c.phone_id,
                    False,
                    False,
                    k.department_id,
                    _call_id(c, k.call_ref) if k.call_ref >= 0 else None,
                    k.agent_id,
                    "已解答：请按政策办理" if k.path == "answer" else None,
                    dispatched + DAY if dispatched else None,
                    dispatched + 2 * DAY if dispatched else None,
                    dispatched + 15 * DAY if dispatched else None,
                    k.created_at,
                    last,
                    last if status == "closed" else None,
                    len(events),
                )
            )
        return rows

    def case_events(self, c: CitizenPlan) -> list[tuple]:
        rows = []
        for k in c.cases:
            for action in PATHS[k.path]:
                before, after = TRANSITION[action]
                by_unit = action in ("sign", "reply")
                rows.append(
                    (
                        k.id,
                        action,
                        before,
                        after,
                        None if by_unit else k.agent_id,
                        "部门经办人" if by_unit else "话务员",
                        k.department_id if action != "create" else None,
                        REPLIES[k.id % len(REPLIES)] if action == "reply" else "",
                        "{}",
                        k.created_at + EVENT_OFFSET[action],
                    )
                )
        return rows

    def assignments(self, c: CitizenPlan) -> list[tuple]:
        rows = []
        for k in c.cases:
            if not k.department_id:
                continue
            at = k.created_at + EVENT_OFFSET["dispatch"]
            status = ASSIGNMENT_STATUS[k.path]
            signed = k.created_at + EVENT_OFFSET["sign"] if status != "pending" else None
            replied = k.created_at + EVENT_OFFSET["reply"] if status == "replied" else None
            rows.append(
                (
                    k.id,
                    k.department_id,
                    "lead",
                    status,
                    k.agent_id,
                    at,
                    signed,
                    signed,
                    replied,
                    at + DAY,
                    at + 2 * DAY,
                    at + 15 * DAY,
                    REPLIES[k.id % len(REPLIES)] if replied else None,
                    "resolved" if replied else None,
                    0,
                )
            )
        return rows

    def ratings(self, c: CitizenPlan) -> list[tuple]:
        return [
            (
                k.id,
                c.id,
                k.department_id,
                k.rating,
                k.rating >= 3,
                COMMENTS[k.id % len(COMMENTS)],
                "sms" if k.id % 3 else "web",
                k.created_at + EVENT_OFFSET["close"] + 2 * HOUR,
            )
            for k in c.cases
            if k.rating
        ]


DAY, HOUR = timedelta(days=1), timedelta(hours=1)
# Load order (FK order, for the one-table-at-a-time mode) and the columns each builder fills.
TABLES = {
    "citizens": ("id", "name_enc", "tags", "created_at", "updated_at"),
    "citizen_phones": ("id", "citizen_id", "phone_hash", "phone_enc", "masked", "kind", "created_at"),
    "calls": (
        "call_id",
        "citizen_id",
        "phone_id",
        "agent_id",
        "callee",
        "status",
        "ringing_at",
        "answered_at",
        "ended_at",
        "duration_seconds",
        "seen_events",
        "created_at",
    ),
    "cases": (
        "id",
        "number",
        "kind",
        "channel",
        "urgency",
        "status",
        "title",
        "content",
        "address",
        "category_id",
        "district_id",
        "citizen_id",
        "phone_id",
        "confidential",
        "complex",
        "lead_department_id",
        "call_id",
        "created_by_id",
        "answer",
        "deadline_sign",
        "deadline_contact",
        "deadline_reply",
        "created_at",
        "updated_at",
        "closed_at",
        "version",
    ),
    "case_events": (
        "case_id",
        "action",
        "from_status",
        "to_status",
        "actor_id",
        "actor_label",
        "department_id",
        "note",
        "data",
        "created_at",
    ),
    "assignments": (
        "case_id",
        "department_id",
        "role",
        "status",
        "assigned_by_id",
        "assigned_at",
        "signed_at",
        "contacted_at",
        "replied_at",
        "deadline_sign",
        "deadline_contact",
        "deadline_reply",
        "reply_content",
        "reply_result",
        "extensions_used",
    ),
    "ratings": ("case_id", "citizen_id", "department_id", "score", "resolved", "comment", "channel", "created_at"),
}
