"""Participant endpoints for receiving: the inbox page and the recipient's choices (open now, not
yet, hold, decline). Thin: authorise (messages.policy), one service, answer. A recipient's grant
is handed over only by ``api_inbox_open``.

The page (templates/inbox/show.html) shows the neutral notice, what it is and how long
(messages/labels.py), the facilitator's note as a sealed placeholder, and only the choices the
state machine allows now (states.recipient_choices), each an htmx form posting to the JSON API
below. Each endpoint answers both: opening answers htmx with the partial inbox/_choices.html,
which holds the released message as a sealed placeholder that the browser opens and checks
(static/js/pages/inbox.js), and a JSON client with the same object as JSON; the other choices
navigate home (``ctx.navigate``: ``HX-Redirect`` for htmx, ``{state, next}`` for JSON)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal.accounts.models import Role
from portal.cases.models import Format
from portal.messages import entered, labels, services, states
from portal.messages import policy as message_policy
from portal.messages.models import Message
from portal.messages.responses import b64, note_json, sealed_json
from portal.messages.states import MessageState
from portal.web import Ctx, endpoint

# The recipient, or the representative who holds the side of one without an account
# (messages/policy.receiving_side).
RECEIVERS = frozenset({Role.PARTICIPANT, Role.SUPPORTER})


def _received(ctx: Ctx) -> Message:
    message, _participant = message_policy.message_for_recipient(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    return message


def _item(message: Message, ciphertext_size: int, *, holder: bool = False) -> dict[str, Any]:
    """What the page says about the item before anything is opened (``holder``: to the
    representative who holds the side of a participant without an account)."""
    return {
        "id": message.id,
        "state": message.state.value,
        "notice": labels.recipient_words(message.state, holder=holder).page,
        "holder": holder,
        "format_label": message.format.label,
        # Written on the author's behalf by a supporter or representative: said before opening.
        "written_by": labels.written_for(message, labels.Reader.RECIPIENT),
        # A recording: the page says that nothing plays by itself.
        "is_recording": message.format is not Format.LETTER,
        "size_hint": labels.length_hint(message.media_seconds, message.page_count, ciphertext_size),
        "case_status": message.case.status.value,
        "choices": states.recipient_choices(message.state, message.case.status),
        "entered": entered_label(message),
    }


def entered_label(message: Message) -> str | None:
    """Said before and when it is opened, if a facilitator entered it for its author."""
    if message.entered_how is None or message.entered_confirmed_on is None:
        return None
    return entered.recipient_label(
        message.author.side.label.lower(),
        message.entered_how,
        entered.day_text(message.entered_confirmed_on),
    )


@endpoint(roles=RECEIVERS)
def inbox_page(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, participant = message_policy.message_for_recipient(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    notice = services.notice_for(ctx.db, me, message)
    # Held: it stays with the facilitator, and so does their note about it.
    note = note_json(notice.note) if message.state is not MessageState.HELD else None
    holder = participant.account_id != me.id
    item = _item(message, notice.ciphertext_size, holder=holder)
    return ctx.render("inbox/show.html", item=item, note=note, released=None)


@endpoint(roles=RECEIVERS)
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


@endpoint(roles=RECEIVERS)
def api_inbox_open(ctx: Ctx) -> Response:
    message = _received(ctx)
    # JSON clients send true; the page's checkbox sends its value, "true", when ticked.
    author_may_see = ctx.fields.raw("author_may_see") in (True, "true")
    release = services.recipient_opens(
        ctx.db, ctx.settings, ctx.require_account(), message, author_may_see=author_may_see
    )
    released = {
        **sealed_json(release.sealed),
        "format": message.format.value,
        "length": labels.length_json(message.media_seconds, message.page_count),
        "grant": b64(release.grant.grant),
        "sender_account_id": release.grant.sender.id,
        "sender_public_key": b64(release.grant.sender_box_key),
        # Handed over with the message itself, never before the recipient chose to open.
        "transcript": note_json(release.transcript),
        "transcript_label": message.transcript_label.value if message.transcript_label else None,
    }
    if ctx.is_htmx:
        item = _item(message, release.sealed.row.ciphertext_size)
        return ctx.partial("inbox/_choices.html", item=item, released=released)
    return JSONResponse(released)


@endpoint(roles=RECEIVERS)
def api_inbox_not_yet(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_not_yet(ctx.db, ctx.settings, ctx.require_account(), message)
    return ctx.navigate(ctx.url_for("home"), state=message.state.value)


@endpoint(roles=RECEIVERS)
def api_inbox_hold(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_holds(ctx.db, ctx.settings, ctx.require_account(), message)
    return ctx.navigate(ctx.url_for("home"), state=message.state.value)


@endpoint(roles=RECEIVERS)
def api_inbox_decline(ctx: Ctx) -> Response:
    message = _received(ctx)
    services.recipient_declines(ctx.db, ctx.settings, ctx.require_account(), message)
    return ctx.navigate(ctx.url_for("home"), state=message.state.value)
