"""Letter endpoints: the queue and review for facilitators; writing, reading and choosing for
participants. Thin: parse, authorise (messages.policy / cases.policy), one service, answer."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import delete, select
from starlette.responses import JSONResponse, Response

from portal import protocol
from portal.accounts.models import Account, Role
from portal.blobstore import ChunkKey
from portal.cases import policy as case_policy
from portal.cases.models import Case, Format, Participant
from portal.content import services as content
from portal.content import uploads as media
from portal.content.models import ContentKind, ContentObject, ContentVersion, GrantPurpose
from portal.content.uploads import StoredChunkIn
from portal.db import utcnow
from portal.errors import BadInput, NotFound
from portal.messages import labels, services
from portal.messages import policy as message_policy
from portal.messages.models import Draft, Message, TranscriptLabel
from portal.messages.states import (
    Action,
    MessageState,
    allowed_actions,
)
from portal.web import Ctx, Fields, endpoint, is_uuid4

FACILITATOR = frozenset({Role.FACILITATOR})
PARTICIPANT = frozenset({Role.PARTICIPANT})
MAX_DRAFT = 24 + 16 + 200_000 * 4 + 1024
STATE_FILTERS = {
    "waiting": frozenset({MessageState.SUBMITTED, MessageState.IN_REVIEW}),
    "reviewing": frozenset({MessageState.IN_REVIEW}),
    "all": frozenset(MessageState),
}
NOTE_KINDS = {
    "feedback": ContentKind.FEEDBACK,
    "content_note": ContentKind.CONTENT_NOTE,
    "transcript": ContentKind.TRANSCRIPT,
}
FORMATS = {f.value: f for f in Format}
TRANSCRIPT_LABELS = {label.value: label for label in TranscriptLabel}
MAX_STORED_CHUNKS = 100_000
MAX_SECONDS = 7 * 24 * 3600
MAX_PAGES = 10_000
b64 = protocol.b64encode


# ------------------------------------------------------------------------------ parsing bodies


def _sealed(fields: Fields, name: str) -> tuple[str, int, content.Upload]:
    raw = fields.raw(name)
    if not isinstance(raw, dict):
        raise BadInput(field=name)
    f = Fields(raw)
    chunks_raw = raw.get("chunks")
    if not isinstance(chunks_raw, list) or len(chunks_raw) > 1024:
        raise BadInput(field=name)
    chunks = []
    for item in chunks_raw:
        if not isinstance(item, dict):
            raise BadInput(field=name)
        c = Fields(item)
        final = item.get("final")
        if not isinstance(final, bool):
            raise BadInput(field=name)
        chunks.append(
            content.ChunkIn(
                part=c.integer("part", minimum=0, maximum=content.MAX_PARTS),
                index=c.integer("index", minimum=0, maximum=1_000_000),
                final=final,
                data=c.binary("data", max_length=protocol.CHUNK_SIZE + content.AEAD_OVERHEAD),
            )
        )
    object_id = f.text("object_id", max_length=36)
    version = f.integer("version", minimum=1, maximum=1000)
    upload = content.Upload(
        manifest=f.binary("manifest", max_length=content.MAX_MANIFEST),
        manifest_hash=f.binary("manifest_hash", length=32),
        chunks=tuple(chunks),
        stored=_stored_chunks(raw.get("stored_chunks"), name),
    )
    return object_id, version, upload


def _stored_chunks(raw: object, name: str) -> tuple[StoredChunkIn, ...]:
    """The uploaded chunks a submit lists (docs/api-media.md); absent for a text letter."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_STORED_CHUNKS:
        raise BadInput(field=name)
    stored = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("final"), bool):
            raise BadInput(field=name)
        c = Fields(item)
        stored.append(
            StoredChunkIn(
                part=c.integer("part", minimum=0, maximum=content.MAX_PARTS),
                index=c.integer("index", minimum=0, maximum=media.LAST_INDEX),
                final=item["final"],
                size=c.integer("size", minimum=0, maximum=media.MAX_CHUNK_BYTES),
                hash=c.binary("hash", length=32),
            )
        )
    return tuple(stored)


