"""All models, imported here so Alembic and the app see every table."""

from hotline.models.accounts import RecoveryCode
from hotline.models.alerts import Alert, AlertCase
from hotline.models.attachments import Attachment
from hotline.models.audit import AuditEvent
from hotline.models.calls import Call
from hotline.models.cases import Assignment, Case, CaseEvent
from hotline.models.catmap import CategoryMapVersion
from hotline.models.challenges import PortalChallenge
from hotline.models.citizens import Citizen, CitizenPhone
from hotline.models.console import ConsoleCursor, ConsoleEvent
from hotline.models.counters import CaseCounter, CaseNumberBase
from hotline.models.departments import Category, Department
from hotline.models.exports import Export
from hotline.models.feed import FeedChange, FeedCursor
from hotline.models.idempotency import IdempotencyKey
from hotline.models.keys import KeyFingerprint
from hotline.models.knowledge import KbEntry, KbFeedback, KbIndexState, KbSynonym, KbVersion
from hotline.models.linkage import CaseLink
from hotline.models.logins import LoginEvent, LoginThrottle
from hotline.models.notes import CaseNote
from hotline.models.open311 import CasePublication, Open311Request
from hotline.models.outbox import Notification, OutboxMessage
from hotline.models.pipl import CitizenErasure
from hotline.models.places import Place
from hotline.models.ratings import Rating, RatingInvitation, Rectification
from hotline.models.records import AuditLog, CitizenEvent, ExternalRecord
from hotline.models.replay import ReplayGuard
from hotline.models.reports import CaseConsent, MonthlyReport
from hotline.models.rollup import StatsDaily, StatsRollupDay, StatsUnitDaily
from hotline.models.routing import (
    CaseCitizen,
    CaseDupKey,
    CaseRouting,
    RoutingBatch,
    RoutingModelFile,
    RoutingRule,
)
from hotline.models.routing_lexicon import RoutingLexicon
from hotline.models.search import CaseSearchTerms, SavedFilter
from hotline.models.sla import Holiday, SlaCard, SlaExtension, SlaPause, SlaPolicy, SlaTimer, Supervision
from hotline.models.users import ApiToken, User
from hotline.models.webhooks import WebhookAttempt, WebhookSubscription
from hotline.models.wechat import WechatFollower, WechatLocation, WechatMessage

__all__ = [
    "Alert",
    "AlertCase",
    "ApiToken",
    "Assignment",
    "Attachment",
    "AuditEvent",
    "AuditLog",
    "Call",
    "Case",
    "CaseCitizen",
    "CaseConsent",
    "CaseCounter",
    "CaseDupKey",
    "CaseEvent",
    "CaseLink",
    "CaseNote",
    "CaseNumberBase",
    "CasePublication",
    "CaseRouting",
    "CaseSearchTerms",
    "Category",
    "CategoryMapVersion",
    "Citizen",
    "CitizenErasure",
    "CitizenEvent",
    "CitizenPhone",
    "ConsoleCursor",
    "ConsoleEvent",
    "Department",
    "Export",
    "ExternalRecord",
    "FeedChange",
    "FeedCursor",
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
    "MonthlyReport",
    "Notification",
    "Open311Request",
    "OutboxMessage",
    "Place",
    "PortalChallenge",
    "Rating",
    "RatingInvitation",
    "RecoveryCode",
    "Rectification",
    "ReplayGuard",
    "RoutingBatch",
    "RoutingLexicon",
    "RoutingModelFile",
    "RoutingRule",
    "SavedFilter",
    "SlaCard",
    "SlaExtension",
    "SlaPause",
    "SlaPolicy",
    "SlaTimer",
    "StatsDaily",
    "StatsRollupDay",
    "StatsUnitDaily",
    "Supervision",
    "User",
    "WebhookAttempt",
    "WebhookSubscription",
    "WechatFollower",
    "WechatLocation",
    "WechatMessage",
]
