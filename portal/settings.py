"""Typed settings, read once from ``PORTAL_*`` environment variables.

Every setting has a safe default so that ``portal serve`` works on a fresh machine with SQLite in
``./var``. The server secret is generated into the data folder on first run; its value is wrapped
in :class:`Secret` so that it never appears in a repr, a log line or an error page.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from portal import local_time

AuthHashProfile = Literal["production", "test"]
BlobStoreKind = Literal["filesystem", "s3"]
SmtpTls = Literal["none", "starttls", "tls"]
GIB = 1024**3


class SettingsError(ValueError):
    """A PORTAL_* variable holds a value the portal cannot use."""


class Secret:
    """Bytes that must not be printed: the repr is masked."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: Secret
    base_url: str
    quick_exit_url: str
    # Key derivation parameters given to new accounts (the browser runs Argon2id with them).
    kdf_ops: int
    kdf_mem_kib: int
    auth_hash_profile: AuthHashProfile
    session_idle_participant_minutes: int
    session_idle_staff_minutes: int
    session_absolute_hours: int
    session_warning_seconds: int
    invitation_days: int
    setup_link_hours: int
    signin_max_failures_per_account: int
    signin_max_failures_per_address: int
    signin_window_minutes: int
    max_body_bytes: int
    # Media (docs/api-media.md): ciphertext limits, checked before anything is uploaded.
    max_message_bytes: int
    case_quota_bytes: int
    storage_cap_bytes: int
    upload_expiry_hours: int
    log_file: Path
    # Addresses of reverse proxies whose X-Forwarded-For is believed (for per-address throttling).
    trusted_proxies: str
    # Where uploaded chunks live: the data folder (default) or an S3-compatible bucket, which
    # several server processes can share (docs/operator.md). See S3Settings.
    blob_store: BlobStoreKind = "filesystem"
    s3: S3Settings | None = None
    # The zone every date and time on a page is shown in (portal/local_time.py).
    time_zone: str = "Europe/London"
    # Referrals (docs/api-referrals.md): accepted per client address and for the whole service
    # in the sign-in window (PORTAL_SIGNIN_WINDOW_MINUTES); the pages' words while no referral
    # key exists; working days within which a referral should have its first contact.
    referrals_per_address: int = 5
    referrals_per_window: int = 60
    referrals_closed_text: str = ""
    referral_first_contact_days: int = 5
    # Feedback figures (portal/reports/figures.py Satisfaction): a group's answers are released
    # only when it has at least this many, so no percentage describes one person.
    feedback_smallest_group: int = 5
    # Notices by e-mail (portal/notifications): None while no SMTP host is set, and then
    # nobody can turn notices on.
    smtp: SmtpSettings | None = None
    # Passkeys (WebAuthn, portal/factors/passkeys.py): the relying party's id (a domain) and the
    # origin the browser reports; both default to those of PORTAL_BASE_URL.
    webauthn_rp_id: str = ""
    webauthn_origin: str = ""
    # Seconds after a server process starts before it first looks for due periodic jobs
    # (portal/maintenance.py). Each job runs only once its period has passed since its last
    # run by any process, so a restart repeats nothing; the wait only keeps start-up quick.
    maintenance_start_seconds: int = 60

    # Worked out once: every request asks several times (each cookie's name depends on it).
    @functools.cached_property
    def secure_cookies(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    @property
    def passkey_rp_id(self) -> str:
        return self.webauthn_rp_id or (urlsplit(self.base_url).hostname or "localhost")

    @property
    def passkey_origin(self) -> str:
        """PORTAL_WEBAUTHN_ORIGIN; else PORTAL_BASE_URL's origin, its host replaced by the
        relying party's id when that is set (a browser refuses an IP address as one)."""
        if self.webauthn_origin:
            return self.webauthn_origin
        parts = urlsplit(self.base_url)
        if not self.webauthn_rp_id:
            return f"{parts.scheme}://{parts.netloc}"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{self.webauthn_rp_id}{port}"

    @property
    def blobs_dir(self) -> Path:
        """Where uploaded chunks live (ciphertext only): back it up with the database."""
        return self.data_dir / "blobs"

    @property
    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        reader = _Reader(env)
        data_dir = Path(reader.text("DATA_DIR", "./var")).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        secret_file = Path(reader.text("SECRET_KEY_FILE", str(data_dir / "secret.key")))
        blob_store: BlobStoreKind = (
            "s3"
            if reader.one_of("BLOB_STORE", "filesystem", ("filesystem", "s3")) == "s3"
            else "filesystem"
        )
        base_url = reader.text("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        return cls(
            data_dir=data_dir,
            database_url=reader.text("DATABASE_URL", f"sqlite:///{data_dir / 'portal.sqlite3'}"),
            secret_key=_load_or_create_secret(secret_file),
            base_url=base_url,
            quick_exit_url=reader.text("QUICK_EXIT_URL", "https://www.bbc.co.uk/weather"),
            kdf_ops=reader.integer("KDF_OPS", 3, minimum=1),
            kdf_mem_kib=reader.integer("KDF_MEM_KIB", 65536, minimum=8192),
            auth_hash_profile=reader.choice(
                "AUTH_HASH_PROFILE", "production", ("production", "test")
            ),
            session_idle_participant_minutes=reader.integer(
                "SESSION_IDLE_PARTICIPANT_MINUTES", 20, minimum=1
            ),
            session_idle_staff_minutes=reader.integer("SESSION_IDLE_STAFF_MINUTES", 480, minimum=1),
            session_absolute_hours=reader.integer("SESSION_ABSOLUTE_HOURS", 12, minimum=1),
            session_warning_seconds=reader.integer("SESSION_WARNING_SECONDS", 120, minimum=10),
            invitation_days=reader.integer("INVITATION_DAYS", 14, minimum=1),
            setup_link_hours=reader.integer("SETUP_LINK_HOURS", 24, minimum=1),
            signin_max_failures_per_account=reader.integer(
                "SIGNIN_MAX_FAILURES_PER_ACCOUNT", 5, minimum=1
            ),
            signin_max_failures_per_address=reader.integer(
                "SIGNIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1
            ),
            signin_window_minutes=reader.integer("SIGNIN_WINDOW_MINUTES", 15, minimum=1),
            max_body_bytes=reader.integer("MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            max_message_bytes=reader.integer("MAX_MESSAGE_BYTES", GIB, minimum=1024 * 1024),
            case_quota_bytes=reader.integer("CASE_QUOTA_BYTES", 20 * GIB, minimum=1024 * 1024),
            storage_cap_bytes=reader.integer("STORAGE_CAP_BYTES", 200 * GIB, minimum=1024 * 1024),
            upload_expiry_hours=reader.integer("UPLOAD_EXPIRY_HOURS", 48, minimum=1),
            log_file=Path(reader.text("LOG_FILE", str(data_dir / "logs" / "portal.log"))),
            trusted_proxies=reader.text("TRUSTED_PROXIES", ""),
            blob_store=blob_store,
            s3=S3Settings.from_reader(reader) if blob_store == "s3" else None,
            time_zone=reader.time_zone("TIME_ZONE", "Europe/London"),
            referrals_per_address=reader.integer("REFERRALS_PER_ADDRESS", 5, minimum=1),
            referrals_per_window=reader.integer("REFERRALS_PER_WINDOW", 60, minimum=1),
            referrals_closed_text=reader.text("REFERRALS_CLOSED_TEXT", ""),
            referral_first_contact_days=reader.integer("REFERRAL_FIRST_CONTACT_DAYS", 5, minimum=1),
            feedback_smallest_group=reader.integer("FEEDBACK_SMALLEST_GROUP", 5, minimum=5),
            smtp=SmtpSettings.from_reader(reader, base_url=base_url),
            webauthn_rp_id=reader.text("WEBAUTHN_RP_ID", ""),
            webauthn_origin=reader.text("WEBAUTHN_ORIGIN", "").rstrip("/"),
            maintenance_start_seconds=reader.integer("MAINTENANCE_START_SECONDS", 60, minimum=0),
        )


@dataclass(frozen=True)
class S3Settings:
    """The bucket of ``PORTAL_BLOB_STORE=s3`` (portal/blobstore_s3.py).

    Credentials: ``PORTAL_S3_ACCESS_KEY_ID`` and ``PORTAL_S3_SECRET_ACCESS_KEY`` if set (held as
    :class:`Secret`, never printed), otherwise boto3's own chain (``AWS_*`` variables, the
    shared credentials file, an instance role)."""

    bucket: str
    # Empty for AWS itself; the address of MinIO, Ceph RGW, Garage...
    endpoint_url: str | None
    region: str | None
    # Keys are written under this prefix, so one bucket can hold several services' blobs.
    prefix: str
    access_key_id: Secret | None
    secret_access_key: Secret | None
    # Path-style addressing (http://host/bucket/key), which most self-hosted stores expect.
    path_style: bool

    @classmethod
    def from_reader(cls, reader: _Reader) -> S3Settings:
        bucket = reader.text("S3_BUCKET", "")
        if not bucket:
            raise SettingsError("PORTAL_S3_BUCKET must name a bucket when PORTAL_BLOB_STORE=s3")
        endpoint = reader.text("S3_ENDPOINT_URL", "") or None
        if endpoint is not None and urlsplit(endpoint).scheme not in {"http", "https"}:
            raise SettingsError("PORTAL_S3_ENDPOINT_URL must start with http:// or https://")
        prefix = reader.text("S3_PREFIX", "").strip("/")
        access_key, secret_key = (
            reader.optional_secret("S3_ACCESS_KEY_ID"),
            reader.optional_secret("S3_SECRET_ACCESS_KEY"),
        )
        if (access_key is None) != (secret_key is None):
            raise SettingsError(
                "set both PORTAL_S3_ACCESS_KEY_ID and PORTAL_S3_SECRET_ACCESS_KEY, or neither"
            )
        addressing = reader.one_of(
            "S3_ADDRESSING", "path" if endpoint else "virtual", ("path", "virtual")
        )
        return cls(
            bucket=bucket,
            endpoint_url=endpoint,
            region=reader.text("S3_REGION", "") or None,
            prefix=f"{prefix}/" if prefix else "",
            access_key_id=access_key,
            secret_access_key=secret_key,
            path_style=addressing == "path",
        )


@dataclass(frozen=True)
class SmtpSettings:
    """The mail server notices go through (``PORTAL_SMTP_*``), and the neutral words every
    notice carries: nothing in them may say what the service is (docs/operator.md)."""

    host: str
    port: int
    tls: SmtpTls
    username: str | None
    password: Secret | None
    sender: str
    sender_name: str
    subject: str
    # Where the sign-in link in a notice points: the portal as people reach it.
    public_url: str
    timeout_seconds: int

    @classmethod
    def from_reader(cls, reader: _Reader, *, base_url: str) -> SmtpSettings | None:
        host = reader.text("SMTP_HOST", "")
        if not host:
            return None
        tls = reader.one_of("SMTP_TLS", "starttls", ("none", "starttls", "tls"))
        sender = reader.text("SMTP_SENDER", "")
        if "@" not in sender or any(c in sender for c in '\r\n<>,"') or " " in sender:
            raise SettingsError("PORTAL_SMTP_SENDER must be the address notices are sent from")
        username = reader.text("SMTP_USERNAME", "") or None
        password = reader.optional_secret("SMTP_PASSWORD")
        if (username is None) != (password is None):
            raise SettingsError(
                "set both PORTAL_SMTP_USERNAME and PORTAL_SMTP_PASSWORD, or neither"
            )
        words = {
            name: reader.text(f"SMTP_{name}", default)
            for name, default in (("SENDER_NAME", "Notices"), ("SUBJECT", "Something new"))
        }
        if any(c in text for text in words.values() for c in "\r\n"):
            raise SettingsError("PORTAL_SMTP_SENDER_NAME and PORTAL_SMTP_SUBJECT are one line each")
        public_url = reader.text("PUBLIC_URL", base_url).rstrip("/")
        if urlsplit(public_url).scheme not in {"http", "https"}:
            raise SettingsError("PORTAL_PUBLIC_URL must start with http:// or https://")
        return cls(
            host=host,
            port=reader.integer("SMTP_PORT", 465 if tls == "tls" else 587, minimum=1),
            tls="tls" if tls == "tls" else "starttls" if tls == "starttls" else "none",
            username=username,
            password=password,
            sender=sender,
            sender_name=words["SENDER_NAME"],
            subject=words["SUBJECT"],
            public_url=public_url,
            timeout_seconds=reader.integer("SMTP_TIMEOUT_SECONDS", 10, minimum=1),
        )


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str, default: str) -> str:
        value = self._env.get(f"PORTAL_{name}", "").strip()
        return value or default

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        raw = self._env.get(f"PORTAL_{name}", "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"PORTAL_{name} must be a whole number, not {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"PORTAL_{name} must be at least {minimum}")
        return value

    def choice(
        self, name: str, default: AuthHashProfile, allowed: tuple[str, ...]
    ) -> AuthHashProfile:
        value = self.one_of(name, default, allowed)
        return "test" if value == "test" else "production"

    def time_zone(self, name: str, default: str) -> str:
        value = self.text(name, default)
        try:
            local_time.zone_named(value)
        except ValueError:
            raise SettingsError(
                f"PORTAL_{name} must be a time zone name such as Europe/London, not {value!r}"
            ) from None
        return value

    def one_of(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise SettingsError(f"PORTAL_{name} must be one of {', '.join(allowed)}")
        return value

    def optional_secret(self, name: str) -> Secret | None:
        value = self._env.get(f"PORTAL_{name}", "").strip()
        return Secret(value.encode()) if value else None


def _load_or_create_secret(path: Path) -> Secret:
    if path.exists():
        value = path.read_bytes().strip()
        if len(value) < 32:
            raise SettingsError(f"the secret key file {path} is shorter than 32 bytes")
        return Secret(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    # Created readable by the owner only: the secret keys the fake salts and token hashes.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(value + b"\n")
    return Secret(value)
