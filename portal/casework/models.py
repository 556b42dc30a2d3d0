"""A case's records kept by its facilitators (portal/casework).

Every word a facilitator writes here is sealed in their browser to the case key as case data
(docs/protocol-v1.md, "Case data"), with a purpose naming the record's id, so the server holds
ciphertext only and cannot show one record's words as another's. What stays in clear routes work
or is counted: a risk level, a kind of agreement, its due and completed days, who wrote what
when. The record's id is made in the browser, since the sealed words' purpose names it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, IdColumn, Timestamp, str_enum


class RiskLevel(StrEnum):
    """How risky the case is judged to be. High is the case's high-risk mark (two-person
    approval: ``cases.models.Case.high_risk``), never a second flag beside it."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return {"low": "Low", "medium": "Medium", "high": "High"}[self]


class AgreementKind(StrEnum):
    APOLOGY = "apology"
    REPARATION = "reparation"
    UNDERTAKING = "undertaking"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "apology": "An apology",
            "reparation": "Reparation",
            "undertaking": "An undertaking",
            "other": "Something else",
        }[self]


class RiskAssessment(Base):
    """One assessment; the latest supersedes the ones before, which stay (with their days)."""

    __tablename__ = "risk_assessments"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    level: Mapped[RiskLevel] = mapped_column(str_enum(RiskLevel))
    answers: Mapped[bytes] = mapped_column(
        LargeBinary, comment="sealed to the case key (purpose risk-assessment:<id>)"
    )
    assessed_by_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    assessed_at: Mapped[Timestamp]

    __table_args__ = (Index("ix_risk_assessments_case", "case_id", "assessed_at"),)


class CaseNote(Base):
    """One entry of the facilitators' running log of a case."""

    __tablename__ = "case_notes"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    text: Mapped[bytes] = mapped_column(
        LargeBinary, comment="sealed to the case key (purpose facilitator-note:<id>)"
    )
    written_by_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    written_at: Mapped[Timestamp]

    __table_args__ = (Index("ix_case_notes_case", "case_id", "written_at"),)


class AgreementItem(Base):
    """Something agreed at the case's outcome, with the day it is due and the day it was done."""

    __tablename__ = "agreement_items"

    id: Mapped[IdColumn]
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[AgreementKind] = mapped_column(str_enum(AgreementKind))
    due_on: Mapped[date] = mapped_column(Date())
    completed_on: Mapped[date | None] = mapped_column(Date(), comment="none: not completed yet")
    # Agreements are renegotiated: a new due day keeps the one first agreed beside it, so the
    # case page says the item was moved (the audit trail says when and by whom).
    first_due_on: Mapped[date | None] = mapped_column(
        Date(), comment="the due day first agreed, once another was agreed; none: never moved"
    )
    description: Mapped[bytes] = mapped_column(
        LargeBinary, comment="sealed to the case key (purpose agreement-item:<id>)"
    )
    added_by_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    added_at: Mapped[Timestamp]
    # Removed items keep their row (without their words) so the audit trail still names them.
    removed_at: Mapped[datetime | None] = mapped_column(
        comment="removed by a facilitator; its description is wiped then"
    )

    __table_args__ = (Index("ix_agreement_items_case", "case_id", "due_on"),)
