from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit.models import AuditEvent
from portal.audit.services import record, verify_chain
from portal.audit.tags import AuditTag
from portal.settings import Secret, Settings


def _three_events(db: Session, settings: Settings) -> list[AuditEvent]:
    return [
        record(db, settings, AuditTag.ACCOUNT_JOINED, actor_id="a" * 36),
        record(db, settings, AuditTag.ACCOUNT_SIGNED_IN, actor_id="a" * 36, subject_id="b" * 36),
        record(db, settings, AuditTag.ACCOUNT_SIGNED_OUT, actor_id="a" * 36),
    ]


def test_untouched_chain_verifies(db_session: Session, settings: Settings) -> None:
    _three_events(db_session, settings)
    report = verify_chain(db_session, settings)
    assert report.ok
    assert report.rows == 3


def test_edited_row_is_detected(db_session: Session, settings: Settings) -> None:
    events = _three_events(db_session, settings)
    events[1].tag = str(AuditTag.ACCOUNT_SIGNIN_FAILED)
    db_session.flush()
    report = verify_chain(db_session, settings)
    assert not report.ok
    assert report.first_bad_id == events[1].id


def test_removed_row_is_detected(db_session: Session, settings: Settings) -> None:
    events = _three_events(db_session, settings)
    db_session.delete(events[1])
    db_session.flush()
    report = verify_chain(db_session, settings)
    assert report.first_bad_id == events[2].id
    assert report.problem == "row 2 is missing"


def test_chain_cannot_be_rebuilt_without_the_server_secret(
    db_session: Session, settings: Settings
) -> None:
    _three_events(db_session, settings)
    assert not verify_chain(
        db_session, replace(settings, secret_key=Secret(b"another secret" * 4))
    ).ok


def test_rows_hold_ids_and_tags_only(db_session: Session, settings: Settings) -> None:
    _three_events(db_session, settings)
    columns = set(AuditEvent.__table__.columns.keys())
    assert columns == {"id", "at", "tag", "actor_id", "subject_id", "prev_hash", "row_hash"}
    assert db_session.scalars(select(AuditEvent.tag)).all() == [
        "account:joined",
        "account:signed-in",
        "account:signed-out",
    ]


def _nine_events(db: Session, settings: Settings) -> list[AuditEvent]:
    return [
        *_three_events(db, settings),
        *_three_events(db, settings),
        *_three_events(db, settings),
    ]


def test_chain_read_in_batches_verifies_every_row(db_session: Session, settings: Settings) -> None:
    _nine_events(db_session, settings)
    report = verify_chain(db_session, settings, batch_size=2)
    assert report.ok
    assert report.rows == 9


def test_edit_in_a_later_batch_is_detected(db_session: Session, settings: Settings) -> None:
    events = _nine_events(db_session, settings)
    events[5].subject_id = "c" * 36
    db_session.flush()
    report = verify_chain(db_session, settings, batch_size=2)
    assert report.first_bad_id == events[5].id
    assert report.problem == "the row was changed after it was written"


def test_row_removed_at_a_batch_boundary_is_detected(
    db_session: Session, settings: Settings
) -> None:
    """Rows 1-2 and 3-4 are whole batches: row 5 missing shows as the next batch starting at 6."""
    events = _nine_events(db_session, settings)
    db_session.delete(events[4])
    db_session.flush()
    report = verify_chain(db_session, settings, batch_size=2)
    assert report.first_bad_id == events[5].id
    assert report.problem == "row 5 is missing"
