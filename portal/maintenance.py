"""Periodic jobs."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from portal.blobstore import BlobStore
from portal.content import cleanup
from portal.messages.services import CONTENT_IN_USE
from portal.settings import Settings


def run_cleanup(
    sessions: sessionmaker[Session], blobs: BlobStore, settings: Settings
) -> cleanup.CleanupReport:
    return cleanup.run_cleanup(sessions, blobs, settings, in_use=CONTENT_IN_USE)
