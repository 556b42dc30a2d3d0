"""Closing a staff account: only a service manager can, it ends every session at once, and the
account can no longer sign in."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Account, Role
from portal.audit.models import AuditEvent
from tests.factories import Portal


def test_closing_an_account_signs_it_out_everywhere_at_once(portal: Portal) -> None:
    manager = portal.service_manager()
    facilitator = portal.person(Role.FACILITATOR, inviter=manager)
    assert facilitator.get("/cases").status_code == 200
    page = manager.get("/staff/people")
    assert facilitator.name in page.text

    closed = manager.post_form(f"/staff/people/{facilitator.account_id}/disable")
    assert closed.status_code == 303

    # The very next request of the open session is signed out, and signing in is refused.
    assert facilitator.get("/cases").headers["location"].startswith("/sign-in?reason=expired")
    assert facilitator.try_sign_in().status_code == 401
    with portal.db() as db:
        account = db.get(Account, facilitator.account_id)
        assert account is not None
        assert account.disabled_at is not None
        tags = db.scalars(
            select(AuditEvent.tag).where(AuditEvent.subject_id == facilitator.account_id)
        ).all()
        assert "account:disabled" in tags
    assert "Closed" in manager.get("/staff/people").text


def test_htmx_close_answers_with_the_list(portal: Portal) -> None:
    manager = portal.service_manager()
    facilitator = portal.person(Role.FACILITATOR, inviter=manager)
    answer = manager.request(
        "POST",
        f"/staff/people/{facilitator.account_id}/disable",
        headers={"X-CSRF-Token": manager.csrf(), "HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert 'id="staff-list"' in answer.text
    assert "is closed and signed out everywhere" in answer.text


def test_only_a_service_manager_closes_accounts_and_never_their_own(portal: Portal) -> None:
    manager = portal.service_manager()
    facilitator = portal.person(Role.FACILITATOR, inviter=manager)
    other = portal.person(Role.FACILITATOR, inviter=manager)
    participant = portal.person(Role.PARTICIPANT, inviter=facilitator)
    assert other.post_form(f"/staff/people/{facilitator.account_id}/disable").status_code == 403
    # Participants are not staff: their accounts are not closed from here.
    assert manager.post_form(f"/staff/people/{participant.account_id}/disable").status_code == 404
    own = manager.post_form(f"/staff/people/{manager.account_id}/disable")
    assert own.status_code == 409
    assert facilitator.get("/cases").status_code == 200
