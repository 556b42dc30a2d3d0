"""Account, session, sign-in failure and vault rows.

Nothing here holds a password, a private key or content: an account stores only the public key,
the key bundle wrapped in the browser, and argon2 hashes of keys derived in the browser.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Blob, IdColumn, Timestamp, str_enum


class Role(StrEnum):
    SERVICE_MANAGER = "service_manager"
    FACILITATOR = "facilitator"
    PARTICIPANT = "participant"
    SUPPORTER = "supporter"

    @property
    def is_staff(self) -> bool:
        return self in (Role.SERVICE_MANAGER, Role.FACILITATOR)

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.SERVICE_MANAGER: "Service manager",
    Role.FACILITATOR: "Facilitator",
    Role.PARTICIPANT: "Participant",
    Role.SUPPORTER: "Supporter",
}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[IdColumn]
    role: Mapped[Role] = mapped_column(str_enum(Role))
    sign_in_name: Mapped[str] = mapped_column(
        String(64), unique=True, comment="NFKC + casefolded; chosen by the person at joining"
    )
    kdf_salt: Mapped[Blob]
    kdf_ops: Mapped[int] = mapped_column(Integer)
    kdf_mem: Mapped[int] = mapped_column(Integer, comment="Argon2id memory in bytes")
    auth_hash: Mapped[str] = mapped_column(
        String(255), comment="argon2 hash of the auth key derived in the browser"
    )
    recovery_auth_hash: Mapped[str] = mapped_column(
        String(255), comment="argon2 hash of the key derived from the recovery code"
    )
    public_key: Mapped[Blob]
    signing_public_key: Mapped[bytes | None] = mapped_column(
        comment="Ed25519, derived in the browser from the identity key; NULL until the "
        "account's browser registers it (accounts made before trust anchors)"
    )
    key_bundle: Mapped[Blob] = mapped_column(comment="secret key wrapped in the browser")
    recovery_bundle: Mapped[Blob] = mapped_column(comment="secret key wrapped by the recovery key")
    created_at: Mapped[Timestamp]
    # When the key pair last changed (made, or re-keyed): a new password or recovery code
    # re-wraps the same key and leaves it.
    keys_changed_at: Mapped[Timestamp]
    disabled_at: Mapped[datetime | None]


class SignInSession(Base):
    """A server-side session row; the cookie holds a random token, the row only its hash."""

    __tablename__ = "sessions"

    id: Mapped[IdColumn]
    token_hash: Mapped[bytes] = mapped_column(unique=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    session_key: Mapped[bytes | None] = mapped_column(
        comment="wraps the secret key in sessionStorage; wiped when the session ends"
    )
    device: Mapped[str] = mapped_column(String(64), comment="browser and system, coarse")
    created_at: Mapped[Timestamp]
    last_seen_at: Mapped[Timestamp]
    expires_at: Mapped[datetime] = mapped_column(comment="absolute end, whatever the activity")
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    second_factor_due: Mapped[str | None] = mapped_column(
        String(8),
        comment="'verify': the password was proved, a second factor not yet; 'enrol': staff "
        "who must add one first; NULL: nothing due (portal/factors/gate.py)",
    )

    account: Mapped[Account] = relationship()

    __table_args__ = (Index("ix_sessions_account_active", "account_id", "ended_at"),)


class SignInFailure(Base):
    """One failed attempt, keyed by hashes so that typed names and addresses are not kept."""

    __tablename__ = "signin_failures"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16), comment="'account' or 'address'")
    key_hash: Mapped[bytes]
    at: Mapped[Timestamp]

    __table_args__ = (Index("ix_signin_failures_lookup", "scope", "key_hash", "at"),)


class Vault(Base):
    """The account's client vault: pins and preferences, sealed in the browser (opaque here)."""

    __tablename__ = "vaults"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    blob: Mapped[Blob]
    updated_at: Mapped[Timestamp]


class KnownBrowser(Base):
    """A browser that signed in to this account before (portal/accounts/browsers.py).

    The browser keeps a random token in a long-lived cookie; the row keeps only a keyed hash of
    that token and the account id together, so rows of two accounts used on one shared computer
    cannot be linked to each other from the database.
    """

    __tablename__ = "known_browsers"

    id: Mapped[IdColumn]
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(
        unique=True, comment="keyed hash of the account id and the cookie's token"
    )
    device: Mapped[str] = mapped_column(String(64), comment="browser and system, coarse")
    first_seen_at: Mapped[Timestamp]
    last_seen_at: Mapped[Timestamp] = mapped_column(
        index=True, comment="its last sign-in: unused for 400 days, the row goes"
    )
