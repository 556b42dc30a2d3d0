"""Who may upload and who may read a chunk: the one place these rules live.

Uploading: the account is the content object's author (a facilitator of the case, for a letter
entered for a participant without access), the object is a letter, the case lets them write,
and (object, version) is the next version not yet submitted: 1 for a new message,
``message.version + 1`` for a returned one being revised.

Reading a chunk follows the rules that decide who gets that object's JSON: facilitators of the
case; the author of a letter (every version); the participant a letter was written for, once a
facilitator's browser granted it to them (its current version); its recipient only once they
opened it (the released version); feedback for the letter's author; a content note for its
recipient once the letter was released to them; a transcript for the recipient once they opened
the letter.
Everyone else gets NotFound, so an id from another case reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases.models import Case, CaseFacilitator, Participant
from portal.content import services as content
from portal.content.models import (
    ContentKind,
    ContentObject,
    ContentVersion,
    GrantPurpose,
    HeldChunk,
    PendingUpload,
)
from portal.content.uploads import FIRST_UPLOADED_PART, LAST_INDEX, LAST_PART, OpenUpload
from portal.errors import Conflict, NotFound
from portal.messages import policy as message_policy
from portal.messages.models import Message
from portal.messages.services import require_can_write
from portal.messages.states import (
    RECIPIENT_GRANT_STATES,
    Action,
    MessageState,
    allowed_actions,
)
from portal.web import is_uuid4


@dataclass(frozen=True)
class UploadTarget:
    obj: ContentObject
    version: int
    case: Case
    author: Participant
    message: Message | None  # set when a returned message is being revised
    upload: OpenUpload | None  # the upload of (obj, version), if one was started


def _number(text: str, minimum: int, maximum: int) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 8:
        raise NotFound
    value = int(text)
    if not minimum <= value <= maximum:
        raise NotFound
    return value


def version_number(text: str) -> int:
    return _number(text, 1, 1000)


def chunk_position(part: str, index: str, *, first_part: int = 0) -> tuple[int, int]:
    return _number(part, first_part, LAST_PART), _number(index, 0, LAST_INDEX)


def uploaded_chunk_position(part: str, index: str) -> tuple[int, int]:
    return chunk_position(part, index, first_part=FIRST_UPLOADED_PART)


# Everything an upload request is decided on, in one statement built once: the object, the
# account's participation, its case, the letter's message, whether the version was sent, and the
# upload with the bytes it holds. Six ORM loads and a sum before, on every PUT (bench/README.md,
# "Where the ingest CPU goes"). The joins are outer so that what is missing decides the refusal
# below exactly as separate loads did.
_HELD_BYTES = (
    select(func.coalesce(func.sum(HeldChunk.size), 0))
    .where(HeldChunk.object_id == bindparam("object_id"), HeldChunk.version == bindparam("version"))
    .scalar_subquery()
)
_TARGET = (
    select(
        ContentObject,
        Participant,
        Case,
        Message,
        ContentVersion.version.label("sent"),
        PendingUpload.account_id.label("upload_account_id"),
        PendingUpload.declared_bytes,
        _HELD_BYTES.label("held_bytes"),
    )
    .select_from(ContentObject)
    .outerjoin(Participant, Participant.account_id == bindparam("account_id"))
    .outerjoin(Case, Case.id == ContentObject.case_id)
    .outerjoin(Message, Message.object_id == ContentObject.id)
    .outerjoin(
        ContentVersion,
        (ContentVersion.object_id == ContentObject.id)
        & (ContentVersion.version == bindparam("version")),
    )
    .outerjoin(
        PendingUpload,
        (PendingUpload.object_id == ContentObject.id)
        & (PendingUpload.version == bindparam("version")),
    )
    .where(ContentObject.id == bindparam("object_id"))
    .limit(1)
)


def upload_target(
    db: Session, account: Account, object_id: str, version_text: str, *, writing: bool
) -> UploadTarget:
    """The upload (object, version) ``account`` may work on, or NotFound / Conflict.

    ``writing`` (start, PUT) also needs the case to let them write now; reading the upload's
    state and cancelling it need only ownership (stopping is always allowed).
    """
    version = version_number(version_text)
    found = (
        db.execute(
            _TARGET, {"object_id": object_id, "version": version, "account_id": account.id}
        ).first()
        if is_uuid4(object_id)
        else None
    )
    if found is None:
        raise NotFound
    obj, author, case, message, sent, upload_account_id, declared, held = found
    if obj.author_id != account.id or obj.kind is not ContentKind.LETTER:
        raise NotFound
    written_by = None
    if obj.entered_for_id is not None:
        # Entered by a facilitator of the case for a participant without access (scanned pages:
        # messages/entered.py): the message is that participant's.
        facilitates = _facilitates(db, account, obj.case_id)
        author = db.get(Participant, obj.entered_for_id) if facilitates else None
    elif account.role is Role.SUPPORTER:
        # Writing on a participant's behalf (messages.policy.writer): their side is the author.
        place = message_policy.writing_place(db, account)
        author = place.participant if place is not None else None
        written_by = place.id if place is not None else None
    elif account.role is not Role.PARTICIPANT:  # as case_policy.participation
        author = None
    if author is None or case is None or author.case_id != case.id:
        raise NotFound
    if message is None:
        if version != 1:
            raise NotFound
    elif (
        message.author_participant_id != author.id
        or message.written_by_supporter_id != written_by
        or version != message.version + 1
    ):
        raise NotFound
    upload = (
        OpenUpload(upload_account_id, int(declared), int(held))
        if upload_account_id is not None
        else None
    )
    target = UploadTarget(obj, version, case, author, message, upload)
    if not writing:
        return target
    if sent is not None:
        raise Conflict("This version of the message was already sent.")
    if message is None:
        require_can_write(case, author)
    elif Action.REVISE not in allowed_actions(message.state, case.status):
        raise Conflict("This message cannot be changed at the moment.")
    return target


def open_upload(target: UploadTarget) -> OpenUpload:
    """The target's upload as its statement found it (a PUT's authorisation), or NotFound."""
    if target.upload is None:
        raise NotFound("This upload was never started, or it was cancelled or has expired.")
    return target.upload


def pending_upload(db: Session, target: UploadTarget) -> PendingUpload:
    pending = db.get(PendingUpload, (target.obj.id, target.version))
    if pending is None:
        raise NotFound("This upload was never started, or it was cancelled or has expired.")
    return pending


# Who writes letters: participants, and supporters on their behalf (their grants go when their
# access is taken away, so what they wrote stops opening for them then).
WRITERS = frozenset({Role.PARTICIPANT, Role.SUPPORTER})


def _facilitates(db: Session, account: Account, case_id: str) -> bool:
    return (
        account.role is Role.FACILITATOR
        and db.get(CaseFacilitator, (case_id, account.id)) is not None
    )


def _participant_account(db: Session, participant_id: str) -> str | None:
    participant = db.get(Participant, participant_id)
    return participant.account_id if participant is not None else None


def _reads_for(db: Session, account: Account, participant_id: str) -> bool:
    """``account`` is a supporter who may read for this participant now."""
    place = message_policy.reading_place(db, account)
    return place is not None and place.participant_id == participant_id


def _written_for(db: Session, account: Account, message: Message, version: int) -> bool:
    """``account`` is the participant ``message`` was written for by a supporter or
    representative, and a facilitator's browser granted them this (its current) version."""
    return (
        message.written_by_supporter_id is not None
        and version == message.version
        and _participant_account(db, message.author_participant_id) == account.id
        and content.grant_for(db, message.object_id, version, GrantPurpose.AUTHOR, account)
        is not None
    )


