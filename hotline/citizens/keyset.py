"""The installation's shared keys: their fingerprints, where each came from, and whether this host's keys are the
ones the database was written with (``flask keys check``; checked at every start by ``create_app``).

A fingerprint is the first 12 hex digits of HMAC-SHA256(key, fixed label + key name): equal keys give equal
fingerprints on every host, and it shows nothing of the key (the keys are 256-bit random values, so it cannot be
inverted or guessed). The first host that starts on a database records its fingerprints in ``key_fingerprints``;
every later host — and a restore onto a fresh host — is compared with them. The table travels with a backup, so a
restore with the wrong key set is detected before anything is read or written.

The table also records the algorithm of the blind indexes (row ``blind_index``: ``hmac-sha256`` or ``hmac-sm3``,
``privacy.py``): the first host records what the database holds, ``keys rotate`` changes it in the same
transaction that re-writes every index, and every process computes look-ups with it (``privacy.IndexTracker``). A host
whose ``HOTLINE_CRYPTO`` differs from it works (it reads both algorithms) and is told to finish with
``keys rotate``; a host whose cryptography/OpenSSL build lacks SM3/SM4 while the database or its setting needs them
fails the check.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
from dataclasses import dataclass

import sqlalchemy as sa

from hotline.citizens import sm
from hotline.citizens.privacy import INDEX_NAMES, IndexTracker, index_algorithm_of
from hotline.db.dialect import insert_ignore
from hotline.db.engine import READ_ONLY
from hotline.extensions import db
from hotline.models import CitizenPhone, KeyFingerprint
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
INDEX_ROW = "blind_index"  # the algorithm of the stored blind indexes, not a key
ALGORITHM_OF_INDEX = {label: alg for alg, label in INDEX_NAMES.items()}


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


SAMPLE = sa.select(CitizenPhone.phone_hash).order_by(CitizenPhone.id).limit(101)


def _majority(digests: list[str]) -> str | None:
    """The algorithm of most of the sampled indexes (a few erased or foreign rows do not decide); None: no rows."""
    if not digests:
        return None
    sm_rows = sum(index_algorithm_of(d) == "sm" for d in digests)
    return "sm" if sm_rows * 2 > len(digests) else "aes"


def stored_index_algorithm(settings) -> str:
    """What the phone rows' blind indexes are (the form of most of the first 101); the setting when there are none."""
    return _majority(list(db.session.scalars(SAMPLE))) or settings.crypto


def database_index_algorithm() -> str | None:
    """The recorded blind-index algorithm ("aes"/"sm"), read on a connection of its own (read-only on SQLite, so
    it neither waits for nor disturbs the caller's transaction); None when unknown or the database cannot answer."""
    try:
        with db.engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            label = conn.scalar(sa.select(KeyFingerprint.fingerprint).where(KeyFingerprint.name == INDEX_ROW))
            if label is None:  # not recorded yet (no host has started on it since): the rows say
                return _majority(list(conn.scalars(SAMPLE)))
    except (sa.exc.SQLAlchemyError, RuntimeError):
        return None
    return ALGORITHM_OF_INDEX.get(label)


def record_index_algorithm(algorithm: str) -> None:
    """Record the blind indexes' algorithm (``keys rotate``, in the transaction that re-wrote them)."""
    db.session.execute(sa.delete(KeyFingerprint).where(KeyFingerprint.name == INDEX_ROW))
    db.session.add(KeyFingerprint(name=INDEX_ROW, fingerprint=INDEX_NAMES[algorithm], host=_this_host()))
    db.session.flush()


def record_missing(settings) -> list[str]:
    """Record this host's fingerprint of every set key the database has none for (the first host wins a race),
    and the algorithm of the stored blind indexes when not recorded yet."""
    known = set(db.session.scalars(sa.select(KeyFingerprint.name)))
    mine = host_fingerprints(settings)
    if INDEX_ROW not in known:
        mine[INDEX_ROW] = INDEX_NAMES[stored_index_algorithm(settings)]
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
    out.append(crypto_status(settings, (rows or {}).get(INDEX_ROW)))
    return out


def crypto_status(settings, row: KeyFingerprint | None) -> KeyStatus:
    """HOTLINE_CRYPTO against the algorithm the database's blind indexes are written with."""
    status = KeyStatus("crypto", INDEX_NAMES.get(settings.crypto, settings.crypto), "setting")
    recorded_alg = None
    if row is not None:
        status.recorded, status.recorded_by = row.fingerprint, row.host
        recorded_alg = ALGORITHM_OF_INDEX.get(row.fingerprint)
    if not sm.available() and "sm" in (settings.crypto, recorded_alg):
        status.ok = False
        status.note = "本机的 cryptography/OpenSSL 不支持 SM3/SM4，不能读写国密数据"
    elif recorded_alg is not None and recorded_alg != settings.crypto:
        status.note = (
            f"数据库的盲索引仍为 {row.fingerprint}，本机设置为 {settings.crypto}：新数据已按本机设置加密，"
            "查找仍用数据库的索引；运行 flask --app wsgi keys rotate 完成切换"
        )
    return status


def attach_index_source(app) -> None:
    """The app's ciphers compute look-ups with the database's blind-index algorithm (re-read at most every
    ``refcache_ttl`` seconds, so a ``keys rotate`` on another host reaches this process within that time)."""
    settings = app.config["HOTLINE"]
    app.extensions["hotline_index"] = IndexTracker(database_index_algorithm, settings.refcache_ttl, settings.crypto)


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
    attach_index_source(app)
    try:
        statuses = verify(settings)
    except sa.exc.SQLAlchemyError as exc:  # the session is closed (and rolled back) below
        log.warning("启动时未能核对密钥指纹（数据库不可用：%s）；请稍后运行 flask keys check", exc.__class__.__name__)
        return
    finally:
        db.session.remove()
        if ":memory:" not in settings.database_url and settings.database_url != "sqlite://":
            db.engine.dispose()  # no connection opened here survives into forked workers (gunicorn --preload)
    for s in statuses:
        if s.name == "crypto" and s.ok and s.note:
            log.warning("HOTLINE_CRYPTO：%s", s.note)
    bad = [s for s in statuses if not s.ok]
    if not bad:
        return
    if settings.production:
        raise KeyMismatch(bad)
    for s in bad:
        log.error("密钥 %s 与数据库记录不一致（本机 %s，记录 %s）", s.env, s.fingerprint or "未设置", s.recorded)
