"""Case endpoints for facilitators: thin — parse, authorise (cases.policy), one service, answer.

The case key: the facilitator's own grant of it, and giving its public key to a participant who
has joined (both made in the facilitator's browser). Opening a case (from a referral, too), the
pages that show a case, and the case page's actions, which answer with pieces of that page,
bring several domains together: they are in ``portal/workspace``.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from portal import protocol, wire
from portal.accounts.models import Role
from portal.cases import policy, services, team
from portal.cases.models import Case, CaseKeyEpoch, Participant
from portal.errors import BadInput
from portal.trust import schemas as trust_schemas
from portal.web import Ctx, endpoint

FACILITATOR = frozenset({Role.FACILITATOR})


def _case(ctx: Ctx) -> Case:
    return policy.facilitated_case(
        ctx.db, ctx.require_account(), ctx.request.path_params["case_id"]
    )


def _participant(ctx: Ctx, case: Case) -> Participant:
    return policy.participant_in_case(ctx.db, case, ctx.request.path_params["participant_id"])


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
            "sender_account_id": grant.sender.id,
            "sender_public_key": protocol.b64encode(grant.sender.public_key),
            "case_key_statement": case_key_statement_json(
                services.case_key_epoch_for(ctx.db, case)
            ),
            # Each epoch's key opens the one before it: my browser walks back from the
            # current key to read what was sealed to earlier ones (client/cases.js).
            "previous": [
                {"epoch": e.epoch, "grant": protocol.b64encode(e.previous_grant)}
                for e in team.previous_grants(ctx.db, case)
                if e.previous_grant is not None
            ],
            "key_change_pending": case.key_change_since is not None,
        }
    )


def case_key_statement_json(epoch: CaseKeyEpoch | None) -> dict[str, str] | None:
    """The signed case key of the current epoch (docs/api-trust.md), or None for a case opened
    by a browser made before trust anchors."""
    if epoch is None:
        return None
    return trust_schemas.signed_statement_json(
        epoch.statement, epoch.signature, epoch.signer_account_id
    )


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
