"""Second-factor endpoints: the step after the password, the account's factors, and a service
manager's reset of a colleague's. Thin: parse, authorise, call one service, render.

Which of them a session that still owes its step may reach is said by each endpoint's
``before_second_factor`` (the steps: portal/accounts/steps.py; enforced by
portal/factors/gate.py).
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from portal.accounts import steps
from portal.accounts.models import Account, Role
from portal.audit.tags import AuditTag
from portal.db import utcnow
from portal.errors import BadInput
from portal.factors import passkeys, policy, services
from portal.factors.models import FactorKind
from portal.web import Ctx, endpoint

SERVICE_MANAGER = frozenset({Role.SERVICE_MANAGER})
ADDED = {"app": "Your authenticator app is added.", "passkey": "Your passkey is added."}

# ------------------------------------------------------------------ the step after the password


@endpoint(before_second_factor=steps.WHILE_VERIFYING)
def second_factor_page(ctx: Ctx) -> Response:
    current = ctx.require_current()
    if current.second_factor_due != steps.VERIFY:
        return ctx.redirect("home")
    held = services.factors_of(ctx.db, current.account.id)
    return ctx.render(
        "factors/verify.html",
        has_passkey=any(f.kind is FactorKind.PASSKEY for f in held),
        has_app=any(f.kind is FactorKind.APP for f in held),
    )


@endpoint(before_second_factor=steps.WHILE_VERIFYING)
def api_pass_second_factor(ctx: Ctx) -> Response:
    code = ctx.fields.text("code", max_length=40)
    services.pass_with_code(
        ctx.db, ctx.settings, ctx.require_current(), code, ctx.client_address, at=utcnow()
    )
    return JSONResponse({"next": ctx.url_for("home")})


@endpoint(before_second_factor=steps.WHILE_VERIFYING)
def api_passkey_sign_in_options(ctx: Ctx) -> Response:
    options = passkeys.authentication_options(ctx.db, ctx.settings, ctx.require_current())
    return JSONResponse({"options": options})


@endpoint(before_second_factor=steps.WHILE_VERIFYING)
def api_pass_with_passkey(ctx: Ctx) -> Response:
    passkeys.pass_with_passkey(
        ctx.db,
        ctx.settings,
        ctx.require_current(),
        ctx.fields.raw("credential"),
        ctx.client_address,
        at=utcnow(),
    )
    return JSONResponse({"next": ctx.url_for("home")})


# --------------------------------------------------------------------- the account's factors


@endpoint(before_second_factor=steps.WHILE_ENROLLING)
def factors_page(ctx: Ctx) -> Response:
    current = ctx.require_current()
    me = current.account
    added = ctx.query("added")
    return ctx.render(
        "factors/factors.html",
        factors=services.factors_of(ctx.db, me.id),
        backup_codes_left=services.backup_codes_left(ctx.db, me.id),
        must_enrol=current.second_factor_due == steps.ENROL,
        added=ADDED.get(added or ""),
        removed=ctx.query("removed") == "yes",
    )


@endpoint(before_second_factor=steps.WHILE_ENROLLING, writes=True)
def app_setup_page(ctx: Ctx) -> Response:
    """A new secret for this session each time the page is opened (the last one is replaced)."""
    current = ctx.require_current()
    secret = services.start_app_setup(ctx.db, ctx.settings, current)
    return _app_setup(ctx, secret)


def _app_setup(ctx: Ctx, secret: str, problem: str | None = None) -> Response:
    setup = services.app_setup(ctx.settings, ctx.require_account(), secret)
    return ctx.render(
        "factors/app.html",
        status_code=400 if problem else 200,
        setup=setup,
        secret_groups=[setup.secret[i : i + 4] for i in range(0, len(setup.secret), 4)],
        problem=problem,
    )


@endpoint(before_second_factor=steps.WHILE_ENROLLING)
def confirm_app(ctx: Ctx) -> Response:
    current = ctx.require_current()
    code = ctx.fields.text("code", max_length=40)
    try:
        services.confirm_app(ctx.db, ctx.settings, current, code, at=utcnow())
    except BadInput as problem:
        secret = services.pending_app_secret(ctx.db, ctx.settings, current)
        if secret is None:
            raise
        return _app_setup(ctx, secret, problem.message)
    return ctx.redirect("factors_page", added="app")


@endpoint(before_second_factor=steps.WHILE_ENROLLING)
def api_passkey_setup_options(ctx: Ctx) -> Response:
    options = passkeys.registration_options(ctx.db, ctx.settings, ctx.require_current())
    return JSONResponse({"options": options})


@endpoint(before_second_factor=steps.WHILE_ENROLLING)
def api_add_passkey(ctx: Ctx) -> Response:
    passkeys.register(
        ctx.db, ctx.settings, ctx.require_current(), ctx.fields.raw("credential"), at=utcnow()
    )
    return JSONResponse({"next": ctx.url_for("factors_page") + "?added=passkey"})


@endpoint()
def make_backup_codes(ctx: Ctx) -> Response:
    me = ctx.require_account()
    if not services.holds_a_factor(ctx.db, me.id):
        raise BadInput("Add an authenticator app or a passkey first.")
    codes = services.make_backup_codes(ctx.db, ctx.settings, me, ctx.require_current().session_id)
    return ctx.render("factors/backup_codes.html", codes=codes)


@endpoint()
def remove_factor(ctx: Ctx) -> Response:
    current = ctx.require_current()
    factor = policy.own_factor(ctx.db, current.account, ctx.request.path_params["factor_id"])
    services.remove_factor(ctx.db, ctx.settings, current, factor)
    return ctx.redirect("factors_page", removed="yes")


# ------------------------------------------------------------- a service manager's reset


def _colleague(ctx: Ctx) -> Account:
    return policy.colleague_to_reset(
        ctx.db, ctx.require_account(), ctx.request.path_params["account_id"]
    )


@endpoint(roles=SERVICE_MANAGER)
def reset_page(ctx: Ctx) -> Response:
    colleague = _colleague(ctx)
    return ctx.render(
        "factors/reset.html",
        colleague=colleague,
        factor_count=len(services.factors_of(ctx.db, colleague.id)),
    )


@endpoint(roles=SERVICE_MANAGER)
def reset_second_factor(ctx: Ctx) -> Response:
    colleague = _colleague(ctx)
    if not ctx.fields.flag("checked_in_person"):
        raise BadInput(
            "Tick the box to say you checked, in person or by a call you placed, who asked.",
            field="checked_in_person",
        )
    services.reset(
        ctx.db,
        ctx.settings,
        colleague,
        actor_id=ctx.require_account().id,
        tag=AuditTag.SECOND_FACTOR_RESET,
    )
    return ctx.render("factors/reset_done.html", colleague=colleague)
