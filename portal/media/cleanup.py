"""The cleanup job: uploads never submitted, ids never used, and blobs nothing points at.

Run by ``portal cleanup`` and every 15 minutes inside ``portal serve``. Rows go first, in a
committed transaction; blobs after, so a failure never leaves a row pointing at a removed file
(at worst a file with no row, which the next run removes as an orphan). It logs ids and counts
only: never bodies, never file names (the server does not know them anyway).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session, sessionmaker

from portal.db import utcnow
from portal.media.blobstore import BlobStore
from portal.media.models import HeldChunk, PendingUpload
from portal.messages.models import ContentChunk, ContentObject, ContentVersion, Message
from portal.settings import Settings

log = logging.getLogger("portal.media.cleanup")

EVERY_SECONDS = 15 * 60
# A chunk PUT takes seconds; a temporary file this old belongs to a write that died.
STALE_INCOMING_SECONDS = 3600.0
# A folder this fresh may belong to a PUT whose row is about to be written: leave it be.
ORPHAN_GRACE_SECONDS = 3600.0


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


def _expire_uploads(db: Session, settings: Settings) -> list[tuple[str, int]]:
    cutoff = utcnow() - timedelta(hours=settings.upload_expiry_hours)
    expired = list(db.scalars(select(PendingUpload).where(PendingUpload.updated_at < cutoff)))
    for pending in expired:
        db.execute(
            delete(HeldChunk).where(
                HeldChunk.object_id == pending.object_id, HeldChunk.version == pending.version
            )
        )
        db.delete(pending)
    return [(p.object_id, p.version) for p in expired]


def _unused_objects(db: Session, settings: Settings) -> list[str]:
    """Ids issued for a message or note that was never sent (no version, no message, no upload)."""
    cutoff = utcnow() - timedelta(hours=settings.upload_expiry_hours)
    referenced = (
        select(Message.id)
        .where(
            (Message.object_id == ContentObject.id)
            | (Message.feedback_object_id == ContentObject.id)
            | (Message.content_note_object_id == ContentObject.id)
            | (Message.transcript_object_id == ContentObject.id)
        )
        .exists()
    )
    unused = list(
        db.scalars(
            select(ContentObject.id).where(
                ContentObject.created_at < cutoff,
                ~exists().where(ContentVersion.object_id == ContentObject.id),
                ~exists().where(PendingUpload.object_id == ContentObject.id),
                ~referenced,
            )
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
    sessions: sessionmaker[Session], blobs: BlobStore, settings: Settings
) -> CleanupReport:
    with sessions() as db:
        expired = _expire_uploads(db, settings)
        unused = _unused_objects(db, settings)
        db.commit()
    # The rows are gone for good: now the files.
    for object_id, version in expired:
        blobs.delete_version(object_id, version)
    for object_id in unused:
        blobs.delete_object(object_id)
    stale = blobs.remove_stale_incoming(STALE_INCOMING_SECONDS)
    orphans = 0
    grace = time.time() - ORPHAN_GRACE_SECONDS
    # Listed before the rows are read: a folder made after the listing is not looked at.
    for found in list(blobs.stored_versions()):
        if found.modified_at > grace:
            continue
        with sessions() as db:
            if _is_referenced(db, found.object_id, found.version):
                continue
        blobs.delete_version(found.object_id, found.version)
        log.info("removed orphan blobs of object %s version %s", found.object_id, found.version)
        orphans += 1
    report = CleanupReport(len(expired), len(unused), stale, orphans)
    for object_id, version in expired:
        log.info("removed expired upload of object %s version %s", object_id, version)
    log.info("cleanup: %s", report)
    return report
