"""Facilitator endpoints: the review queue, the review page and its decisions. Thin: parse
(schemas), authorise (messages.policy, cases.policy), one service, answer.

The pages render only the actions ``states.review_actions`` allows now; each is an htmx form
posting to the JSON endpoint below it, which answers htmx with a partial or ``ctx.navigate``
and every other client with JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response

from portal import protocol
from portal.accounts.models import Account, Role
from portal.cases import policy as case_policy
from portal.cases import supporters
from portal.cases.models import Case, CaseCondition, Format, Participant
from portal.content import services as content
from portal.content.models import ContentKind, GrantPurpose
from portal.db import required
from portal.messages import entered, labels, paper, regrants, schemas, services
from portal.messages import policy as message_policy
from portal.messages.models import Message
from portal.messages.responses import b64, deleted_json, note_json, sealed_json
from portal.messages.states import (
    QUEUE_FILTERS,
    Action,
    Approvals,
    ClaimHolder,
    MessageState,
    review_actions,
)
from portal.paging import page_number
from portal.web import Ctx, endpoint

FACILITATOR = frozenset({Role.FACILITATOR})
DECISIONS = frozenset({Action.APPROVE, Action.APPROVE_ONCE, Action.RETURN, Action.WITHHOLD})


def _facilitated(ctx: Ctx) -> tuple[Message, Case]:
    return message_policy.message_for_facilitator(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )


def _decided(ctx: Ctx, message: Message) -> Response:
    return ctx.navigate(ctx.url_for("queue_page"), state=message.state.value)


# ---------------------------------------------------------------------------------- the queue


@endpoint(roles=FACILITATOR)
def queue_page(ctx: Ctx) -> Response:
    """The queue; an htmx request (the filter form) gets the list alone."""
    me = ctx.require_account()
    # The case filter offers a few cases (those waiting longest) and the one asked for, if it
    # is one of mine: one statement, however many cases I have.
    choices = services.queue_case_choices(ctx.db, me, ctx.query("case") or None)
    case_filter = ctx.query("case") if ctx.query("case") in {c.id for c in choices.cases} else None
    format_filter = (
        ctx.query("format") if ctx.query("format") in Format._value2member_map_ else None
    )
    state_filter = ctx.query("state") or "waiting"
    if state_filter not in QUEUE_FILTERS:
        state_filter = "waiting"
    items = services.review_queue(
        ctx.db,
        me,
        case_id=case_filter,
        states=QUEUE_FILTERS[state_filter],
        format_=Format(format_filter) if format_filter else None,
        page=page_number(ctx.query("page")),
    )
    # Each row's links differ only by the message's id: the router builds them once.
    review_link = ctx.url_for("review_page", message_id=_ID)
    claim_link = ctx.url_for("api_claim", message_id=_ID)
    rows = items.map(lambda item: _queue_row(item, me.id, review_link, claim_link))
    filters = {"case": case_filter or "", "format": format_filter or "", "state": state_filter}
    context: dict[str, Any] = {
        "items": rows,
        "filters": filters,
        "page_link": _page_link(ctx, filters),
    }
    if ctx.is_htmx:
        return ctx.partial("queue/_queue_items.html", swapped=True, **context)
    # Whoever waits for my browser to hand over a case key is a task like a letter waiting.
    handovers = case_policy.awaiting_case_key(ctx.db, me)
    return ctx.render(
        "queue/list.html",
        choices=choices,
        handovers=handovers,
        regrants=regrants.waiting_for(ctx.db, me),
        to_print=paper.to_print(ctx.db, me),
        declines=services.declines_to_tell(ctx.db, facilitator_id=me.id),
        # A case waiting for its next key epoch: nobody in it can send until my browser makes it.
        new_case_keys=case_policy.needing_new_key(ctx.db, me),
        **context,
    )


def _page_link(ctx: Ctx, filters: dict[str, str]) -> str:
    """The queue's address with these filters, ending in ``page=`` for the pager to complete."""
    kept = urlencode({name: value for name, value in filters.items() if value})
    return f"{ctx.url_for('queue_page')}?{kept + '&' if kept else ''}page="


