"""The facilitator's home, kept (portal/homes).

What the home lists comes from one statement of seventeen parts over the facilitator's cases
(workspace/facilitator_home.py). Its rows are kept here once read, with a count of the changes
that could alter them: every committed change to what the statement reads adds one to the count
of each facilitator it concerns (changes.py). A home whose kept rows were read at the count it has
now, and before the moment they stop holding, is served from here by one index lookup;
otherwise it is read again from the cases. Nothing here is more than ids, references, tags and
times the cases already hold.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime


class HomeHead(Base):
    """One account's count of changes to its home, and what its kept rows were read at."""

    __tablename__ = "home_heads"

    # No foreign key: a change is counted for whoever it concerns, within the transaction that
    # may also remove their account (what is kept for an account that is gone is never read).
    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    changes: Mapped[int] = mapped_column(
        Integer, default=0, comment="committed changes that could alter this account's home"
    )
    kept_at_changes: Mapped[int | None] = mapped_column(
        Integer, comment="the count home_rows were read at (NULL: none kept)"
    )
    kept_for: Mapped[str | None] = mapped_column(
        String(16), comment="the home statement's fingerprint the rows were read with"
    )
    kept_until: Mapped[datetime | None] = mapped_column(
        UTCDateTime(),
        comment="when the kept rows stop holding without a change (a day ends, a supporter's "
        "access ends)",
    )


class HomeRow(Base):
    """One row of the home's statement as it was read (facilitator_home.py's columns)."""

    __tablename__ = "home_rows"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    case_id: Mapped[str | None] = mapped_column(String(36))
    reference: Mapped[str | None] = mapped_column(String)
    detail: Mapped[str | None] = mapped_column(String)
    number: Mapped[int | None] = mapped_column(Integer)
