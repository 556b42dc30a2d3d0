"""Referral endpoints: the public pages and their JSON (no account), and the service manager's
Referrals page with its actions. Thin: parse, authorise, one service, answer."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal import local_time, paging, protocol
from portal.accounts.models import Account, Role
from portal.db import utcnow
from portal.errors import NotFound
from portal.referrals import policy, rules, schemas, services
from portal.referrals.models import AGENCY_SOURCES, Referral, ReferralKey
from portal.trust import schemas as trust_schemas
from portal.trust import services as trust
from portal.trust.models import TrustLogEntry
from portal.web import Access, Ctx, endpoint

SERVICE_MANAGER = frozenset({Role.SERVICE_MANAGER})
STAFF = frozenset({Role.SERVICE_MANAGER, Role.FACILITATOR})
b64 = protocol.b64encode
CLOSED_TEXT = (
    "This service is not taking referrals online at the moment. Please contact the service "
    "in the way you usually do."
)


def _key_json(key: ReferralKey) -> dict[str, str]:
    return {
        "key_id": key.id,
        "referral_public_key": b64(key.public_key),
        **trust_schemas.signed_statement_json(key.statement, key.signature, key.signer_account_id),
    }


def _entry_json(entry: TrustLogEntry) -> dict[str, str]:
    return {
        "signer_signing_public_key": b64(entry.signer_signing_public_key),
        "statement": b64(entry.statement),
        "signature": b64(entry.signature),
    }


# ------------------------------------------------------------------ public: referring someone


def _refer_page(ctx: Ctx, template: str) -> Response:
    key = services.current_key(ctx.db)
    return ctx.render(
        template,
        taking_referrals=key is not None,
        closed_text=ctx.settings.referrals_closed_text or CLOSED_TEXT,
        sources=AGENCY_SOURCES,
        max_sealed=services.MAX_SEALED,
    )


@endpoint(Access.PUBLIC)
def refer_page(ctx: Ctx) -> Response:
    """ "Refer someone": for partner agencies."""
    return _refer_page(ctx, "referrals/refer.html")


@endpoint(Access.PUBLIC)
def refer_self_page(ctx: Ctx) -> Response:
    """ "Talk to us in confidence": a self-referral."""
    return _refer_page(ctx, "referrals/refer_self.html")


@endpoint(Access.PUBLIC, api=True)
def api_referral_key(ctx: Ctx) -> Response:
    """The referral key with its statement, and the service root and the trust log the
    browser checks it against (a browser with no account has pinned nothing: see
    docs/security.md, "Referrals")."""
    key = services.current_key(ctx.db)
    return JSONResponse(
        {
            "key": _key_json(key) if key is not None else None,
            "root": trust_schemas.root_json(trust.service_root(ctx.db)),
            "log": [_entry_json(entry) for entry in trust.log_entries(ctx.db)],
        }
    )


@endpoint(Access.PUBLIC)
def api_submit_referral(ctx: Ctx) -> Response:
    """A sealed referral: ``{channel, source, key_id, ciphertext}``. htmx gets the
    confirmation in place of the form (no new address, so nothing in the history names it);
    JSON gets ``{reference}``."""
    submission = schemas.submission(ctx.fields)
    referral = services.receive(
        ctx.db,
        ctx.settings,
        ctx.client_address,
        channel=submission.channel,
        source=submission.source,
        key_id=submission.key_id,
        ciphertext=submission.ciphertext,
    )
    if ctx.is_htmx:
        return ctx.partial(
            "referrals/_received.html", reference=referral.reference, channel=referral.channel
        )
    return JSONResponse({"reference": referral.reference}, status_code=201)


# ------------------------------------------------------- the service manager's Referrals page


def _manage_context(ctx: Ctx, said: str | None = None) -> dict[str, Any]:
    me = ctx.require_account()
    key = services.current_key(ctx.db)
    holds = key is not None and services.grant_of(ctx.db, key, me.id) is not None
    return {
        "key": key,
        "holds_key": holds,
        "may_set_up": key is None and trust.may_sign_for_the_service(ctx.db, me),
        "may_give": holds and trust.may_sign_for_the_service(ctx.db, me),
        "holders": services.holders(ctx.db, key),
        "me": me,
        "said": said,
        "closed_text": ctx.settings.referrals_closed_text or CLOSED_TEXT,
    }


@endpoint(roles=SERVICE_MANAGER)
def referrals_page(ctx: Ctx) -> Response:
    return ctx.render("referrals/manage.html", **_manage_context(ctx))


@endpoint(roles=SERVICE_MANAGER, api=True)
def api_create_referral_key(ctx: Ctx) -> Response:
    """The referral key made in this manager's browser (``{key_id, referral_public_key,
    statement, signature, grant}``)."""
    new = schemas.new_key(ctx.fields)
    key = services.create_key(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        key_id=new.key_id,
        public_key=new.public_key,
        signed=new.signed,
        grant=new.grant,
    )
    if ctx.is_htmx:
        said = "Referrals are set up. The public pages now take referrals sealed to this key."
        return ctx.partial("referrals/_manage.html", **_manage_context(ctx, said))
    return JSONResponse({"key_id": key.id}, status_code=201)


@endpoint(roles=SERVICE_MANAGER, api=True)
def give_referral_access(ctx: Ctx) -> Response:
    """A grant of the referral key from this manager's browser: ``{account_id, grant}``."""
    access = schemas.access(ctx.fields)
    person = services.give_access(
        ctx.db, ctx.settings, ctx.require_account(), access.account_id, access.grant
    )
    if ctx.is_htmx:
        said = f"{person.sign_in_name} can now read referrals."
        return ctx.partial("referrals/_manage.html", **_manage_context(ctx, said))
    return JSONResponse({"account_id": person.id})


