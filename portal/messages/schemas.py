"""Every request body the message endpoints read, parsed into typed values (BadInput naming the
field otherwise). No database here: ids are only parsed, services look them up."""

from __future__ import annotations

from dataclasses import dataclass

from portal import protocol
from portal.cases.models import Format
from portal.content import services as content
from portal.content import uploads
from portal.content.models import ContentKind
from portal.content.uploads import StoredChunkIn
from portal.errors import BadInput
from portal.messages.entered import ConfirmedHow
from portal.messages.models import TranscriptLabel
from portal.messages.services import AuthorGrants, Confirmation, Declared, LetterIn, NoteIn
from portal.web import Fields

NOTE_KINDS = {
    "feedback": ContentKind.FEEDBACK,
    "content_note": ContentKind.CONTENT_NOTE,
    "transcript": ContentKind.TRANSCRIPT,
    "approval_note": ContentKind.APPROVAL_NOTE,
}
FORMATS = {f.value: f for f in Format}
TRANSCRIPT_LABELS = {label.value: label for label in TranscriptLabel}
MAX_STORED_CHUNKS = 100_000
MAX_SECONDS = 7 * 24 * 3600
MAX_PAGES = 10_000
MAX_DRAFT = 24 + 16 + 200_000 * 4 + 1024


@dataclass(frozen=True)
class Sealed:
    """One version of a content object as the browser sealed and sent it."""

    object_id: str
    version: int
    upload: content.Upload


@dataclass(frozen=True)
class ApprovalIn:
    recipient_grant: bytes | None  # None: the recipient does not use the portal (on paper)
    # Made in the approving facilitator's browser for each supporter who may read for the
    # recipient and whose key that facilitator compared in person: supporter id -> grant.
    supporter_grants: dict[str, bytes]
    note: NoteIn | None
    transcript: NoteIn | None
    transcript_label: TranscriptLabel


@dataclass(frozen=True)
class DraftIn:
    blob: bytes
    revises_message_id: str | None


def sealed(fields: Fields, name: str) -> Sealed:
    raw = fields.raw(name)
    if not isinstance(raw, dict):
        raise BadInput(field=name)
    f = Fields(raw)
    chunks_raw = raw.get("chunks")
    if not isinstance(chunks_raw, list) or len(chunks_raw) > 1024:
        raise BadInput(field=name)
    chunks = []
    for item in chunks_raw:
        if not isinstance(item, dict):
            raise BadInput(field=name)
        c = Fields(item)
        final = item.get("final")
        if not isinstance(final, bool):
            raise BadInput(field=name)
        chunks.append(
            content.ChunkIn(
                part=c.integer("part", minimum=0, maximum=content.MAX_PARTS),
                index=c.integer("index", minimum=0, maximum=1_000_000),
                final=final,
                data=c.binary("data", max_length=protocol.CHUNK_SIZE + content.AEAD_OVERHEAD),
            )
        )
    object_id = f.text("object_id", max_length=36)
    version = f.integer("version", minimum=1, maximum=1000)
    upload = content.Upload(
        manifest=f.binary("manifest", max_length=content.MAX_MANIFEST),
        manifest_hash=f.binary("manifest_hash", length=32),
        chunks=tuple(chunks),
        stored=stored_chunks(raw.get("stored_chunks"), name),
    )
    return Sealed(object_id, version, upload)


def stored_chunks(raw: object, name: str) -> tuple[StoredChunkIn, ...]:
    """The uploaded chunks a submit lists (docs/api-media.md); absent for a text letter."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_STORED_CHUNKS:
        raise BadInput(field=name)
    stored = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("final"), bool):
            raise BadInput(field=name)
        c = Fields(item)
        stored.append(
            StoredChunkIn(
                part=c.integer("part", minimum=0, maximum=content.MAX_PARTS),
                index=c.integer("index", minimum=0, maximum=uploads.LAST_INDEX),
                final=item["final"],
                size=c.integer("size", minimum=0, maximum=uploads.MAX_CHUNK_BYTES),
                hash=c.binary("hash", length=32),
            )
        )
    return tuple(stored)


def declared(fields: Fields) -> Declared:
    """``format`` and ``length``: what the author's browser declares about the content."""
    format_ = fields.choice("format", FORMATS) if fields.raw("format") is not None else None
    length = fields.raw("length")
    if length is not None and not isinstance(length, dict):
        raise BadInput(field="length")
    f = Fields(length or {})
    seconds = (
        f.integer("seconds", minimum=0, maximum=MAX_SECONDS)
        if f.raw("seconds") is not None
        else None
    )
    pages = f.integer("pages", minimum=0, maximum=MAX_PAGES) if f.raw("pages") is not None else None
    return Declared(format=format_ or Format.LETTER, seconds=seconds, pages=pages)


def grant(fields: Fields, name: str) -> bytes:
    return fields.binary(name, length=content.CONTENT_GRANT_SIZE)


