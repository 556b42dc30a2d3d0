"""The case page's records (portal/casework; templates/cases/_risk.html, _notes.html,
_agreement.html, _outcome.html): what they show, and their endpoints. Thin: parse, authorise
(``casework/policy.py``), one service, answer: htmx gets the section again, a JSON client JSON.

Sealed words travel as base64 ciphertext, sealed in the facilitator's browser to the case key
(static/js/client/casework.js); their inputs have no name, so the words never leave in clear.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from portal import local_time, protocol
from portal.accounts.models import Account, Role
from portal.cases import path
from portal.cases.models import Case, CaseCondition, HighRisk
from portal.casework import outcome, policy, rules, services
from portal.casework.models import AgreementItem, AgreementKind, RiskAssessment, RiskLevel
from portal.errors import BadInput
from portal.paging import Page, page_number
from portal.web import Ctx, endpoint
from portal.workspace.case_page import case_view

FACILITATOR = frozenset({Role.FACILITATOR})
LEVELS = {level.value: level for level in RiskLevel}
HIGH_RISK_REASONS = {reason.value: reason for reason in HighRisk}
AGREEMENT_KINDS = {kind.value: kind for kind in AgreementKind}
# Ciphertext sizes: the browser limits what is typed (characters); these bound the bytes of
# its sealing (4 bytes a character at most, JSON around the answers, nonce and tag).
MAX_ANSWERS = 64 * 1024
MAX_NOTE = 40 * 1024
MAX_DESCRIPTION = 8 * 1024


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class AssessmentView:
    id: str
    level: str
    level_label: str
    on: str  # "3 March 2027"
    by: str
    sealed: str  # base64url ciphertext of the answers


@dataclass(frozen=True)
class NoteView:
    id: str
    at: datetime
    by: str
    sealed: str


@dataclass(frozen=True)
class ItemView:
    id: str
    kind_label: str
    due_on: str
    due_iso: str  # the date input's value when a new due day is agreed
    first_due_on: str  # the day first agreed, "" when never moved
    completed_on: str  # "" while not completed
    overdue: bool
    sealed: str


def _names(db: Session, ids: Iterable[str]) -> dict[str, str]:
    """Staff sign-in names (staff know each other by them) in one statement."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.execute(select(Account.id, Account.sign_in_name).where(Account.id.in_(wanted)))
    return {account_id: name for account_id, name in rows}


def _assessment(row: RiskAssessment, names: dict[str, str]) -> AssessmentView:
    return AssessmentView(
        row.id,
        row.level.value,
        row.level.label,
        local_time.day(row.assessed_at),
        names.get(row.assessed_by_id, ""),
        protocol.b64encode(row.answers),
    )


def risk_context(db: Session, case: Case) -> dict[str, Any]:
    rows = services.assessments_of(db, case)
    names = _names(db, (row.assessed_by_id for row in rows))
    shown = [_assessment(row, names) for row in rows]
    return {
        "risk": {
            "latest": shown[0] if shown else None,
            "earlier": shown[1:],
            "levels": [Choice(level.value, level.label) for level in RiskLevel],
            "reasons": [Choice(reason.value, reason.label) for reason in HighRisk],
            "open": case.status is not CaseCondition.CLOSED,
        }
    }


def notes_context(db: Session, case: Case, number: int = 1) -> dict[str, Any]:
    page = services.notes_page(db, case, number)
    names = _names(db, (note.written_by_id for note in page.items))
    notes: Page[NoteView] = page.map(
        lambda note: NoteView(
            note.id,
            note.written_at,
            names.get(note.written_by_id, ""),
            protocol.b64encode(note.text),
        )
    )
    return {"notes": notes, "notes_open": case.status is not CaseCondition.CLOSED}


def _item(item: AgreementItem, today: date) -> ItemView:
    return ItemView(
        item.id,
        item.kind.label,
        local_time.calendar_day(item.due_on),
        item.due_on.isoformat(),
        local_time.calendar_day(item.first_due_on) if item.first_due_on else "",
        local_time.calendar_day(item.completed_on) if item.completed_on else "",
        rules.is_overdue(item.due_on, item.completed_on, today),
        protocol.b64encode(item.description),
    )


def agreement_context(db: Session, case: Case) -> dict[str, Any]:
    today = path.today()
    return {
        "agreement": {
            "listed": [_item(item, today) for item in services.items_of(db, case)],
            "kinds": [Choice(kind.value, kind.label) for kind in AgreementKind],
            "open": case.status is not CaseCondition.CLOSED,
            "today": today.isoformat(),
        }
    }


def case_records(db: Session, case: Case, notes_page: int = 1) -> dict[str, Any]:
    """Everything the case page shows of the case's records (its facilitators only: the case
    page's own policy already decided)."""
    shown_outcome = case.stage in outcome.SHOWN_AT
    return {
        **risk_context(db, case),
        **notes_context(db, case, notes_page),
        **agreement_context(db, case),
        "exchanged": outcome.exchanged_in(db, case) if shown_outcome else None,
    }


def _case(ctx: Ctx) -> Case:
    return policy.records_case(ctx.db, ctx.require_account(), ctx.request.path_params["case_id"])


# ---- endpoints ---------------------------------------------------------------------------------


