"""Invitation endpoints: the staff invitations page, invitations prepared and sealed in the
inviter's browser (docs/api-trust.md), and joining with a code (the join and setup pages and
their JSON). Thin: parse, authorise, one service, render. A server-made participant's invitation
is made on the case page: ``portal/workspace/case_actions.py``."""

from __future__ import annotations

import re
from functools import partial

from starlette.responses import JSONResponse, Response

from portal import protocol, wire
from portal.accounts.models import Role
from portal.accounts.services import KeyHashes, NewAccountKeys, hash_new_keys
from portal.accounts.views import end_signed_in_session, signed_in_response
from portal.cases import policy as case_policy
from portal.cases.models import Participant
from portal.errors import BadInput, Forbidden, NotFound
from portal.invitations import policy, services
from portal.invitations.models import Invitation
from portal.trust import schemas as trust_schemas
from portal.trust import services as trust
from portal.trust.statements import SignedStatement, protocol_time
from portal.web import Access, AfterHashing, Ctx, endpoint

KEY = wire.KEY
BUNDLE = wire.KEY_BUNDLE
STAFF = policy.STAFF


# ---------------------------------------------------------------------------------- joining


@endpoint(Access.PUBLIC)
def join_page(ctx: Ctx) -> Response:
    return ctx.render("accounts/join.html", purpose="invite")


@endpoint(Access.PUBLIC)
def setup_page(ctx: Ctx) -> Response:
    return ctx.render("accounts/join.html", purpose="setup")


LOOKUP_ID = re.compile(r"[0-9a-f]{32}")


def _lookup_id(ctx: Ctx) -> str:
    value = ctx.fields.text("lookup_id", max_length=32)
    if not LOOKUP_ID.fullmatch(value):
        raise BadInput(field="lookup_id")
    return value


def _kdf(invitation: Invitation) -> dict[str, object]:
    return {
        "salt": protocol.b64encode(invitation.kdf_salt),
        "ops": invitation.kdf_ops,
        "mem": invitation.kdf_mem,
    }


@endpoint(Access.PUBLIC)
def api_join_start(ctx: Ctx) -> Response:
    """``{code}`` (the setup link, or an invitation made before trust anchors) or
    ``{lookup_id}`` (a browser-made code): the invitation, for the browser to check before it
    sends anything. A browser-made one comes with its MAC fields and ``mac``
    (docs/api-trust.md): the joiner's browser checks them with the code first."""
    f = ctx.fields
    if f.raw("lookup_id") is not None and f.raw("code") is not None:
        raise BadInput("Send the code's lookup id or the code, not both.", field="code")
    attempt = services.JoinAttempt.from_address(ctx.settings, ctx.client_address)
    if f.raw("lookup_id") is None:
        code = f.text("code", max_length=100)
        invitation = services.usable_invitation(ctx.db, ctx.settings, code, attempt)
        return JSONResponse(
            {
                "account_id": invitation.account_id,
                "role": invitation.role.value,
                "role_label": invitation.role.label,
                "purpose": invitation.purpose.value,
                "kdf": _kdf(invitation),
            }
        )
    by_lookup = services.ByLookupId(_lookup_id(ctx))
    invitation = services.usable_invitation(ctx.db, ctx.settings, by_lookup, attempt)
    served = services.served_fields(ctx.db, invitation)
    return JSONResponse(
        {
            **served.fields,
            "mac": protocol.b64encode(served.mac),
            "role_label": invitation.role.label,
            "purpose": invitation.purpose.value,
            "kdf": _kdf(invitation),
        }
    )


@endpoint(Access.PUBLIC)
def api_join_complete(ctx: Ctx) -> Response | AfterHashing[KeyHashes]:
    """Create the account: with ``redeem_proof`` (a browser-made code) or ``code`` (setup,
    older invitations), the keys the browser made, and at setup the first service manager's
    own ``staff_cert``."""
    f = ctx.fields
    redemption: services.ByCode | services.ByRedeemProof
    if f.raw("redeem_proof") is not None:
        if f.raw("code") is not None:
            raise BadInput("Send the redeem proof or the code, not both.", field="code")
        redemption = services.ByRedeemProof(
            f.binary("redeem_proof", length=KEY),
            _lookup_id(ctx) if f.raw("lookup_id") is not None else None,
        )
    else:
        redemption = services.ByCode(f.text("code", max_length=100))
    name = f.text("sign_in_name", max_length=64)
    keys = NewAccountKeys(
        public_key=f.binary("public_key", length=KEY),
        auth_key=f.binary("auth_key", length=KEY),
        bundle=f.binary("bundle", length=BUNDLE),
        recovery_auth=f.binary("recovery_auth", length=KEY),
        recovery_bundle=f.binary("recovery_bundle", length=BUNDLE),
        signing_public_key=f.binary("signing_public_key", length=KEY)
        if f.raw("signing_public_key") is not None
        else None,
    )
    staff_cert = trust_schemas.optional_signed_statement(f, "staff_cert")
    attempt = services.JoinAttempt.from_address(ctx.settings, ctx.client_address)
    # Refused at once while this address is throttled, before any argon2 is spent.
    services.check_join_allowed(ctx.db, ctx.settings, attempt)
    return ctx.after_hashing(
        partial(hash_new_keys, ctx.state.auth_hasher, keys),
        partial(_joined, redemption, name, keys, attempt, staff_cert),
    )


