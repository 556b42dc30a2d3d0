"""Opening a case: the new case page and its sealed form, from nothing or from a referral
accepted to me (``?referral=<id>``; ``referrals/triage.py`` checks it, and locks it to open).

They are here rather than in ``portal/cases`` because opening from a referral brings referrals
and cases together, and referrals sit above cases (a referral becomes a case): cases takes
the referral as plain values (``cases.services.FromReferral``). Thin: parse, authorise, one
service, answer.
"""

from __future__ import annotations

from starlette.responses import Response

from portal import wire
from portal.accounts.models import Role
from portal.cases import services as cases
from portal.referrals import triage
from portal.trust import schemas as trust_schemas
from portal.web import Ctx, endpoint

FACILITATOR = frozenset({Role.FACILITATOR})


@endpoint(roles=FACILITATOR)
def new_case_page(ctx: Ctx) -> Response:
    """Open a case; ``?referral=<id>``: from a referral accepted to me (the form carries it)."""
    referral_id = ctx.query("referral")
    referral = (
        triage.accepted_for(ctx.db, ctx.require_account(), referral_id) if referral_id else None
    )
    return ctx.render("cases/new.html", referral=referral)


@endpoint(roles=FACILITATOR)
def api_open_case(ctx: Ctx) -> Response:
    """The new case page's sealed form (static/js/pages/new-case.js makes the id, the key pair
    and the grant): htmx goes to the case's page, a JSON client gets ``{case_id, next}``."""
    f = ctx.fields
    case_id = f.uuid4("case_id")
    me = ctx.require_account()
    referral_id = f.optional_uuid4("referral_id")
    case = cases.open_case(
        ctx.db,
        ctx.settings,
        me,
        case_id=case_id,
        # Empty is the service's to refuse, in its own words.
        reference=f.text("reference", max_length=40, required=False),
        label=f.text("label", max_length=80, required=False),
        public_key=f.binary("public_key", length=wire.KEY),
        own_grant=f.binary("grant", length=wire.CASE_GRANT),
        case_key_statement=trust_schemas.optional_signed_statement(f, "case_key_statement"),
        from_referral=_to_open(ctx, referral_id) if referral_id else None,
    )
    return ctx.navigate(ctx.url_for("case_page", case_id=case.id), case_id=case.id)


def _to_open(ctx: Ctx, referral_id: str) -> cases.FromReferral:
    """The referral accepted to me that this case opens from, locked. Called last, once the
    form's other fields are read: their errors come first."""
    referral = triage.referral_to_open(ctx.db, ctx.require_account(), referral_id)
    return cases.FromReferral(referral.id, referral.received_at)
