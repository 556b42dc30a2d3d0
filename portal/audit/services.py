"""Append to and verify the audit chain.

Each row's hash is keyed BLAKE2b (under a key derived from the server secret) over the previous
row's hash and this row's fields, so editing, removing or reordering a row breaks every hash
after it, and someone holding only the database cannot rebuild the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from portal import paging
from portal.audit.models import AuditEvent
from portal.audit.tags import AuditTag
from portal.db import utcnow
from portal.paging import Page
from portal.settings import Settings

GENESIS = bytes(32)


def chain_key(server_secret: bytes) -> bytes:
    return blake2b(
        b"portal/v1/audit-key", digest_size=32, key=server_secret[:64], encoder=RawEncoder
    )


def chained_hash(
    key: bytes,
    prev_hash: bytes,
    event_id: int,
    at: datetime,
    tag: str,
    actor_id: str | None,
    subject_id: str | None,
) -> bytes:
    fields = "\x1f".join(
        [
            str(event_id),
            at.isoformat(timespec="microseconds"),
            tag,
            actor_id or "",
            subject_id or "",
        ]
    )
    return blake2b(prev_hash + fields.encode(), digest_size=32, key=key, encoder=RawEncoder)


def record(
    session: Session,
    settings: Settings,
    tag: AuditTag,
    *,
    actor_id: str | None = None,
    subject_id: str | None = None,
) -> AuditEvent:
    """Append one event. The id is the chain position; a concurrent writer loses on the key."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders across server processes for the rest of this transaction.
        session.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    prev_hash = last.row_hash if last else GENESIS
    event_id = (last.id + 1) if last else 1
    at = utcnow()
    event = AuditEvent(
        id=event_id,
        at=at,
        tag=str(tag),
        actor_id=actor_id,
        subject_id=subject_id,
        prev_hash=prev_hash,
        row_hash=chained_hash(
            chain_key(settings.secret_key.reveal()),
            prev_hash,
            event_id,
            at,
            str(tag),
            actor_id,
            subject_id,
        ),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    rows: int
    first_bad_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def events_about(
    session: Session, subject_ids: list[str], page: int = 1, size: int = 50
) -> Page[AuditEvent]:
    """One page of the events whose subject is one of these ids, oldest first (two statements).

    The page's ids are chosen and counted from ix_audit_events_subject (subject, id) alone, then
    only those rows are read: a busy case has thousands of events, and reading each of their
    rows to count them and sort them would cost a page more the more the case holds."""
    ids = paging.scalars_page(
        session,
        select(AuditEvent.id).where(AuditEvent.subject_id.in_(subject_ids)).order_by(AuditEvent.id),
        page,
        size,
    )
    if not ids.items:
        return ids.with_items([])
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.id.in_(ids.items)).order_by(AuditEvent.id)
    )
    return ids.with_items(list(rows))


def latest_tagged(
    session: Session,
    tags: list[str],
    *,
    subject_ids: list[str] | Select[str] | None = None,
    limit: int = 20,
) -> list[AuditEvent]:
    """The newest events with one of these tags (about one of these subjects, if given: a list,
    or a query of ids that the database runs as a subquery)."""
    query = select(AuditEvent).where(AuditEvent.tag.in_(tags))
    if isinstance(subject_ids, Select):
        query = query.where(AuditEvent.subject_id.in_(subject_ids))
    elif subject_ids is not None:
        if not subject_ids:
            return []
        query = query.where(AuditEvent.subject_id.in_(subject_ids))
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


VERIFY_BATCH = 5000


def verify_chain(
    session: Session, settings: Settings, *, batch_size: int = VERIFY_BATCH
) -> ChainReport:
    """Walk the whole chain in order. Rows are read ``batch_size`` at a time by id (keyset, as
    plain tuples, never ORM objects kept in the session), so memory stays flat however long the
    log grows (2 million rows took 3.2 GB when read as one result)."""
    key = chain_key(settings.secret_key.reveal())
    prev_hash = GENESIS
    expected_id = 1
    count = 0
    after = 0
    columns = (
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.tag,
        AuditEvent.actor_id,
        AuditEvent.subject_id,
        AuditEvent.prev_hash,
        AuditEvent.row_hash,
    )
    while True:
        batch = session.execute(
            select(*columns).where(AuditEvent.id > after).order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not batch:
            return ChainReport(count, None, None)
        for event_id, at, tag, actor_id, subject_id, row_prev_hash, row_hash in batch:
            count += 1
            if event_id != expected_id:
                return ChainReport(count, event_id, f"row {expected_id} is missing")
            if row_prev_hash != prev_hash:
                return ChainReport(count, event_id, "the row does not follow the one before it")
            computed = chained_hash(key, prev_hash, event_id, at, tag, actor_id, subject_id)
            if computed != row_hash:
                return ChainReport(count, event_id, "the row was changed after it was written")
            prev_hash = row_hash
            expected_id += 1
        after = batch[-1][0]