@endpoint(roles=SERVICE_MANAGER, api=True)
def remove_referral_reader(ctx: Ctx) -> Response:
    """End a facilitator's designation; their grant is deleted at once."""
    person: Account = services.remove_reader(
        ctx.db, ctx.settings, ctx.require_account(), ctx.request.path_params["account_id"]
    )
    if ctx.is_htmx:
        said = f"{person.sign_in_name} can no longer read referrals."
        return ctx.partial("referrals/_manage.html", **_manage_context(ctx, said))
    return JSONResponse({"account_id": person.id})


@endpoint(roles=STAFF, api=True)
def api_my_referral_grant(ctx: Ctx) -> Response:
    """The referral key and my grant of it, for my browser to open (readers only; 404)."""
    key, grant = policy.readable_grant(ctx.db, ctx.require_account())
    return JSONResponse(
        {
            "key": _key_json(key),
            "grant": b64(grant.grant),
            "sender_account_id": grant.sender_account_id,
            "sender_public_key": b64(grant.sender_public_key),
        }
    )


# ------------------------------------------------------------------------ the referrals inbox

INBOX_PAGE = 25


@endpoint(roles=STAFF)
def referrals_inbox(ctx: Ctx) -> Response:
    """Referrals, newest first, with working days since each arrived (service managers and
    designated facilitators; anyone else 404)."""
    me = ctx.require_account()
    if not policy.may_read(ctx.db, me):
        raise NotFound("You do not read referrals.")
    page = paging.scalars_page(
        ctx.db,
        services.inbox_query(),
        paging.page_number(ctx.query("page")),
        INBOX_PAGE,
    )
    today = local_time.local(utcnow()).date()
    target = ctx.settings.referral_first_contact_days
    items = [
        {
            "referral": referral,
            "days": rules.working_days_between(
                local_time.local(referral.received_at).date(), today
            ),
            "overdue": rules.first_contact_overdue(
                local_time.local(referral.received_at).date(), today, target
            ),
        }
        for referral in page.items
    ]
    return ctx.render("referrals/inbox.html", page=page, items=items, target=target)


@endpoint(roles=STAFF)
def referral_page(ctx: Ctx) -> Response:
    """One referral, opened in the reader's browser with the key from their grant."""
    me = ctx.require_account()
    referral = ctx.db.get(Referral, ctx.request.path_params["referral_id"])
    if referral is None or not policy.may_read(ctx.db, me):
        raise NotFound("There is no such referral.")
    return ctx.render("referrals/show.html", referral=referral, ciphertext=b64(referral.ciphertext))
