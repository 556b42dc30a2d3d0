"""Giving access again (``portal/messages/regrants.py``): what a facilitator's browser must
grant again in a case, and the grants it made. Thin: parse, authorise (a facilitator of the
case: ``cases/policy.facilitated_case``, 404 for anyone else), one service, answer JSON."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from portal import protocol, wire
from portal.accounts.models import Role
from portal.cases import policy
from portal.content import services as content
from portal.errors import BadInput
from portal.messages import regrants
from portal.web import Ctx, Fields, endpoint

FACILITATOR = frozenset({Role.FACILITATOR})
MAX_GRANTS = 500
b64 = protocol.b64encode


@endpoint(roles=FACILITATOR)
def api_regrants(ctx: Ctx) -> Response:
    """``{"people": [...]}``: each person owed grants, with their current key, the key compared
    in person, and for each item its grant to the case key and who made it (the browser opens
    it with the case key, as approving does, and grants the content key to the person)."""
    case = policy.facilitated_case(
        ctx.db, ctx.require_account(), ctx.request.path_params["case_id"]
    )
    people = regrants.owed_in_case(ctx.db, case)
    return JSONResponse(
        {
            "case_id": case.id,
            "case_epoch": case.key_epoch,
            "people": [
                {
                    "participant_id": person.participant_id,
                    "supporter_id": person.supporter_id,
                    "account_id": person.account.id,
                    "public_key": b64(person.account.public_key),
                    "verified_public_key": b64(person.verified_public_key),
                    "items": [
                        {
                            "message_id": item.message_id,
                            "what": item.what,
                            "object_id": item.object_id,
                            "version": item.version,
                            "grant": b64(item.case_grant.grant),
                            "case_epoch": item.case_grant.recipient_case_epoch,
                            "sender_account_id": item.case_grant.sender_id,
                            "sender_public_key": b64(item.case_grant.sender_box_key),
                        }
                        for item in person.items
                    ],
                }
                for person in people
            ],
        }
    )


@endpoint(roles=FACILITATOR)
def api_regrant(ctx: Ctx) -> Response:
    """``{account_id, public_key, grants: [{object_id, version, grant}]}``: the grants this
    browser made again for one person, to the key it compared in person."""
    me = ctx.require_account()
    case = policy.facilitated_case(ctx.db, me, ctx.request.path_params["case_id"])
    f = ctx.fields
    account_id = f.uuid4("account_id")
    public_key = f.binary("public_key", length=wire.KEY)
    raw = f.raw("grants")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_GRANTS:
        raise BadInput(field="grants")
    grants = []
    for item in raw:
        if not isinstance(item, dict):
            raise BadInput(field="grants")
        one = Fields(item)
        grants.append(
            regrants.RegrantIn(
                object_id=one.uuid4("object_id"),
                version=one.integer("version", minimum=1, maximum=1_000_000),
                grant=one.binary("grant", length=content.CONTENT_GRANT_SIZE),
            )
        )
    given = regrants.regrant(ctx.db, ctx.settings, me, case, account_id, public_key, grants)
    return JSONResponse({"granted": given})
