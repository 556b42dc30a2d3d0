"""Who may upload and who may read a chunk: the one place these rules live.

Uploading: the account is the content object's author, the object is a letter, the case lets
them write, and (object, version) is the next version not yet submitted: 1 for a new message,
``message.version + 1`` for a returned one being revised.

Reading a chunk follows the rules that decide who gets that object's JSON: facilitators of the
case; the author of a letter (every version); its recipient only once they opened it (the
released version); feedback for the letter's author; a content note for its recipient once the
letter was released to them; a transcript for the recipient once they opened the letter.
Everyone else gets NotFound, so an id from another case reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account, Role
from portal.cases import policy as case_policy
from portal.cases.models import Case, CaseFacilitator, Participant
from portal.content.models import ContentKind, ContentObject, ContentVersion, PendingUpload
from portal.content.uploads import FIRST_UPLOADED_PART, LAST_INDEX, LAST_PART
from portal.errors import Conflict, NotFound
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


def _own_letter_object(db: Session, account: Account, object_id: str) -> ContentObject:
    obj = db.get(ContentObject, object_id) if is_uuid4(object_id) else None
    if obj is None or obj.author_id != account.id or obj.kind is not ContentKind.LETTER:
        raise NotFound
    return obj


def upload_target(
    db: Session, account: Account, object_id: str, version_text: str, *, writing: bool
) -> UploadTarget:
    """The upload (object, version) ``account`` may work on, or NotFound / Conflict.

    ``writing`` (start, PUT) also needs the case to let them write now; reading the upload's
    state and cancelling it need only ownership (stopping is always allowed).
    """
    obj = _own_letter_object(db, account, object_id)
    version = version_number(version_text)
    author = case_policy.participation(db, account)
    case = db.get(Case, obj.case_id)
    if author is None or case is None or author.case_id != case.id:
        raise NotFound
    message = db.scalars(select(Message).where(Message.object_id == obj.id)).first()
    if message is None:
        if version != 1:
            raise NotFound
    elif message.author_participant_id != author.id or version != message.version + 1:
        raise NotFound
    if not writing:
        return UploadTarget(obj, version, case, author, message)
    if db.get(ContentVersion, (obj.id, version)) is not None:
        raise Conflict("This version of the message was already sent.")
    if message is None:
        require_can_write(case, author)
    elif Action.REVISE not in allowed_actions(message.state, case.status):
        raise Conflict("This message cannot be changed at the moment.")
    return UploadTarget(obj, version, case, author, message)


def own_pending_upload(
    db: Session, account: Account, object_id: str, version: int
) -> PendingUpload:
    """The upload, if it is still open and ``account`` started it.

    Enough to record a chunk whose PUT passed ``upload_target`` moments before: submitting,
    cancelling, expiry and deleting all remove the upload row, so a row still there means
    the version is still open for this author.
    """
    pending = db.get(PendingUpload, (object_id, version))
    if pending is None or pending.account_id != account.id:
        raise NotFound("This upload was cancelled or sent meanwhile.")
    return pending


def pending_upload(db: Session, target: UploadTarget) -> PendingUpload:
    pending = db.get(PendingUpload, (target.obj.id, target.version))
    if pending is None:
        raise NotFound("This upload was never started, or it was cancelled or has expired.")
    return pending


def _facilitates(db: Session, account: Account, case_id: str) -> bool:
    return (
        account.role is Role.FACILITATOR
        and db.get(CaseFacilitator, (case_id, account.id)) is not None
    )


def _participant_account(db: Session, participant_id: str) -> str | None:
    participant = db.get(Participant, participant_id)
    return participant.account_id if participant is not None else None


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
        if obj.author_id == account.id and account.role is Role.PARTICIPANT:
            return row
        if (
            message is not None
            and message.state is MessageState.OPENED
            and version == message.version
            and _participant_account(db, message.recipient_participant_id) == account.id
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
