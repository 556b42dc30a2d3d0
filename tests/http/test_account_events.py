""" "What happened lately" on every home, on SQLite and PostgreSQL, with no mail server and
notices off (as for most people): the events are recorded in the change's own transaction, the
recipient's only after approval, listed with their date in neutral words, never with a name, a
case reference or content, and the whole list is on the notices page, a page at a time."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from portal import local_time
from portal.accounts.models import Role
from portal.app import create_app
from portal.db import utcnow
from portal.notifications import services
from portal.notifications.models import AccountEvent, Frequency, NoticeEvent, NoticePreference
from portal.settings import Settings
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.support.statements import Counting, counting_statements


@pytest.fixture
def app(settings: Settings) -> Counting:
    """The app, counting each request's statements (the facilitator's home stays one)."""
    return Counting(create_app(settings))


def lately(person: Person) -> list[str]:
    """The lines of "What happened lately" on the person's home, as shown."""
    html = person.get("/home").text
    return [
        re.sub(r"<[^>]+>", "", line).strip()
        for line in re.findall(r"<li data-recent-event>(.*?)</li>", html)
    ]


def events_of(portal: Portal, person: Person) -> list[NoticeEvent]:
    with portal.db() as db:
        return list(
            db.scalars(
                select(AccountEvent.event)
                .where(AccountEvent.account_id == person.account_id)
                .order_by(AccountEvent.created_at)
            )
        )


def today() -> str:
    return local_time.short_day(utcnow())


def test_the_recipient_sees_it_waiting_only_after_approval_with_notices_off(
    portal: Portal, settings: Settings
) -> None:
    assert settings.smtp is None
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    world.review(message_id)
    # Submitted and reviewed, not approved: nothing for the recipient, not even a row.
    assert events_of(portal, world.harmed) == []
    assert "What happened lately" not in world.harmed.get("/home").text
    assert world.approve(message_id).status_code == 200

    assert events_of(portal, world.harmed) == [NoticeEvent.WAITING_FOR_YOU]
    [line] = lately(world.harmed)
    assert line.startswith("Something is waiting for you")
    assert today() in line
    home = world.harmed.get("/home").text
    assert f'datetime="{utcnow().date().isoformat()}' in home
    assert 'href="/account/notices#recent"' in home
    with portal.db() as db:
        assert db.get(NoticePreference, world.harmed.account_id) is None


