"""The JSON shapes the message endpoints answer with (docs/api-cases-and-letters.md,
docs/api-media.md). Plain functions of rows already read: no database here."""

from __future__ import annotations

from typing import Any

from portal import protocol
from portal.content.services import SealedObject
from portal.messages.models import Message
from portal.messages.services import Granted

b64 = protocol.b64encode


def sealed_json(sealed: SealedObject) -> dict[str, Any]:
    """A sealed object: inline chunks in ``chunks``; where every chunk is, in ``layout``."""
    row = sealed.row
    return {
        "object_id": row.object_id,
        "version": row.version,
        "manifest": b64(row.manifest),
        "manifest_hash": b64(row.manifest_hash),
        "chunks": [b64(data) for data in sealed.inline],
        "layout": [
            {
                "part": c.part,
                "index": c.index,
                "final": c.final,
                "size": c.size,
                "inline": c.data is not None,
            }
            for c in sealed.chunks
        ],
        "chunk_url": f"/api/content/{row.object_id}/{row.version}/",
    }


def note_json(note: Granted | None) -> dict[str, Any] | None:
    """A facilitator's note with the grant that opens it for this reader, and who made it."""
    if note is None:
        return None
    return {
        **sealed_json(note.sealed),
        "grant": b64(note.grant.grant),
        "sender_account_id": note.grant.sender.id,
        "sender_public_key": b64(note.grant.sender_box_key),
    }


def deleted_json(message: Message) -> dict[str, Any]:
    """A message whose author deleted its content: the timeline stays, the words are gone."""
    return {
        "message_id": message.id,
        "object_id": message.object_id,
        "version": message.version,
        "state": message.state.value,
        "format": message.format.value,
        "content_deleted": True,
    }
