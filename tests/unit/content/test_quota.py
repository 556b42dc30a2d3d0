"""Quota totals: each case's running total of stored versions, kept by the services that store
and delete versions, read instead of summing every version (content/quota.py)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts.models import Account, Role
from portal.cases.models import Case
from portal.content import quota
from portal.content import services as content
from portal.content.models import ContentKind, ContentObject, ContentVersion
from portal.db import make_session_factory
from portal.errors import TooLarge
from portal.settings import Settings
from tests import rows
from tests.support.locks import someone_waits_for_a_lock


def _upload(size: int) -> content.Upload:
    manifest = secrets.token_bytes(100)
    return content.Upload(
        manifest=manifest,
        manifest_hash=protocol.manifest_hash(manifest),
        chunks=(content.ChunkIn(0, 0, True, secrets.token_bytes(size)),),
    )


def _store(db: Session, case: Case, author: Account, size: int) -> ContentObject:
    obj = content.issue_object(db, case, author, ContentKind.LETTER)
    content.store_version(db, obj, 1, _upload(size))
    return obj


def _summed(db: Session, case_id: str | None = None) -> int:
    """What the quota used to compute: every version's size, summed."""
    query = select(func.coalesce(func.sum(ContentVersion.ciphertext_size), 0)).join(
        ContentObject, ContentObject.id == ContentVersion.object_id
    )
    if case_id is not None:
        query = query.where(ContentObject.case_id == case_id)
    return int(db.scalar(query) or 0)


def test_stored_versions_count_to_their_case_and_the_service(db_session: Session) -> None:
    first = rows.case(db_session)
    second = rows.case(db_session)
    author = rows.facilitator_of(first)
    _store(db_session, first, author, 1000)
    _store(db_session, first, author, 500)
    _store(db_session, second, author, 300)
    assert quota.usage(db_session, first.id) == 1500 == _summed(db_session, first.id)
    assert quota.usage(db_session, second.id) == 300
    assert quota.usage(db_session, None) == 1800 == _summed(db_session)


def test_deleted_versions_no_longer_count(db_session: Session) -> None:
    case = rows.case(db_session)
    author = rows.facilitator_of(case)
    kept = _store(db_session, case, author, 700)
    gone = _store(db_session, case, author, 400)
    content.store_version(db_session, gone, 2, _upload(200))
    content.delete_versions(db_session, gone.id)
    assert quota.usage(db_session, case.id) == 700 == _summed(db_session, case.id)
    content.delete_versions(db_session, kept.id)
    assert quota.usage(db_session, case.id) == 0


def test_room_is_refused_from_the_running_total(db_session: Session, settings: Settings) -> None:
    case = rows.case(db_session)
    _store(db_session, case, rows.facilitator_of(case), 1000)
    small = replace(settings, case_quota_bytes=1500)
    quota.require_room(db_session, small, case.id, adding=500)
    with pytest.raises(TooLarge):
        quota.require_room(db_session, small, case.id, adding=501)


def test_concurrent_writers_of_one_case_add_up(pg_engine: Engine) -> None:
    """Two transactions store versions in one case at once (PostgreSQL, real concurrency): the
    second waits for the case row the first changed, then adds to what the first committed."""
    sessions = make_session_factory(pg_engine)
    with sessions() as db:
        case = rows.case(db)
        author = rows.account(db, Role.FACILITATOR)
        case_id, author_id = case.id, author.id
        db.commit()
    errors: list[BaseException] = []

    def store(size: int) -> None:
        with sessions() as db:
            try:
                found_case = db.get(Case, case_id)
                found_author = db.get(Account, author_id)
                assert found_case is not None
                assert found_author is not None
                _store(db, found_case, found_author, size)
                db.commit()
            except BaseException as error:  # noqa: BLE001  (reported to the test below)
                errors.append(error)

    with sessions() as first:
        found_case = first.get(Case, case_id)
        found_author = first.get(Account, author_id)
        assert found_case is not None
        assert found_author is not None
        _store(first, found_case, found_author, 1000)
        first.flush()
        thread = threading.Thread(target=store, args=(400,))
        thread.start()
        deadline = time.monotonic() + 10
        while True:  # the second must wait for the first's row lock: that is the race
            if someone_waits_for_a_lock(pg_engine):
                break
            assert time.monotonic() < deadline, "the second writer never waited for the first"
            time.sleep(0.02)
        first.commit()
    thread.join(timeout=30)
    assert not errors
    with sessions() as db:
        assert quota.usage(db, case_id) == 1400 == _summed(db, case_id)
