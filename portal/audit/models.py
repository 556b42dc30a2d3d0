"""The audit row: who did what to which id, when, chained to the row before it."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Blob, Timestamp


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[Timestamp]
    tag: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    subject_id: Mapped[str | None] = mapped_column(String(36))
    prev_hash: Mapped[Blob]
    row_hash: Mapped[bytes] = mapped_column(
        unique=True, comment="keyed BLAKE2b over this row and prev_hash: edits break the chain"
    )

    # Security events (security:<kind>) are listed newest first on home pages.
    # A case's audit trail reads the events about a few ids, one page at a time.
    __table_args__ = (
        Index("ix_audit_events_tag", "tag", "id"),
        Index("ix_audit_events_subject", "subject_id", "id"),
    )
