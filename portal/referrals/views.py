"""Referral endpoints: the public pages and their JSON (no account), and the service manager's
Referrals page with its actions. Thin: parse, authorise, one service, answer."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from portal import local_time, paging, protocol
from portal.accounts.models import Account, Role
from portal.cases import services as cases
from portal.db import utcnow
from portal.errors import NotFound
from portal.referrals import policy, rules, schemas, services, states, triage
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


STATE_FILTERS = {state.value: state for state in states.ReferralState}


@endpoint(roles=STAFF)
def referrals_inbox(ctx: Ctx) -> Response:
    """Referrals, newest first (``?state=`` one state only), with each one's state and the
    working days since it arrived, highlighted while first contact is overdue: not declined,
    and no case from it has reached first contact (service managers and designated
    facilitators; anyone else 404)."""
    me = ctx.require_account()
    if not policy.may_read(ctx.db, me):
        raise NotFound("You do not read referrals.")
    wanted = ctx.query("state") or ""
    state = STATE_FILTERS.get(wanted)
    page = paging.scalars_page(
        ctx.db,
        services.inbox_query(state),
        paging.page_number(ctx.query("page")),
        INBOX_PAGE,
    )
    today = local_time.local(utcnow()).date()
    target = ctx.settings.referral_first_contact_days
    contacted = services.first_contact_made(ctx.db, [referral.id for referral in page.items])
    items = [
        {
            "referral": referral,
            "days": rules.working_days_between(
                local_time.local(referral.received_at).date(), today
            ),
            "overdue": referral.state is not states.ReferralState.DECLINED
            and referral.id not in contacted
            and rules.first_contact_overdue(
                local_time.local(referral.received_at).date(), today, target
            ),
        }
        for referral in page.items
    ]
    return ctx.render(
        "referrals/inbox.html",
        page=page,
        items=items,
        target=target,
        shown_state=state,
        states=list(states.ReferralState),
    )


def _referral_context(
    ctx: Ctx, referral: Referral, said: str | None = None, *, shared: bool = False
) -> dict[str, Any]:
    """What the referral's page and its triage part show to this reader (``shared``: the
    facilitator it was accepted to, reading it through their share)."""
    db = ctx.db
    me = ctx.require_account()
    triager = not shared and policy.may_triage(db, me)
    assigned = (
        db.get(Account, referral.assigned_facilitator_id)
        if referral.assigned_facilitator_id
        else None
    )
    case = triage.case_of(db, referral)
    return {
        "referral": referral,
        "ciphertext": b64(referral.ciphertext),
        "shared": {
            "share": b64(referral.share or b""),  # holds_share: set, with its sender
            "sender_account_id": referral.share_sender_id,
            "sender_public_key": b64(referral.share_sender_public_key or b""),
        }
        if shared
        else None,
        "actions": states.allowed_actions(referral.state) if triager else frozenset(),
        "Action": states.TriageAction,
        "facilitators": cases.certified_facilitators(db) if triager else [],
        "reasons": list(states.DeclineReason),
        "assigned": assigned,
        "case": case,
        "may_open_case": case is None and policy.holds_share(me, referral),
        "notes": {
            "more_info": b64(referral.more_info_note) if referral.more_info_note else None,
            "decline": b64(referral.decline_note) if referral.decline_note else None,
        },
        "said": said,
    }


@endpoint(roles=STAFF)
def referral_page(ctx: Ctx) -> Response:
    """One referral, opened in the reader's browser with the key from their grant; or, for the
    facilitator it was accepted to (designated or not), with the share made for them."""
    me = ctx.require_account()
    referral = ctx.db.get(Referral, ctx.request.path_params["referral_id"])
    if referral is None:
        raise NotFound("There is no such referral.")
    if policy.may_read(ctx.db, me):
        return ctx.render("referrals/show.html", **_referral_context(ctx, referral))
    if policy.holds_share(me, referral):
        return ctx.render("referrals/show.html", **_referral_context(ctx, referral, shared=True))
    raise NotFound("There is no such referral.")


def _triaged(ctx: Ctx, referral: Referral, said: str) -> Response:
    if ctx.is_htmx:
        return ctx.partial("referrals/_triage.html", **_referral_context(ctx, referral, said))
    return JSONResponse({"referral_id": referral.id, "state": referral.state.value})


def _triageable(ctx: Ctx) -> tuple[Account, Referral]:
    me = ctx.require_account()
    return me, policy.triageable(ctx.db, me, ctx.request.path_params["referral_id"])


@endpoint(roles=STAFF, api=True)
def ask_for_more(ctx: Ctx) -> Response:
    """Record that more information was asked for: ``{note?}`` (sealed to the referral key)."""
    me, referral = _triageable(ctx)
    triage.ask_for_more(ctx.db, ctx.settings, me, referral, schemas.optional_note(ctx.fields))
    return _triaged(
        ctx,
        referral,
        "Recorded that more information was asked for. You can accept or decline it later.",
    )


@endpoint(roles=STAFF, api=True)
def decline_referral(ctx: Ctx) -> Response:
    """Decline: ``{reason, note?}``."""
    me, referral = _triageable(ctx)
    reason = schemas.decline_reason(ctx.fields)
    triage.decline(ctx.db, ctx.settings, me, referral, reason, schemas.optional_note(ctx.fields))
    return _triaged(ctx, referral, f"Declined ({reason.label.lower()}).")


@endpoint(roles=STAFF, api=True)
def accept_referral(ctx: Ctx) -> Response:
    """Accept to a facilitator: ``{facilitator_id, share}`` (the share boxed in my browser)."""
    me, referral = _triageable(ctx)
    accepted = schemas.acceptance(ctx.fields)
    facilitator = triage.accept(
        ctx.db, ctx.settings, me, referral, accepted.facilitator_id, accepted.share
    )
    return _triaged(
        ctx,
        referral,
        f"Accepted. {facilitator.sign_in_name} will find it on their home page, to open as a case.",
    )
