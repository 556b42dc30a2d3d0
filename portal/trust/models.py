"""The trust log and the service root (docs/api-trust.md).

The log holds signed statements exactly as the browsers signed them: the server can refuse or
withhold an entry, but it cannot make or change one without the browsers seeing it (each entry
is signed, and the entries form the hash chain of docs/protocol-v1.md, "Trust log").
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Blob, Timestamp, str_enum


class EntryKind(StrEnum):
    STAFF_CERT = "staff-cert"
    REVOCATION = "revocation"
    ROOT_HANDOVER = "root-handover"


class TrustLogEntry(Base):
    """One entry of the append-only log; positions run 0, 1, 2... with no gap."""

    __tablename__ = "trust_log"

    position: Mapped[int] = mapped_column(
        Integer,
        primary_key=True,
        autoincrement=False,
        comment="0, 1, 2...: the entry's index in the hash chain the browsers recompute",
    )
    kind: Mapped[EntryKind] = mapped_column(
        str_enum(EntryKind),
        comment="staff-cert, revocation or root-handover (the statement's own context)",
    )
    signer_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    signer_signing_public_key: Mapped[Blob]
    statement: Mapped[bytes] = mapped_column(comment="canonical JSON bytes exactly as signed")
    signature: Mapped[Blob]
    subject_account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id"), comment="the account certified or revoked, or the new root"
    )
    created_at: Mapped[Timestamp]

    __table_args__ = (
        CheckConstraint("position >= 0", name="ck_trust_log_position"),
        Index("ix_trust_log_subject", "subject_account_id", "kind"),
    )


class ServiceRoot(Base):
    """The service root: the account whose signing key every certificate chains to.

    One row (id 1). Kept as a row rather than derived from the log so that reading it needs no
    walk of the log, a hand-over changes it in the same transaction as its log entry, and two
    first service managers set up at once cannot both become the root (the second insert
    fails on the key).
    """

    __tablename__ = "service_root"

    id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False, comment="always 1: there is one root"
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    signing_public_key: Mapped[Blob]
    log_position: Mapped[int] = mapped_column(
        ForeignKey("trust_log.position"),
        comment="the trust log entry that made this account the root (0: its own cert)",
    )
    since: Mapped[datetime] = mapped_column()

    __table_args__ = (CheckConstraint("id = 1", name="ck_service_root_one_row"),)
