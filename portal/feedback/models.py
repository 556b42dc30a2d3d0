"""Feedback rows, kept apart on purpose (docs/security.md, "Feedback").

``FeedbackOffer`` says only that a person of a closed case answered or dismissed the offer;
``FeedbackAnswer`` holds an answer with no case, person, account or time finer than its month.
Nothing joins them: the answer's id is random (uuid4), neither row has a timestamp, and on
SQLite the answers' table has no rowid, so its rows are kept in the order of their random ids
rather than the order they were given.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, Blob, IdColumn, str_enum


class OfferOutcome(StrEnum):
    ANSWERED = "answered"
    DISMISSED = "dismissed"


class RoleCategory(StrEnum):
    """What a commissioner asks answers to be counted by: never more precise than this."""

    PERSON_HARMED = "person_harmed"
    PERSON_RESPONSIBLE = "person_responsible"
    SUPPORTER = "supporter"

    @property
    def label(self) -> str:
        return {
            "person_harmed": "Person harmed",
            "person_responsible": "Person responsible",
            "supporter": "Supporter",
        }[self.value]


class Reply(StrEnum):
    """One question's answer."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "partly": "Partly", "no": "No"}[self.value]


class FeedbackOffer(Base):
    """That this account answered or dismissed the feedback offer of this closed case: no link
    to the answer, no time. An offer with no row is still open."""

    __tablename__ = "feedback_offers"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    outcome: Mapped[OfferOutcome] = mapped_column(str_enum(OfferOutcome))


class FeedbackAnswer(Base):
    """One anonymous answer: its month, the answerer's role category, three replies (each may
    be skipped) and, optionally, free text sealed in the answerer's browser to the service's
    referral key."""

    __tablename__ = "feedback_answers"
    # No hidden rowid on SQLite: rows are stored in the order of their random ids, so storage
    # order does not say which answer came after which (PostgreSQL: docs/security.md).
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[IdColumn]
    month: Mapped[str] = mapped_column(String(7), comment="YYYY-MM, never a finer time")
    role: Mapped[RoleCategory] = mapped_column(str_enum(RoleCategory))
    satisfied: Mapped[Reply | None] = mapped_column(
        str_enum(Reply), comment="satisfied with the process"
    )
    recommend: Mapped[Reply | None] = mapped_column(str_enum(Reply), comment="would recommend")
    better_able: Mapped[Reply | None] = mapped_column(
        str_enum(Reply), comment="feels safer or better able to move on"
    )
    key_id: Mapped[str | None] = mapped_column(
        ForeignKey("referral_keys.id"), comment="the referral key the free text is sealed to"
    )
    sealed_text: Mapped[Blob | None] = mapped_column(
        comment="crypto_box_seal of {form: feedback, text} to the referral key, padded"
    )
