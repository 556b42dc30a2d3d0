"""Message services on rows (tests/rows.py), in a transaction rolled back after each test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Role
from portal.cases.models import Case, CaseCondition, Participant, Side
from portal.content.models import ContentChunk, ContentGrant, ContentKind, GrantPurpose
from portal.db import utcnow
from portal.errors import Conflict
from portal.messages import services
from portal.messages.models import Message, MessageEvent
from portal.messages.states import WAITING_FOR_REVIEW, MessageState
from portal.settings import Settings
from tests import rows

S = MessageState


def _pair(
    db: Session, status: CaseCondition = CaseCondition.OPEN
) -> tuple[Case, Participant, Participant]:
    case = rows.case(db, status=status)
    author = rows.participant(db, case, Side.PERSON_RESPONSIBLE)
    recipient = rows.participant(db, case, Side.PERSON_HARMED)
    return case, author, recipient


def _events(db: Session, message: Message) -> list[MessageState]:
    return list(
        db.scalars(
            select(MessageEvent.state)
            .where(MessageEvent.message_id == message.id)
            .order_by(MessageEvent.id)
        )
    )


def test_claiming_a_waiting_letter_puts_it_in_review_by_that_facilitator(
    db_session: Session, settings: Settings
) -> None:
    case, author, recipient = _pair(db_session)
    facilitator = rows.facilitator_of(case)
    message = rows.message(db_session, author, recipient)

    services.claim(db_session, settings, facilitator, message)

    assert message.state is S.IN_REVIEW
    assert message.claimed_by_id == facilitator.id
    assert _events(db_session, message) == [S.SUBMITTED, S.IN_REVIEW]


def test_a_letter_someone_reviews_cannot_be_claimed_by_another(
    db_session: Session, settings: Settings
) -> None:
    case, author, recipient = _pair(db_session)
    message = rows.message(db_session, author, recipient)
    services.claim(db_session, settings, rows.facilitator_of(case), message)
    other = rows.account(db_session, Role.FACILITATOR)

    with pytest.raises(Conflict, match="Another facilitator"):
        services.claim(db_session, settings, other, message)


def test_a_paused_case_refuses_a_claim_in_plain_words(
    db_session: Session, settings: Settings
) -> None:
    case, author, recipient = _pair(db_session, CaseCondition.PAUSED)
    message = rows.message(db_session, author, recipient)

    with pytest.raises(services.MoveRefused, match="paused or closed"):
        services.claim(db_session, settings, rows.facilitator_of(case), message)
    assert message.state is S.SUBMITTED


def test_withdrawing_an_approved_letter_shreds_the_recipients_grant(
    db_session: Session, settings: Settings
) -> None:
    _case, author, recipient = _pair(db_session)
    message = rows.message(db_session, author, recipient, S.AWAITING_RECIPIENT)
    assert author.account is not None

    services.withdraw_letter(db_session, settings, author.account, message)

    assert message.state is S.WITHDRAWN
    purposes = db_session.scalars(
        select(ContentGrant.purpose).where(ContentGrant.object_id == message.object_id)
    ).all()
    assert GrantPurpose.RECIPIENT not in purposes
    assert GrantPurpose.AUTHOR in purposes


def test_content_is_deleted_only_once_nothing_can_carry_it(
    db_session: Session, settings: Settings
) -> None:
    _case, author, recipient = _pair(db_session)
    message = rows.message(db_session, author, recipient)
    assert author.account is not None
    with pytest.raises(Conflict):
        services.delete_content(db_session, settings, author.account, message)

    services.withdraw_letter(db_session, settings, author.account, message)
    (object_id,) = services.delete_content(db_session, settings, author.account, message)

    assert object_id == message.object_id
    assert message.content_deleted_at is not None
    chunks = db_session.scalars(select(ContentChunk).where(ContentChunk.object_id == object_id))
    assert chunks.all() == []


def test_a_participant_withdrawing_stops_their_letters_and_holds_those_for_them(
    db_session: Session, settings: Settings
) -> None:
    _case, author, recipient = _pair(db_session)
    theirs = rows.message(db_session, author, recipient, S.IN_REVIEW)
    for_them = rows.message(db_session, recipient, author, S.AWAITING_RECIPIENT)
    opened = rows.message(db_session, recipient, author, S.OPENED)
    assert author.account is not None

    services.participant_withdraws(db_session, settings, author.account, author)

    assert author.withdrawn_at is not None
    assert (theirs.state, for_them.state, opened.state) == (S.WITHDRAWN, S.HELD, S.OPENED)


def test_the_recipient_sees_only_what_was_released_to_them(db_session: Session) -> None:
    _case, author, recipient = _pair(db_session)
    rows.message(db_session, author, recipient, S.IN_REVIEW)
    released = rows.message(db_session, author, recipient, S.AWAITING_RECIPIENT)

    assert services.letters_for(db_session, recipient).items == [released]
    assert services.letters_by(db_session, author).total == 2


def test_why_cannot_write_gives_the_sentence(db_session: Session) -> None:
    case, author, _recipient = _pair(db_session, CaseCondition.PAUSED)
    assert services.why_cannot_write(case, author) == (
        "This case is paused at the moment, so letters cannot be sent. Your draft is kept."
    )
    case.status = CaseCondition.OPEN
    assert services.why_cannot_write(case, author) is None


def test_the_queue_names_who_reviews_each_letter(db_session: Session, settings: Settings) -> None:
    case, author, recipient = _pair(db_session)
    facilitator = rows.facilitator_of(case)
    waiting = rows.message(db_session, author, recipient)
    reviewed = rows.message(db_session, author, recipient)
    services.claim(db_session, settings, facilitator, reviewed)

    items = services.review_queue(
        db_session, facilitator, case_id=None, states=WAITING_FOR_REVIEW, format_=None
    )

    names = {item.id: item.claimed_by_name for item in items.items}
    assert names == {waiting.id: None, reviewed.id: facilitator.sign_in_name}
    assert services.waiting_counts(db_session, [case.id]) == {case.id: 2}


def test_the_queue_offers_the_cases_waiting_longest_and_the_one_asked_for(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CASE_CHOICES", 2)
    facilitator = rows.account(db_session, Role.FACILITATOR)
    cases = [rows.case(db_session, facilitator) for _ in range(4)]
    for n, case in enumerate(cases[:3]):  # the first case has waited longest
        author = rows.participant(db_session, case, Side.PERSON_RESPONSIBLE)
        recipient = rows.participant(db_session, case, Side.PERSON_HARMED)
        rows.message(db_session, author, recipient).submitted_at = utcnow() - timedelta(days=9 - n)
        rows.message(db_session, author, recipient, S.OPENED)
    db_session.flush()
    nothing_waits = cases[3]
    someone_elses = rows.case(db_session)

    offered = services.queue_case_choices(db_session, facilitator, None)
    assert [c.id for c in offered.cases] == [cases[0].id, cases[1].id]
    assert offered.more

    asked = services.queue_case_choices(db_session, facilitator, nothing_waits.id)
    assert [c.id for c in asked.cases] == [nothing_waits.id, cases[0].id]
    assert asked.more
    # Only one of the facilitator's own cases can be asked for.
    other = services.queue_case_choices(db_session, facilitator, someone_elses.id)
    assert someone_elses.id not in {c.id for c in other.cases}

    monkeypatch.setattr(services, "CASE_CHOICES", 3)
    every = services.queue_case_choices(db_session, facilitator, None)
    assert [c.reference for c in every.cases] == [c.reference for c in cases[:3]]
    assert not every.more


def _released_with_note_and_transcript(
    db: Session, case: Case, author: Participant, recipient: Participant
) -> tuple[Message, list[str]]:
    """An approved message whose facilitator's note and transcript were granted to the
    recipient, and which was once returned with feedback for the author."""
    facilitator = rows.facilitator_of(case)
    message = rows.message(db, author, recipient, S.AWAITING_RECIPIENT)
    notes = []
    for kind in (ContentKind.CONTENT_NOTE, ContentKind.TRANSCRIPT, ContentKind.FEEDBACK):
        note = rows.content_object(db, case, facilitator, kind)
        rows.content_version(db, note)
        person = author.account if kind is ContentKind.FEEDBACK else recipient.account
        rows.grant(db, note, 1, GrantPurpose.RECIPIENT, sender_id=facilitator.id, recipient=person)
        notes.append(note.id)
    message.content_note_object_id, message.transcript_object_id, message.feedback_object_id = notes
    db.flush()
    return message, notes


def _recipient_grants(db: Session, object_ids: list[str]) -> list[ContentGrant]:
    return list(
        db.scalars(
            select(ContentGrant).where(
                ContentGrant.object_id.in_(object_ids),
                ContentGrant.purpose == GrantPurpose.RECIPIENT,
            )
        )
    )


@pytest.mark.parametrize("stop", ["withdraw", "decline"])
def test_stopping_a_message_shreds_everything_released_with_it(
    db_session: Session, settings: Settings, stop: str
) -> None:
    case, author, recipient = _pair(db_session)
    message, (note, transcript, feedback) = _released_with_note_and_transcript(
        db_session, case, author, recipient
    )
    assert author.account is not None
    assert recipient.account is not None
    if stop == "withdraw":
        services.withdraw_letter(db_session, settings, author.account, message)
    else:
        services.recipient_declines(db_session, settings, recipient.account, message)

    # Nothing the recipient was given can be opened any more...
    assert _recipient_grants(db_session, [message.object_id, note, transcript]) == []
    # ...while the author keeps the facilitator's feedback to them.
    assert [g.recipient_account_id for g in _recipient_grants(db_session, [feedback])] == [
        author.account.id
    ]


def test_deleting_a_message_removes_every_object_that_belonged_to_it(
    db_session: Session, settings: Settings
) -> None:
    case, author, recipient = _pair(db_session)
    message, notes = _released_with_note_and_transcript(db_session, case, author, recipient)
    assert author.account is not None
    services.withdraw_letter(db_session, settings, author.account, message)

    deleted = services.delete_content(db_session, settings, author.account, message)

    everything = [message.object_id, *notes]
    assert sorted(deleted) == sorted(everything)
    for table in (ContentGrant, ContentChunk):
        left = db_session.scalars(select(table).where(table.object_id.in_(everything))).all()
        assert left == [], table.__name__
