"""A case's records: risk assessments, case notes, agreement items. Never commits.

What a facilitator writes arrives sealed to the case key (``models.py``); these functions store
it after the checks the server can make, each change under a lock: adding holds the case's row
shared (``cases/services.hold_current_epoch``: closing the case, or a facilitator leaving, waits
for it or is seen by it), and completing, moving or removing an item locks the case's row and
then the item's. Every change is audited with the record's id and the action, never with words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, String, literal_column, select
from sqlalchemy.orm import Session

from portal import local_time, paging
from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases import path
from portal.cases import policy as case_policy
from portal.cases import services as cases
from portal.cases.models import Case, CaseCondition, CaseFacilitator, HighRisk
from portal.casework import rules
from portal.casework.models import (
    AgreementItem,
    AgreementKind,
    CaseNote,
    RiskAssessment,
    RiskLevel,
)
from portal.db import lock_row, utcnow
from portal.errors import BadInput, Conflict, NotFound
from portal.settings import Settings

ASSESSED_TAGS = {
    RiskLevel.LOW: AuditTag.CASE_RISK_ASSESSED_LOW,
    RiskLevel.MEDIUM: AuditTag.CASE_RISK_ASSESSED_MEDIUM,
    RiskLevel.HIGH: AuditTag.CASE_RISK_ASSESSED_HIGH,
}
NOTES_PAGE = 20
ASSESSMENTS_SHOWN = 20
# Agreement follow-ups a page of the facilitator's full list shows (the home shows the soonest
# few: workspace/facilitator_home.FOLLOW_UPS_SHOWN).
FOLLOW_UPS_PAGE = 50


def _hold_open_case(db: Session, case: Case) -> None:
    """The case's row held shared to the end of the transaction, its key epoch current, and
    the case not closed."""
    cases.hold_current_epoch(db, case)
    if (why_not := rules.records_refusal(case.status)) is not None:
        raise Conflict(why_not)


def _new_id(db: Session, model: type[RiskAssessment | CaseNote | AgreementItem], id_: str) -> None:
    """The browser made the id (its sealed words' purpose names it): a second send of the same
    form is refused rather than stored twice."""
    if db.get(model, id_) is not None:
        raise Conflict("This was already saved. Please reload the page.")


@dataclass(frozen=True)
class AssessmentIn:
    id: str
    level: RiskLevel
    high_risk: HighRisk | None  # why, for a high level (the case's high-risk mark)
    answers: bytes  # sealed to the case key, purpose risk-assessment:<id>


def record_assessment(
    db: Session, settings: Settings, facilitator: Account, case: Case, given: AssessmentIn
) -> RiskAssessment:
    """A new assessment, superseding the last. Its level sets the case's high-risk mark (the
    one two-person approval reads): high marks it for the reason given, low or medium ends it."""
    if given.level is RiskLevel.HIGH and given.high_risk is None:
        raise BadInput("Choose why the risk is high.", field="high_risk")
    _new_id(db, RiskAssessment, given.id)
    # set_high_risk locks the case's row for update (and refuses a closed case) first.
    cases.set_high_risk(
        db, settings, facilitator, case, given.high_risk if given.level is RiskLevel.HIGH else None
    )
    _hold_open_case(db, case)
    assessment = RiskAssessment(
        id=given.id,
        case_id=case.id,
        level=given.level,
        answers=given.answers,
        assessed_by_id=facilitator.id,
        assessed_at=utcnow(),
    )
    db.add(assessment)
    db.flush()
    record(
        db, settings, ASSESSED_TAGS[given.level], actor_id=facilitator.id, subject_id=assessment.id
    )
    return assessment


def write_note(
    db: Session, settings: Settings, facilitator: Account, case: Case, note_id: str, text: bytes
) -> CaseNote:
    _hold_open_case(db, case)
    _new_id(db, CaseNote, note_id)
    note = CaseNote(
        id=note_id, case_id=case.id, text=text, written_by_id=facilitator.id, written_at=utcnow()
    )
    db.add(note)
    db.flush()
    record(db, settings, AuditTag.CASE_NOTE_WRITTEN, actor_id=facilitator.id, subject_id=note.id)
    return note


@dataclass(frozen=True)
class ItemIn:
    id: str
    kind: AgreementKind
    due_on: date
    description: bytes  # sealed to the case key, purpose agreement-item:<id>


def add_item(
    db: Session, settings: Settings, facilitator: Account, case: Case, given: ItemIn
) -> AgreementItem:
    if (why_not := rules.due_refusal(given.due_on, path.today())) is not None:
        raise BadInput(why_not, field="due_on")
    _hold_open_case(db, case)
    _new_id(db, AgreementItem, given.id)
    item = AgreementItem(
        id=given.id,
        case_id=case.id,
        kind=given.kind,
        due_on=given.due_on,
        completed_on=None,
        description=given.description,
        added_by_id=facilitator.id,
        added_at=utcnow(),
    )
    db.add(item)
    db.flush()
    record(db, settings, AuditTag.AGREEMENT_ITEM_ADDED, actor_id=facilitator.id, subject_id=item.id)
    return item


def item_in(db: Session, case: Case, item_id: str) -> AgreementItem:
    """An agreement item of this case that was not removed (404 otherwise)."""
    item = db.get(AgreementItem, item_id)
    if item is None or item.case_id != case.id or item.removed_at is not None:
        raise NotFound("That agreement item could not be found. Please reload the page.")
    return item


def _lock_item(db: Session, case: Case, item: AgreementItem, action: rules.ItemAction) -> None:
    """Case first, then item (always in this order: no deadlock between two changes)."""
    lock_row(db, case)
    lock_row(db, item)
    if item.removed_at is not None:
        raise NotFound("That agreement item was removed. Please reload the page.")
    why_not = rules.item_refusal(case.status, item.completed_on is not None, action)
    if why_not is not None:
        raise Conflict(why_not)


def complete_item(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    item: AgreementItem,
    completed_on: date | None,
) -> None:
    day = completed_on or path.today()
    if (why_not := rules.completed_refusal(day, path.today())) is not None:
        raise BadInput(why_not, field="completed_on")
    _lock_item(db, case, item, rules.ItemAction.COMPLETE)
    item.completed_on = day
    record(
        db, settings, AuditTag.AGREEMENT_ITEM_COMPLETED, actor_id=facilitator.id, subject_id=item.id
    )


def change_due(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    item: AgreementItem,
    due_on: date,
) -> None:
    """A new due day agreed for an item not completed; the day first agreed is kept beside it
    (rules.first_due_after_change). The home's and /follow-ups' lists follow the new day."""
    if (why_not := rules.due_refusal(due_on, path.today())) is not None:
        raise BadInput(why_not, field="due_on")
    _lock_item(db, case, item, rules.ItemAction.CHANGE_DUE)
    # Checked on the locked row: a colleague may have just moved it to this very day.
    if (why_not := rules.new_due_refusal(due_on, item.due_on, path.today())) is not None:
        raise BadInput(why_not, field="due_on")
    item.first_due_on = rules.first_due_after_change(item.first_due_on, item.due_on, due_on)
    item.due_on = due_on
    record(
        db,
        settings,
        AuditTag.AGREEMENT_ITEM_DUE_CHANGED,
        actor_id=facilitator.id,
        subject_id=item.id,
    )


def remove_item(
    db: Session, settings: Settings, facilitator: Account, case: Case, item: AgreementItem
) -> None:
    """Gone from every list; its row stays, without its words, for the audit trail."""
    _lock_item(db, case, item, rules.ItemAction.REMOVE)
    item.removed_at = utcnow()
    item.description = b""
    record(
        db, settings, AuditTag.AGREEMENT_ITEM_REMOVED, actor_id=facilitator.id, subject_id=item.id
    )


# ---- reading ---------------------------------------------------------------------------------


def assessments_of(db: Session, case: Case) -> Sequence[RiskAssessment]:
    """The latest assessments, newest first (the first is the one in force)."""
    return db.scalars(
        select(RiskAssessment)
        .where(RiskAssessment.case_id == case.id)
        .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id)
        .limit(ASSESSMENTS_SHOWN)
    ).all()


def notes_page(db: Session, case: Case, number: int) -> paging.Page[CaseNote]:
    """A page of the case's notes, newest first."""
    query = (
        select(CaseNote)
        .where(CaseNote.case_id == case.id)
        .order_by(CaseNote.written_at.desc(), CaseNote.id)
    )
    return paging.scalars_page(db, query, number, NOTES_PAGE)


