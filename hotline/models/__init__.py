"""All models, imported here so Alembic and the app see every table."""

from hotline.models.calls import Call
from hotline.models.cases import Assignment, Case, CaseEvent
from hotline.models.challenges import PortalChallenge
from hotline.models.citizens import Citizen, CitizenPhone
from hotline.models.console import ConsoleCursor, ConsoleEvent
from hotline.models.counters import CaseCounter, CaseNumberBase
from hotline.models.departments import Category, Department
from hotline.models.idempotency import IdempotencyKey
from hotline.models.keys import KeyFingerprint
from hotline.models.knowledge import KbEntry, KbFeedback, KbIndexState, KbSynonym, KbVersion
from hotline.models.logins import LoginEvent, LoginThrottle
from hotline.models.open311 import CasePublication, Open311Request
from hotline.models.outbox import Notification, OutboxMessage
from hotline.models.places import Place
from hotline.models.ratings import Rating, RatingInvitation, Rectification
from hotline.models.records import AuditLog, CitizenEvent, ExternalRecord
from hotline.models.replay import ReplayGuard
from hotline.models.routing import (
    CaseCitizen,
    CaseDupKey,
    CaseRouting,
    RoutingBatch,
    RoutingModelFile,
    RoutingRule,
)
from hotline.models.sla import Holiday, SlaCard, SlaExtension, SlaPause, SlaPolicy, SlaTimer, Supervision
from hotline.models.users import ApiToken, User
from hotline.models.wechat import WechatFollower, WechatLocation, WechatMessage

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
    "CasePublication",
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
    "LoginEvent",
    "LoginThrottle",
    "Notification",
    "Open311Request",
    "OutboxMessage",
    "Place",
    "PortalChallenge",
    "Rating",
    "RatingInvitation",
    "Rectification",
    "ReplayGuard",
    "RoutingBatch",
    "RoutingModelFile",
    "RoutingRule",
    "SlaCard",
    "SlaExtension",
    "SlaPause",
    "SlaPolicy",
    "SlaTimer",
    "Supervision",
    "User",
    "WechatFollower",
    "WechatLocation",
    "WechatMessage",
]
