"""Invitation rows: a single-use, expiring code. The server keeps a keyed hash of a code it
made (the setup link), or for a code the inviter's browser made its lookup id, the hash of its
redeem proof and the inviter's MAC (docs/api-trust.md)."""

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
    # A new key pair for an account that exists (its person lost their password and recovery
    # code, and a facilitator checked who they are in person): ``account_id`` is theirs.
    REKEY = "rekey"


class Invitation(Base):
    """A single-use, expiring code; never the code itself."""

    __tablename__ = "invitations"

    id: Mapped[IdColumn]
    code_hash: Mapped[bytes | None] = mapped_column(
        unique=True,
        comment="server-made codes (setup links, older invitations); NULL for browser-made",
    )
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
        index=True,
        comment="the case participant this invitation is for (or whose side, for a supporter)",
    )
    supporter_id: Mapped[str | None] = mapped_column(
        ForeignKey("case_supporters.id", ondelete="CASCADE", name="fk_invitations_supporter"),
        index=True,
        comment="a supporter's or representative's place this invitation is for",
    )
    created_at: Mapped[Timestamp]
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    # A browser-made code (docs/api-trust.md): the server holds what finds and checks it, and
    # nothing that makes it. Set together when the inviter's browser seals the reservation.
    lookup_id: Mapped[str | None] = mapped_column(
        String(32),
        unique=True,
        comment="browser-made code: first 16 bytes of H(lookup, code) as hex",
    )
    redeem_proof_hash: Mapped[bytes | None] = mapped_column(
        unique=True,
        comment="H(redeem-hash, redeem proof): checks a redemption, cannot make one",
    )
    mac: Mapped[bytes | None] = mapped_column(
        comment="the inviter's MAC over the invitation under a key from the code"
    )
    sealed_at: Mapped[datetime | None]
    # The keys the MAC covers, as they were when the invitation was reserved (what the
    # prepare answer and the inviter's own browser gave the MAC): served to the joiner as kept.
    inviter_box_public_key: Mapped[bytes | None]
    inviter_signing_public_key: Mapped[bytes | None]
    root_account_id: Mapped[str | None] = mapped_column(String(36))
    root_signing_public_key: Mapped[bytes | None]

    created_by: Mapped[Account | None] = relationship(foreign_keys=[created_by_id])