# Stands for a message's id in a link built once for a whole page: upper case, which no route's
# own path has, and ids (db.new_id: UUIDs) need no escaping in a path.
_ID = "MESSAGE-ID"


@dataclass(frozen=True, slots=True)
class QueueRow:
    """What queue/_queue_items.html shows of an item (attributes, not a dict: the template
    reads eight of them per row, and Jinja tries an attribute before a key)."""

    id: str
    case_reference: str
    format_label: str
    about: str  # " the video recording in case C-1234", for the action's hidden label
    age_text: str
    state_label: str
    claimed_by_name: str | None
    claimed_by_me: bool
    action: str  # "claim", "second", "continue" or "view"
    link: str  # where the action goes: the claim's endpoint, or the review page
    # "Entered by sam.jones for the person responsible" (messages/entered.py), or None.
    entered_label: str | None = None


def _queue_row(item: services.QueueItem, me: str, review_link: str, claim_link: str) -> QueueRow:
    claim = services.claim_holder_of(item.claimed_by_id, me)
    # Whether the case is high-risk changes no row's action (a reviewer continues either way;
    # a second approval is offered to all but the first approver), so it is not read here.
    approvals = Approvals(first_approver=item.first_approved_by_id == me)
    actions = review_actions(item.state, item.case_status, claim, approvals)
    mine = item.state is MessageState.IN_REVIEW and claim is ClaimHolder.ME
    if Action.CLAIM in actions:
        action = "claim"
    elif item.state is MessageState.APPROVED_ONCE and Action.APPROVE in actions:
        action = "second"
    elif mine:
        action = "continue"
    else:
        action = "view"
    format_label = item.format.label
    return QueueRow(
        id=item.id,
        case_reference=item.case_reference,
        format_label=format_label,
        about=f" the {format_label.lower()} in case {item.case_reference}",
        age_text=labels.age_text(item.submitted_at),
        state_label=labels.FOR_STAFF[item.state],
        claimed_by_name=item.claimed_by_name,
        claimed_by_me=mine,
        action=action,
        link=(claim_link if action == "claim" else review_link).replace(_ID, item.id),
        entered_label=_entered_label(item, me),
    )


def _entered_label(item: services.QueueItem, me: str) -> str | None:
    """The review page's label for something entered for a participant without access."""
    if item.entered_by_id is None or item.author_side is None:
        return None
    by = "you" if item.entered_by_id == me else item.entered_by_name or "a facilitator"
    return entered.staff_label(by, item.author_side.label.lower())


# ----------------------------------------------------------------------------- the review page


@endpoint(roles=FACILITATOR)
def review_page(ctx: Ctx) -> Response:
    message, case = _facilitated(ctx)
    return ctx.render("queue/review.html", **_review_context(ctx, message, case))


def _review_context(ctx: Ctx, message: Message, case: Case) -> dict[str, Any]:
    """What the review page and its decision partial render: the facts, the sealed pieces as
    placeholders, and the actions allowed now."""
    summary = services.review_summary(ctx.db, ctx.require_account(), message)
    # Sentences about the content say "letter", or "message" when it holds recordings, pages
    # or files; headings name what it is (labels.message_noun).
    item = "message" if summary.has_parts else "letter"
    state_label = labels.FOR_STAFF[message.state]
    if message.state is MessageState.IN_REVIEW:
        reviewer = "you" if summary.claim is ClaimHolder.ME else "another facilitator"
        state_label = f"Being reviewed by {reviewer}"
    if message.state is MessageState.APPROVED_ONCE:
        first = "you" if summary.approvals.first_approver else summary.first_approver_name
        state_label = f"Approved once by {first}: waiting for a second approval"
    return {
        "message": message,
        "case": case,
        "noun": labels.message_noun(message.format, pages=message.page_count),
        "item": item,
        "format_nouns": labels.format_nouns(),
        "state_label": state_label,
        "author": _person(message.author),
        "on_behalf": labels.written_for(message, labels.Reader.STAFF),
        "recipient": _person(message.recipient),
        "summary": summary,
        "actions": {action.value for action in summary.actions},
        "decides": bool(summary.actions & DECISIONS),
        "no_decision": _why_no_decision(message, case, summary, item),
        "entered": _entered(ctx, message),
        "withdraw_for_them": paper.may_withdraw_for_them(message),
        "revise_for_them": paper.may_revise_for_them(message),
        "writer_key_changed_on": _writer_key_changed_on(ctx, message),
        # Declined: its writer hears of it from a facilitator first (labels.author_state).
        "decline_to_tell": message.state is MessageState.DECLINED
        and message.decline_told_at is None,
        "decline_told_at": message.decline_told_at,
    }


