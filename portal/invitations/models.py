"""Invitation rows: a single-use, expiring code, of which only a keyed hash is stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Account, Role
from portal.db import Base, Blob, IdColumn, Timestamp, str_enum


class InvitationPurpose(StrEnum):
    SETUP = "setup"
    INVITE = "invite"


class Invitation(Base):
    """A single-use, expiring code; only its keyed hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[IdColumn]
    code_hash: Mapped[bytes] = mapped_column(unique=True)
    purpose: Mapped[InvitationPurpose] = mapped_column(str_enum(InvitationPurpose))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    account_id: Mapped[str] = mapped_column(
        String(36), unique=True, comment="id the account will get: the key bundle's AD binds it"
    )
    kdf_salt: Mapped[Blob]
    kdf_ops: Mapped[int]
    kdf_mem: Mapped[int]
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE", use_alter=True),
        comment="the case participant this invitation is for",
    )
    created_at: Mapped[Timestamp]
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    created_by: Mapped[Account | None] = relationship(foreign_keys=[created_by_id])