def items_of(db: Session, case: Case) -> Sequence[AgreementItem]:
    """The case's agreement items not removed, by due day. A case agrees a handful at most."""
    return db.scalars(
        select(AgreementItem)
        .where(AgreementItem.case_id == case.id, AgreementItem.removed_at.is_(None))
        .order_by(AgreementItem.due_on, AgreementItem.added_at, AgreementItem.id)
    ).all()


def record_kinds(db: Session, case: Case) -> dict[str, str]:
    """Every record's id in the case (removed items too), with what the audit trail calls it."""
    rows = db.execute(
        select(RiskAssessment.id, literal_column("'Risk assessment'", String))
        .where(RiskAssessment.case_id == case.id)
        .union_all(
            select(CaseNote.id, literal_column("'Case note'", String)).where(
                CaseNote.case_id == case.id
            ),
            select(AgreementItem.id, literal_column("'Agreement item'", String)).where(
                AgreementItem.case_id == case.id
            ),
        )
    )
    return {record_id: kind for record_id, kind in rows}


@dataclass(frozen=True)
class FollowUp:
    """An agreement item due by ``rules.follow_up_by`` (a week from today), or overdue, and not
    completed, of an open case."""

    case_id: str
    reference: str
    item_id: str
    kind: AgreementKind
    due_on: date
    overdue: bool

    @property
    def due_text(self) -> str:
        return local_time.calendar_day(self.due_on)

    @classmethod
    def of(
        cls,
        case_id: str,
        reference: str,
        item_id: str,
        kind: AgreementKind,
        due_on: date,
        today: date,
    ) -> FollowUp:
        """From :func:`follow_ups_query`'s row, as of ``today``."""
        return cls(case_id, reference, item_id, kind, due_on, due_on < today)


