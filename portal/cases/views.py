"""Case endpoints for facilitators: thin — parse, authorise (cases.policy), one service, answer.

The pages that show a case with its letters and its audit trail bring several domains together:
they are in ``portal/workspace``.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from portal import protocol, wire
from portal.accounts.models import Role
from portal.cases import policy, services
from portal.cases.models import Case, CaseCondition, Format, Participant, Side
from portal.errors import BadInput
from portal.web import Ctx, endpoint

FACILITATOR = frozenset({Role.FACILITATOR})
KEY = wire.KEY
SIDES = {side.value: side for side in Side}
STATUSES = {status.value: status for status in CaseCondition}


def _case(ctx: Ctx) -> Case:
    return policy.facilitated_case(
        ctx.db, ctx.require_account(), ctx.request.path_params["case_id"]
    )


def _participant(ctx: Ctx, case: Case) -> Participant:
    return policy.participant_in_case(ctx.db, case, ctx.request.path_params["participant_id"])


def _formats(ctx: Ctx) -> frozenset[Format]:
    raw = ctx.fields.raw("formats")
    if not isinstance(raw, list) or not all(
        isinstance(v, str) and v in Format._value2member_map_ for v in raw
    ):
        raise BadInput("Choose the formats this person accepts.", field="formats")
    return frozenset(Format(v) for v in raw)


@endpoint(roles=FACILITATOR)
def new_case_page(ctx: Ctx) -> Response:
    return ctx.render("cases/new.html")


@endpoint(roles=FACILITATOR)
def api_open_case(ctx: Ctx) -> Response:
    f = ctx.fields
    case_id = f.uuid4("case_id")
    case = services.open_case(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case_id=case_id,
        reference=f.text("reference", max_length=40),
        label=f.text("label", max_length=80),
        public_key=f.binary("public_key", length=KEY),
        own_grant=f.binary("grant", length=wire.CASE_GRANT),
    )
    return JSONResponse({"case_id": case.id, "next": ctx.url_for("case_page", case_id=case.id)})


@endpoint(roles=FACILITATOR)
def api_case_key(ctx: Ctx) -> Response:
    case = _case(ctx)
    grant = services.case_key_grant_for(ctx.db, case, ctx.require_account())
    if grant is None:
        raise BadInput("You do not hold this case's key yet.")
    return JSONResponse(
        {
            "case_id": case.id,
            "epoch": case.key_epoch,
            "case_public_key": protocol.b64encode(case.public_key),
            "grant": protocol.b64encode(grant.grant),
            "sender_public_key": protocol.b64encode(grant.sender.public_key),
        }
    )


@endpoint(roles=FACILITATOR)
def api_add_participant(ctx: Ctx) -> Response:
    case = _case(ctx)
    f = ctx.fields
    participant = services.add_participant(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        f.choice("side", SIDES),
        f.binary("sealed_name", max_length=services.MAX_SEALED_NAME),
        participant_id=f.optional_uuid4("participant_id"),
    )
    return JSONResponse({"participant_id": participant.id})


@endpoint(roles=FACILITATOR)
def api_record_consent(ctx: Ctx) -> Response:
    case = _case(ctx)
    formats = _formats(ctx)
    services.record_consent(
        ctx.db, ctx.settings, ctx.require_account(), case, _participant(ctx, case), formats
    )
    return JSONResponse({"ok": True})


@endpoint(roles=FACILITATOR)
def api_give_case_key(ctx: Ctx) -> Response:
    case = _case(ctx)
    services.give_case_public_key(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        _participant(ctx, case),
        ctx.fields.binary("grant", length=wire.CASE_PUBLIC_GRANT),
    )
    return JSONResponse({"ok": True})


@endpoint(roles=FACILITATOR)
def api_mark_verified(ctx: Ctx) -> Response:
    case = _case(ctx)
    services.mark_key_verified(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        _participant(ctx, case),
        ctx.fields.binary("public_key", length=KEY),
    )
    return JSONResponse({"ok": True})


@endpoint(roles=FACILITATOR)
def api_case_status(ctx: Ctx) -> Response:
    case = _case(ctx)
    status = ctx.fields.choice("status", STATUSES)
    services.set_status(ctx.db, ctx.settings, ctx.require_account(), case, status)
    return JSONResponse({"status": case.status.value})