def _declared(fields: Fields) -> services.Declared:
    """``format`` and ``length``: what the author's browser declares about the content."""
    format_ = fields.choice("format", FORMATS) if fields.raw("format") is not None else None
    length = fields.raw("length")
    if length is not None and not isinstance(length, dict):
        raise BadInput(field="length")
    f = Fields(length or {})
    seconds = (
        f.integer("seconds", minimum=0, maximum=MAX_SECONDS)
        if f.raw("seconds") is not None
        else None
    )
    pages = f.integer("pages", minimum=0, maximum=MAX_PAGES) if f.raw("pages") is not None else None
    return services.Declared(format=format_ or Format.LETTER, seconds=seconds, pages=pages)


def _grant(fields: Fields, name: str) -> bytes:
    return fields.binary(name, length=content.CONTENT_GRANT_SIZE)


def _note(ctx: Ctx, case: Case, name: str, kind: ContentKind) -> services.FacilitatorNote:
    raw = ctx.fields.raw(name)
    if not isinstance(raw, dict):
        raise BadInput("Please write something first.", field=name)
    f = Fields(raw)
    object_id, version, upload = _sealed(ctx.fields, name)
    if version != 1:
        raise BadInput(field=name)
    obj = content.object_for(ctx.db, object_id, case, ctx.require_account(), kind)
    return services.FacilitatorNote(
        obj=obj,
        upload=upload,
        to_case=_grant(f, "grant_to_case"),
        to_person=_grant(f, "grant_to_person"),
    )


def _object_json(ctx: Ctx, object_id: str, version: int) -> dict[str, Any]:
    """A sealed object: inline chunks in ``chunks``; where every chunk is, in ``layout``."""
    row = ctx.db.get(ContentVersion, (object_id, version))
    if row is None:
        raise NotFound
    chunks = content.chunks_of(ctx.db, object_id, version)
    return {
        "object_id": object_id,
        "version": version,
        "manifest": b64(row.manifest),
        "manifest_hash": b64(row.manifest_hash),
        "chunks": [b64(c.data) for c in chunks if c.data is not None],
        "layout": [
            {
                "part": c.part,
                "index": c.index,
                "final": c.final,
                "size": c.size,
                "inline": c.data is not None,
            }
            for c in chunks
        ],
        "chunk_url": f"/api/content/{object_id}/{version}/",
    }


def _deleted_json(message: Message) -> dict[str, Any]:
    """A message whose author deleted its content: the timeline stays, the words are gone."""
    return {
        "message_id": message.id,
        "object_id": message.object_id,
        "version": message.version,
        "state": message.state.value,
        "format": message.format.value,
        "content_deleted": True,
    }


def _note_json(
    ctx: Ctx, object_id: str | None, reader: Account, purpose: GrantPurpose
) -> dict[str, Any] | None:
    if object_id is None:
        return None
    grant = content.grant_for(
        ctx.db, object_id, 1, purpose, reader if purpose is GrantPurpose.RECIPIENT else None
    )
    if grant is None:
        return None
    sender = ctx.db.get(Account, grant.sender_id)
    assert sender is not None  # noqa: S101
    return {
        **_object_json(ctx, object_id, 1),
        "grant": b64(grant.grant),
        "sender_public_key": b64(sender.public_key),
    }


# ---------------------------------------------------------------------------- facilitator pages


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
    if state_filter not in STATE_FILTERS:
        state_filter = "waiting"
    items = services.queue_for(
        ctx.db,
        me,
        case_id=case_filter,
        states=STATE_FILTERS[state_filter],
        format_=Format(format_filter) if format_filter else None,
    )
    references = {c.id: c.reference for c in cases}
    reviewers = {
        a.id: a.sign_in_name
        for a in ctx.db.scalars(
            select(Account).where(
                Account.id.in_({m.claimed_by_id for m in items if m.claimed_by_id})
            )
        )
    }
    rows = [
        {
            "id": m.id,
            "state": m.state.value,
            "case_reference": references[m.case_id],
            "format_label": m.format.label,
            "age_text": labels.age_text(m.submitted_at),
            "state_label": labels.FOR_STAFF[m.state],
            "claimed_by_name": reviewers.get(m.claimed_by_id or "")
            if m.state is MessageState.IN_REVIEW
            else None,
            "claimed_by_me": m.claimed_by_id == me.id and m.state is MessageState.IN_REVIEW,
        }
        for m in items
    ]
    filters = {"case": case_filter or "", "format": format_filter or "", "state": state_filter}
    return ctx.render("queue/list.html", items=rows, cases=cases, filters=filters)