def _writer_key_changed_on(ctx: Ctx, message: Message) -> datetime | None:
    """When its writer was given a new key pair, if this version was sealed with their earlier
    one (its grant to the case key keeps the key of its day): the page then says so, rather
    than calling the key nobody's. None otherwise (and for what a facilitator entered)."""
    if message.entered_by_id is not None or message.content_deleted_at is not None:
        return None
    writer = message.written_by.account if message.written_by else message.author.account
    if writer is None:
        return None
    grant = content.grant_for(ctx.db, message.object_id, message.version, GrantPurpose.CASE)
    if grant is None or grant.sender_id != writer.id or grant.sender_box_key == writer.public_key:
        return None
    return writer.keys_changed_at


def _entered(ctx: Ctx, message: Message) -> dict[str, Any] | None:
    """Who entered it for its author, how and when the author confirmed it, and whether the
    facilitator looking at it is the one who entered it (shown plainly: approving what one
    entered oneself is allowed, but nobody should do it without noticing)."""
    if message.entered_by_id is None or message.entered_how is None:
        return None
    by = ctx.db.get(Account, message.entered_by_id)
    mine = message.entered_by_id == ctx.require_account().id
    side_lower = message.author.side.label.lower()
    return {
        "label": entered.staff_label(
            "you" if mine else by.sign_in_name if by else "a facilitator", side_lower
        ),
        "mine": mine,
        "how": message.entered_how.label,
        "on": entered.day_text(message.entered_confirmed_on)
        if message.entered_confirmed_on
        else "",
        "sealed_note": protocol.b64encode(message.entered_note) if message.entered_note else None,
    }


def _writer_json(message: Message) -> dict[str, Any] | None:
    """The supporter or representative who wrote ``message`` for its author, or None."""
    place = message.written_by
    if place is None:
        return None
    account = place.account
    return {
        "supporter_id": place.id,
        "kind": place.kind.value,
        "account_id": place.account_id,
        "public_key": b64(account.public_key) if account else None,
        "verified_public_key": b64(place.verified_public_key)
        if place.verified_public_key
        else None,
    }


def _person(participant: Participant) -> dict[str, str]:
    """A participant as a name placeholder: the name is sealed to the case key, so the page
    shows the side until the browser opens it."""
    side = participant.side.label
    return {
        "id": participant.id,
        "sealed_name": protocol.b64encode(participant.display_name),
        "side": side,
        "side_lower": side.lower(),
    }


def _why_no_decision(
    message: Message, case: Case, summary: services.ReviewSummary, item: str
) -> str:
    """The sentence the page shows when this facilitator has nothing to do here now."""
    state = message.state
    if state is MessageState.APPROVED_ONCE and summary.approvals.first_approver:
        return (
            f"You gave the first approval. This case is high-risk, so another facilitator of "
            f"the case must approve this {item} too before it can be offered to the recipient."
        )
    if state is MessageState.IN_REVIEW and summary.claim is not ClaimHolder.ME:
        return (
            f"Another facilitator is reviewing this {item}. Only they can decide on it, unless "
            "they stop reviewing it."
        )
    if state is MessageState.SUBMITTED and case.status is CaseCondition.PAUSED:
        return "This case is paused, so letters cannot be reviewed until it is resumed."
    if state is MessageState.SUBMITTED and case.status is CaseCondition.CLOSED:
        return "This case is closed, so letters in it can no longer be reviewed."
    if state in {MessageState.IN_REVIEW, MessageState.HELD}:
        if case.status is CaseCondition.PAUSED:
            return f"This case is paused, so this {item} cannot move on until it is resumed."
        if case.status is CaseCondition.CLOSED:
            return f"This case is closed, so this {item} can no longer move on."
    label = labels.FOR_STAFF[state]
    return f"This {item} is no longer waiting for review: {label[0].lower()}{label[1:]}."


