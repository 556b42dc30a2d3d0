"""How much a case (and the whole service) stores, and the one check that it stays within limits.

Everything a person can make the server keep counts: every stored version of every content
object (letters sent inline, uploaded recordings and files, the facilitator's notes), autosaved
drafts, and uploads in progress. An upload reserves its declared size only while it is active
(a chunk or a resume within ``RESERVATION``); an abandoned one counts only what it holds, so a
declared gigabyte that never arrives does not block a case for the two days before cleanup.

Checks run inside the writing transaction, after the write, and refuse with nothing kept
(``require_room`` raises, the request rolls back). On PostgreSQL the case row is locked first, so
two uploads of one case cannot both fit in the same last gigabyte.

Stored versions are never summed: each case keeps a running total (``cases.stored_bytes``),
changed in the same transaction as the versions by ``count_stored`` with one atomic
``UPDATE ... SET stored_bytes = stored_bytes + n``, which takes the case row's lock, so
concurrent writers add up rather than overwrite each other. Starting an upload used to sum every
version on the service (2 s at 250,000 messages on SQLite, inside the write lock); now it reads
one row for the case and one small column of the cases table for the service. Drafts and uploads
in progress are few at any time (bounded by the people writing now, not by history) and are still
summed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from portal.cases.models import Case
from portal.content.models import Draft, HeldChunk, PendingUpload
from portal.db import HOME_TOUCHES, lock_row, utcnow
from portal.errors import TooLarge
from portal.settings import Settings

RESERVATION = timedelta(hours=1)


def human_bytes(size: int) -> str:
    """1 GB, 20 GB, 512 MB: limits as a person reads them (binary units, as the browser's
    static/js/media/upload.js formatBytes shows sizes, so both sides name one limit alike)."""
    for unit, name in ((1024**4, "TB"), (1024**3, "GB"), (1024**2, "MB"), (1024, "KB")):
        if size >= unit:
            value = size / unit
            text = f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
            return f"{text} {name}"
    return f"{size} bytes"


def _scalar(db: Session, query: Select[Any]) -> int:
    return int(db.scalar(query) or 0)


def usage(db: Session, case_id: str | None, *, besides: PendingUpload | None = None) -> int:
    """Bytes kept for one case (or, with None, for the whole service).

    ``besides``: an upload whose own reservation the caller is about to replace.
    """
    cutoff = utcnow() - RESERVATION

    def in_case(query: Select[Any], column: InstrumentedAttribute[str]) -> Select[Any]:
        return query if case_id is None else query.where(column == case_id)

    stored = _scalar(db, in_case(select(func.coalesce(func.sum(Case.stored_bytes), 0)), Case.id))
    drafts = _scalar(
        db,
        in_case(select(func.coalesce(func.sum(func.length(Draft.blob)), 0)), Draft.case_id),
    )
    reserved = _scalar(
        db,
        in_case(
            select(func.coalesce(func.sum(PendingUpload.declared_bytes), 0)).where(
                PendingUpload.updated_at >= cutoff
            ),
            PendingUpload.case_id,
        ),
    )
    abandoned = _scalar(
        db,
        in_case(
            select(func.coalesce(func.sum(HeldChunk.size), 0))
            .join(
                PendingUpload,
                (PendingUpload.object_id == HeldChunk.object_id)
                & (PendingUpload.version == HeldChunk.version),
            )
            .where(PendingUpload.updated_at < cutoff),
            PendingUpload.case_id,
        ),
    )
    total = stored + drafts + reserved + abandoned
    if besides is not None and besides.updated_at is not None and besides.updated_at >= cutoff:
        total -= besides.declared_bytes
    return total


def count_stored(db: Session, case_id: str, change: int) -> None:
    """Add ``change`` bytes (negative: removed) to the case's running total of stored versions.
    Called by whoever stores or deletes content versions, in the same transaction."""
    if change:
        db.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(stored_bytes=Case.stored_bytes + change)
            # The home never shows a case's stored bytes.
            .execution_options(synchronize_session=False, **{HOME_TOUCHES: {}})
        )


def decide_alone(db: Session, case_id: str) -> None:
    """Hold the case row while deciding whether something fits (PostgreSQL: one at a time)."""
    case = db.get(Case, case_id)
    if case is not None:
        lock_row(db, case)


def require_room(
    db: Session,
    settings: Settings,
    case_id: str,
    *,
    adding: int = 0,
    besides: PendingUpload | None = None,
    what: str = "this",
) -> None:
    """Refuse (TooLarge) if the case or the service would hold more than allowed.

    Called after a write with ``adding=0`` (is everything still within the limits?) or before
    an upload with the bytes it is about to reserve.
    """
    decide_alone(db, case_id)
    if usage(db, case_id, besides=besides) + adding > settings.case_quota_bytes:
        raise TooLarge(
            f"There is not enough room left in this case for {what}: a case can hold at most "
            f"{human_bytes(settings.case_quota_bytes)}. Nothing was saved. Please talk to your "
            "facilitator.",
            field="bytes",
        )
    if usage(db, None, besides=besides) + adding > settings.storage_cap_bytes:
        raise TooLarge(
            "The service's storage is full: it can hold at most "
            f"{human_bytes(settings.storage_cap_bytes)}. Nothing was saved. Please talk to your "
            "facilitator.",
            field="bytes",
        )