@endpoint(roles=FACILITATOR)
def review_page(ctx: Ctx) -> Response:
    message, case = message_policy.message_for_facilitator(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    return ctx.render(
        "queue/review.html", message=message, case=case, state_label=labels.FOR_STAFF[message.state]
    )


# ----------------------------------------------------------------------------- facilitator JSON


def _facilitated(ctx: Ctx) -> tuple[Message, Case]:
    return message_policy.message_for_facilitator(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )


@endpoint(roles=FACILITATOR)
def api_new_object(ctx: Ctx) -> Response:
    case = case_policy.facilitated_case(
        ctx.db, ctx.require_account(), ctx.request.path_params["case_id"]
    )
    kind = ctx.fields.choice("kind", NOTE_KINDS)
    obj = content.issue_object(ctx.db, case, ctx.require_account(), kind)
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
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("queue_page")})


@endpoint(roles=FACILITATOR)
def api_review(ctx: Ctx) -> Response:
    message, case = _facilitated(ctx)
    if message.content_deleted_at is not None:
        return JSONResponse(_deleted_json(message) | {"case_id": case.id})
    grant = content.grant_for(ctx.db, message.object_id, message.version, GrantPurpose.CASE)
    author = ctx.db.get(Participant, message.author_participant_id)
    recipient = ctx.db.get(Participant, message.recipient_participant_id)
    assert grant is not None  # noqa: S101
    assert author is not None  # noqa: S101
    assert author.account is not None  # noqa: S101
    assert recipient is not None  # noqa: S101
    recipient_account = recipient.account
    return JSONResponse(
        {
            "message_id": message.id,
            "case_id": case.id,
            "state": message.state.value,
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "submitted_at": message.submitted_at.isoformat(),
            **_object_json(ctx, message.object_id, message.version),
            "grant": b64(grant.grant),
            "author_public_key": b64(author.account.public_key),
            "claimed_by_me": message.claimed_by_id == ctx.require_account().id
            and message.state is MessageState.IN_REVIEW,
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
            "feedback": _note_json(
                ctx, message.feedback_object_id, ctx.require_account(), GrantPurpose.CASE
            ),
            # Earlier versions, by number (their text is not sent: review shows the current one).
            "history": [{"version": v} for v in range(1, message.version)],
        }
    )


@endpoint(roles=FACILITATOR)
def api_approve(ctx: Ctx) -> Response:
    message, case = _facilitated(ctx)
    note = _note(ctx, case, "note", ContentKind.CONTENT_NOTE) if ctx.fields.raw("note") else None
    transcript = (
        _note(ctx, case, "transcript", ContentKind.TRANSCRIPT)
        if ctx.fields.raw("transcript")
        else None
    )
    label = (
        ctx.fields.choice("transcript_label", TRANSCRIPT_LABELS)
        if ctx.fields.raw("transcript_label") is not None
        else TranscriptLabel.TRANSCRIPT
    )
    services.approve(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        message,
        _grant(ctx.fields, "recipient_grant"),
        note,
        transcript,
        label,
    )
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("queue_page")})


@endpoint(roles=FACILITATOR)
def api_return(ctx: Ctx) -> Response:
    message, case = _facilitated(ctx)
    services.return_for_changes(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        message,
        _note(ctx, case, "feedback", ContentKind.FEEDBACK),
    )
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("queue_page")})


