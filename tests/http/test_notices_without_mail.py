"""Without a mail server (no PORTAL_SMTP_HOST) notices are off for everyone: the page says so
and nobody can turn them on; an address kept from before can still be erased."""

from __future__ import annotations

from portal.accounts.models import Role
from portal.notifications.models import Frequency, NoticePreference
from tests.factories import Portal


def test_without_a_mail_server_notices_cannot_be_turned_on(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    page = person.get("/account/notices")
    assert "not set up for this service" in page.text
    assert 'name="email"' not in page.text
    refused = person.post_form("/account/notices", {"email": "a@mail.example", "frequency": "each"})
    assert refused.status_code == 409
    assert "a@mail.example" not in refused.text
    with portal.db() as db:
        assert db.get(NoticePreference, person.account_id) is None


def test_an_address_kept_from_before_can_still_be_erased(portal: Portal) -> None:
    person = portal.person(Role.FACILITATOR)
    with portal.db() as db:
        db.add(
            NoticePreference(
                account_id=person.account_id, email="old@mail.example", frequency=Frequency.EACH
            )
        )
        db.commit()
    assert "Stop notices" in person.get("/account/notices").text
    assert person.post_form("/account/notices/off").status_code == 303
    with portal.db() as db:
        assert db.get(NoticePreference, person.account_id) is None
