"""Participant endpoints for receiving: the neutral notice and the four choices (open now, not
yet, hold, decline). Thin: authorise (messages.policy), one service, answer. A recipient's
grant is handed over only by ``api_inbox_open``."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from portal.accounts.models import Role
from portal.content import services as content
from portal.messages import labels, services
from portal.messages import policy as message_policy
from portal.messages.models import Message
from portal.messages.responses import b64, note_json, sealed_json
from portal.web import Ctx, endpoint

PARTICIPANT = frozenset({Role.PARTICIPANT})


def _received(ctx: Ctx) -> Message:
    message, _participant = message_policy.message_for_recipient(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    return message


def _chosen(ctx: Ctx, message: Message) -> Response:
    return JSONResponse({"state": message.state.value, "next": ctx.url_for("home")})


@endpoint(roles=PARTICIPANT)
def inbox_page(ctx: Ctx) -> Response:
    message = _received(ctx)
    version = content.version_of(ctx.db, message.object_id, message.version)
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
def api_inbox_note(ctx: Ctx) -> Response:
    message = _received(ctx)
    notice = services.notice_for(ctx.db, ctx.require_account(), message)
    return JSONResponse(
        {
            "note": note_json(notice.note),
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "size_hint": labels.length_hint(
                message.media_seconds, message.page_count, notice.ciphertext_size
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
    return JSONResponse(
        {
            **sealed_json(release.sealed),
            "format": message.format.value,
            "length": labels.length_json(message.media_seconds, message.page_count),
            "grant": b64(release.grant.grant),
            "sender_public_key": b64(release.grant.sender.public_key),
            # Handed over with the message itself, never before the recipient chose to open.
            "transcript": note_json(release.transcript),
            "transcript_label": message.transcript_label.value
            if message.transcript_label
            else None,
        }
    )


@endpoint(roles=PARTICIPANT)
def api_inbox_not_yet(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_not_yet(ctx.db, ctx.settings, ctx.require_account(), message)
    return _chosen(ctx, message)


@endpoint(roles=PARTICIPANT)
def api_inbox_hold(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_holds(ctx.db, ctx.settings, ctx.require_account(), message)
    return _chosen(ctx, message)


@endpoint(roles=PARTICIPANT)
def api_inbox_decline(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_declines(ctx.db, ctx.settings, ctx.require_account(), message)
    return _chosen(ctx, message)