@endpoint(roles=FACILITATOR)
def api_withhold(ctx: Ctx) -> Response:
    message, case = _facilitated(ctx)
    services.withhold(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        message,
        _note(ctx, case, "reason", ContentKind.FEEDBACK),
    )
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("queue_page")})


@endpoint(roles=FACILITATOR)
def api_resume(ctx: Ctx) -> Response:
    message, _case = _facilitated(ctx)
    services.resume_held(ctx.db, ctx.settings, ctx.require_account(), message)
    return JSONResponse({"state": message.state.value})


# ---------------------------------------------------------------------------- participant pages


def _me(ctx: Ctx) -> Participant:
    return message_policy.own_participation(ctx.db, ctx.require_account())


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
    message, _participant = message_policy.message_for_author(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    case = ctx.db.get(Case, message.case_id)
    assert case is not None  # noqa: S101
    actions = allowed_actions(message.state, case.status)
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
        "can_withdraw": Action.WITHDRAW in actions,
        "can_revise": Action.REVISE in actions,
        # The letter page says when the content no longer exists, or offers to delete it
        # (docs/api-media.md, "Deleting").
        "content_deleted": message.content_deleted_at is not None,
        "can_delete": message.state in services.DELETABLE and message.content_deleted_at is None,
        "format": message.format.value,
    }
    return ctx.render("letters/show.html", message=view, timeline=timeline)


