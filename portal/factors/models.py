"""Second-factor rows: the factors an account holds, its backup codes, and the one ceremony in
progress per session and purpose (a WebAuthn challenge, a TOTP secret not yet confirmed).

Nothing here unlocks a key: keys still come only from the password or the recovery code. A
factor only lets a session that proved the password go on (portal/web.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Blob, IdColumn, Timestamp, UTCDateTime, str_enum


class FactorKind(StrEnum):
    APP = "app"
    PASSKEY = "passkey"

    @property
    def label(self) -> str:
        return "Authenticator app" if self is FactorKind.APP else "Passkey"


class SecondFactor(Base):
    __tablename__ = "second_factors"

    id: Mapped[IdColumn]
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[FactorKind] = mapped_column(str_enum(FactorKind))
    created_at: Mapped[Timestamp]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(
        LargeBinary,
        comment="app: the TOTP secret, sealed with a key derived from the server secret",
    )
    totp_last_step: Mapped[int | None] = mapped_column(
        Integer, comment="app: the last 30-second step accepted (a code is never taken twice)"
    )
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary, unique=True)
    credential_public_key: Mapped[bytes | None] = mapped_column(LargeBinary, comment="COSE")
    sign_count: Mapped[int | None] = mapped_column(
        Integer, comment="passkey: the authenticator's counter, checked to rise (0: none kept)"
    )

    __table_args__ = (Index("ix_second_factors_account", "account_id"),)


class BackupCode(Base):
    __tablename__ = "backup_codes"

    id: Mapped[IdColumn]
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[Blob] = mapped_column(
        comment="keyed hash of the code; the code is shown once"
    )
    created_at: Mapped[Timestamp]
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_backup_codes_account", "account_id"),)


class CeremonyPurpose(StrEnum):
    APP_SETUP = "app-setup"
    PASSKEY_SETUP = "passkey-setup"
    PASSKEY_SIGN_IN = "passkey-sign-in"


class FactorCeremony(Base):
    """What the server keeps between the two halves of a set-up or sign-in step."""

    __tablename__ = "factor_ceremonies"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[CeremonyPurpose] = mapped_column(str_enum(CeremonyPurpose), primary_key=True)
    payload: Mapped[Blob] = mapped_column(
        comment="a WebAuthn challenge, or a sealed TOTP secret not yet confirmed"
    )
    created_at: Mapped[Timestamp]