def test_the_author_sees_their_letter_came_back_and_staff_see_a_withdrawal(
    portal: Portal,
) -> None:
    world = CaseWorld.build(portal)
    message_id = world.write_letter(world.responsible, "Words.")
    assert world.return_with_feedback(message_id, "Some thoughts.").status_code == 200
    [line] = lately(world.responsible)
    assert line.startswith("Your letter came back with suggestions")
    assert today() in line

    second = world.write_letter(world.responsible, "More words.")
    withdrawn = world.responsible.post_json(f"/api/letters/{second}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    shown = lately(world.facilitator)
    assert shown[0].startswith("Someone withdrew something, or from the process")
    assert today() in shown[0]
    assert any(line.startswith("Something is waiting for review") for line in shown)
    # The one who moved it is not told of their own move.
    assert NoticeEvent.RETURNED_WITH_SUGGESTIONS not in events_of(portal, world.facilitator)


def test_a_service_manager_and_a_supporter_see_their_own_events(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    supporter, _place = world.add_supporter(world.harmed)
    # The participant was told a supporter was invited for them.
    assert lately(world.harmed)[0].startswith("A supporter was invited for you")
    manager = portal.service_manager()
    with portal.db() as db:
        for person in (manager, supporter):
            services.queue(db, portal.settings, [person.account_id], NoticeEvent.SECURITY_EVENT)
        db.commit()
    for person in (manager, supporter):
        [line] = lately(person)
        assert line.startswith("A security event on your account")


def test_turning_notices_off_keeps_what_happened(portal: Portal) -> None:
    world = CaseWorld.build(portal)
    with portal.db() as db:
        db.add(
            NoticePreference(
                account_id=world.harmed.account_id,
                email="kept@mail.example",
                frequency=Frequency.EACH,
            )
        )
        db.commit()
    message_id = world.write_letter(world.responsible, "Words.")
    assert world.approve(message_id).status_code == 200
    assert world.harmed.post_form("/account/notices/off").status_code == 303
    assert events_of(portal, world.harmed) == [NoticeEvent.WAITING_FOR_YOU]
    assert "Something is waiting for you" in world.harmed.get("/account/notices").text


def test_the_notices_page_lists_everything_a_page_at_a_time(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    assert "Nothing in the last 90 days" in person.get("/account/notices").text
    start = utcnow() - timedelta(days=1)
    with portal.db() as db:
        for minutes in range(services.EVENTS_PER_PAGE + 3):
            event = NoticeEvent.DECLINE if minutes == 0 else NoticeEvent.WAITING_FOR_YOU
            services.queue(
                db,
                portal.settings,
                [person.account_id],
                event,
                now=start + timedelta(minutes=minutes),
            )
        db.commit()
    first = person.get("/account/notices").text
    assert first.count("<li data-recent-event>") == services.EVENTS_PER_PAGE
    assert "Page 1 of 2" in first
    assert 'href="/account/notices?page=2"' in first
    second = person.get("/account/notices?page=2").text
    assert second.count("<li data-recent-event>") == 3
    assert "Something was declined" in second  # the oldest, last
    assert "Something was declined" not in first
    # The home shows the newest few only, and links to the rest.
    assert len(lately(person)) == services.HOME_SHOWN


def test_no_name_reference_or_content_reaches_the_events_table(
    portal: Portal, settings: Settings
) -> None:
    canary = {name: f"canary-{name}-{secrets.token_hex(6)}" for name in ("harmed", "responsible")}
    world = CaseWorld.build(portal, names=(canary["harmed"], canary["responsible"]))
    letter = f"Words of the letter {secrets.token_hex(6)}"
    feedback = f"Words of the feedback {secrets.token_hex(6)}"
    message_id = world.write_letter(world.responsible, letter)
    assert world.return_with_feedback(message_id, feedback).status_code == 200
    world.revise_letter(world.responsible, message_id, letter + " again")
    assert world.approve(message_id, note="A note").status_code == 200
    with portal.db() as db:
        columns = {c["name"] for c in inspect(db.get_bind()).get_columns("account_events")}
        stored = db.execute(text("SELECT * FROM account_events")).all()
    # Whose, which kind, about what (an id, for telling once) and when: nothing else.
    assert columns == {"id", "account_id", "event", "subject_id", "created_at"}
    assert len(stored) >= 3
    dumped = repr(stored).lower()
    for needle in [
        *canary.values(),
        letter,
        feedback,
        world.reference,
        world.case_id,
        message_id,
        "burglary",
    ]:
        assert needle.lower() not in dumped, needle
    for line in lately(world.harmed) + lately(world.responsible) + lately(world.facilitator):
        assert world.reference not in line
        assert not any(name in line for name in canary.values())


def test_the_facilitators_home_runs_as_many_statements_with_events_as_without(
    portal: Portal, app: Counting
) -> None:
    world = CaseWorld.build(portal)

    def count() -> int:
        assert world.facilitator.get("/home").status_code == 200
        return app.last.count

    with counting_statements():
        before = min(count() for _ in range(3))
        for _ in range(services.HOME_SHOWN + 2):
            world.write_letter(world.responsible, "Words.")
        after = min(count() for _ in range(3))
    assert len(lately(world.facilitator)) == services.HOME_SHOWN
    assert after == before
    with portal.db() as db:
        total = db.scalar(
            select(func.count())
            .select_from(AccountEvent)
            .where(AccountEvent.account_id == world.facilitator.account_id)
        )
    assert total is not None
    assert total > services.HOME_SHOWN