def follow_ups_query(
    facilitator_id: Any, follow_up_by: Any
) -> Select[str, str, str, AgreementKind, date]:
    """(case id, reference, item id, kind, due day) of every agreement item to follow up in
    ``facilitator_id``'s cases (an account id or a bound parameter), due by ``follow_up_by``
    (overdue ones too) and not completed or removed, the soonest due first. Open cases only (a
    closed case's items are locked); through the facilitator's own cases
    (ix_agreement_items_case). The facilitator's home shows the first few of it (in its one
    statement), the follow-ups page all of it, a page at a time."""
    return (
        select(
            AgreementItem.case_id,
            Case.reference,
            AgreementItem.id,
            AgreementItem.kind,
            AgreementItem.due_on,
        )
        .join(Case, Case.id == AgreementItem.case_id)
        .join(CaseFacilitator, case_policy.facilitated_by(AgreementItem.case_id, facilitator_id))
        .where(
            AgreementItem.completed_on.is_(None),
            AgreementItem.removed_at.is_(None),
            AgreementItem.due_on <= follow_up_by,
            Case.status != literal_column(f"'{CaseCondition.CLOSED.value}'", String),
        )
        .order_by(AgreementItem.due_on, AgreementItem.id)
    )


def follow_ups_page(db: Session, account: Account, number: int) -> paging.Page[FollowUp]:
    """A page of everything ``account`` has to follow up (:func:`follow_ups_query`) today."""
    today = path.today()
    query = follow_ups_query(account.id, rules.follow_up_by(today))
    page = paging.rows_page(db, query, number, FOLLOW_UPS_PAGE)
    return page.map(lambda row: FollowUp.of(row[0], row[1], row[2], row[3], row[4], today))