def readable_version(
    db: Session, account: Account, object_id: str, version_text: str
) -> ContentVersion:
    """The stored version, if ``account`` may read its chunks; NotFound otherwise."""
    obj = db.get(ContentObject, object_id) if is_uuid4(object_id) else None
    version = version_number(version_text)
    row = db.get(ContentVersion, (object_id, version)) if obj is not None else None
    if obj is None or row is None:
        raise NotFound
    if _facilitates(db, account, obj.case_id):
        return row
    if obj.kind is ContentKind.LETTER:
        message = db.scalars(select(Message).where(Message.object_id == obj.id)).first()
        if obj.author_id == account.id and account.role in WRITERS:
            return row
        if message is not None and _written_for(db, account, message, version):
            return row
        if (
            message is not None
            and message.state is MessageState.OPENED
            and version == message.version
            and (
                _participant_account(db, message.recipient_participant_id) == account.id
                or _reads_for(db, account, message.recipient_participant_id)
            )
        ):
            return row
        raise NotFound
    if version != 1:
        raise NotFound
    carriers = db.scalars(
        select(Message).where(
            or_(
                Message.feedback_object_id == obj.id,
                Message.content_note_object_id == obj.id,
                Message.transcript_object_id == obj.id,
            )
        )
    )
    for message in carriers:
        author_id = _participant_account(db, message.author_participant_id)
        recipient_id = _participant_account(db, message.recipient_participant_id)
        if message.feedback_object_id == obj.id and author_id == account.id:
            return row
        if (
            message.content_note_object_id == obj.id
            and recipient_id == account.id
            and message.state in RECIPIENT_GRANT_STATES
        ):
            return row
        if (
            message.transcript_object_id == obj.id
            and recipient_id == account.id
            and message.state is MessageState.OPENED
        ):
            return row
    raise NotFound
