"""Who may reach a case's records: its facilitators, and nobody else (participants, supporters,
service managers and other facilitators get 404, as for any case they do not facilitate).
The one place this is decided: every casework endpoint asks ``records_case``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.cases import policy as case_policy
from portal.cases.models import Case


def records_case(db: Session, account: Account, case_id: str) -> Case:
    """The case whose records ``account`` may read and change: one they facilitate."""
    return case_policy.facilitated_case(db, account, case_id)