def author_grants(fields: Fields) -> AuthorGrants:
    return AuthorGrants(
        to_case=grant(fields, "grant_to_case"), to_author=grant(fields, "grant_to_author")
    )


def letter(fields: Fields, *, new: bool) -> LetterIn:
    """The body of a send (``new``: it names its recipient) or of a revision."""
    letter_sealed = sealed(fields, "letter")
    if new and letter_sealed.version != 1:
        raise BadInput(field="letter")
    recipient_id = fields.text("recipient_participant_id", max_length=36) if new else None
    grants = author_grants(fields)
    facts = declared(fields)
    draft_id = fields.raw("draft_id")
    return LetterIn(
        object_id=letter_sealed.object_id,
        version=letter_sealed.version,
        upload=letter_sealed.upload,
        grants=grants,
        declared=facts,
        recipient_id=recipient_id,
        draft_id=draft_id if isinstance(draft_id, str) else None,
    )


CONFIRMED_HOW = {how.value: how for how in ConfirmedHow}
# The facilitator's note on how it was confirmed: sealCaseText of at most 2000 characters.
MAX_ENTERED_NOTE = 4 * 2000 + 64


def confirmation(fields: Fields) -> Confirmation:
    """How and when the participant confirmed what a facilitator entered for them."""
    how: ConfirmedHow = fields.choice("confirmed_how", CONFIRMED_HOW)
    on = fields.optional_day("confirmed_on")
    if on is None:
        raise BadInput("Enter the date they confirmed it.", field="confirmed_on")
    note = (
        fields.binary("entered_note", max_length=MAX_ENTERED_NOTE)
        if fields.raw("entered_note")
        else None
    )
    return Confirmation(how=how, on=on, sealed_note=note)


def note(
    fields: Fields,
    name: str,
    kind: ContentKind,
    *,
    to_person: bool = True,
    person_may_wait: bool = False,
) -> NoteIn:
    """A facilitator's sealed words (feedback, a reason, a content note, a transcript), or
    (``to_person`` false) words for the case's facilitators alone: no grant to anyone else is
    read, even if one is sent. ``person_may_wait``: the grant to the person may be missing (the
    service decides whether it may: feedback to a writer whose new key nobody compared yet)."""
    raw = fields.raw(name)
    if not isinstance(raw, dict):
        raise BadInput("Please write something first.", field=name)
    f = Fields(raw)
    note_sealed = sealed(fields, name)
    if note_sealed.version != 1:
        raise BadInput(field=name)
    return NoteIn(
        object_id=note_sealed.object_id,
        kind=kind,
        upload=note_sealed.upload,
        to_case=grant(f, "grant_to_case"),
        to_person=grant(f, "grant_to_person")
        if to_person and (f.raw("grant_to_person") is not None or not person_may_wait)
        else None,
    )


def first_approval(fields: Fields) -> NoteIn | None:
    """The first of two approvals: an optional note to the second facilitator. A recipient
    grant is refused outright, so no key for the recipient can exist before the second."""
    if fields.raw("recipient_grant") is not None:
        raise BadInput(
            "A first approval releases nothing: send no grant for the recipient.",
            field="recipient_grant",
        )
    if not fields.raw("note"):
        return None
    return note(fields, "note", ContentKind.APPROVAL_NOTE, to_person=False)


def approval(fields: Fields) -> ApprovalIn:
    return ApprovalIn(
        note=note(fields, "note", ContentKind.CONTENT_NOTE) if fields.raw("note") else None,
        transcript=note(fields, "transcript", ContentKind.TRANSCRIPT)
        if fields.raw("transcript")
        else None,
        transcript_label=fields.choice("transcript_label", TRANSCRIPT_LABELS)
        if fields.raw("transcript_label") is not None
        else TranscriptLabel.TRANSCRIPT,
        recipient_grant=grant(fields, "recipient_grant")
        if fields.raw("recipient_grant") is not None
        else None,
        supporter_grants=supporter_grants(fields),
    )


MAX_SUPPORTER_GRANTS = 20


def supporter_grants(fields: Fields) -> dict[str, bytes]:
    """``[{supporter_id, grant}, ...]``: at most one grant for each, none at all by default."""
    raw = fields.raw("supporter_grants")
    if raw is None:
        return {}
    if not isinstance(raw, list) or len(raw) > MAX_SUPPORTER_GRANTS:
        raise BadInput(field="supporter_grants")
    found: dict[str, bytes] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise BadInput(field="supporter_grants")
        one = Fields(item)
        supporter_id = one.uuid4("supporter_id")
        if supporter_id in found:
            raise BadInput(field="supporter_grants")
        found[supporter_id] = grant(one, "grant")
    return found


def note_kind(fields: Fields) -> ContentKind:
    kind: ContentKind = fields.choice("kind", NOTE_KINDS)
    return kind


def draft(fields: Fields) -> DraftIn:
    blob = fields.binary("blob", max_length=MAX_DRAFT)
    revises = fields.raw("revises_message_id")
    return DraftIn(blob, None if revises is None else str(revises))
