"""The case page's actions (templates/cases/show.html): status, adding a participant, inviting
them, recording their consent and that their security number was compared in person.

Each endpoint answers a JSON client (tests, scripts) with JSON, and the page's htmx forms with the
piece of the page that changed, rendered from ``case_page``. They are here rather than in
``portal/cases`` or ``portal/invitations`` because those pieces bring cases and invitations
together. Thin: parse, authorise (``cases/policy.py``), one service, answer.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal import local_time, wire
from portal.accounts.models import Account, Role
from portal.cases import path, policy, supporters, team
from portal.cases import services as cases
from portal.cases.models import (
    Case,
    CaseCondition,
    CaseStage,
    ClosingReason,
    Format,
    HighRisk,
    Participant,
    RequestOutcome,
    Side,
    SupporterKind,
)
from portal.errors import BadInput
from portal.messages import regrants
from portal.trust import schemas as trust_schemas
from portal.trust.statements import SignedStatement
from portal.web import Ctx, Fields, endpoint
from portal.workspace import supporters as supporter_pages
from portal.workspace.case_page import case_page, case_view, participant_view, team_context
from portal.workspace.case_path import path_view

FACILITATOR = frozenset({Role.FACILITATOR})
SIDES = {side.value: side for side in Side}
KINDS = {kind.value: kind for kind in SupporterKind}
STATUSES = {status.value: status for status in CaseCondition}
CLOSING_REASONS = {reason.value: reason for reason in ClosingReason}
# Closing is its own act, with a reason (the status form).
STAGES = {stage.value: stage for stage in CaseStage if stage is not CaseStage.CLOSED}
# "none" unmarks; the reason is one of these categories, never free text.
HIGH_RISK_CHOICES: dict[str, HighRisk | None] = {"none": None} | {
    reason.value: reason for reason in HighRisk
}


def _case(ctx: Ctx) -> Case:
    return policy.facilitated_case(
        ctx.db, ctx.require_account(), ctx.request.path_params["case_id"]
    )


def _participant(ctx: Ctx, case: Case) -> Participant:
    return policy.participant_in_case(ctx.db, case, ctx.request.path_params["participant_id"])


def _formats(ctx: Ctx) -> frozenset[Format]:
    """JSON sends a list; the page's form sends each ticked box as `formats` (web.py makes a
    repeated name a list), one box as a string, and no box at all when none is ticked."""
    raw = ctx.fields.raw("formats")
    if ctx.is_htmx:
        raw = [] if raw is None else [raw] if isinstance(raw, str) else raw
    if not isinstance(raw, list) or not all(
        isinstance(v, str) and v in Format._value2member_map_ for v in raw
    ):
        raise BadInput("Choose the formats this person accepts.", field="formats")
    return frozenset(Format(v) for v in raw)


def _participant_changed(
    ctx: Ctx, case: Case, participant: Participant, said: str, **extra: Any
) -> Response:
    """The participant's card as it is now, and a sentence for the page's status region."""
    return ctx.partial(
        "cases/_participant_changed.html",
        case=case_view(case),
        p=participant_view(ctx.db, case, participant),
        said=said,
        **extra,
    )


@endpoint(roles=FACILITATOR)
def api_case_status(ctx: Ctx) -> Response:
    case = _case(ctx)
    status = ctx.fields.choice("status", STATUSES)
    reason = (
        ctx.fields.choice("closing_reason", CLOSING_REASONS)
        if status is CaseCondition.CLOSED
        else None
    )
    cases.set_status(ctx.db, ctx.settings, ctx.require_account(), case, status, reason)
    if not ctx.is_htmx:
        return JSONResponse(
            {"status": case.status.value}
            | ({"closing_reason": reason.value} if reason is not None else {})
        )
    # Closing takes every participant's actions away, so their cards come again too.
    return ctx.partial("cases/_status_changed.html", changed=True, **case_page(ctx.db, case))


@endpoint(roles=FACILITATOR)
def api_case_stage(ctx: Ctx) -> Response:
    """Record that the case reached a later stage on its path, on a day (today when none)."""
    case = _case(ctx)
    stage = ctx.fields.choice("stage", STAGES)
    reached_on = ctx.fields.optional_day("reached_on")
    move = path.move_to(ctx.db, ctx.settings, ctx.require_account(), case, stage, reached_on)
    if not ctx.is_htmx:
        return JSONResponse({"stage": case.stage.value, "reached_on": move.reached_on.isoformat()})
    return ctx.partial(
        "cases/_path_changed.html", changed=True, case=case_view(case), path=path_view(ctx.db, case)
    )


@endpoint(roles=FACILITATOR)
def api_case_high_risk(ctx: Ctx) -> Response:
    """Mark the case high-risk for a reason (release then needs two facilitators), change the
    reason, or unmark it ("none")."""
    case = _case(ctx)
    reason = ctx.fields.choice("high_risk", HIGH_RISK_CHOICES)
    cases.set_high_risk(ctx.db, ctx.settings, ctx.require_account(), case, reason)
    if not ctx.is_htmx:
        return JSONResponse({"high_risk": case.high_risk.value if case.high_risk else None})
    return ctx.partial("cases/_high_risk_changed.html", changed=True, case=case_view(case))


@endpoint(roles=FACILITATOR)
def api_add_facilitator(ctx: Ctx) -> Response:
    """Add a certified colleague to the case's team, with the case key grant my browser made
    to their key as the trust log vouches for it."""
    case = _case(ctx)
    f = ctx.fields
    colleague_id = f.text("account_id", max_length=36)
    grant = f.binary("grant", length=wire.CASE_GRANT)
    colleague = cases.add_facilitator(
        ctx.db, ctx.settings, ctx.require_account(), case, colleague_id, grant
    )
    if not ctx.is_htmx:
        return JSONResponse({"account_id": colleague.id})
    return ctx.partial(
        "cases/_team_changed.html",
        added=colleague.sign_in_name,
        **team_context(ctx.db, case),
    )


@endpoint(roles=FACILITATOR)
def api_add_participant(ctx: Ctx) -> Response:
    case = _case(ctx)
    f = ctx.fields
    side = SIDES.get(f.raw("side")) if isinstance(f.raw("side"), str) else None
    if side is None:
        raise BadInput("Choose the side this person is on.", field="side")
    participant = cases.add_participant(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        side,
        f.binary("sealed_name", max_length=cases.MAX_SEALED_NAME),
        participant_id=f.optional_uuid4("participant_id"),
    )
    if not ctx.is_htmx:
        return JSONResponse({"participant_id": participant.id})
    return ctx.partial(
        "cases/_participant_added.html",
        case=case_view(case),
        p=participant_view(ctx.db, case, participant),
    )


@endpoint(roles=FACILITATOR)
def api_record_consent(ctx: Ctx) -> Response:
    case = _case(ctx)
    formats = _formats(ctx)
    participant = _participant(ctx, case)
    cases.record_consent(ctx.db, ctx.settings, ctx.require_account(), case, participant, formats)
    if not ctx.is_htmx:
        return JSONResponse({"ok": True})
    return _participant_changed(ctx, case, participant, "consent")


@endpoint(roles=FACILITATOR)
def api_mark_verified(ctx: Ctx) -> Response:
    case = _case(ctx)
    participant = _participant(ctx, case)
    cases.mark_key_verified(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        participant,
        ctx.fields.binary("public_key", length=wire.KEY),
    )
    regrants.mark_if_owed(ctx.db, participant)
    if not ctx.is_htmx:
        return JSONResponse({"ok": True})
    return _participant_changed(ctx, case, participant, "verified")


# ------------------------------------------------------------------ supporters and representatives


@endpoint(roles=FACILITATOR)
def api_add_supporter(ctx: Ctx) -> Response:
    """A place for a supporter or representative on a participant's side, with what the
    participant agreed they may do; its invitation is then made in this browser."""
    case = _case(ctx)
    participant = _participant(ctx, case)
    f = ctx.fields
    ends_on = f.optional_day("ends_on")
    supporter = supporters.add_supporter(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        participant,
        kind=f.choice("kind", KINDS),
        permissions=supporters.Permissions(
            read=f.flag("may_read"),
            write=f.flag("may_write"),
            notices=f.flag("may_receive_notices"),
        ),
        ends_at=local_time.start_of(ends_on) if ends_on else None,
        sealed_name=f.binary("sealed_name", max_length=supporters.MAX_SEALED_NAME),
        participant_agreed=f.flag("participant_agreed"),
        supporter_id=f.optional_uuid4("supporter_id"),
    )
    if not ctx.is_htmx:
        return JSONResponse({"supporter_id": supporter.id})
    return _participant_changed(ctx, case, participant, "supporter-added")


@endpoint(roles=FACILITATOR)
def api_revoke_supporter(ctx: Ctx) -> Response:
    case = _case(ctx)
    supporter = policy.supporter_in_case(ctx.db, case, ctx.request.path_params["supporter_id"])
    supporter_pages.take_away_access(ctx.db, ctx.settings, ctx.require_account(), case, supporter)
    if not ctx.is_htmx:
        return JSONResponse({"ok": True})
    return _participant_changed(ctx, case, supporter.participant, "supporter-revoked")


@endpoint(roles=FACILITATOR)
def api_mark_supporter_verified(ctx: Ctx) -> Response:
    case = _case(ctx)
    supporter = policy.supporter_in_case(ctx.db, case, ctx.request.path_params["supporter_id"])
    supporters.mark_key_verified(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        supporter,
        ctx.fields.binary("public_key", length=wire.KEY),
    )
    if not ctx.is_htmx:
        return JSONResponse({"ok": True})
    return _participant_changed(ctx, case, supporter.participant, "supporter-verified")


@endpoint(roles=FACILITATOR)
def api_give_supporter_case_key(ctx: Ctx) -> Response:
    """The case public key boxed in this facilitator's browser to a supporter or representative
    who may write (static/js/pages/case.js does it when the page shows them waiting)."""
    case = _case(ctx)
    supporter = policy.supporter_in_case(ctx.db, case, ctx.request.path_params["supporter_id"])
    supporters.give_case_public_key(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        supporter,
        ctx.fields.binary("grant", length=wire.CASE_PUBLIC_GRANT),
    )
    return JSONResponse({"ok": True})


@endpoint(roles=FACILITATOR)
def api_close_supporter_request(ctx: Ctx) -> Response:
    """A facilitator closes a participant's request for a supporter after talking it through
    (adding a place for them closes it by itself)."""
    case = _case(ctx)
    request = policy.request_in_case(ctx.db, case, ctx.request.path_params["request_id"])
    supporters.close_request(
        ctx.db, ctx.settings, ctx.require_account(), request, RequestOutcome.TALKED_THROUGH
    )
    if not ctx.is_htmx:
        return JSONResponse({"ok": True})
    return _participant_changed(ctx, case, request.participant, "supporters")


# ------------------------------------------------------------------ the team: leaving, hand-over


@endpoint(roles=FACILITATOR)
def api_remove_facilitator(ctx: Ctx) -> Response:
    """Take a facilitator off the case (a colleague, or myself when someone else stays). The case
    then waits for its next key epoch, which a remaining facilitator's browser makes; on this
    page that is mine at once (static/js/pages/case.js)."""
    case = _case(ctx)
    me = ctx.require_account()
    account_id = ctx.request.path_params["account_id"]
    removed = ctx.db.get(Account, account_id)
    team.remove_facilitator(ctx.db, ctx.settings, me, case, account_id)
    if account_id == me.id:
        return ctx.navigate(ctx.url_for("home"), left=True)
    if not ctx.is_htmx:
        return JSONResponse({"key_change_pending": True})
    return ctx.partial(
        "cases/_team_changed.html",
        removed=removed.sign_in_name if removed else "",
        **team_context(ctx.db, case),
    )


@endpoint(roles=FACILITATOR)
def api_hand_over(ctx: Ctx) -> Response:
    """Hand the case to a colleague: they are added with the grant my browser made them (as for
    adding a colleague) and I leave, in one step. Their browser makes the next key epoch."""
    case = _case(ctx)
    f = ctx.fields
    colleague = team.hand_over(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        f.text("account_id", max_length=36),
        f.binary("grant", length=wire.CASE_GRANT),
    )
    return ctx.navigate(ctx.url_for("home"), handed_to=colleague.id)


def _grants(ctx: Ctx, name: str, id_field: str, length: int) -> dict[str, bytes]:
    """``name: [{<id_field>, grant}]`` as {id: grant}; an id twice, or anything else, refused."""
    raw = ctx.fields.raw(name)
    if not isinstance(raw, list) or len(raw) > MAX_EPOCH_GRANTS:
        raise BadInput(field=name)
    grants: dict[str, bytes] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise BadInput(field=name)
        one = Fields(item)
        try:
            key, grant = one.uuid4(id_field), one.binary("grant", length=length)
        except BadInput:
            raise BadInput(field=name) from None
        if key in grants:
            raise BadInput(field=name)
        grants[key] = grant
    return grants


# More than any case has: facilitators and joined participants each get one grant.
MAX_EPOCH_GRANTS = 200


@endpoint(roles=FACILITATOR)
def api_start_epoch(ctx: Ctx) -> Response:
    """The case's next key epoch, made in my browser after a facilitator left (JSON only: the
    case page's script sends it by itself; docs/api-cases-and-letters.md)."""
    case = _case(ctx)
    f = ctx.fields
    previous = f.raw("previous_grant")
    new = team.EpochIn(
        epoch=f.integer("epoch", minimum=2, maximum=2**32 - 1),
        public_key=f.binary("public_key", length=wire.KEY),
        statement=_required_statement(f),
        facilitator_grants=_grants(ctx, "facilitator_grants", "account_id", wire.CASE_GRANT),
        participant_grants=_grants(
            ctx, "participant_grants", "participant_id", wire.CASE_PUBLIC_GRANT
        ),
        previous_grant=None
        if previous is None
        else f.binary("previous_grant", length=wire.CASE_GRANT),
    )
    team.start_epoch(ctx.db, ctx.settings, ctx.require_account(), case, new)
    return JSONResponse({"epoch": case.key_epoch})


def _required_statement(f: Fields) -> SignedStatement:
    statement = trust_schemas.optional_signed_statement(f, "case_key_statement")
    if statement is None:
        raise BadInput("The new case key must be signed.", field="case_key_statement")
    return statement
