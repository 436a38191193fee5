"""The installation's shared keys: their fingerprints, where each came from, and whether this host's keys are the
ones the database was written with (``flask keys check``; checked at every start by ``create_app``).

A fingerprint is the first 12 hex digits of HMAC-SHA256(key, fixed label + key name): equal keys give equal
fingerprints on every host, and it shows nothing of the key (the keys are 256-bit random values, so it cannot be
inverted or guessed). The first host that starts on a database records its fingerprints in ``key_fingerprints``;
every later host — and a restore onto a fresh host — is compared with them. The table travels with a backup, so a
restore with the wrong key set is detected before anything is read or written.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
from dataclasses import dataclass

import sqlalchemy as sa

from hotline.db.dialect import insert_ignore
from hotline.extensions import db
from hotline.models import KeyFingerprint
from hotline.models.types import utcnow

log = logging.getLogger(__name__)

LABEL = b"hotline-12345 key fingerprint v1:"
# (setting, required): required keys are generated when unset outside production (hotline/config.py SHARED_KEYS);
# optional ones are compared once any host has recorded them
KEYS = (
    ("secret_key", True),
    ("data_key", True),
    ("index_key", True),
    ("cti_secret", True),
    ("sms_secret", True),
    ("wechat_token", False),
    ("wechat_aes_key", False),
    ("wechat_secret", False),
    ("sms_gateway_token", False),
)
WEAK_BELOW = 32  # characters; secrets.token_urlsafe(32) gives 43


def env_name(name: str) -> str:
    return "HOTLINE_" + name.upper()


def fingerprint(name: str, value: str) -> str:
    return hmac.new(value.encode(), LABEL + name.encode(), hashlib.sha256).hexdigest()[:12]


def old_data_keys(settings) -> list[str]:
    return [k.strip() for k in settings.data_keys_old.split(",") if k.strip()]


def host_fingerprints(settings) -> dict[str, str]:
    """name -> this host's fingerprint, for every key that is set."""
    return {name: fingerprint(name, getattr(settings, name)) for name, _ in KEYS if getattr(settings, name)}


@dataclass
class KeyStatus:
    name: str
    fingerprint: str  # "" when unset on this host
    source: str  # environment | instance file | generated | not set
    recorded: str | None = None  # the database's fingerprint; None: not recorded (or no table yet)
    recorded_by: str = ""
    ok: bool = True
    note: str = ""

    @property
    def env(self) -> str:
        return env_name(self.name)


class KeyMismatch(RuntimeError):
    """This host's keys differ from the ones the database was written with."""

    def __init__(self, bad: list[KeyStatus]):
        self.bad = bad
        names = ", ".join(s.env for s in bad)
        super().__init__(
            f"本机密钥与数据库记录不一致：{names}。请在本机设置与其他主机（或备份）相同的值，"
            f"运行 flask --app wsgi keys check 查看。 / This host's {names} differ from the keys the database was "
            "written with; set the same values as on the other hosts (or as in the backup)."
        )


def table_ready() -> bool:
    return sa.inspect(db.session.connection()).has_table(KeyFingerprint.__tablename__)


def _this_host() -> str:
    return socket.gethostname()[:255]


def recorded() -> dict[str, KeyFingerprint]:
    return {row.name: row for row in db.session.scalars(sa.select(KeyFingerprint))}


def record_missing(settings) -> list[str]:
    """Record this host's fingerprint of every set key the database has none for (the first host wins a race)."""
    known = set(db.session.scalars(sa.select(KeyFingerprint.name)))
    mine = host_fingerprints(settings)
    new = [name for name in mine if name not in known]
    if new:
        host, now = _this_host(), utcnow()
        for name in new:
            row = {"name": name, "fingerprint": mine[name], "host": host, "recorded_at": now}
            db.session.execute(insert_ignore(KeyFingerprint.__table__, ["name"]).values(**row))
    return new


def record(settings, names: list[str] | None = None) -> None:
    """Make this host's keys the installation's (after a deliberate change): replace the recorded fingerprints."""
    names = names if names is not None else [name for name, _ in KEYS]
    db.session.execute(sa.delete(KeyFingerprint).where(KeyFingerprint.name.in_(names)))
    db.session.flush()
    record_missing(settings)


def compare(settings, rows: dict[str, KeyFingerprint] | None) -> list[KeyStatus]:
    """One status per key; ``rows`` None: the database has no fingerprint table (not migrated yet)."""
    out = []
    old = {fingerprint("data_key", k) for k in old_data_keys(settings)}
    for name, required in KEYS:
        value = getattr(settings, name)
        source = settings.key_sources.get(name) or ("environment" if value else "not set")
        status = KeyStatus(name, fingerprint(name, value) if value else "", source)
        row = (rows or {}).get(name)
        if row is not None:
            status.recorded, status.recorded_by = row.fingerprint, row.host
            if row.fingerprint == status.fingerprint:
                pass
            elif name == "data_key" and row.fingerprint in old:
                status.note = "数据库记录的是旧数据密钥（HOTLINE_DATA_KEYS_OLD 中），运行 keys rotate 后更新"
            else:
                status.ok = False
                status.note = "" if value else "本机未设置"
        if value and len(value) < WEAK_BELOW:
            status.note = (status.note + "；" if status.note else "") + f"密钥过短（少于 {WEAK_BELOW} 个字符）"
        if required and source == "generated" and not settings.is_sqlite:
            status.note = (status.note + "；" if status.note else "") + "本机自动生成：多台主机时必须统一设置"
        out.append(status)
    return out


def verify(settings) -> list[KeyStatus]:
    """Record what is missing, then compare; commits. Without the table (before ``db upgrade``): nothing recorded."""
    if not table_ready():
        db.session.rollback()
        return compare(settings, None)
    record_missing(settings)
    db.session.commit()
    return compare(settings, recorded())


def check_on_start(app) -> None:
    """At every start: warn about per-host generated keys on a shared database, record or compare fingerprints.

    A mismatch stops the start in production mode (HOTLINE_ENV=production) and is logged as an error otherwise.
    An unreachable database is only logged: ``flask keys check`` is the full check."""
    settings = app.config["HOTLINE"]
    generated = [env_name(n) for n, src in settings.key_sources.items() if src == "generated"]
    if generated and not settings.is_sqlite:
        log.warning(
            "密钥 %s 未设置，已在本机实例目录 %s 自动生成：多台主机共用一个数据库时，每台主机会得到不同的密钥"
            "（同一号码分裂成多份档案、回调签名在部分主机失败）。请在每台主机设置相同的值，见 README「生产部署」。",
            ", ".join(generated),
            settings.instance,
        )
    try:
        statuses = verify(settings)
    except sa.exc.SQLAlchemyError as exc:  # the session is closed (and rolled back) below
        log.warning("启动时未能核对密钥指纹（数据库不可用：%s）；请稍后运行 flask keys check", exc.__class__.__name__)
        return
    finally:
        db.session.remove()
        if ":memory:" not in settings.database_url and settings.database_url != "sqlite://":
            db.engine.dispose()  # no connection opened here survives into forked workers (gunicorn --preload)
    bad = [s for s in statuses if not s.ok]
    if not bad:
        return
    if settings.production:
        raise KeyMismatch(bad)
    for s in bad:
        log.error("密钥 %s 与数据库记录不一致（本机 %s，记录 %s）", s.env, s.fingerprint or "未设置", s.recorded)
