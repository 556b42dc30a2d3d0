"""Endpoints for writing: composing, sending and revising letters, reading one's own again,
withdrawing or deleting them, drafts, and withdrawing from the process. Thin: parse (schemas),
authorise (messages.policy), one service, answer.

Whoever writes for a side uses them: the participant, or a supporter or representative the
participant agreed may write for them (messages.policy.writer); what they write is labelled so.
Withdrawing from the process is the participant's alone."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from starlette.responses import JSONResponse, Response

from portal import local_time
from portal.accounts.models import Role
from portal.accounts.services import security_number
from portal.cases import services as case_services
from portal.cases.models import Participant
from portal.cases.views import case_key_statement_json
from portal.content import services as content
from portal.content.models import GrantPurpose
from portal.errors import Conflict, NotFound
from portal.messages import composing, drafts, labels, schemas, services
from portal.messages import policy as message_policy
from portal.messages.models import Message
from portal.messages.responses import b64, deleted_json, note_json, sealed_json
from portal.messages.states import SIDE_GRANT_STATES, MessageState, author_actions
from portal.web import Ctx, endpoint, is_uuid4

PARTICIPANT = frozenset({Role.PARTICIPANT})
NOT_GRANTED_YET = (
    "You cannot read this here yet: it becomes readable once your facilitator next opens your "
    "case in the portal. You do not need to do anything."
)
WRITERS = frozenset({Role.PARTICIPANT, Role.SUPPORTER})


def _me(ctx: Ctx) -> Participant:
    return message_policy.own_participation(ctx.db, ctx.require_account())


def _writer(ctx: Ctx) -> message_policy.Writer:
    return message_policy.writer(ctx.db, ctx.require_account())


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


def _render_composer(
    ctx: Ctx,
    writer: message_policy.Writer,
    composer: composing.Composer,
    revising: dict[str, Any] | None = None,
) -> Response:
    """The compose page: whom the author can write to and in which formats, or why sending must
    wait (messages/composing.py); the browser seals, autosaves, records and uploads."""
    author = writer.participant
    return ctx.render(
        "letters/compose.html",
        composer=composer,
        side=author.side.value,
        case_id=author.case_id,
        revising=revising,
        max_message_bytes=ctx.settings.max_message_bytes,
        on_behalf=author.side.label.lower() if writer.on_behalf is not None else None,
    )


def _has_feedback(ctx: Ctx, message: Message) -> bool:
    """Whether the facilitator left the author a note they can open (granted to them)."""
    if message.content_deleted_at is not None:
        return False
    note = services.note_for(
        ctx.db, message.feedback_object_id, ctx.require_account(), GrantPurpose.RECIPIENT
    )
    return note is not None


def _letter_url(ctx: Ctx, message: Message) -> str:
    return ctx.url_for("letter_page", message_id=message.id)


def _letter_changed(ctx: Ctx, message: Message, answer: dict[str, Any]) -> Response:
    """After withdrawing or deleting: htmx loads the letter page again (its timeline and the
    actions it offers have changed); a JSON client gets ``answer``."""
    if ctx.is_htmx:
        return ctx.navigate(_letter_url(ctx, message))
    return JSONResponse(answer)


def _noun(message: Message) -> str:
    return labels.format_noun(message.format, pages=message.page_count)


@endpoint(roles=WRITERS)
def compose_page(ctx: Ctx) -> Response:
    writer = _writer(ctx)
    return _render_composer(ctx, writer, composing.for_new_letter(ctx.db, writer))


@endpoint(roles=WRITERS)
def revise_page(ctx: Ctx) -> Response:
    message, author = message_policy.message_for_author(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    if not author_actions(
        message.state, message.case.status, content_deleted=message.content_deleted_at is not None
    ).revise:
        return ctx.redirect("letter_page", params={"message_id": message.id})
    revising = {
        "id": message.id,
        "noun": _noun(message),
        # The next version goes into the same content object.
        "object_id": message.object_id,
        "version": message.version + 1,
        "has_feedback": _has_feedback(ctx, message),
    }
    return _render_composer(ctx, author, composing.for_revision(ctx.db, author, message), revising)


@endpoint(roles=WRITERS)
def letter_page(ctx: Ctx) -> Response:
    """The author's page of one letter; for the participant, also one written on their behalf
    (its state, timeline and label, and the one action that is theirs: stopping it)."""
    message, writer = message_policy.message_for_side(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    own = writer.wrote(message)
    content_deleted = message.content_deleted_at is not None
    # Written for me: readable once a facilitator's browser granted it (messages/regrants.py).
    granted = not own and not content_deleted and _granted_to_me(ctx, message)
    noun = _noun(message)
    # Only what the writer's side may know yet (labels.author_state): an opening the recipient
    # did not share, or a decline nobody has talked through with them, is left out.
    hidden = {MessageState.OPENED, MessageState.DECLINED} - {labels.author_state(message)}
    timeline = [
        {"label": labels.TIMELINE_FOR_AUTHOR[e.state], "at_text": local_time.day_and_time(e.at)}
        for e in message.events
        if e.state not in hidden
    ]
    view = {
        "id": message.id,
        "state_label": labels.for_author(message),
        "noun": noun,
        "this_noun": labels.this_noun(noun),
        # The letter page says when the content no longer exists (docs/api-media.md, "Deleting").
        "content_deleted": content_deleted,
        "has_feedback": (own or granted) and _has_feedback(ctx, message),
        "own": own,
        "readable": granted,
        # Nothing new is granted once it was stopped for good (withdrawn, withheld, declined).
        "may_become_readable": message.state in SIDE_GRANT_STATES,
        "writer_noun": message.written_by.kind.label.lower() if message.written_by else None,
        "on_behalf": labels.written_for(
            message, labels.Reader.WRITER if own else labels.Reader.PARTICIPANT
        ),
    }
    # Only the actions allowed now are rendered: each is a form the server answers.
    actions = author_actions(message.state, message.case.status, content_deleted=content_deleted)
    if not own:
        actions = replace(actions, revise=False, delete=False)
    return ctx.render("letters/show.html", message=view, actions=actions, timeline=timeline)


def _granted_to_me(ctx: Ctx, message: Message) -> bool:
    grant = content.grant_for(
        ctx.db, message.object_id, message.version, GrantPurpose.AUTHOR, ctx.require_account()
    )
    return grant is not None


@endpoint(roles=PARTICIPANT)
def withdraw_page(ctx: Ctx) -> Response:
    _me(ctx)
    return ctx.render("participant/withdraw.html")


# ----------------------------------------------------------------------------------------- JSON


@endpoint(roles=WRITERS)
def api_my_case(ctx: Ctx) -> Response:
    """The case as the writer's browser needs it to seal: the case public key boxed to them
    (client/participant-case.js checks it against the trust chain)."""
    me = ctx.require_account()
    writer = _writer(ctx)
    participant = writer.participant
    case = participant.case
    sender = writer.grant_sender
    why_not = services.why_cannot_write(case, participant)
    grant = writer.case_public_grant
    return JSONResponse(
        {
            "case_id": case.id,
            "account_id": me.id,
            "side": participant.side.value,
            "accepted_formats": sorted(f.value for f in participant.accepted_formats),
            "case_status": case.status.value,
            "case_public_grant": b64(grant) if grant else None,
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
            "can_write": why_not is None and grant is not None,
            "why_not": why_not or (None if grant else composing.not_set_up(writer)),
        }
    )


@endpoint(roles=WRITERS)
def api_drafts(ctx: Ctx) -> Response:
    _writer(ctx)  # only one who may write for a side now has drafts to read
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


@endpoint(roles=WRITERS)
def api_save_draft(ctx: Ctx) -> Response:
    me = ctx.require_account()
    participant = _writer(ctx).participant
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


@endpoint(roles=WRITERS)
def api_delete_draft(ctx: Ctx) -> Response:
    _writer(ctx)
    drafts.delete_draft(ctx.db, ctx.require_account(), _draft_id(ctx))
    return JSONResponse({"ok": True})


@endpoint(roles=WRITERS)
def api_new_letter_object(ctx: Ctx) -> Response:
    writer = _writer(ctx)
    if writer.on_behalf is not None:
        services.require_may_write_for(writer.on_behalf)
    obj = services.new_letter_object(ctx.db, ctx.require_account(), writer.participant)
    return JSONResponse({"object_id": obj.id})


@endpoint(roles=WRITERS)
def api_send_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    writer = _writer(ctx)
    letter = schemas.letter(ctx.fields, new=True)
    submitted = services.submit(
        ctx.db,
        ctx.settings,
        ctx.state.blobs,
        me,
        writer.participant,
        letter,
        on_behalf=writer.on_behalf,
    )
    _forget_after_commit(ctx, submitted)
    message_id = submitted.message.id
    return ctx.navigate(ctx.url_for("letter_page", message_id=message_id), message_id=message_id)


@endpoint(roles=WRITERS)
def api_my_letter(ctx: Ctx) -> Response:
    """What I wrote, or (for a participant) what was written on my behalf once a facilitator's
    browser granted it to me: then the grant names that facilitator, whom my browser checks."""
    me = ctx.require_account()
    message, writer = message_policy.message_for_side(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    if message.content_deleted_at is not None:
        return JSONResponse(deleted_json(message))
    if writer.wrote(message):
        mine = services.for_author(ctx.db, me, message)
        granted_by: dict[str, Any] = {}
    else:
        found = services.readable_by(ctx.db, me, message)
        if found is None:
            raise Conflict(NOT_GRANTED_YET)
        mine = found
        granted_by = {
            "written_for_you": True,
            "sender_account_id": mine.letter.grant.sender_id,
            "sender_public_key": b64(mine.letter.grant.sender_box_key),
        }
    return JSONResponse(
        {
            **sealed_json(mine.letter.sealed),
            **granted_by,
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "state": message.state.value,
            "recipient_participant_id": message.recipient_participant_id,
            "grant": b64(mine.letter.grant.grant),
            # Their own box key, or a facilitator's who granted it again after a key change:
            # the browser checks that one against its trust chain before opening anything.
            "sender_account_id": mine.letter.grant.sender_id,
            "sender_public_key": b64(mine.letter.grant.sender_box_key),
            "feedback": note_json(mine.feedback),
        }
    )


@endpoint(roles=WRITERS)
def api_revise_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, writer = message_policy.message_for_author(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    letter = schemas.letter(ctx.fields, new=False)
    submitted = services.submit(
        ctx.db,
        ctx.settings,
        ctx.state.blobs,
        me,
        writer.participant,
        letter,
        revising=message,
        on_behalf=writer.on_behalf,
    )
    _forget_after_commit(ctx, submitted)
    return ctx.navigate(_letter_url(ctx, message), state=message.state.value)


@endpoint(roles=WRITERS)
def api_withdraw_letter(ctx: Ctx) -> Response:
    """Its writer, or the participant it was written for, stops it."""
    message, _writer_of = message_policy.message_for_side(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    services.withdraw_letter(ctx.db, ctx.settings, ctx.require_account(), message)
    return _letter_changed(ctx, message, {"state": message.state.value})


@endpoint(roles=WRITERS)
def api_delete_letter(ctx: Ctx) -> Response:
    message = _mine(ctx)
    object_ids = services.delete_content(ctx.db, ctx.settings, ctx.require_account(), message)
    blobs = ctx.state.blobs
    # Only once the rows are gone for good: a rollback must not leave rows without blobs.
    for object_id in object_ids:
        ctx.after_commit(partial(blobs.delete_object, object_id))
    return _letter_changed(ctx, message, {"state": message.state.value, "content_deleted": True})


@endpoint(roles=PARTICIPANT)
def api_withdraw(ctx: Ctx) -> Response:
    """Withdrawing from the process (the withdraw page's choice): it stops the person's own
    letters and holds those for them, so it sits with the page rather than the inbox."""
    services.participant_withdraws(ctx.db, ctx.settings, ctx.require_account(), _me(ctx))
    return ctx.navigate(ctx.url_for("home"))
