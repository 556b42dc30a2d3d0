"""The upload cleanup job: uploads never submitted, ids never used, and blobs nothing points at.

Run by ``portal/maintenance.py`` (``portal cleanup``, and every 15 minutes inside ``portal
serve``, once per service). Rows go first, in short committed batches; each batch's blobs
after, so a failure never leaves a row pointing at a removed file (at worst a file with no row,
which the next run removes as an orphan). It logs ids and counts only: never bodies, never file
names (the server does not know them anyway).

Content knows nothing of what carries an object (messages, above it): whoever runs the job says
which columns point at content objects (``in_use``), so an id still named there is never
removed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

from portal.blobstore import BlobStore
from portal.content.models import (
    ContentChunk,
    ContentObject,
    ContentVersion,
    HeldChunk,
    PendingUpload,
)
from portal.db import READ_ONLY, utcnow
from portal.settings import Settings

log = logging.getLogger("portal.media.cleanup")  # the name operators know from the logs

EVERY_SECONDS = 15 * 60
# Rows removed per transaction: short enough that SQLite's write lock is never held for long.
BATCH = 200
# A chunk PUT takes seconds; a temporary file this old belongs to a write that died.
STALE_INCOMING_SECONDS = 3600.0
# A folder this fresh may belong to a PUT whose row is about to be written: leave it be.
ORPHAN_GRACE_SECONDS = 3600.0

# Columns of other tables that name a content object (``Message.object_id``...).
InUse = Sequence[QueryableAttribute[Any]]


@dataclass(frozen=True)
class CleanupReport:
    expired_uploads: int
    unused_objects: int
    stale_incoming: int
    orphan_versions: int

    def __str__(self) -> str:
        return (
            f"{self.expired_uploads} expired uploads, {self.unused_objects} unused content ids, "
            f"{self.stale_incoming} stale temporary files, {self.orphan_versions} orphan folders"
        )


def expire_uploads(db: Session, settings: Settings, *, limit: int) -> list[tuple[str, int]]:
    """One batch: uploads idle for longer than the expiry, and their held chunks' rows."""
    cutoff = utcnow() - timedelta(hours=settings.upload_expiry_hours)
    expired = list(
        db.scalars(
            select(PendingUpload)
            .where(PendingUpload.updated_at < cutoff)
            .order_by(PendingUpload.updated_at)
            .limit(limit)
        )
    )
    for pending in expired:
        db.execute(
            delete(HeldChunk).where(
                HeldChunk.object_id == pending.object_id, HeldChunk.version == pending.version
            )
        )
        db.delete(pending)
    return [(p.object_id, p.version) for p in expired]


def remove_unused_objects(
    db: Session, settings: Settings, in_use: InUse, *, limit: int
) -> list[str]:
    """One batch: ids issued for something never sent (no version, no upload, named nowhere)."""
    cutoff = utcnow() - timedelta(hours=settings.upload_expiry_hours)
    named = [exists().where(column == ContentObject.id) for column in in_use]
    unused = list(
        db.scalars(
            select(ContentObject.id)
            .where(
                ContentObject.created_at < cutoff,
                ~exists().where(ContentVersion.object_id == ContentObject.id),
                ~exists().where(PendingUpload.object_id == ContentObject.id),
                *([~or_(*named)] if named else []),
            )
            .order_by(ContentObject.created_at)
            .limit(limit)
        )
    )
    if unused:
        db.execute(delete(ContentObject).where(ContentObject.id.in_(unused)))
    return unused


def _is_referenced(db: Session, object_id: str, version: int) -> bool:
    held = db.scalar(
        select(
            exists().where(PendingUpload.object_id == object_id, PendingUpload.version == version)
        )
    )
    stored = db.scalar(
        select(
            exists().where(
                ContentChunk.object_id == object_id,
                ContentChunk.version == version,
                ContentChunk.data.is_(None),
            )
        )
    )
    return bool(held or stored)


def run_cleanup(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    settings: Settings,
    *,
    in_use: InUse,
    batch: int = BATCH,
    keep_going: Callable[[], bool] = lambda: True,
) -> CleanupReport:
    """The whole job, in batches; ``keep_going`` is asked between batches (a lost lease stops
    it: another process carries on)."""
    expired_count = 0
    while True:
        with sessions() as db:
            expired = expire_uploads(db, settings, limit=batch)
            db.commit()
        # The rows are gone for good: now the files.
        for object_id, version in expired:
            blobs.delete_version(object_id, version)
            log.info("removed expired upload of object %s version %s", object_id, version)
        expired_count += len(expired)
        if len(expired) < batch or not keep_going():
            break
    unused_count = 0
    while True:
        with sessions() as db:
            unused = remove_unused_objects(db, settings, in_use, limit=batch)
            db.commit()
        for object_id in unused:
            blobs.delete_object(object_id)
        unused_count += len(unused)
        if len(unused) < batch or not keep_going():
            break
    stale = blobs.remove_stale_incoming(STALE_INCOMING_SECONDS)
    orphans = 0
    grace = time.time() - ORPHAN_GRACE_SECONDS
    # Listed before the rows are read: a folder made after the listing is not looked at.
    for looked_at, found in enumerate(list(blobs.stored_versions()), start=1):
        if looked_at % batch == 0 and not keep_going():
            break
        if found.modified_at > grace:
            continue
        with sessions() as db:
            # A read: it must not queue for (or hold) SQLite's write lock once per folder.
            db.connection(execution_options={READ_ONLY: True})
            if _is_referenced(db, found.object_id, found.version):
                continue
        blobs.delete_version(found.object_id, found.version)
        log.info("removed orphan blobs of object %s version %s", found.object_id, found.version)
        orphans += 1
    report = CleanupReport(expired_count, unused_count, stale, orphans)
    log.info("cleanup: %s", report)
    return report