@endpoint(roles=FACILITATOR)
def api_risk_assessment(ctx: Ctx) -> Response:
    """A new risk assessment: its level in clear (high marks the case high-risk), its answers
    sealed."""
    case = _case(ctx)
    f = ctx.fields
    level: RiskLevel = f.choice("level", LEVELS)
    reason = (
        f.choice("high_risk", HIGH_RISK_REASONS)
        if level is RiskLevel.HIGH and f.raw("high_risk")
        else None
    )
    given = services.AssessmentIn(
        id=f.uuid4("assessment_id"),
        level=level,
        high_risk=reason,
        answers=f.binary("answers", max_length=MAX_ANSWERS),
    )
    assessment = services.record_assessment(
        ctx.db, ctx.settings, ctx.require_account(), case, given
    )
    if not ctx.is_htmx:
        return JSONResponse({"assessment_id": assessment.id, "level": assessment.level.value})
    return ctx.partial(
        "cases/_risk_changed.html", changed=True, case=case_view(case), **risk_context(ctx.db, case)
    )


@endpoint(roles=FACILITATOR)
def case_notes(ctx: Ctx) -> Response:
    """A page of the case's notes (?page=N), newest first: the notes section for htmx (the
    pager's links swap it); without htmx, the case page at that page of notes."""
    case = _case(ctx)
    number = page_number(ctx.query("page"))
    if ctx.is_htmx:
        return ctx.partial(
            "cases/_notes.html", case=case_view(case), **notes_context(ctx.db, case, number)
        )
    return ctx.redirect("case_page", params={"case_id": case.id}, notes=str(number))


@endpoint(roles=FACILITATOR)
def api_case_note(ctx: Ctx) -> Response:
    """A new note in the case's log, its words sealed."""
    case = _case(ctx)
    f = ctx.fields
    note = services.write_note(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        f.uuid4("note_id"),
        f.binary("text", max_length=MAX_NOTE),
    )
    if not ctx.is_htmx:
        return JSONResponse({"note_id": note.id})
    return ctx.partial(
        "cases/_notes_changed.html",
        changed=True,
        case=case_view(case),
        **notes_context(ctx.db, case),
    )


def _agreement_changed(ctx: Ctx, case: Case, said: str, **payload: Any) -> Response:
    if not ctx.is_htmx:
        return JSONResponse(payload)
    return ctx.partial(
        "cases/_agreement_changed.html",
        changed=True,
        said_text=said,
        case=case_view(case),
        **agreement_context(ctx.db, case),
    )


@endpoint(roles=FACILITATOR)
def api_agreement_item(ctx: Ctx) -> Response:
    """A new agreement item: its kind and due day in clear, its description sealed."""
    case = _case(ctx)
    f = ctx.fields
    kind: AgreementKind = f.choice("kind", AGREEMENT_KINDS)
    due_on = f.optional_day("due_on")
    if due_on is None:
        raise BadInput("Enter the day it is due.", field="due_on")
    given = services.ItemIn(
        id=f.uuid4("item_id"),
        kind=kind,
        due_on=due_on,
        description=f.binary("description", max_length=MAX_DESCRIPTION),
    )
    item = services.add_item(ctx.db, ctx.settings, ctx.require_account(), case, given)
    return _agreement_changed(
        ctx,
        case,
        f"Added: {kind.label.lower()}, due {local_time.calendar_day(due_on)}.",
        item_id=item.id,
    )


@endpoint(roles=FACILITATOR)
def api_agreement_item_completed(ctx: Ctx) -> Response:
    """Mark an item completed, on a day (today when none)."""
    case = _case(ctx)
    item = services.item_in(ctx.db, case, ctx.request.path_params["item_id"])
    completed_on = ctx.fields.optional_day("completed_on")
    services.complete_item(ctx.db, ctx.settings, ctx.require_account(), case, item, completed_on)
    day = item.completed_on or path.today()  # complete_item has just set it
    return _agreement_changed(
        ctx,
        case,
        f"Marked completed on {local_time.calendar_day(day)}.",
        item_id=item.id,
        completed_on=day.isoformat(),
    )


@endpoint(roles=FACILITATOR)
def api_agreement_item_due(ctx: Ctx) -> Response:
    """A new due day agreed for an item not completed."""
    case = _case(ctx)
    item = services.item_in(ctx.db, case, ctx.request.path_params["item_id"])
    due_on = ctx.fields.optional_day("due_on")
    if due_on is None:
        raise BadInput("Enter the new day it is due.", field="due_on")
    services.change_due(ctx.db, ctx.settings, ctx.require_account(), case, item, due_on)
    first = item.first_due_on
    return _agreement_changed(
        ctx,
        case,
        f"The new due date is {local_time.calendar_day(due_on)}.",
        item_id=item.id,
        due_on=due_on.isoformat(),
        first_due_on=first.isoformat() if first else None,
    )


@endpoint(roles=FACILITATOR)
def api_agreement_item_remove(ctx: Ctx) -> Response:
    case = _case(ctx)
    item = services.item_in(ctx.db, case, ctx.request.path_params["item_id"])
    services.remove_item(ctx.db, ctx.settings, ctx.require_account(), case, item)
    return _agreement_changed(
        ctx, case, "The agreement item was removed.", item_id=item.id, removed=True
    )
