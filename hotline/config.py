"""Every setting, read from the environment (HOTLINE_*, DATABASE_URL, REDIS_URL) with typed defaults.

Unset secrets are generated once into the instance folder, so the embedded default needs no setup.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(folder: Path, name: str, nbytes: int = 32) -> str:
    """Read or create a secret file in the instance folder (mode 0600)."""
    path = folder / name
    if path.exists():
        return path.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    # Write a private temp file, then link it into place: concurrent first starts all end up with the
    # one value that won the link, never a half-written file.
    tmp = folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    try:
        os.link(tmp, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        tmp.unlink()
    return value


# The keys every host of one installation must share (same value everywhere): generated into the instance folder
# when unset, except in production (HOTLINE_ENV=production), where a missing one stops the start.
SHARED_KEYS = ("secret_key", "data_key", "index_key", "cti_secret", "sms_secret")


class MissingKeys(RuntimeError):
    """Production mode without a shared key in the environment or the instance folder."""

    def __init__(self, names: list[str]):
        self.names = names
        env = ", ".join("HOTLINE_" + n.upper() for n in names)
        super().__init__(
            f"生产模式（HOTLINE_ENV=production）缺少密钥：{env}。每台主机必须设置相同的值，不得各自生成；"
            f"生成方法见 README「生产部署」。 / Production mode: {env} not set; every host needs the same value "
            '(generate once with: python -c "import secrets; print(secrets.token_urlsafe(32))").'
        )


def normalise_database_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass
class Settings:
    instance: Path = field(default_factory=lambda: ROOT / "instance")
    # HOTLINE_ENV: "production" — shared keys must be given, never generated per host (SHARED_KEYS), and a key that
    # differs from the one the database was written with stops the start (hotline/citizens/keyset.py)
    deployment: str = ""
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    data_key: str = ""
    data_keys_old: str = ""  # comma-separated previous data keys, readable until `flask keys rotate` ran
    index_key: str = ""
    # personal data at rest (hotline/citizens/privacy.py): "aes" = AES-256-GCM + HMAC-SHA256 blind index (default),
    # "sm" = the national algorithms SM4-GCM + HMAC-SM3; `flask keys rotate` moves a database between the two
    crypto: str = "aes"
    cti_secret: str = ""
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_aes_key: str = ""
    wechat_secret: str = ""  # appsecret, for the access token of template messages
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_template_notice: str = ""  # template id of case notices (reply, rating invitation)
    wechat_rate_limit: str = "10 per minute;50 per day"  # new requests per openid
    # CTI webhook: an event whose `at` is further than this from the server's clock is refused (replays, bad clocks)
    cti_window_seconds: int = 300
    # Socket.IO: browser origins allowed to connect (comma-separated, e.g. https://12345.example.gov.cn; "*" = any);
    # empty: the app's own origin only (scheme://Host of the request). Clients sending no Origin are not browsers
    socket_origins: str = ""
    portal_base_url: str = ""  # public address of the citizen pages, for links in notices
    # request submissions per client address: generous, since many citizens share one address (carrier NAT)
    portal_rate_limit_ip: str = "10 per minute;100 per hour"
    portal_rate_limit_phone: str = "3 per minute;10 per day"  # request submissions per phone number
    portal_lookup_rate_limit: str = "20 per minute;200 per day"  # status look-ups per client address
    portal_min_fill_seconds: int = 2  # a form sent back faster than this is a robot
    # Open311 (hotline/open311, docs/api.md): the jurisdiction_id this endpoint answers to (empty: the host of
    # public_url); reads (GET) per client address on every /open311 endpoint; the public feed's page size (default,
    # largest); whether requests submitted through Open311 are public until a supervisor withdraws them
    open311_jurisdiction: str = ""
    open311_rate_limit: str = "60 per minute;1000 per hour"
    open311_page_size: int = 50
    open311_max_page_size: int = 200
    open311_publish_submitted: bool = True
    timezone: str = "Asia/Shanghai"
    # 统一考核 (hotline/stats): weight of each rating score in 满意率, and of each rate in the composite
    stats_score_weights: str = "5:1,4:1,3:1,2:0,1:0"
    stats_composite: str = "response:0.30,resolution:0.35,satisfaction:0.35"
    # days of demo history `flask seed --demo` (and `make run` on an empty database) generates; 0 skips (tests)
    demo_history_days: int = 90
    # 预警 (hotline/alerts, docs/operations.md "Risk alerts"): each (category, area) count over the last
    # alert_window_hours against its baseline, the mean of the same-length windows of the alert_baseline_days before;
    # method "poisson" (P(X >= count | baseline) < alert_p_value) or "zscore" ((count - mean) / sd >= alert_z_score);
    # never below alert_min_count cases. Repeat callers: alert_repeat_contacts cases within alert_repeat_days.
    # Units: on-time reply rate below alert_on_time_rate over alert_on_time_days, with at least alert_on_time_min cases
    alert_method: str = "poisson"
    alert_window_hours: int = 24
    alert_baseline_days: int = 28
    alert_p_value: float = 0.001
    alert_z_score: float = 3.0
    alert_min_count: int = 5
    alert_repeat_contacts: int = 4
    alert_repeat_days: int = 7
    alert_on_time_rate: float = 0.8
    alert_on_time_days: int = 7
    alert_on_time_min: int = 10
    exports_keep_days: int = 7  # exported files (instance/exports) are deleted after this many days
    auto_dispatch: bool = False
    # the 80 %-coverage threshold of the chosen model on bodies (CV; measurements: tests/bench/README.md, routing)
    auto_dispatch_threshold: float = 0.95
    fine_routing: bool = True  # level-3/level-2 category and unit from the category map, lexicon and KB (issue 22)
    # live consoles (hotline/realtime/watch.py): each web process's heartbeat/audit interval, seconds; and how many
    # days the console event log keeps events for catching up (GET /api/v1/console/changes)
    console_heartbeat_seconds: float = 10.0
    console_events_days: int = 7
    # seconds a process trusts its cached units/categories/SLA calendar before re-checking the version: 0.5 keeps an
    # admin change within 1 s of every process with margin (tests/bench/admin_cache.py; one Redis GET per 0.5 s)
    refcache_ttl: float = 0.5
    refcache_max_age: int = 300  # cached units, categories, routing tables are rebuilt at least this often
    duplicate_window_days: int = 30  # 并单: open cases registered within this many days are compared
    duplicate_threshold: float = 0.6  # rapidfuzz similarity (0..1) from which a case is a likely duplicate
    routing_base_data: str = ""  # folder of *.tsv added to closed cases when the router is retrained
    routing_retrain_days: int = 365  # closed cases of this many days teach the scheduled retraining
    routing_retrain_min_cases: int = 20  # fewer labelled samples than this: keep the current model
    login_rate_limit: str = "10 per minute"
    # accounts (hotline/auth/lockout.py, sessions.py, headers.py; docs/operations.md "Logins and sessions"):
    # after this many failed logins in a row an account name is locked for login_lockout_seconds, doubling with
    # every further failure up to login_lockout_max_seconds; kept in the database (every process, Redis or not)
    login_lockout_after: int = 10
    login_lockout_seconds: int = 60
    login_lockout_max_seconds: int = 3600
    session_hours: int = 12  # a signed session cookie is refused this long after it was last written
    # accounts (issue 17, hotline/auth/passwords.py, hotline/users, hotline/auth/totp.py, hotline/auth/oidc.py):
    # a new password's minimum length (also: not a common password, not the username); how long a one-time password
    # (set-up, import, reset) may be used for its first login; the roles that must use a second factor (TOTP)
    password_min_length: int = 10
    one_time_password_days: int = 7
    totp_roles: str = "admin,supervisor"
    totp_issuer: str = "12345热线"
    # single sign-on (OpenID Connect, Authlib): off while oidc_issuer is empty. Users are matched by the claim
    # oidc_username_claim; created at first login when oidc_create_users (role oidc_default_role, unit none);
    # oidc_role_claim + oidc_role_map ("claim value:role,…") set the role at every login, else the local role stays
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile email"
    oidc_username_claim: str = "preferred_username"
    oidc_name_claim: str = "name"
    oidc_role_claim: str = ""
    oidc_role_map: str = ""
    oidc_create_users: bool = False
    oidc_default_role: str = "agent"
    oidc_label: str = "统一身份认证登录"
    # personal data (issue 17, hotline/privacy/retention.py): a person whose cases all closed more than
    # retention_years ago (and no call since) is erased by the daily job; 0 = no limit. The job only reports (dry
    # run, in the audit log and on /admin/privacy) until retention_apply is set, after the report was checked.
    retention_years: float = 0
    retention_apply: bool = False
    proxy_fix: int = 0  # HOTLINE_PROXY_FIX: trusted reverse proxies in front (X-Forwarded-For / -Proto), 0 = none
    hsts_seconds: int = 31536000  # Strict-Transport-Security max-age in production mode (0: no header)
    api_rate_limit: str = ""
    page_size: int = 20
    repeat_caller_contacts: int = 3
    repeat_caller_days: int = 30
    max_content_chars: int = 5000
    # POST /routing/suggest reads longer texts than a case may hold: a citizen's letter in the labelled
    # history runs to 12,220 characters (the classifier itself reads the first 1,000)
    routing_max_chars: int = 20000
    testing: bool = False
    sql_echo: bool = False
    # 好差评 and SMS (hotline/ratings, hotline/channels): links in messages start with public_url
    public_url: str = "http://127.0.0.1:5000"
    rating_link_days: int = 15
    sms_gateway_url: str = ""  # empty: the logging sender (messages are logged, not sent)
    sms_gateway_token: str = ""  # sent as "Authorization: Bearer …" to the gateway when set
    # JSON object posted to the gateway; string values may use {to}, {text}, {id} (the outbox id)
    sms_gateway_template: str = '{"to": "{to}", "text": "{text}", "client_ref": "{id}"}'
    sms_gateway_timeout: float = 5.0
    sms_secret: str = ""  # HMAC key of the inbound SMS webhook (generated into the instance folder if unset)
    # evidence (hotline/evidence, issue 18): where files are kept ("" = the instance folder's files/, or
    # s3://BUCKET?endpoint=http://host:9000&region=…, keys below), limits per file (MB; video its own) and per case
    storage_url: str = ""
    storage_access_key: str = ""
    storage_secret_key: str = ""
    attachment_max_mb: int = 20
    attachment_video_max_mb: int = 100
    attachment_case_max_mb: int = 300
    attachment_case_max_files: int = 30
    # media fetched from outside (Open311 media_url, WeChat media): timeout, and host:port pairs allowed even though
    # private (tests' local servers); every other private, loopback or link-local address is refused (SSRF)
    media_fetch_timeout: float = 10.0
    media_fetch_trusted: str = ""
    # map tiles (static/js/map.js): a URL template such as https://t{s}.tianditu.gov.cn/…; empty: points only (offline)
    map_tile_url: str = ""
    map_tile_attribution: str = ""
    map_center: str = "39.9087,116.3975"  # lat,long of the city centre (WGS-84)
    # unit codes whose before/after pictures (整改前后) the citizen sees on the portal's status page; "*": every unit
    status_photos_units: str = ""
    # connected (issue 21, docs/api.md "connected"): outbound webhooks' HTTP timeout (seconds) and whether their
    # URLs may point at loopback/private addresses (off in production: SSRF); the data-sharing feed's hourly export
    # (a folder for JSON Lines files and/or a URL the increments are POSTed to)
    webhook_timeout: float = 5.0
    webhook_allow_private: bool = False
    feed_export_dir: str = ""
    feed_export_url: str = ""
    # 110 ↔ 12345 linkage and case exchange: the shared HMAC key of POST /linkage/inbound, per-source keys
    # ("source:secret,…", they win over the shared one), this hotline's id as a sender, the outbound hand-off
    # endpoints ("110=https://…,119=…,hotline-sz=https://peer/api/v1/linkage/inbound") and the call platform
    linkage_secret: str = ""
    linkage_sources: str = ""
    linkage_id: str = "12345"
    linkage_endpoints: str = ""
    cti_url: str = ""
    # where each shared key came from: "environment", "instance file" or "generated" (filled by from_env)
    key_sources: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict = {}
        mapping = {
            "database_url": "DATABASE_URL",
            "redis_url": "REDIS_URL",
            "deployment": "HOTLINE_ENV",
        }
        for f in fields(cls):
            if f.name == "key_sources":
                continue
            key = mapping.get(f.name, "HOTLINE_" + f.name.upper())
            if key not in env or env[key] == "":
                continue
            raw = env[key]
            if f.type in ("bool", bool):
                values[f.name] = _bool(raw)
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            elif f.name == "instance":
                values[f.name] = Path(raw).resolve()
            else:
                values[f.name] = raw
        values.update(overrides)
        settings = cls(**values)
        settings.instance = Path(settings.instance)
        settings.instance.mkdir(parents=True, exist_ok=True)
        if not settings.database_url:
            settings.database_url = "sqlite:///" + str(settings.instance / "hotline.db")
        settings.database_url = normalise_database_url(settings.database_url)
        missing = []
        for name in SHARED_KEYS:
            if getattr(settings, name):
                settings.key_sources[name] = "environment"
            elif (settings.instance / name).exists():
                settings.key_sources[name] = "instance file"
                setattr(settings, name, _instance_secret(settings.instance, name))
            elif settings.production:
                missing.append(name)  # never generate a per-host key in production: it splits the data
            else:
                settings.key_sources[name] = "generated"
                setattr(settings, name, _instance_secret(settings.instance, name))
        if missing:
            raise MissingKeys(missing)
        return settings

    @property
    def production(self) -> bool:
        return self.deployment.strip().lower() == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def socket_cors_origins(self) -> list[str] | str | None:
        """Socket.IO's ``cors_allowed_origins``: None = same origin only (python-engineio's default), "*" = any."""
        origins = [o.strip().rstrip("/") for o in self.socket_origins.split(",") if o.strip()]
        return "*" if "*" in origins else (origins or None)

    @property
    def redis_db_file(self) -> Path:
        return self.instance / "redis.db"

    def flask_config(self) -> dict:
        engine_options: dict = {"pool_pre_ping": True}
        if self.is_sqlite:
            engine_options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        else:
            engine_options.update(pool_size=10, max_overflow=20)
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "SQLALCHEMY_ECHO": self.sql_echo,
            "TESTING": self.testing,
            "WTF_CSRF_CHECK_DEFAULT": False,
            "WTF_CSRF_TIME_LIMIT": None,
            "JSON_AS_ASCII": False,
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.production,  # production is served over HTTPS only (docs/operations.md)
            "PERMANENT_SESSION_LIFETIME": self.session_hours * 3600,  # also the max age of every session cookie
            "HOTLINE": self,
        }
