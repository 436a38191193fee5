"""All models, imported here so Alembic and the app see every table."""

from hotline.models.calls import Call
from hotline.models.cases import Assignment, Case, CaseEvent
from hotline.models.citizens import Citizen, CitizenPhone
from hotline.models.console import ConsoleCursor, ConsoleEvent
from hotline.models.counters import CaseCounter, CaseNumberBase
from hotline.models.departments import Category, Department
from hotline.models.idempotency import IdempotencyKey
from hotline.models.keys import KeyFingerprint
from hotline.models.knowledge import KbEntry, KbFeedback, KbIndexState, KbSynonym, KbVersion
from hotline.models.outbox import Notification, OutboxMessage
from hotline.models.places import Place
from hotline.models.ratings import Rating, RatingInvitation, Rectification
from hotline.models.records import AuditLog, CitizenEvent, ExternalRecord
from hotline.models.routing import CaseCitizen, CaseDupKey, CaseRouting, RoutingBatch, RoutingRule
from hotline.models.sla import Holiday, SlaCard, SlaExtension, SlaPause, SlaPolicy, SlaTimer, Supervision
from hotline.models.users import ApiToken, User
from hotline.models.wechat import WechatMessage

__all__ = [
    "ApiToken",
    "Assignment",
    "AuditLog",
    "Call",
    "Case",
    "CaseCitizen",
    "CaseCounter",
    "CaseDupKey",
    "CaseEvent",
    "CaseNumberBase",
    "CaseRouting",
    "Category",
    "Citizen",
    "CitizenEvent",
    "CitizenPhone",
    "ConsoleCursor",
    "ConsoleEvent",
    "Department",
    "ExternalRecord",
    "Holiday",
    "IdempotencyKey",
    "KbEntry",
    "KbFeedback",
    "KbIndexState",
    "KbSynonym",
    "KbVersion",
    "KeyFingerprint",
    "Notification",
    "OutboxMessage",
    "Place",
    "Rating",
    "RatingInvitation",
    "Rectification",
    "RoutingBatch",
    "RoutingRule",
    "SlaCard",
    "SlaExtension",
    "SlaPause",
    "SlaPolicy",
    "SlaTimer",
    "Supervision",
    "User",
    "WechatMessage",
]
