"""Case endpoints for facilitators: thin — parse, authorise (cases.policy), one service, answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.responses import JSONResponse, Response

from portal import protocol, wire
from portal.accounts.models import Account, Role
from portal.audit.models import AuditEvent
from portal.cases import policy, services
from portal.cases.models import Case, CaseCondition, Format, Participant, Side
from portal.errors import BadInput
from portal.messages.models import Message
from portal.messages.states import MessageState
from portal.web import Ctx, endpoint

FACILITATOR = frozenset({Role.FACILITATOR})
KEY = wire.KEY
SIDES = {side.value: side for side in Side}
STATUSES = {status.value: status for status in CaseCondition}


def _case(ctx: Ctx) -> Case:
    return policy.facilitated_case(
        ctx.db, ctx.require_account(), ctx.request.path_params["case_id"]
    )


def _participant(ctx: Ctx, case: Case) -> Participant:
    return policy.participant_in_case(ctx.db, case, ctx.request.path_params["participant_id"])


# ---------------------------------------------------------------------------------------- pages


@endpoint(roles=FACILITATOR)
def cases_page(ctx: Ctx) -> Response:
    me = ctx.require_account()
    cases = policy.cases_facilitated_by(ctx.db, me)
    waiting = dict(
        ctx.db.execute(
            select(Message.case_id, func.count())
            .where(
                Message.case_id.in_([c.id for c in cases]),
                Message.state.in_([MessageState.SUBMITTED, MessageState.IN_REVIEW]),
            )
            .group_by(Message.case_id)
        ).all()
    )
    rows = [
        {
            "id": case.id,
            "reference": case.reference,
            "label": case.label,
            "status": case.status.value,
            "joined": sum(1 for p in case.participants if p.account_id is not None),
            "participants": len(case.participants),
            "waiting": waiting.get(case.id, 0),
        }
        for case in cases
    ]
    return ctx.render("cases/list.html", cases=rows)


@endpoint(roles=FACILITATOR)
def new_case_page(ctx: Ctx) -> Response:
    return ctx.render("cases/new.html")


@endpoint(roles=FACILITATOR)
def case_page(ctx: Ctx) -> Response:
    case = _case(ctx)
    return ctx.render("cases/show.html", case=case)


@endpoint(roles=FACILITATOR)
def case_audit_page(ctx: Ctx) -> Response:
    case = _case(ctx)
    participant_ids = [p.id for p in case.participants]
    message_ids = list(ctx.db.scalars(select(Message.id).where(Message.case_id == case.id)))
    subjects = [case.id, *participant_ids, *message_ids]
    events = ctx.db.scalars(
        select(AuditEvent).where(AuditEvent.subject_id.in_(subjects)).order_by(AuditEvent.id)
    ).all()
    names = _actor_names(ctx, case, {e.actor_id for e in events if e.actor_id})
    kinds = {
        case.id: "Case",
        **dict.fromkeys(participant_ids, "Participant"),
        **dict.fromkeys(message_ids, "Letter"),
    }
    rows = [
        {
            "at": event.at,
            "label": event.tag.replace(":", " ").replace("-", " ").capitalize(),
            "actor": names.get(event.actor_id or "", "The portal"),
            "subject": _subject_label(kinds, event.subject_id),
        }
        for event in events
    ]
    return ctx.render("cases/audit.html", case=case, events=rows)


def _subject_label(kinds: dict[str, str], subject_id: str | None) -> str:
    if subject_id is None:
        return ""
    return f"{kinds.get(subject_id, 'Item')} {subject_id[:8]}"


def _actor_names(ctx: Ctx, case: Case, ids: set[str]) -> dict[str, str]:
    sides = {p.account_id: p.side.label.lower() for p in case.participants if p.account_id}
    names: dict[str, str] = {}
    for account in ctx.db.scalars(select(Account).where(Account.id.in_(ids))):
        if account.id in sides:
            names[account.id] = f"Participant ({sides[account.id]})"
        else:
            names[account.id] = account.sign_in_name
    return names


# ----------------------------------------------------------------------------------------- JSON


@endpoint(roles=FACILITATOR)
def api_open_case(ctx: Ctx) -> Response:
    f = ctx.fields
    case_id = f.uuid4("case_id")
    case = services.open_case(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case_id=case_id,
        reference=f.text("reference", max_length=40),
        label=f.text("label", max_length=80),
        public_key=f.binary("public_key", length=KEY),
        own_grant=f.binary("grant", length=wire.CASE_GRANT),
    )
    return JSONResponse({"case_id": case.id, "next": ctx.url_for("case_page", case_id=case.id)})


@endpoint(roles=FACILITATOR)
def api_case_key(ctx: Ctx) -> Response:
    case = _case(ctx)
    grant = services.case_key_grant_for(ctx.db, case, ctx.require_account())
    if grant is None:
        raise BadInput("You do not hold this case's key yet.")
    sender = ctx.db.get(Account, grant.sender_id)
    assert sender is not None  # noqa: S101
    return JSONResponse(
        {
            "case_id": case.id,
            "epoch": case.key_epoch,
            "case_public_key": protocol.b64encode(case.public_key),
            "grant": protocol.b64encode(grant.grant),
            "sender_public_key": protocol.b64encode(sender.public_key),
        }
    )


def participant_json(ctx: Ctx, participant: Participant) -> dict[str, Any]:
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
        "fingerprint": protocol.format_fingerprint(protocol.fingerprint_digits(account.public_key))
        if account
        else None,
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
        "invitation_pending": services.pending_invitation(ctx.db, participant) is not None,
    }


@endpoint(roles=FACILITATOR)
def api_participants(ctx: Ctx) -> Response:
    case = _case(ctx)
    return JSONResponse([participant_json(ctx, p) for p in case.participants])


@endpoint(roles=FACILITATOR)
def api_add_participant(ctx: Ctx) -> Response:
    case = _case(ctx)
    f = ctx.fields
    participant = services.add_participant(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        f.choice("side", SIDES),
        f.binary("sealed_name", max_length=services.MAX_SEALED_NAME),
        participant_id=f.optional_uuid4("participant_id"),
    )
    return JSONResponse({"participant_id": participant.id})


@endpoint(roles=FACILITATOR)
def api_invite_participant(ctx: Ctx) -> Response:
    case = _case(ctx)
    issued = services.invite_participant(
        ctx.db, ctx.settings, ctx.require_account(), case, _participant(ctx, case)
    )
    return JSONResponse(
        {
            "code": issued.code,
            "join_link": f"{ctx.settings.base_url}{ctx.url_for('join_page')}#code={issued.code}",
            "expires_at": issued.invitation.expires_at.isoformat(),
        }
    )


@endpoint(roles=FACILITATOR)
def api_record_consent(ctx: Ctx) -> Response:
    case = _case(ctx)
    raw = ctx.fields.raw("formats")
    if not isinstance(raw, list) or not all(
        isinstance(v, str) and v in Format._value2member_map_ for v in raw
    ):
        raise BadInput("Choose the formats this person accepts.", field="formats")
    services.record_consent(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        _participant(ctx, case),
        frozenset(Format(v) for v in raw),
    )
    return JSONResponse({"ok": True})


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


@endpoint(roles=FACILITATOR)
def api_mark_verified(ctx: Ctx) -> Response:
    case = _case(ctx)
    services.mark_key_verified(
        ctx.db,
        ctx.settings,
        ctx.require_account(),
        case,
        _participant(ctx, case),
        ctx.fields.binary("public_key", length=KEY),
    )
    return JSONResponse({"ok": True})


@endpoint(roles=FACILITATOR)
def api_case_status(ctx: Ctx) -> Response:
    case = _case(ctx)
    status = ctx.fields.choice("status", STATUSES)
    services.set_status(ctx.db, ctx.settings, ctx.require_account(), case, status)
    return JSONResponse({"status": case.status.value})
