"""Facilitator endpoints: the review queue, the review page and its decisions. Thin: parse
(schemas), authorise (messages.policy, cases.policy), one service, answer."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal.accounts.models import Account, Role
from portal.cases import policy as case_policy
from portal.cases.models import Case, Format
from portal.content.models import ContentKind
from portal.messages import labels, schemas, services
from portal.messages import policy as message_policy
from portal.messages.models import Message
from portal.messages.responses import b64, deleted_json, note_json, sealed_json
from portal.messages.states import QUEUE_FILTERS, MessageState
from portal.web import Ctx, endpoint

FACILITATOR = frozenset({Role.FACILITATOR})


def _facilitated(ctx: Ctx) -> tuple[Message, Case]:
    return message_policy.message_for_facilitator(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )


def _decided(ctx: Ctx, message: Message) -> Response:
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("queue_page")})


# ---------------------------------------------------------------------------------------- pages


@endpoint(roles=FACILITATOR)
def queue_page(ctx: Ctx) -> Response:
    me = ctx.require_account()
    cases = case_policy.cases_facilitated_by(ctx.db, me)
    case_ids = {c.id for c in cases}
    case_filter = ctx.query("case") if ctx.query("case") in case_ids else None
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
    )
    references = {c.id: c.reference for c in cases}
    rows = [_queue_row(item, me, references) for item in items]
    filters = {"case": case_filter or "", "format": format_filter or "", "state": state_filter}
    return ctx.render("queue/list.html", items=rows, cases=cases, filters=filters)


def _queue_row(item: services.QueueItem, me: Account, references: dict[str, str]) -> dict[str, Any]:
    m = item.message
    return {
        "id": m.id,
        "state": m.state.value,
        "case_reference": references[m.case_id],
        "format_label": m.format.label,
        "age_text": labels.age_text(m.submitted_at),
        "state_label": labels.FOR_STAFF[m.state],
        "claimed_by_name": item.claimed_by_name,
        "claimed_by_me": m.claimed_by_id == me.id and m.state is MessageState.IN_REVIEW,
    }


@endpoint(roles=FACILITATOR)
def review_page(ctx: Ctx) -> Response:
    message, case = _facilitated(ctx)
    return ctx.render(
        "queue/review.html", message=message, case=case, state_label=labels.FOR_STAFF[message.state]
    )


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
    message, _case = _facilitated(ctx)
    services.claim(ctx.db, ctx.settings, ctx.require_account(), message)
    return JSONResponse({"state": message.state.value})


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
    recipient_account = recipient.account
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
            "author_public_key": b64(review.author_account.public_key),
            "claimed_by_me": message.claimed_by_id == me.id
            and message.state is MessageState.IN_REVIEW,
            # What this facilitator can do now (states.review_actions).
            "actions": sorted(action.value for action in review.actions),
            "recipient": {
                "participant_id": recipient.id,
                "side_label": recipient.side.label,
                "public_key": b64(recipient_account.public_key) if recipient_account else None,
                "account_id": recipient_account.id if recipient_account else None,
                "verified_public_key": b64(recipient.verified_public_key)
                if recipient.verified_public_key
                else None,
                "key_verified_at": recipient.key_verified_at.isoformat()
                if recipient.key_verified_at
                else None,
                "withdrawn": recipient.withdrawn_at is not None,
            },
            "feedback": note_json(review.feedback),
            # Earlier versions, by number (their text is not sent: review shows the current one).
            "history": [{"version": v} for v in range(1, message.version)],
        }
    )


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
    )
    return _decided(ctx, message)


@endpoint(roles=FACILITATOR)
def api_return(ctx: Ctx) -> Response:
    message, _case = _facilitated(ctx)
    feedback = schemas.note(ctx.fields, "feedback", ContentKind.FEEDBACK)
    services.return_for_changes(ctx.db, ctx.settings, ctx.require_account(), message, feedback)
    return _decided(ctx, message)


@endpoint(roles=FACILITATOR)
def api_withhold(ctx: Ctx) -> Response:
    message, _case = _facilitated(ctx)
    reason = schemas.note(ctx.fields, "reason", ContentKind.FEEDBACK)
    services.withhold(ctx.db, ctx.settings, ctx.require_account(), message, reason)
    return _decided(ctx, message)


@endpoint(roles=FACILITATOR)
def api_resume(ctx: Ctx) -> Response:
    message, _case = _facilitated(ctx)
    services.resume_held(ctx.db, ctx.settings, ctx.require_account(), message)
    return JSONResponse({"state": message.state.value})
