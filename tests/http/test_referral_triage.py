"""Triage of a received referral (issue 12, item 1): ask for more information, decline with a
reason, or accept it to a facilitator with a share of it boxed to them, who then opens a case
from it. portal/referrals/triage.py and states.py, docs/api-referrals.md "Triage". Both
databases; the race is in tests/unit/referrals/test_triage_races.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx2 as httpx
import pytest
from sqlalchemy import select

from portal import local_time, protocol
from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.cases.models import Case, CaseStage, StageMove
from portal.db import utcnow
from portal.referrals.models import Referral
from portal.referrals.states import DeclineReason, ReferralState
from tests.factories import Person, Portal
from tests.http.test_referrals import Service, grant_to, send, set_up

b64 = protocol.b64encode
FORM: dict[str, object] = {"form": "agency", "person_name": "Canary Sam"}


def received(portal: Portal, service: Service) -> str:
    reference = send(portal.visitor(), service, FORM).json()["reference"]
    with portal.db() as db:
        return db.scalars(select(Referral.id).where(Referral.reference == reference)).one()


def row(portal: Portal, referral_id: str) -> Referral:
    with portal.db() as db:
        found = db.get(Referral, referral_id)
        assert found is not None
        db.expunge(found)
        return found


def tags(portal: Portal, referral_id: str) -> list[tuple[str, str | None]]:
    with portal.db() as db:
        return [
            (tag, actor)
            for tag, actor in db.execute(
                select(AuditEvent.tag, AuditEvent.actor_id)
                .where(AuditEvent.subject_id == referral_id)
                .order_by(AuditEvent.id)
            )
        ]


def note(service: Service, text: str) -> str:
    return b64(protocol.seal_referral(service.public_key, service.key_id, {"note": text}))


def share_for(sender: Person, facilitator: Person, referral_id: str) -> str:
    return b64(
        protocol.make_referral_share(sender.secret_key, facilitator.public_key, referral_id, FORM)
    )


def accept(
    sender: Person, facilitator: Person, referral_id: str, **changes: object
) -> httpx.Response:
    body = {
        "facilitator_id": facilitator.account_id,
        "share": share_for(sender, facilitator, referral_id),
        **changes,
    }
    return sender.post_json(f"/referrals/received/{referral_id}/accept", body)


def open_case_from(
    facilitator: Person, referral_id: str, reference: str = "RJ-REF-1"
) -> httpx.Response:
    case_id = str(uuid.uuid4())
    case_sk, case_pk = protocol.generate_identity()
    grant = protocol.make_case_grant(
        facilitator.secret_key, facilitator.public_key, case_id, case_sk
    )
    return facilitator.post_json(
        "/api/cases",
        {
            "case_id": case_id,
            "reference": reference,
            "label": "From a referral",
            "public_key": b64(case_pk),
            "grant": b64(grant),
            "case_key_statement": facilitator.case_key_statement(case_id, case_pk),
            "referral_id": referral_id,
        },
    )


# ------------------------------------------------------------------------------------ the page


def test_the_referral_page_offers_every_move_to_a_holder_and_none_to_a_reader_without_a_grant(
    portal: Portal,
) -> None:
    service = set_up(portal)
    referral_id = received(portal, service)
    facilitator = portal.person(Role.FACILITATOR)
    page = service.manager.get(f"/referrals/received/{referral_id}")
    assert page.status_code == 200
    for form in ('id="accept-form"', 'id="ask-more-form"', 'id="decline-form"'):
        assert form in page.text
    assert 'id="referral-state">New<' in page.text
    # Any certified facilitator may be chosen, designated to read referrals or not.
    assert f'<option value="{facilitator.account_id}">' in page.text


# ------------------------------------------------------------------------------ ask for more


def test_asking_for_more_is_recorded_with_its_sealed_note_then_only_accept_or_decline(
    portal: Portal,
) -> None:
    service = set_up(portal)
    referral_id = received(portal, service)
    sealed = note(service, "Asked PC Canary for the victim's consent")
    asked = service.manager.post_json(
        f"/referrals/received/{referral_id}/ask-more", {"note": sealed}
    )
    assert asked.status_code == 200, asked.text
    assert asked.json() == {"referral_id": referral_id, "state": "more_info_asked"}
    referral = row(portal, referral_id)
    assert referral.state is ReferralState.MORE_INFO_ASKED
    assert referral.more_info_asked_at is not None
    assert referral.more_info_note == protocol.b64decode(sealed)
    assert tags(portal, referral_id)[-1] == (
        "referral:more-info-asked",
        service.manager.account_id,
    )
    again = service.manager.post_json(f"/referrals/received/{referral_id}/ask-more", {})
    assert again.status_code == 409
    page = service.manager.get(f"/referrals/received/{referral_id}")
    assert 'id="ask-more-form"' not in page.text
    assert 'id="accept-form"' in page.text
    assert 'id="decline-form"' in page.text
    assert f'data-ciphertext="{sealed}"' in page.text
    inbox = service.manager.get("/referrals/inbox")
    assert "More information asked for</span> on" in inbox.text


def test_a_note_not_sealed_in_the_right_form_is_refused_and_nothing_changes(
    portal: Portal,
) -> None:
    service = set_up(portal)
    referral_id = received(portal, service)
    bad = service.manager.post_json(
        f"/referrals/received/{referral_id}/ask-more", {"note": b64(b"plain words")}
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "note"
    assert row(portal, referral_id).state is ReferralState.RECEIVED
    assert tags(portal, referral_id) == [("referral:received", None)]


# ----------------------------------------------------------------------------------- decline


def test_declining_records_the_reason_and_note_shows_in_the_inbox_and_ends_triage(
    portal: Portal,
) -> None:
    service = set_up(portal)
    referral_id = received(portal, service)
    no_reason = service.manager.post_json(f"/referrals/received/{referral_id}/decline", {})
    assert no_reason.status_code == 400
    assert no_reason.json()["field"] == "reason"
    wrong = service.manager.post_json(
        f"/referrals/received/{referral_id}/decline", {"reason": "because"}
    )
    assert wrong.status_code == 400
    declined = service.manager.post_json(
        f"/referrals/received/{referral_id}/decline",
        {"reason": "outside_area", "note": note(service, "Lives in another county")},
    )
    assert declined.status_code == 200, declined.text
    referral = row(portal, referral_id)
    assert referral.state is ReferralState.DECLINED
    assert referral.decline_reason is DeclineReason.OUTSIDE_AREA
    assert tags(portal, referral_id)[-1] == ("referral:declined", service.manager.account_id)
    inbox = service.manager.get("/referrals/inbox")
    assert "Declined</span>: outside the service&#39;s area" in inbox.text
    filtered = service.manager.get("/referrals/inbox?state=declined")
    assert row(portal, referral_id).reference in filtered.text
    assert (
        row(portal, referral_id).reference
        not in service.manager.get("/referrals/inbox?state=received").text
    )
    facilitator = portal.person(Role.FACILITATOR)
    for move, body in (
        (
            "accept",
            {
                "facilitator_id": facilitator.account_id,
                "share": share_for(service.manager, facilitator, referral_id),
            },
        ),
        ("ask-more", {}),
        ("decline", {"reason": "duplicate"}),
    ):
        refused = service.manager.post_json(f"/referrals/received/{referral_id}/{move}", body)
        assert refused.status_code == 409, move
        assert "already been declined" in refused.json()["error"]
    assert row(portal, referral_id).decline_reason is DeclineReason.OUTSIDE_AREA


def test_a_declined_referral_is_never_overdue_nor_is_one_whose_case_made_first_contact(
    portal: Portal,
) -> None:
    service = set_up(portal)
    declined_id, accepted_id, waiting_id = (received(portal, service) for _ in range(3))
    with portal.db() as db:
        for referral in db.scalars(select(Referral)):
            referral.received_at = utcnow() - timedelta(days=21)
        db.commit()
    service.manager.post_json(
        f"/referrals/received/{declined_id}/decline", {"reason": "not_suitable"}
    )
    facilitator = portal.person(Role.FACILITATOR)
    assert accept(service.manager, facilitator, accepted_id).status_code == 200
    assert service.manager.get("/referrals/inbox").text.count("First contact is overdue.") == 2
    opened = open_case_from(facilitator, accepted_id)
    case_id = opened.json()["case_id"]
    moved = facilitator.post_json(f"/api/cases/{case_id}/stage", {"stage": "first_contact"})
    assert moved.status_code == 200, moved.text
    inbox = service.manager.get("/referrals/inbox").text
    assert inbox.count("First contact is overdue.") == 1
    waiting = row(portal, waiting_id).reference
    assert f'<li data-reference="{waiting}" class="overdue">' in inbox


# ------------------------------------------------------------------- accept, then open a case


def test_accepting_shares_it_with_the_facilitator_who_reads_it_and_opens_a_case_from_it(
    portal: Portal,
) -> None:
    service = set_up(portal)
    referral_id = received(portal, service)
    with portal.db() as db:
        referral = db.get(Referral, referral_id)
        assert referral is not None
        referral.received_at = utcnow() - timedelta(days=3)
        arrived = local_time.local(referral.received_at).date()
        db.commit()
    facilitator = portal.person(Role.FACILITATOR)  # not designated to read referrals
    assert facilitator.get(f"/referrals/received/{referral_id}").status_code == 404
    answer = accept(service.manager, facilitator, referral_id)
    assert answer.status_code == 200, answer.text
    referral = row(portal, referral_id)
    assert referral.state is ReferralState.ACCEPTED
    assert referral.assigned_facilitator_id == facilitator.account_id
    assert tags(portal, referral_id)[-1] == ("referral:accepted", service.manager.account_id)
    assert b"Canary" not in (referral.share or b"")
    # Their home says so; their page opens it from the share, which opens in their browser.
    home = facilitator.get("/home").text
    assert "A referral to open as a case" in home
    assert f'data-referral-to-open="{referral_id}"' in home
    page = facilitator.get(f"/referrals/received/{referral_id}")
    assert page.status_code == 200
    assert 'data-share="' in page.text
    assert "data-ciphertext" not in page.text
    assert 'id="accept-form"' not in page.text
    share = protocol.b64decode(page.text.split('data-share="')[1].split('"')[0])
    opened = protocol.open_referral_share(
        facilitator.secret_key, service.manager.public_key, referral_id, share
    )
    assert opened == FORM
    # Another facilitator can neither read it nor open a case from it.
    other = portal.person(Role.FACILITATOR)
    assert other.get(f"/referrals/received/{referral_id}").status_code == 404
    assert other.get(f"/cases/new?referral={referral_id}").status_code == 400
    assert open_case_from(other, referral_id).status_code == 400
    # The new-case page carries it; the case records it and starts referred on its day.
    new_page = facilitator.get(f"/cases/new?referral={referral_id}")
    assert f'name="referral_id" value="{referral_id}"' in new_page.text
    created = open_case_from(facilitator, referral_id)
    assert created.status_code == 200, created.text
    case_id = created.json()["case_id"]
    with portal.db() as db:
        case = db.get(Case, case_id)
        assert case is not None
        assert case.referral_id == referral_id
        first = db.scalars(select(StageMove).where(StageMove.case_id == case_id)).one()
        assert (first.stage, first.reached_on) == (CaseStage.REFERRED, arrived)
    assert "A referral to open as a case" not in facilitator.get("/home").text
    twice = open_case_from(facilitator, referral_id, reference="RJ-REF-2")
    assert twice.status_code == 409


def test_a_share_of_the_wrong_size_or_an_uncertified_or_missing_facilitator_is_refused(
    portal: Portal,
) -> None:
    service = set_up(portal)
    referral_id = received(portal, service)
    facilitator = portal.person(Role.FACILITATOR)
    url = f"/referrals/received/{referral_id}/accept"
    short = service.manager.post_json(
        url, {"facilitator_id": facilitator.account_id, "share": b64(b"x" * 100)}
    )
    assert short.status_code == 400
    assert short.json()["field"] == "share"
    nobody = service.manager.post_json(
        url, {"share": share_for(service.manager, facilitator, referral_id)}
    )
    assert nobody.status_code == 400
    assert nobody.json()["field"] == "facilitator_id"
    manager = portal.service_manager()
    not_a_facilitator = accept(service.manager, manager, referral_id)
    assert not_a_facilitator.status_code == 400
    assert not_a_facilitator.json()["field"] == "facilitator_id"
    # Not certified: no browser would take their key, so nothing is shared with them.
    uncertified = portal.visitor().join_invited(service.manager.invite(Role.FACILITATOR))
    refused = accept(service.manager, uncertified, referral_id)
    assert refused.status_code == 409
    assert "not certified" in refused.json()["error"]
    assert row(portal, referral_id).state is ReferralState.RECEIVED
    assert tags(portal, referral_id) == [("referral:received", None)]


# ----------------------------------------------------------------------------------- who may


@pytest.mark.parametrize("move", ["ask-more", "accept", "decline"])
def test_only_holders_of_the_referral_key_may_triage(portal: Portal, move: str) -> None:
    service = set_up(portal)
    referral_id = received(portal, service)
    facilitator = portal.person(Role.FACILITATOR)
    url = f"/referrals/received/{referral_id}/{move}"
    body = {"reason": "other"}
    assert facilitator.post_json(url, body).status_code == 403
    participant = portal.person(Role.PARTICIPANT)
    assert participant.post_json(url, body).status_code == 403
    assert portal.visitor().post_json(url, body).status_code in (401, 403)
    # A manager who has not been given the key yet cannot either (their browser could not
    # open the referral to share it).
    waiting = portal.service_manager()
    assert waiting.post_json(url, body).status_code == 403
    # A designated facilitator can.
    assert (
        service.manager.post_json("/referrals/access", grant_to(service, facilitator)).status_code
        == 200
    )
    if move == "accept":
        body = {
            "facilitator_id": facilitator.account_id,
            "share": share_for(facilitator, facilitator, referral_id),
        }
    assert facilitator.post_json(url, body).status_code == 200
    missing = service.manager.post_json(f"/referrals/received/{uuid.uuid4()}/{move}", body)
    assert missing.status_code == 404
    assert row(portal, referral_id).triaged_by_id == facilitator.account_id
