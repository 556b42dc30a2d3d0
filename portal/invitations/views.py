"""Invitation endpoints: the staff invitations page, and joining with a code (the join and setup
pages and their JSON). Thin: parse, authorise, one service, render. A participant's invitation
is made on the case page: ``portal/workspace/case_actions.py``."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal import protocol, wire
from portal.accounts.models import Role
from portal.accounts.services import NewAccountKeys
from portal.accounts.views import end_signed_in_session, signed_in_response
from portal.invitations import policy, services
from portal.web import Access, Ctx, endpoint

KEY = wire.KEY
BUNDLE = wire.KEY_BUNDLE
STAFF = policy.STAFF


def _join_link(ctx: Ctx, code: str) -> str:
    return f"{ctx.settings.base_url}{ctx.url_for('join_page')}#code={code}"


# ---------------------------------------------------------------------------------- joining


@endpoint(Access.PUBLIC)
def join_page(ctx: Ctx) -> Response:
    return ctx.render("accounts/join.html", purpose="invite")


@endpoint(Access.PUBLIC)
def setup_page(ctx: Ctx) -> Response:
    return ctx.render("accounts/join.html", purpose="setup")


@endpoint(Access.PUBLIC)
def api_join_start(ctx: Ctx) -> Response:
    code = ctx.fields.text("code", max_length=100)
    attempt = services.JoinAttempt.from_address(ctx.settings, ctx.client_address)
    invitation = services.usable_invitation(ctx.db, ctx.settings, code, attempt)
    return JSONResponse(
        {
            "account_id": invitation.account_id,
            "role": invitation.role.value,
            "role_label": invitation.role.label,
            "purpose": invitation.purpose.value,
            "kdf": {
                "salt": protocol.b64encode(invitation.kdf_salt),
                "ops": invitation.kdf_ops,
                "mem": invitation.kdf_mem,
            },
        }
    )


@endpoint(Access.PUBLIC)
def api_join_complete(ctx: Ctx) -> Response:
    f = ctx.fields
    code = f.text("code", max_length=100)
    name = f.text("sign_in_name", max_length=64)
    keys = NewAccountKeys(
        public_key=f.binary("public_key", length=KEY),
        auth_key=f.binary("auth_key", length=KEY),
        bundle=f.binary("bundle", length=BUNDLE),
        recovery_auth=f.binary("recovery_auth", length=KEY),
        recovery_bundle=f.binary("recovery_bundle", length=BUNDLE),
    )
    attempt = services.JoinAttempt.from_address(ctx.settings, ctx.client_address)
    new_account = services.complete_join(
        ctx.db, ctx.settings, ctx.state.auth_hasher, code, name, keys, attempt
    )
    end_signed_in_session(ctx)
    return signed_in_response(ctx, new_account, ctx.url_for("home"))


# ------------------------------------------------------------------------------------ staff


def _invitations_page(ctx: Ctx, **issued: Any) -> Response:
    me = ctx.require_account()
    return ctx.render(
        "staff/invitations.html",
        roles=policy.roles_invitable_by(me),
        rows=services.invitations_visible_to(ctx.db, me),
        status=services.invitation_status,
        **issued,
    )


@endpoint(roles=STAFF)
def invitations(ctx: Ctx) -> Response:
    return _invitations_page(ctx, issued=None)


@endpoint(roles=STAFF)
def create_invitation(ctx: Ctx) -> Response:
    me = ctx.require_account()
    allowed = {role.value: role for role in policy.roles_invitable_by(me)}
    role: Role = ctx.fields.choice("role", allowed)
    issued = services.create_invitation(ctx.db, ctx.settings, me, role)
    # The code is shown once, now; only its hash is kept.
    return _invitations_page(ctx, issued=issued, join_link=_join_link(ctx, issued.code))


@endpoint(roles=STAFF)
def revoke_invitation(ctx: Ctx) -> Response:
    me = ctx.require_account()
    services.revoke_invitation(ctx.db, ctx.settings, me, ctx.request.path_params["invitation_id"])
    return ctx.redirect("invitations")