@endpoint(roles=PARTICIPANT)
def revise_page(ctx: Ctx) -> Response:
    message, _participant = message_policy.message_for_author(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    if message.state is not MessageState.RETURNED:
        return ctx.redirect("letter_page", params={"message_id": message.id})
    return ctx.render(
        "letters/compose.html",
        revising=True,
        message_id=message.id,
        max_message_bytes=ctx.settings.max_message_bytes,
    )


@endpoint(roles=PARTICIPANT)
def inbox_page(ctx: Ctx) -> Response:
    message, _participant = message_policy.message_for_recipient(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    version = ctx.db.get(ContentVersion, (message.object_id, message.version))
    assert version is not None  # noqa: S101
    item = {
        "id": message.id,
        "format_label": message.format.label,
        "size_hint": labels.length_hint(
            message.media_seconds, message.page_count, version.ciphertext_size
        ),
        "state": message.state.value,
    }
    return ctx.render("inbox/show.html", item=item)


@endpoint(roles=PARTICIPANT)
def withdraw_page(ctx: Ctx) -> Response:
    _me(ctx)
    return ctx.render("participant/withdraw.html")


# ----------------------------------------------------------------------------- participant JSON


@endpoint(roles=PARTICIPANT)
def api_my_case(ctx: Ctx) -> Response:
    me = ctx.require_account()
    participant = _me(ctx)
    case = ctx.db.get(Case, participant.case_id)
    assert case is not None  # noqa: S101
    sender = ctx.db.get(Account, participant.case_public_grant_sender_id or "")
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
            "grant_sender_public_key": b64(sender.public_key) if sender else None,
            "facilitator_fingerprint": protocol.format_fingerprint(
                protocol.fingerprint_digits(sender.public_key)
            )
            if sender
            else None,
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


def _draft_id(ctx: Ctx) -> str:
    value = str(ctx.request.path_params["draft_id"])
    if not is_uuid4(value):
        raise NotFound
    return value


@endpoint(roles=PARTICIPANT)
def api_drafts(ctx: Ctx) -> Response:
    me = ctx.require_account()
    drafts = ctx.db.scalars(
        select(Draft).where(Draft.account_id == me.id).order_by(Draft.updated_at.desc())
    )
    return JSONResponse(
        [
            {
                "draft_id": d.id,
                "blob": b64(d.blob),
                "revises_message_id": d.revises_message_id,
                "updated_at": d.updated_at.isoformat(),
            }
            for d in drafts
        ]
    )


@endpoint(roles=PARTICIPANT)
def api_save_draft(ctx: Ctx) -> Response:
    me = ctx.require_account()
    participant = _me(ctx)
    draft_id = _draft_id(ctx)
    blob = ctx.fields.binary("blob", max_length=MAX_DRAFT)
    revises = ctx.fields.raw("revises_message_id")
    if revises is not None:
        message_policy.message_for_author(ctx.db, me, str(revises))
    draft = ctx.db.get(Draft, draft_id)
    if draft is not None and draft.account_id != me.id:
        raise NotFound
    if draft is None:
        draft = Draft(
            id=draft_id,
            account_id=me.id,
            case_id=participant.case_id,
            blob=blob,
            revises_message_id=revises,
            updated_at=utcnow(),
        )
        ctx.db.add(draft)
    else:
        draft.blob = blob
        draft.updated_at = utcnow()
    ctx.db.flush()
    return JSONResponse({"updated_at": draft.updated_at.isoformat()})


@endpoint(roles=PARTICIPANT)
def api_delete_draft(ctx: Ctx) -> Response:
    me = ctx.require_account()
    ctx.db.execute(delete(Draft).where(Draft.id == _draft_id(ctx), Draft.account_id == me.id))
    return JSONResponse({"ok": True})


@endpoint(roles=PARTICIPANT)
def api_new_letter_object(ctx: Ctx) -> Response:
    participant = _me(ctx)
    case = ctx.db.get(Case, participant.case_id)
    assert case is not None  # noqa: S101
    services.require_can_write(case, participant)
    obj = content.issue_object(ctx.db, case, ctx.require_account(), ContentKind.LETTER)
    return JSONResponse({"object_id": obj.id})


def _author_grants(fields: Fields) -> services.AuthorGrants:
    return services.AuthorGrants(
        to_case=_grant(fields, "grant_to_case"), to_author=_grant(fields, "grant_to_author")
    )


def _forget_after_commit(ctx: Ctx, keys: list[ChunkKey]) -> None:
    """Uploaded chunks the submit did not use (a file removed before sending): drop the blobs."""
    blobs = ctx.state.blobs
    for key in keys:
        ctx.after_commit(partial(blobs.delete_chunk, key))


def _drop_draft(ctx: Ctx) -> None:
    draft_id = ctx.fields.raw("draft_id")
    if isinstance(draft_id, str):
        ctx.db.execute(
            delete(Draft).where(Draft.id == draft_id, Draft.account_id == ctx.require_account().id)
        )


@endpoint(roles=PARTICIPANT)
def api_send_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    participant = _me(ctx)
    case = ctx.db.get(Case, participant.case_id)
    assert case is not None  # noqa: S101
    object_id, version, upload = _sealed(ctx.fields, "letter")
    if version != 1:
        raise BadInput(field="letter")
    obj = content.object_for(ctx.db, object_id, case, me, ContentKind.LETTER)
    recipient = case_policy.participant_in_case(
        ctx.db, case, ctx.fields.text("recipient_participant_id", max_length=36)
    )
    media.make_submitted_chunks_durable(ctx.db, ctx.state.blobs, obj.id, 1, upload.stored)
    leftovers = content.unlisted_held(ctx.db, obj, 1, upload)
    message = services.submit_letter(
        ctx.db,
        ctx.settings,
        me,
        participant,
        recipient,
        obj,
        upload,
        _author_grants(ctx.fields),
        _declared(ctx.fields),
    )
    _forget_after_commit(ctx, leftovers)
    _drop_draft(ctx)
    return JSONResponse(
        {"message_id": message.id, "next": ctx.url_for("letter_page", message_id=message.id)}
    )


@endpoint(roles=PARTICIPANT)
def api_my_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, _participant = message_policy.message_for_author(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    if message.content_deleted_at is not None:
        return JSONResponse(_deleted_json(message))
    grant = content.grant_for(ctx.db, message.object_id, message.version, GrantPurpose.AUTHOR, me)
    assert grant is not None  # noqa: S101
    return JSONResponse(
        {
            **_object_json(ctx, message.object_id, message.version),
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "state": message.state.value,
            "recipient_participant_id": message.recipient_participant_id,
            "grant": b64(grant.grant),
            "feedback": _note_json(ctx, message.feedback_object_id, me, GrantPurpose.RECIPIENT),
        }
    )


@endpoint(roles=PARTICIPANT)
def api_revise_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, _participant = message_policy.message_for_author(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    object_id, version, upload = _sealed(ctx.fields, "letter")
    if object_id != message.object_id or version != message.version + 1:
        raise BadInput(
            "This letter changed since the page was loaded. Please reload it.", field="letter"
        )
    obj = ctx.db.get(ContentObject, message.object_id)
    assert obj is not None  # noqa: S101
    media.make_submitted_chunks_durable(ctx.db, ctx.state.blobs, obj.id, version, upload.stored)
    leftovers = content.unlisted_held(ctx.db, obj, version, upload)
    services.revise_letter(
        ctx.db,
        ctx.settings,
        me,
        message,
        upload,
        _author_grants(ctx.fields),
        _declared(ctx.fields),
    )
    _forget_after_commit(ctx, leftovers)
    _drop_draft(ctx)
    return JSONResponse(
        {"state": message.state.value, "next": ctx.url_for("letter_page", message_id=message.id)}
    )


@endpoint(roles=PARTICIPANT)
def api_withdraw_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, _participant = message_policy.message_for_author(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    services.withdraw_letter(ctx.db, ctx.settings, me, message)
    return JSONResponse({"state": message.state.value})


@endpoint(roles=PARTICIPANT)
def api_delete_letter(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, _participant = message_policy.message_for_author(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    object_id = services.delete_content(ctx.db, ctx.settings, me, message)
    blobs = ctx.state.blobs
    # Only once the rows are gone for good: a rollback must not leave rows without blobs.
    ctx.after_commit(lambda: blobs.delete_object(object_id))
    return JSONResponse({"state": message.state.value, "content_deleted": True})


def _received(ctx: Ctx) -> Message:
    message, _participant = message_policy.message_for_recipient(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    return message


@endpoint(roles=PARTICIPANT)
def api_inbox_note(ctx: Ctx) -> Response:
    message = _received(ctx)
    version = ctx.db.get(ContentVersion, (message.object_id, message.version))
    assert version is not None  # noqa: S101
    return JSONResponse(
        {
            "note": _note_json(
                ctx, message.content_note_object_id, ctx.require_account(), GrantPurpose.RECIPIENT
            ),
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "size_hint": labels.length_hint(
                message.media_seconds, message.page_count, version.ciphertext_size
            ),
        }
    )


@endpoint(roles=PARTICIPANT)
def api_inbox_open(ctx: Ctx) -> Response:
    message = _received(ctx)
    author_may_see = ctx.fields.raw("author_may_see") is True
    release = services.recipient_opens(
        ctx.db, ctx.settings, ctx.require_account(), message, author_may_see=author_may_see
    )
    sender = ctx.db.get(Account, release.grant.sender_id)
    assert sender is not None  # noqa: S101
    return JSONResponse(
        {
            **_object_json(ctx, message.object_id, message.version),
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "grant": b64(release.grant.grant),
            "sender_public_key": b64(sender.public_key),
            # Handed over with the message itself, never before the recipient chose to open.
            "transcript": _note_json(
                ctx, message.transcript_object_id, ctx.require_account(), GrantPurpose.RECIPIENT
            ),
            "transcript_label": message.transcript_label.value
            if message.transcript_label
            else None,
        }
    )


@endpoint(roles=PARTICIPANT)
def api_inbox_not_yet(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_not_yet(ctx.db, ctx.settings, ctx.require_account(), message)
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("home")})


@endpoint(roles=PARTICIPANT)
def api_inbox_hold(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_holds(ctx.db, ctx.settings, ctx.require_account(), message)
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("home")})


@endpoint(roles=PARTICIPANT)
def api_inbox_decline(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_declines(ctx.db, ctx.settings, ctx.require_account(), message)
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("home")})


@endpoint(roles=PARTICIPANT)
def api_withdraw(ctx: Ctx) -> Response:
    services.participant_withdraws(ctx.db, ctx.settings, ctx.require_account(), _me(ctx))
    return JSONResponse({"next": ctx.url_for("home")})
