"""Trust endpoints: the trust log for every signed-in browser, and the service manager's Staff
and Certify pages (closing an account with its revocation, certifying staff, handing the
service's root over). Thin: parse, authorise, one service, answer."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal import protocol
from portal.accounts import services as accounts
from portal.accounts.models import Account, Role
from portal.db import required
from portal.trust import schemas, services
from portal.trust.models import TrustLogEntry
from portal.web import Ctx, endpoint

SERVICE_MANAGER = frozenset({Role.SERVICE_MANAGER})
b64 = protocol.b64encode


def _entry_json(entry: TrustLogEntry) -> dict[str, str]:
    return {
        "signer_signing_public_key": b64(entry.signer_signing_public_key),
        "statement": b64(entry.statement),
        "signature": b64(entry.signature),
    }


@endpoint()
def api_trust(ctx: Ctx) -> Response:
    """The service root and the whole trust log, for the browser to check against its pins."""
    return JSONResponse(
        {
            "root": schemas.root_json(services.service_root(ctx.db)),
            "log": [_entry_json(entry) for entry in services.log_entries(ctx.db)],
        }
    )


# ------------------------------------------------------------------------- the Staff page


def _people_page(ctx: Ctx, template: str, closed: Account | None = None) -> Response:
    staff = accounts.staff_accounts(ctx.db)
    me = ctx.require_account()
    return ctx.render(
        template,
        staff=staff,
        me=me,
        closed=closed,
        # Closing a certified account also revokes its certificate (a sealed form), when this
        # service manager's signature counts (docs/api-trust.md).
        certified=services.certified_ids(ctx.db, [person.id for person in staff]),
        may_revoke=services.may_sign_for_the_service(ctx.db, me),
    )


@endpoint(roles=SERVICE_MANAGER)
def staff_page(ctx: Ctx) -> Response:
    return _people_page(ctx, "staff/people.html")


@endpoint(roles=SERVICE_MANAGER)
def disable_staff_account(ctx: Ctx) -> Response:
    """Close a staff account; with ``revocation {statement, signature}`` (the page's sealed
    form), its certificate is revoked in the trust log too."""
    revocation = schemas.optional_signed_statement(ctx.fields, "revocation")
    closed = services.close_staff_account(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        ctx.request.path_params["account_id"],
        revocation,
    )
    if ctx.is_htmx:
        return _people_page(ctx, "staff/_people_list.html", closed=closed)
    return ctx.redirect("staff_page")


# ------------------------------------------------------------------------ the Certify page


def _certify_context(ctx: Ctx, certified: Account | None = None) -> dict[str, Any]:
    """The Certify page: who waits, with their keys as data, and whom this service manager may
    certify now (only those rows get a "Certify" form)."""
    me = ctx.require_account()
    root = services.service_root(ctx.db)
    may_certify = services.may_sign_for_the_service(ctx.db, me)
    first = services.first_service_manager(ctx.db) if root is None else None

    def allowed(account: Account) -> bool:
        if root is None:
            # No root yet: only the longest-serving service manager, certifying themself.
            return first is not None and account.id == me.id == first.id
        return may_certify and account.id != me.id

    awaiting = [
        {
            "id": account.id,
            "name": account.sign_in_name,
            "role": account.role,
            "joined": account.created_at,
            "box_public_key": b64(account.public_key),
            "signing_public_key": b64(
                required(account.signing_public_key, "only accounts with one are listed")
            ),
            "may_certify": allowed(account),
        }
        for account in services.awaiting_certification(ctx.db)
    ]
    return {
        "awaiting": awaiting,
        "may_certify": may_certify,
        "root": root,
        "me": me,
        "certified": certified,
    }


def _root_context(ctx: Ctx, handed_over: Account | None = None) -> dict[str, Any]:
    """The Certify page's "The service's root" part: who the root is and, for the root only,
    the certified service managers it may hand over to, with their keys as data."""
    me = ctx.require_account()
    root = services.service_root(ctx.db)
    is_root = root is not None and root.account_id == me.id
    candidates = [
        {
            "id": account.id,
            "name": account.sign_in_name,
            "box_public_key": b64(account.public_key),
            "signing_public_key": b64(
                required(account.signing_public_key, "certified accounts have one")
            ),
        }
        for account in (services.root_candidates(ctx.db, root) if root and is_root else [])
    ]
    return {
        "root_account": ctx.db.get(Account, root.account_id) if root else None,
        "is_root": is_root,
        "candidates": candidates,
        "handed_over": handed_over,
    }


@endpoint(roles=SERVICE_MANAGER)
def certify_page(ctx: Ctx) -> Response:
    return ctx.render("staff/certify.html", **_certify_context(ctx), **_root_context(ctx))


@endpoint(roles=SERVICE_MANAGER)
def api_root_handover(ctx: Ctx) -> Response:
    """A ``root-handover`` made in the root's browser: JSON ``{position, root}``, or for the
    page's htmx form its root part as it is now."""
    me = ctx.require_account()
    entry = services.hand_over_root(ctx.db, ctx.settings, me, schemas.signed_statement(ctx.fields))
    if not ctx.is_htmx:
        return JSONResponse(
            {"position": entry.position, "root": schemas.root_json(services.service_root(ctx.db))}
        )
    new_root = ctx.db.get(Account, entry.subject_account_id)
    return ctx.partial("staff/_root.html", **_root_context(ctx, handed_over=new_root))


@endpoint(roles=SERVICE_MANAGER)
def api_certify(ctx: Ctx) -> Response:
    """A ``staff-cert`` made in the service manager's browser: JSON ``{position, account_id}``,
    or for the page's htmx form the list as it is now."""
    me = ctx.require_account()
    entry = services.certify(ctx.db, ctx.settings, me, schemas.signed_statement(ctx.fields))
    if not ctx.is_htmx:
        return JSONResponse({"position": entry.position, "account_id": entry.subject_account_id})
    subject = ctx.db.get(Account, entry.subject_account_id)
    return ctx.partial("staff/_certify_list.html", **_certify_context(ctx, certified=subject))