def _joined(
    redemption: services.ByCode | services.ByRedeemProof,
    name: str,
    keys: NewAccountKeys,
    attempt: services.JoinAttempt,
    staff_cert: SignedStatement | None,
    ctx: Ctx,
    hashes: KeyHashes,
) -> Response:
    new_account = services.complete_join(
        ctx.db,
        ctx.settings,
        hashes,
        redemption,
        name,
        keys,
        attempt,
        staff_cert=staff_cert,
    )
    end_signed_in_session(ctx)
    # The service root, for the new account's browser to pin (the first service manager's
    # own key at setup; otherwise what the invitation's MAC already vouched for).
    return signed_in_response(
        ctx,
        new_account,
        ctx.url_for("home"),
        first_sign_in=True,
        root=trust_schemas.root_json(trust.service_root(ctx.db)),
    )


# ------------------------------------------------------------------- browser-made codes

INVITABLE = {role.value: role for role in Role}


@endpoint(roles=STAFF)
def api_prepare_invitation(ctx: Ctx) -> Response:
    """Reserve an invitation for this browser to make a code for (docs/api-trust.md):
    ``{invitation_id, account_id, expires_at, root}``; with ``"rekey": true``, a code for a
    new key for the named participant's or supporter's account, which ``account_id`` is."""
    me = ctx.require_account()
    role: Role = ctx.fields.choice("role", INVITABLE)
    participant_id = ctx.fields.optional_uuid4("participant_id")
    supporter_id = ctx.fields.optional_uuid4("supporter_id")
    if not policy.can_invite(me, role):
        raise Forbidden("You cannot invite someone to that role.")
    participant = None
    if participant_id is not None:
        person = ctx.db.get(Participant, participant_id)
        if person is None:
            raise NotFound
        case = case_policy.facilitated_case(ctx.db, me, person.case_id)
        participant = (case, person)
    supporter = None
    if supporter_id is not None:
        place = case_policy.supporter_of_facilitated_case(ctx.db, me, supporter_id)
        supporter = (place.participant.case, place)
    invitation = services.prepare_invitation(
        ctx.db,
        ctx.settings,
        me,
        role,
        participant=participant,
        supporter=supporter,
        rekey=ctx.fields.flag("rekey"),
    )
    return JSONResponse(
        {
            "invitation_id": invitation.id,
            "account_id": invitation.account_id,
            "expires_at": protocol_time(invitation.expires_at),
            "root": trust_schemas.root_json(trust.service_root(ctx.db)),
        }
    )


@endpoint(roles=STAFF)
def api_seal_invitation(ctx: Ctx) -> Response:
    """The code this browser made: ``{lookup_id, redeem_proof_hash, mac}``. The server can
    find and check a redemption with them, never make one."""
    f = ctx.fields
    invitation = services.seal_invitation(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        ctx.request.path_params["invitation_id"],
        lookup_id=_lookup_id(ctx),
        redeem_proof_hash=f.binary("redeem_proof_hash", length=KEY),
        mac=f.binary("mac", length=KEY),
    )
    return JSONResponse(
        {"invitation_id": invitation.id, "expires_at": protocol_time(invitation.expires_at)}
    )


# ------------------------------------------------------------------------------------ staff


def _invitations_page(ctx: Ctx) -> Response:
    me = ctx.require_account()
    return ctx.render(
        "staff/invitations.html",
        roles=policy.roles_invitable_from_invitations_page(me),
        rows=services.invitations_visible_to(ctx.db, me),
        status=services.invitation_status,
    )


@endpoint(roles=STAFF)
def invitations(ctx: Ctx) -> Response:
    return _invitations_page(ctx)


@endpoint(roles=STAFF)
def revoke_invitation(ctx: Ctx) -> Response:
    me = ctx.require_account()
    services.revoke_invitation(ctx.db, ctx.settings, me, ctx.request.path_params["invitation_id"])
    return ctx.redirect("invitations")
