"""Participant endpoints for writing: composing, sending and revising letters, reading one's own
again, withdrawing or deleting them, drafts, and withdrawing from the process. Thin: parse
(schemas), authorise (messages.policy), one service, answer."""

from __future__ import annotations

from functools import partial

from starlette.responses import JSONResponse, Response

from portal.accounts.models import Role
from portal.accounts.services import security_number
from portal.cases import services as case_services
from portal.cases.models import Participant
from portal.cases.views import case_key_statement_json
from portal.errors import NotFound
from portal.messages import drafts, labels, schemas, services
from portal.messages import policy as message_policy
from portal.messages.models import Message
from portal.messages.responses import b64, deleted_json, note_json, sealed_json
from portal.messages.states import MessageState, author_actions
from portal.web import Ctx, endpoint, is_uuid4

PARTICIPANT = frozenset({Role.PARTICIPANT})


def _me(ctx: Ctx) -> Participant:
    return message_policy.own_participation(ctx.db, ctx.require_account())


def _mine(ctx: Ctx) -> Message:
    message, _participant = message_policy.message_for_author(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    return message


def _draft_id(ctx: Ctx) -> str:
    value = str(ctx.request.path_params["draft_id"])
    if not is_uuid4(value):
        raise NotFound
    return value


def _forget_after_commit(ctx: Ctx, submitted: services.Submitted) -> None:
    """Uploaded chunks the submit did not use (a file removed before sending): drop the blobs,
    once the rows that no longer name them are committed."""
    blobs = ctx.state.blobs
    for key in submitted.leftovers:
        ctx.after_commit(partial(blobs.delete_chunk, key))


# ---------------------------------------------------------------------------------------- pages


@endpoint(roles=PARTICIPANT)
def compose_page(ctx: Ctx) -> Response:
    _me(ctx)
    return ctx.render(
        "letters/compose.html",
        revising=False,
        message_id=None,
        max_message_bytes=ctx.settings.max_message_bytes,
    )


@endpoint(roles=PARTICIPANT)
def letter_page(ctx: Ctx) -> Response:
    message = _mine(ctx)
    actions = author_actions(
        message.state, message.case.status, content_deleted=message.content_deleted_at is not None
    )
    timeline = [
        {"label": labels.TIMELINE_FOR_AUTHOR[e.state], "at_text": e.at.strftime("%d %b %Y, %H:%M")}
        for e in message.events
        if e.state is not MessageState.OPENED or message.author_may_see_opened
    ]
    view = {
        "id": message.id,
        "state": message.state.value,
        "state_label": labels.author_label(
            message.state, may_see_opened=message.author_may_see_opened
        ),
        "can_withdraw": actions.withdraw,
        "can_revise": actions.revise,
        # The letter page says when the content no longer exists, or offers to delete it
        # (docs/api-media.md, "Deleting").
        "content_deleted": message.content_deleted_at is not None,
        "can_delete": actions.delete,
        "format": message.format.value,
    }
    return ctx.render("letters/show.html", message=view, timeline=timeline)


@endpoint(roles=PARTICIPANT)
def revise_page(ctx: Ctx) -> Response:
    message = _mine(ctx)
    if message.state is not MessageState.RETURNED:
        return ctx.redirect("letter_page", params={"message_id": message.id})
    return ctx.render(
        "letters/compose.html",
        revising=True,
        message_id=message.id,
        max_message_bytes=ctx.settings.max_message_bytes,
    )


@endpoint(roles=PARTICIPANT)
def withdraw_page(ctx: Ctx) -> Response:
    _me(ctx)
    return ctx.render("participant/withdraw.html")


# ----------------------------------------------------------------------------------------- JSON


@endpoint(roles=PARTICIPANT)
def api_my_case(ctx: Ctx) -> Response:
    me = ctx.require_account()
    participant = _me(ctx)
    case = participant.case
    sender = participant.case_public_grant_sender
    why_not = services.why_cannot_write(case, participant)
    return JSONResponse(
        {
            "case_id": case.id,
            "account_id": me.id,
            "side": participant.side.value,
            "accepted_formats": sorted(f.value for f in participant.accepted_formats),
            "case_status": case.status.value,
            "case_public_grant": b64(participant.case_public_grant)
            if participant.case_public_grant
            else None,
            "grant_sender_account_id": sender.id if sender else None,
            "grant_sender_public_key": b64(sender.public_key) if sender else None,
            # The signed case key the browser checks the granted key against
            # (docs/api-trust.md): by trusted staff, for this case, naming the same key.
            "case_key_statement": case_key_statement_json(
                case_services.case_key_epoch_for(ctx.db, case)
            ),
            "facilitator_fingerprint": security_number(sender) if sender else None,
            "recipients": [
                {
                    "participant_id": p.id,
                    "side_label": p.side.label,
                    # What this person agreed to receive; send only what both agreed to.
                    "accepted_formats": sorted(f.value for f in p.accepted_formats),
                }
                for p in services.recipients_for(ctx.db, participant)
            ],
            "can_write": why_not is None and participant.case_public_grant is not None,
            "why_not": why_not
            or (
                None
                if participant.case_public_grant
                else "Your facilitator has not finished setting up your case yet."
            ),
        }
    )


@endpoint(roles=PARTICIPANT)
def api_drafts(ctx: Ctx) -> Response:
    return JSONResponse(
        [
            {
                "draft_id": d.id,
                "blob": b64(d.blob),
                "revises_message_id": d.revises_message_id,
                "updated_at": d.updated_at.isoformat(),
            }
            for d in drafts.drafts_of(ctx.db, ctx.require_account())
        ]
    )


@endpoint(roles=PARTICIPANT)
def api_save_draft(ctx: Ctx) -> Response:
    me = ctx.require_account()
    participant = _me(ctx)
    draft_id = _draft_id(ctx)
    draft_in = schemas.draft(ctx.fields)
    if draft_in.revises_message_id is not None:
        message_policy.message_for_author(ctx.db, me, draft_in.revises_message_id)
    draft = drafts.save(
        ctx.db,
        ctx.settings,
        me,
        participant,
        draft_id,
        draft_in.blob,
        revises_message_id=draft_in.revises_message_id,
    )
    return JSONResponse({"updated_at": draft.updated_at.isoformat()})


@endpoint(roles=PARTICIPANT)
def api_delete_draft(ctx: Ctx) -> Response:
    drafts.delete_draft(ctx.db, ctx.require_account(), _draft_id(ctx))
    return JSONResponse({"ok": True})


@endpoint(roles=PARTICIPANT)
def api_new_letter_object(ctx: Ctx) -> Response:
    obj = services.new_letter_object(ctx.db, ctx.require_account(), _me(ctx))
    return JSONResponse({"object_id": obj.id})


@endpoint(roles=PARTICIPANT)
def api_send_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    participant = _me(ctx)
    letter = schemas.letter(ctx.fields, new=True)
    submitted = services.submit(ctx.db, ctx.settings, ctx.state.blobs, me, participant, letter)
    _forget_after_commit(ctx, submitted)
    message_id = submitted.message.id
    return JSONResponse(
        {"message_id": message_id, "next": ctx.url_for("letter_page", message_id=message_id)}
    )


@endpoint(roles=PARTICIPANT)
def api_my_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message = _mine(ctx)
    if message.content_deleted_at is not None:
        return JSONResponse(deleted_json(message))
    mine = services.for_author(ctx.db, me, message)
    return JSONResponse(
        {
            **sealed_json(mine.letter.sealed),
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "state": message.state.value,
            "recipient_participant_id": message.recipient_participant_id,
            "grant": b64(mine.letter.grant.grant),
            "feedback": note_json(mine.feedback),
        }
    )


@endpoint(roles=PARTICIPANT)
def api_revise_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, participant = message_policy.message_for_author(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    letter = schemas.letter(ctx.fields, new=False)
    submitted = services.submit(
        ctx.db, ctx.settings, ctx.state.blobs, me, participant, letter, revising=message
    )
    _forget_after_commit(ctx, submitted)
    return JSONResponse(
        {"state": message.state.value, "next": ctx.url_for("letter_page", message_id=message.id)}
    )


@endpoint(roles=PARTICIPANT)
def api_withdraw_letter(ctx: Ctx) -> Response:
    message = _mine(ctx)
    services.withdraw_letter(ctx.db, ctx.settings, ctx.require_account(), message)
    return JSONResponse({"state": message.state.value})


@endpoint(roles=PARTICIPANT)
def api_delete_letter(ctx: Ctx) -> Response:
    message = _mine(ctx)
    object_ids = services.delete_content(ctx.db, ctx.settings, ctx.require_account(), message)
    blobs = ctx.state.blobs
    # Only once the rows are gone for good: a rollback must not leave rows without blobs.
    for object_id in object_ids:
        ctx.after_commit(partial(blobs.delete_object, object_id))
    return JSONResponse({"state": message.state.value, "content_deleted": True})


@endpoint(roles=PARTICIPANT)
def api_withdraw(ctx: Ctx) -> Response:
    """Withdrawing from the process (the withdraw page's choice): it stops the person's own
    letters and holds those for them, so it sits with the page rather than the inbox."""
    services.participant_withdraws(ctx.db, ctx.settings, ctx.require_account(), _me(ctx))
    return ctx.navigate(ctx.url_for("home"))
