"""A facilitator enters a letter for a participant who cannot use the portal (messages/entered.py),
and prints for them what was released to them (messages/paper.py). Thin: authorise
(cases.policy, messages.policy), parse (schemas), one service, answer.

The page renders whom it can go to and how the participant's confirmation is recorded, or why
nothing can be entered for them now; the browser seals the letter to the case key and the
facilitator's note on the confirmation with it (static/js/pages/enter.js)."""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.responses import JSONResponse, Response

from portal import local_time, protocol
from portal.accounts.models import Role
from portal.cases import policy as case_policy
from portal.cases.models import Case, Participant
from portal.cases.services import standing_of
from portal.cases.states import ParticipantAction, participant_refusal
from portal.db import utcnow
from portal.errors import Conflict, NotFound
from portal.messages import composing, entered, labels, paper, schemas, services
from portal.messages import policy as message_policy
from portal.messages.entered import OLDEST_CONFIRMATION, ConfirmedHow
from portal.messages.models import Message
from portal.web import Ctx, endpoint

FACILITATOR = frozenset({Role.FACILITATOR})


def _for(ctx: Ctx) -> tuple[Case, Participant]:
    """The case (one I facilitate) and the participant of it the message is entered for."""
    case = case_policy.facilitated_case(
        ctx.db, ctx.require_account(), ctx.request.path_params["case_id"]
    )
    participant = case_policy.participant_in_case(
        ctx.db, case, str(ctx.request.path_params["participant_id"])[:36]
    )
    return case, participant


def why_cannot_enter(
    case: Case, author: Participant, recipients: tuple[composing.Recipient, ...]
) -> str | None:
    """The sentence the page shows instead of the form, or None when it can be entered now."""
    refusal = participant_refusal(case.status, standing_of(author), ParticipantAction.ENTER_FOR)
    if refusal is not None:
        return refusal
    why_not = services.why_cannot_write(case, author)
    if why_not is not None:
        # Said to the participant themselves elsewhere; here the facilitator reads it.
        return (
            "Record their consent and the formats they agreed to on the case page first."
            if not author.has_consented or not author.accepted_formats
            else "This case is paused, so nothing can be sent for now."
        )
    if not any(r.formats for r in recipients):
        return "Nobody on the other side can receive anything from them at the moment."
    return None


def common_formats(recipients: list[composing.Recipient]) -> tuple[str, ...]:
    """What the page offers before a recipient is chosen: the formats every one of them can
    receive (the chosen recipient's own formats replace them once one is chosen)."""
    if not recipients:
        return ()
    shared = set(recipients[0].formats).intersection(*(r.formats for r in recipients[1:]))
    return tuple(sorted(shared))


def _render_enter(
    ctx: Ctx,
    case: Case,
    author: Participant,
    recipients: tuple[composing.Recipient, ...],
    revising: dict[str, Any] | None = None,
) -> Response:
    today = local_time.local(utcnow()).date()
    # Everyone they can send anything to: a letter, scanned pages, or a recording where both
    # agreed to one (the browser offers only those formats, from data-formats).
    receiving = [r for r in recipients if r.formats]
    return ctx.render(
        "cases/enter.html",
        case=case,
        author={
            "id": author.id,
            "side_lower": author.side.label.lower(),
            "sealed_name": protocol.b64encode(author.display_name),
        },
        recipients=receiving,
        formats=common_formats(receiving),
        max_message_bytes=ctx.settings.max_message_bytes,
        why_not=why_cannot_enter(case, author, recipients),
        choices=[(how.value, how.label) for how in ConfirmedHow],
        today=today.isoformat(),
        earliest=(today - OLDEST_CONFIRMATION).isoformat(),
        revising=revising,
    )


@endpoint(roles=FACILITATOR)
def enter_page(ctx: Ctx) -> Response:
    case, author = _for(ctx)
    recipients = composing.recipient_choices(author, services.recipients_for(ctx.db, author))
    return _render_enter(ctx, case, author, recipients)


@endpoint(roles=FACILITATOR)
def api_new_entered_object(ctx: Ctx) -> Response:
    case, author = _for(ctx)
    obj = services.new_entered_object(ctx.db, ctx.require_account(), case, author)
    return JSONResponse({"object_id": obj.id})


