"""What a supporter or representative reads for the participant they support: each thing the
participant chose to open, with the grant the approving facilitator's browser made to the
supporter (``messages/policy.message_for_supporter`` decides who may; everyone else gets 404).

The page (templates/supporter/read.html) says whose it is and opens nothing by itself; "Open it"
posts to ``api_supporting_open``, which answers htmx with inbox/_choices.html holding the sealed
message (static/js/pages/inbox.js opens and checks it as it does for the recipient) and a JSON
client with the same object. Opening is recorded in the audit trail.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal.accounts.models import Role
from portal.cases.models import Format
from portal.messages import labels, services
from portal.messages import policy as message_policy
from portal.messages.models import Message
from portal.messages.responses import b64, sealed_json
from portal.messages.states import RecipientChoices
from portal.web import Ctx, endpoint

SUPPORTER = frozenset({Role.SUPPORTER})


def _item(message: Message, ciphertext_size: int, side_label: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "state": "supporting",
        "format_label": message.format.label,
        # Written on the author's behalf by a supporter or representative: said before opening.
        "written_by": labels.written_for(message, labels.Reader.RECIPIENT),
        "is_recording": message.format is not Format.LETTER,
        "size_hint": labels.length_hint(message.media_seconds, message.page_count, ciphertext_size),
        "case_status": message.case.status.value,
        "side_label": side_label,
        # Supporters choose nothing for the recipient: only whether to open it here.
        "choices": RecipientChoices(
            open=False, read_again=False, not_yet=False, hold=False, decline=False
        ),
    }


@endpoint(roles=SUPPORTER)
def supporting_page(ctx: Ctx) -> Response:
    message, place = message_policy.message_for_supporter(
        ctx.db, ctx.require_account(), ctx.request.path_params["message_id"]
    )
    notice = services.notice_for(ctx.db, ctx.require_account(), message)
    item = _item(message, notice.ciphertext_size, place.participant.side.label)
    return ctx.render("supporter/read.html", item=item, released=None)


@endpoint(roles=SUPPORTER)
def api_supporting_open(ctx: Ctx) -> Response:
    me = ctx.require_account()
    message, place = message_policy.message_for_supporter(
        ctx.db, me, ctx.request.path_params["message_id"]
    )
    release = services.supporter_reads(ctx.db, ctx.settings, me, message)
    released = {
        **sealed_json(release.sealed),
        "format": message.format.value,
        "length": labels.length_json(message.media_seconds, message.page_count),
        "grant": b64(release.grant.grant),
        "sender_account_id": release.grant.sender.id,
        "sender_public_key": b64(release.grant.sender_box_key),
        "transcript": None,
        "transcript_label": None,
    }
    if ctx.is_htmx:
        item = _item(message, release.sealed.row.ciphertext_size, place.participant.side.label)
        return ctx.partial("inbox/_choices.html", item=item, released=released)
    return JSONResponse(released)