# ----------------------------------------------------------------------------------------- JSON


@endpoint(roles=FACILITATOR)
def api_new_object(ctx: Ctx) -> Response:
    me = ctx.require_account()
    case = case_policy.facilitated_case(ctx.db, me, ctx.request.path_params["case_id"])
    kind = schemas.note_kind(ctx.fields)
    obj = services.new_note_object(ctx.db, me, case, kind)
    return JSONResponse({"object_id": obj.id})


@endpoint(roles=FACILITATOR)
def api_claim(ctx: Ctx) -> Response:
    """Start reviewing; the review page comes next (it offers the decisions now)."""
    message, _case = _facilitated(ctx)
    services.claim(ctx.db, ctx.settings, ctx.require_account(), message)
    return ctx.navigate(
        ctx.url_for("review_page", message_id=message.id), state=message.state.value
    )


@endpoint(roles=FACILITATOR)
def api_release(ctx: Ctx) -> Response:
    message, _case = _facilitated(ctx)
    services.release_claim(ctx.db, ctx.settings, ctx.require_account(), message)
    return _decided(ctx, message)


@endpoint(roles=FACILITATOR)
def api_review(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, case = _facilitated(ctx)
    if message.content_deleted_at is not None:
        return JSONResponse(deleted_json(message) | {"case_id": case.id})
    review = services.for_review(ctx.db, me, message)
    recipient = message.recipient
    # Their own account, or the representative's who holds the side of someone without one.
    receiver = services.receiver_of(ctx.db, recipient)
    recipient_account = receiver.account if receiver else None
    holder = receiver.holder if receiver else None
    return JSONResponse(
        {
            "message_id": message.id,
            "case_id": case.id,
            "state": message.state.value,
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "submitted_at": message.submitted_at.isoformat(),
            **sealed_json(review.letter.sealed),
            "grant": b64(review.letter.grant.grant),
            "author_account_id": review.author_account.id,
            "author_public_key": b64(_author_key(review)),
            # Sealed with the writer's earlier key, before they were given a new key pair.
            "author_key_earlier": _author_key(review) != review.author_account.public_key,
            # Their key now: feedback goes to it only from a browser that compared it in person.
            "writer_public_key": b64(review.author_account.public_key),
            "author_participant_id": message.author.id,
            # Written on the author's behalf: by whom (client/review.js checks their key).
            "written_by": _writer_json(message),
            # Entered by a facilitator for an author without access: then the facilitator
            # sealed it (author_account_id), and the browser checks them against the trust log.
            "entered": {
                "by_account_id": message.entered_by_id,
                "how": message.entered_how.value if message.entered_how else None,
                "confirmed_on": message.entered_confirmed_on.isoformat()
                if message.entered_confirmed_on
                else None,
                "note": b64(message.entered_note) if message.entered_note else None,
            }
            if message.entered_by_id
            else None,
            "claimed_by_me": message.claimed_by_id == me.id
            and message.state is MessageState.IN_REVIEW,
            # What this facilitator can do now (states.review_actions).
            "actions": sorted(action.value for action in review.actions),
            "recipient": {
                "participant_id": recipient.id,
                "side_label": recipient.side.label,
                "public_key": b64(recipient_account.public_key) if recipient_account else None,
                "account_id": recipient_account.id if recipient_account else None,
                "verified_public_key": b64(receiver.verified_public_key)
                if receiver and receiver.verified_public_key
                else None,
                "key_verified_at": recipient.key_verified_at.isoformat()
                if recipient.key_verified_at and holder is None
                else None,
                "withdrawn": recipient.withdrawn_at is not None,
                # No access: released on paper, printed by the case's facilitators; or to the
                # representative who holds their side (pinned as a supporter is).
                "on_paper": receiver is None,
                "held_by": {"supporter_id": holder.id, "kind": holder.kind.value}
                if holder
                else None,
            },
            # Who may read for the recipient: the approving browser grants to each whose key
            # this facilitator compared in person (client/review.js sealApproval).
            "readers": [
                {
                    "supporter_id": s.id,
                    "kind": s.kind.value,
                    "account_id": s.account_id,
                    "public_key": b64(s.account.public_key) if s.account else None,
                    "verified_public_key": b64(s.verified_public_key)
                    if s.verified_public_key
                    else None,
                }
                for s in supporters.readers_for(ctx.db, recipient)
            ],
            "feedback": note_json(review.feedback),
            # A high-risk case's first approval: the first approver's note, for the second.
            "approval_note": note_json(review.approval_note),
            # Earlier versions, by number (their text is not sent: review shows the current one).
            "history": [{"version": v} for v in range(1, message.version)],
        }
    )


def _author_key(review: services.ForReview) -> bytes:
    """The author's key that sealed the case grant: the one of its day, if they were given a
    new key pair since."""
    grant = review.letter.grant
    if grant.sender_id == review.author_account.id:
        return grant.sender_box_key
    return review.author_account.public_key


@endpoint(roles=FACILITATOR)
def api_approve(ctx: Ctx) -> Response:
    message, _case = _facilitated(ctx)
    approval = schemas.approval(ctx.fields)
    services.approve(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        message,
        approval.recipient_grant,
        approval.note,
        approval.transcript,
        approval.transcript_label,
        approval.supporter_grants,
    )
    return _decided(ctx, message)


@endpoint(roles=FACILITATOR)
def api_approve_once(ctx: Ctx) -> Response:
    """The first of two approvals in a high-risk case: no grant for the recipient comes with
    it (schemas.first_approval takes none), only an optional note to the case key."""
    message, _case = _facilitated(ctx)
    note = schemas.first_approval(ctx.fields)
    services.approve_once(ctx.db, ctx.settings, ctx.require_account(), message, note)
    return _decided(ctx, message)


@endpoint(roles=FACILITATOR)
def api_return(ctx: Ctx) -> Response:
    message, _case = _facilitated(ctx)
    feedback = schemas.note(ctx.fields, "feedback", ContentKind.FEEDBACK, person_may_wait=True)
    services.return_for_changes(ctx.db, ctx.settings, ctx.require_account(), message, feedback)
    return _decided(ctx, message)


@endpoint(roles=FACILITATOR)
def api_withhold(ctx: Ctx) -> Response:
    message, _case = _facilitated(ctx)
    reason = schemas.note(ctx.fields, "reason", ContentKind.FEEDBACK, person_may_wait=True)
    services.withhold(ctx.db, ctx.settings, ctx.require_account(), message, reason)
    return _decided(ctx, message)


@endpoint(roles=FACILITATOR)
def api_decline_told(ctx: Ctx) -> Response:
    """Record that its writer was told, in person or by phone, that it was declined: their
    pages then say so. The review page swaps in its decision part."""
    message, case = _facilitated(ctx)
    services.record_decline_told(ctx.db, ctx.settings, ctx.require_account(), message)
    if ctx.is_htmx:
        return ctx.partial("queue/_review_decline_told.html", **_review_context(ctx, message, case))
    told = required(message.decline_told_at, "the moment it was just recorded")
    return JSONResponse({"decline_told_at": told.isoformat()})


@endpoint(roles=FACILITATOR)
def api_resume(ctx: Ctx) -> Response:
    """Offer a held message again; the review page swaps in its decision part, saying so."""
    message, case = _facilitated(ctx)
    services.resume_held(ctx.db, ctx.settings, ctx.require_account(), message)
    if ctx.is_htmx:
        context = _review_context(ctx, message, case)
        return ctx.partial("queue/_review_resumed.html", **context)
    return JSONResponse({"state": message.state.value})