@endpoint(roles=FACILITATOR)
def api_enter(ctx: Ctx) -> Response:
    case, author = _for(ctx)
    letter = schemas.letter(ctx.fields, new=True)
    confirmation = schemas.confirmation(ctx.fields)
    entered = services.enter(
        ctx.db,
        ctx.settings,
        ctx.state.blobs,
        ctx.require_account(),
        case,
        author,
        letter,
        confirmation,
    )
    blobs = ctx.state.blobs
    for key in entered.leftovers:
        ctx.after_commit(partial(blobs.delete_chunk, key))
    message_id = entered.message.id
    return ctx.navigate(ctx.url_for("review_page", message_id=message_id), message_id=message_id)


# ------------------------------------------------------------------ revised for them


def _entered_message(ctx: Ctx) -> tuple[Message, Case]:
    return message_policy.message_for_facilitator(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )


@endpoint(roles=FACILITATOR)
def revise_page(ctx: Ctx) -> Response:
    """The enter page for the next version of a returned one: the same recipient, the feedback
    and the words as they were (opened in the browser with the case key), and a fresh
    confirmation. Anything else goes back to its review page."""
    message, case = _entered_message(ctx)
    if message.entered_by_id is None or message.author.account_id is not None:
        raise NotFound
    if not paper.may_revise_for_them(message):
        return ctx.redirect("review_page", params={"message_id": message.id})
    author = message.author
    recipients = composing.recipient_choices(author, [message.recipient])
    revising = {
        "id": message.id,
        "noun": labels.format_noun(message.format, pages=message.page_count),
        "returned_on": local_time.local(message.state_changed_at).date().isoformat(),
        "has_feedback": message.feedback_object_id is not None,
    }
    return _render_enter(ctx, case, author, recipients, revising)


@endpoint(roles=FACILITATOR)
def api_take_up_revision(ctx: Ctx) -> Response:
    message, _case = _entered_message(ctx)
    object_id, version = paper.take_up_revision(ctx.db, ctx.require_account(), message)
    return JSONResponse({"object_id": object_id, "version": version})


@endpoint(roles=FACILITATOR)
def api_revise_for_them(ctx: Ctx) -> Response:
    message, _case = _entered_message(ctx)
    letter = schemas.letter(ctx.fields, new=False)
    confirmation = schemas.confirmation(ctx.fields)
    revised = paper.revise_for_them(
        ctx.db,
        ctx.settings,
        ctx.state.blobs,
        ctx.require_account(),
        message,
        letter,
        confirmation,
    )
    blobs = ctx.state.blobs
    for key in revised.leftovers:
        ctx.after_commit(partial(blobs.delete_chunk, key))
    return ctx.navigate(
        ctx.url_for("review_page", message_id=message.id), state=message.state.value
    )


# ------------------------------------------------------------------ released to them on paper


def _released_on_paper(ctx: Ctx) -> tuple[Message, Case]:
    message, case = message_policy.message_for_facilitator(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    paper.require_on_paper(message)
    return message, case


@endpoint(roles=FACILITATOR)
def print_page(ctx: Ctx) -> Response:
    """The frame of the printed letter: the browser opens the letter with the case key and
    places it in; the print stylesheet leaves out everything of the portal around it."""
    message, case = message_policy.message_for_facilitator(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    try:
        paper.require_on_paper(message)
        why_not = None
    except Conflict as refused:
        why_not = refused.message
    return ctx.render(
        "queue/print.html",
        message=message,
        case=case,
        why_not=why_not,
        author_side=message.author.side.label.lower(),
        recipient={
            "id": message.recipient.id,
            "sealed_name": protocol.b64encode(message.recipient.display_name),
            "side_lower": message.recipient.side.label.lower(),
        },
        released_on=entered.day_text(local_time.local(message.state_changed_at).date()),
    )


@endpoint(roles=FACILITATOR)
def api_printed(ctx: Ctx) -> Response:
    message, _case = _released_on_paper(ctx)
    paper.printed(ctx.db, ctx.settings, ctx.require_account(), message)
    return JSONResponse({"ok": True})


@endpoint(roles=FACILITATOR)
def api_withdraw_for_them(ctx: Ctx) -> Response:
    """They asked for their letter back: the review page shows its new state."""
    message, _case = message_policy.message_for_facilitator(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    paper.withdraw_for_them(ctx.db, ctx.settings, ctx.require_account(), message)
    return ctx.navigate(
        ctx.url_for("review_page", message_id=message.id), state=message.state.value
    )
