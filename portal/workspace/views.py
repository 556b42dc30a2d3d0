"""Workspace endpoints: everyone's home page, the cases list, a case, its participants and its
audit trail. Thin: authorise, one service, render."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from starlette.responses import JSONResponse, Response

from portal import protocol
from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.cases import policy as case_policy
from portal.cases import services as cases
from portal.cases import supporters, team
from portal.cases.models import Case, Participant, RequestOutcome, SupporterKind
from portal.casework import services as casework
from portal.errors import BadInput, NotFound
from portal.feedback import services as feedback
from portal.homes import store as kept
from portal.messages import regrants
from portal.messages import services as messages
from portal.notifications import services as notices
from portal.paging import page_number
from portal.trust import services as trust
from portal.web import Access, Ctx, endpoint
from portal.workspace import security_events, services
from portal.workspace import supporters as supporter_pages
from portal.workspace.case_page import case_page as case_page_context
from portal.workspace.case_records import case_records
from portal.workspace.facilitator_home import facilitator_home

FACILITATOR = frozenset({Role.FACILITATOR})


def _case(ctx: Ctx) -> Case:
    return case_policy.facilitated_case(
        ctx.db, ctx.require_account(), ctx.request.path_params["case_id"]
    )


@endpoint()
def home(ctx: Ctx) -> Response:
    me = ctx.require_account()
    if me.role is Role.PARTICIPANT:
        context = services.participant_home(
            ctx.db,
            me,
            page=page_number(ctx.query("page")),
            waiting_page=page_number(ctx.query("waiting")),
        )
        if context is not None:
            return ctx.render(
                "participant/home.html",
                feedback_offer=feedback.open_offer(ctx.db, me) is not None,
                recent_events=notices.recent_events(ctx.db, me.id),
                **context,
            )
    if me.role is Role.SUPPORTER:
        place = case_policy.support_place(ctx.db, me)
        if place is not None:
            return ctx.render(
                "supporter/home.html",
                key_wait=regrants.why_waiting(ctx.db, place),
                feedback_offer=feedback.open_offer(ctx.db, me) is not None,
                recent_events=notices.recent_events(ctx.db, me.id),
                **supporter_pages.supporter_home(
                    ctx.db,
                    place,
                    page_number(ctx.query("page")),
                    page_number(ctx.query("waiting")),
                ),
            )
    if me.role is Role.FACILITATOR:
        # Everything it shows, its own events, regrants and letters to print among them, comes
        # from the rows kept for it (portal/homes) or the home's one statement
        # (facilitator_home.py), run on the driver in the request's transaction: no ORM session
        # for the home. Rows read from the cases are kept once the page is sent.
        read = facilitator_home(ctx.reader, me)
        if read.to_keep is not None:
            ctx.after_sending(partial(kept.keep, ctx.state.sessions, read.to_keep))
        return ctx.render("home.html", **read.context)
    if me.role is Role.SERVICE_MANAGER:
        # Until they are certified, what a new colleague grants or releases is refused by every
        # browser: the service manager sees at once who is waiting.
        unattended = team.unattended_cases(ctx.db)
        return ctx.render(
            "home.html",
            awaiting_certification=trust.awaiting_certification(ctx.db),
            # Cases whose facilitators are all disabled, and who could take them over.
            unattended=unattended,
            reassign_to=cases.certified_facilitators(ctx.db) if unattended else [],
            recent_events=notices.recent_events(ctx.db, me.id),
            **security_events.context_for(ctx.db, me),
        )
    return ctx.render(
        "home.html",
        recent_events=notices.recent_events(ctx.db, me.id),
        **security_events.context_for(ctx.db, me),
    )


PARTICIPANT = frozenset({Role.PARTICIPANT})


def _my_participation(ctx: Ctx) -> Participant:
    participant = case_policy.participation(ctx.db, ctx.require_account())
    if participant is None:
        raise NotFound
    return participant


@endpoint(roles=PARTICIPANT)
def api_revoke_my_supporter(ctx: Ctx) -> Response:
    """A participant takes away a supporter's or representative's access to their side."""
    me = ctx.require_account()
    participant = _my_participation(ctx)
    supporter = case_policy.own_supporter(
        ctx.db, participant, ctx.request.path_params["supporter_id"]
    )
    supporter_pages.take_away_access(ctx.db, ctx.settings, me, participant.case, supporter)
    if not ctx.is_htmx:
        return JSONResponse({"ok": True})
    return ctx.navigate(ctx.url_for("home"))


@endpoint(roles=PARTICIPANT)
def api_request_supporter(ctx: Ctx) -> Response:
    """A participant asks their facilitator for a supporter or representative."""
    f = ctx.fields
    supporters.request_supporter(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        _my_participation(ctx),
        kind=f.choice("kind", {k.value: k for k in SupporterKind}),
        permissions=supporters.Permissions(
            read=f.flag("may_read"),
            write=f.flag("may_write"),
            notices=f.flag("may_receive_notices"),
        ),
    )
    return ctx.navigate(ctx.url_for("home"))


@endpoint(roles=PARTICIPANT)
def api_cancel_supporter_request(ctx: Ctx) -> Response:
    me = ctx.require_account()
    request = case_policy.own_request(
        ctx.db, _my_participation(ctx), ctx.request.path_params["request_id"]
    )
    supporters.close_request(ctx.db, ctx.settings, me, request, RequestOutcome.CANCELLED)
    return ctx.navigate(ctx.url_for("home"))


LOOKUP_ID = re.compile(r"[0-9a-f]{32}")


@endpoint(Access.PUBLIC)
def api_security_event(ctx: Ctx) -> Response:
    """A browser refused something and reports it (docs/api-trust.md, "Refusals"):
    ``{kind, case_id?, message_id?, lookup_id?}``. Someone joining has no session and can only
    report an invitation; everyone else must be signed in."""
    f = ctx.fields
    kind = f.choice("kind", security_events.KINDS)
    lookup_id = f.text("lookup_id", max_length=32, required=False) or None
    if lookup_id is not None and not LOOKUP_ID.fullmatch(lookup_id):
        raise BadInput(field="lookup_id")
    event = security_events.report(
        ctx.db,
        ctx.settings,
        ctx.current.account if ctx.current is not None else None,
        ctx.client_address,
        security_events.Report(
            kind=kind,
            case_id=f.optional_uuid4("case_id"),
            message_id=f.optional_uuid4("message_id"),
            lookup_id=lookup_id,
        ),
    )
    return JSONResponse({"recorded": event.tag})


@endpoint(roles=FACILITATOR)
def cases_page(ctx: Ctx) -> Response:
    cases = services.case_rows(ctx.db, ctx.require_account(), page_number(ctx.query("page")))
    return ctx.render("cases/list.html", cases=cases)


@endpoint(roles=FACILITATOR)
def follow_ups_page(ctx: Ctx) -> Response:
    """Every agreement item to follow up in my open cases, the soonest due first, a page at a
    time (the home shows the soonest few)."""
    follow_ups = casework.follow_ups_page(
        ctx.db, ctx.require_account(), page_number(ctx.query("page"))
    )
    return ctx.render("cases/follow_ups.html", follow_ups=follow_ups)


@endpoint(roles=FACILITATOR)
def case_page(ctx: Ctx) -> Response:
    """The case, its participants and the actions allowed now (case_page.py); the actions are
    in case_actions.py."""
    case = _case(ctx)
    return ctx.render(
        "cases/show.html",
        **case_page_context(ctx.db, case),
        # Risk, notes, agreement and outcome (portal/casework): ?notes=N pages the notes.
        **case_records(ctx.db, case, page_number(ctx.query("notes"))),
        # A case reassigned to me by a service manager: nobody gave me its key, so my browser
        # makes the next epoch from nothing (templates/cases/_team.html).
        holds_case_key=cases.case_key_grant_for(ctx.db, case, ctx.require_account()) is not None,
        declines=messages.declines_to_tell(ctx.db, case_id=case.id),
    )


@endpoint(roles=FACILITATOR)
def case_audit_page(ctx: Ctx) -> Response:
    case = _case(ctx)
    events = services.case_audit(ctx.db, case, page_number(ctx.query("page")))
    return ctx.render("cases/audit.html", case=case, events=events)


def participant_json(participant: Participant, *, invitation_pending: bool) -> dict[str, Any]:
    account = participant.account
    b64 = protocol.b64encode
    return {
        "participant_id": participant.id,
        "side": participant.side.value,
        "side_label": participant.side.label,
        "sealed_name": b64(participant.display_name),
        "joined": account is not None,
        "account_id": account.id if account else None,
        "account_public_key": b64(account.public_key) if account else None,
        "account_signing_public_key": b64(account.signing_public_key)
        if account and account.signing_public_key
        else None,
        "fingerprint": accounts.security_number(account) if account else None,
        "verified_public_key": b64(participant.verified_public_key)
        if participant.verified_public_key
        else None,
        "key_verified_at": participant.key_verified_at.isoformat()
        if participant.key_verified_at
        else None,
        "has_case_public_grant": participant.case_public_grant is not None,
        "formats": sorted(f.value for f in participant.accepted_formats),
        "consent_recorded_at": participant.consent_recorded_at.isoformat()
        if participant.consent_recorded_at
        else None,
        "withdrawn_at": participant.withdrawn_at.isoformat() if participant.withdrawn_at else None,
        "invitation_pending": invitation_pending,
    }


@endpoint(roles=FACILITATOR)
def api_participants(ctx: Ctx) -> Response:
    """The case page's participants, with whether an invitation waits for each (cases and
    invitations together, hence here)."""
    rows = services.participants_with_invitations(ctx.db, _case(ctx))
    return JSONResponse([participant_json(p, invitation_pending=pending) for p, pending in rows])


SERVICE_MANAGER = frozenset({Role.SERVICE_MANAGER})


# JSON errors for a JSON client; the home's htmx form gets its sentence in the form's alert.
@endpoint(roles=SERVICE_MANAGER, api=True)
def reassign_case(ctx: Ctx) -> Response:
    """Give a case nobody active holds to a certified facilitator (cases/team.py reassign): the
    manager is never put on the case, and the facilitator's browser makes its new key."""
    case = ctx.db.get(Case, ctx.request.path_params["case_id"])
    if case is None:
        raise NotFound
    colleague = team.reassign(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        ctx.fields.text("account_id", max_length=36),
    )
    return ctx.navigate(ctx.url_for("home"), account_id=colleague.id)
