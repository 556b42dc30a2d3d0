"""Draft services on rows (tests/rows.py), in a transaction rolled back after each test."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy.orm import Session

from portal.db import new_id
from portal.errors import Conflict, NotFound, TooLarge
from portal.messages import drafts
from portal.settings import Settings
from tests import rows


def test_saving_again_replaces_the_draft(db_session: Session, settings: Settings) -> None:
    author = rows.participant(db_session, rows.case(db_session))
    assert author.account is not None
    draft_id = str(uuid.uuid4())
    drafts.save(
        db_session, settings, author.account, author, draft_id, b"first", revises_message_id=None
    )
    drafts.save(
        db_session, settings, author.account, author, draft_id, b"second", revises_message_id=None
    )

    saved = drafts.drafts_of(db_session, author.account)
    assert [(d.id, d.blob) for d in saved] == [(draft_id, b"second")]


def test_someone_elses_draft_is_not_found(db_session: Session, settings: Settings) -> None:
    case = rows.case(db_session)
    owner = rows.participant(db_session, case)
    other = rows.participant(db_session, case)
    assert owner.account is not None
    assert other.account is not None
    draft_id = str(uuid.uuid4())
    drafts.save(
        db_session, settings, owner.account, owner, draft_id, b"mine", revises_message_id=None
    )

    with pytest.raises(NotFound):
        drafts.save(
            db_session, settings, other.account, other, draft_id, b"theirs", revises_message_id=None
        )
    drafts.delete_draft(db_session, other.account, draft_id)
    assert len(drafts.drafts_of(db_session, owner.account)) == 1


def test_a_sent_letter_drops_the_draft_it_was_written_from(
    db_session: Session, settings: Settings
) -> None:
    author = rows.participant(db_session, rows.case(db_session))
    assert author.account is not None
    draft_id = str(uuid.uuid4())
    drafts.save(
        db_session, settings, author.account, author, draft_id, b"words", revises_message_id=None
    )

    drafts.drop_sent(db_session, author.account, None)
    assert len(drafts.drafts_of(db_session, author.account)) == 1
    drafts.drop_sent(db_session, author.account, draft_id)
    assert drafts.drafts_of(db_session, author.account) == []


def test_drafts_count_towards_the_case_quota(db_session: Session, settings: Settings) -> None:
    case = rows.case(db_session)
    author = rows.participant(db_session, case)
    assert author.account is not None
    small = dataclasses.replace(settings, case_quota_bytes=1000)
    drafts.save(
        db_session, small, author.account, author, new_id(), b"x" * 600, revises_message_id=None
    )
    with pytest.raises(TooLarge):
        drafts.save(
            db_session, small, author.account, author, new_id(), b"x" * 600, revises_message_id=None
        )


def test_one_person_keeps_a_bounded_number_of_drafts(
    db_session: Session, settings: Settings
) -> None:
    case = rows.case(db_session)
    author = rows.participant(db_session, case)
    assert author.account is not None
    for _ in range(drafts.MAX_DRAFTS_PER_ACCOUNT):
        drafts.save(
            db_session, settings, author.account, author, new_id(), b"w", revises_message_id=None
        )
    with pytest.raises(Conflict, match="unsent letters"):
        drafts.save(
            db_session, settings, author.account, author, new_id(), b"w", revises_message_id=None
        )
