"""Message rules: submit, queue, review decisions, release on opt-in, withdrawal. Never commits.

Every state change goes through ``_move``, which asks the pure state machine (``states.py``),
writes the author's timeline event and the audit row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases.models import Case, CaseFacilitator, Format, Participant
from portal.content import services as content
from portal.content.models import ContentGrant, ContentObject, GrantPurpose
from portal.db import utcnow
from portal.errors import Conflict, NotFound
from portal.messages.models import Message, MessageEvent, TranscriptLabel
from portal.messages.states import (
    RECIPIENT_GRANT_STATES,
    WAITING_FOR_REVIEW,
    Action,
    CaseNotMoving,
    MessageState,
    NotAllowedNow,
    transition,
)
from portal.settings import Settings

ACTION_TAGS = {
    Action.CLAIM: AuditTag.MESSAGE_CLAIMED,
    Action.RELEASE_CLAIM: AuditTag.MESSAGE_CLAIM_RELEASED,
    Action.APPROVE: AuditTag.MESSAGE_APPROVED,
    Action.RETURN: AuditTag.MESSAGE_RETURNED,
    Action.WITHHOLD: AuditTag.MESSAGE_WITHHELD,
    Action.REVISE: AuditTag.MESSAGE_REVISED,
    Action.OPEN: AuditTag.MESSAGE_OPENED,
    Action.HOLD: AuditTag.MESSAGE_HELD,
    Action.RESUME: AuditTag.MESSAGE_RESUMED,
    Action.DECLINE: AuditTag.MESSAGE_DECLINED,
    Action.WITHDRAW: AuditTag.MESSAGE_WITHDRAWN,
}


# Every column that names a content object: an object named here is in use, never cleaned up.
CONTENT_IN_USE = (
    Message.object_id,
    Message.feedback_object_id,
    Message.content_note_object_id,
    Message.transcript_object_id,
)


class MoveRefused(Conflict):
    """The state machine said no; the sentence says why in plain words."""


def _move(
    db: Session, settings: Settings, message: Message, action: Action, actor: Account
) -> None:
    case = db.get(Case, message.case_id)
    assert case is not None  # a message always has its case  # noqa: S101
    try:
        message.state = transition(message.state, action, case.status)
    except CaseNotMoving:
        raise MoveRefused(
            "This case is paused or closed, so nothing can move on for now."
        ) from None
    except NotAllowedNow:
        raise MoveRefused("This has changed since the page was loaded. Please reload it.") from None
    now = utcnow()
    message.state_changed_at = now
    db.add(
        MessageEvent(message_id=message.id, state=message.state, version=message.version, at=now)
    )
    record(
        db,
        settings,
        ACTION_TAGS[action],
        actor_id=actor.id,
        subject_id=message.id,
    )
    if message.state in {MessageState.WITHDRAWN, MessageState.WITHHELD, MessageState.DECLINED}:
        content.remove_recipient_grants(db, message.object_id)


# ----------------------------------------------------------------------------------- authoring


def shared_formats(author: Participant, recipient: Participant) -> frozenset[Format]:
    """The formats both consented to: the only ones the author may send this person."""
    if not (author.has_consented and recipient.has_consented):
        return frozenset()
    return author.accepted_formats & recipient.accepted_formats


def recipients_for(
    db: Session, author: Participant, format_: Format | None = None
) -> list[Participant]:
    """The people on the other side who can currently receive ``format_`` (None: anything)."""
    return [
        p
        for p in db.scalars(select(Participant).where(Participant.case_id == author.case_id))
        if p.side is author.side.other
        and p.account_id is not None
        and (shared_formats(author, p) if format_ is None else format_ in shared_formats(author, p))
    ]


def require_can_write(case: Case, author: Participant, format_: Format | None = None) -> None:
    """Whether ``author`` may send now: in ``format_``, or (None) in any format at all."""
    if author.withdrawn_at is not None:
        raise Conflict("You have withdrawn from this process, so letters cannot be sent.")
    if not author.has_consented or not author.accepted_formats:
        raise Conflict("Your facilitator has not yet set up letters for you. Please talk to them.")
    if format_ is not None and format_ not in author.accepted_formats:
        raise Conflict(
            f"You have not agreed to send a {format_.label.lower()}. Please talk to your "
            "facilitator."
        )
    if case.status.value != "open":
        raise Conflict(
            "This case is paused at the moment, so letters cannot be sent. Your draft is kept."
        )


def why_cannot_write(case: Case, author: Participant) -> str | None:
    """The sentence that says why ``author`` cannot send anything now, or None if they can."""
    try:
        require_can_write(case, author)
    except Conflict as refused:
        return refused.message
    return None


@dataclass(frozen=True)
class Declared:
    """What the author's browser declares about the content: the only facts kept in clear."""

    format: Format = Format.LETTER
    seconds: int | None = None
    pages: int | None = None

    def apply(self, message: Message) -> None:
        message.format = self.format
        message.media_seconds = self.seconds
        message.page_count = self.pages


@dataclass(frozen=True)
class AuthorGrants:
    to_case: bytes
    to_author: bytes


def _store_letter_version(
    db: Session,
    case: Case,
    author_account: Account,
    obj: ContentObject,
    version: int,
    upload: content.Upload,
    grants: AuthorGrants,
) -> None:
    """The ciphertext, granted to the case key (for review) and to the author (to re-read)."""
    content.store_version(db, obj, version, upload)
    content.add_grant(
        db,
        obj,
        version,
        GrantPurpose.CASE,
        author_account,
        grants.to_case,
        case_epoch=case.key_epoch,
    )
    content.add_grant(
        db,
        obj,
        version,
        GrantPurpose.AUTHOR,
        author_account,
        grants.to_author,
        recipient=author_account,
    )


def submit_letter(
    db: Session,
    settings: Settings,
    author_account: Account,
    author: Participant,
    recipient: Participant,
    obj: ContentObject,
    upload: content.Upload,
    grants: AuthorGrants,
    declared: Declared | None = None,
) -> Message:
    declared = declared or Declared()
    case = db.get(Case, author.case_id)
    assert case is not None  # noqa: S101
    require_can_write(case, author, declared.format)
    if recipient.id not in {p.id for p in recipients_for(db, author, declared.format)}:
        if recipient.id in {p.id for p in recipients_for(db, author)}:
            raise Conflict(
                f"That person has not agreed to receive a {declared.format.label.lower()}."
            )
        raise Conflict("That person cannot receive letters at the moment.")
    if db.scalars(select(Message.id).where(Message.object_id == obj.id)).first():
        raise Conflict("This letter has already been sent.")
    _store_letter_version(db, case, author_account, obj, 1, upload, grants)
    now = utcnow()
    message = Message(
        case_id=case.id,
        author_participant_id=author.id,
        recipient_participant_id=recipient.id,
        format=declared.format,
        media_seconds=declared.seconds,
        page_count=declared.pages,
        state=MessageState.SUBMITTED,
        object_id=obj.id,
        version=1,
        submitted_at=now,
        state_changed_at=now,
    )
    db.add(message)
    db.flush()
    db.add(MessageEvent(message_id=message.id, state=MessageState.SUBMITTED, version=1, at=now))
    record(
        db,
        settings,
        AuditTag.MESSAGE_SUBMITTED,
        actor_id=author_account.id,
        subject_id=message.id,
    )
    return message


def revise_letter(
    db: Session,
    settings: Settings,
    author_account: Account,
    message: Message,
    upload: content.Upload,
    grants: AuthorGrants,
    declared: Declared | None = None,
) -> None:
    declared = declared or Declared()
    obj = db.get(ContentObject, message.object_id)
    case = db.get(Case, message.case_id)
    author = db.get(Participant, message.author_participant_id)
    recipient = db.get(Participant, message.recipient_participant_id)
    assert obj is not None  # noqa: S101
    assert case is not None  # noqa: S101
    assert author is not None  # noqa: S101
    assert recipient is not None  # noqa: S101
    if declared.format not in shared_formats(author, recipient):
        raise Conflict(
            f"A {declared.format.label.lower()} cannot be sent to this person. Please talk to "
            "your facilitator."
        )
    declared.apply(message)
    version = message.version + 1
    _store_letter_version(db, case, author_account, obj, version, upload, grants)
    message.version = version
    message.submitted_at = utcnow()
    _move(db, settings, message, Action.REVISE, author_account)


def withdraw_letter(
    db: Session, settings: Settings, author_account: Account, message: Message
) -> None:
    _move(db, settings, message, Action.WITHDRAW, author_account)


DELETABLE = frozenset({MessageState.WITHDRAWN, MessageState.DECLINED, MessageState.WITHHELD})


def delete_content(
    db: Session, settings: Settings, author_account: Account, message: Message
) -> str:
    """Remove every version's chunks and grants; the timeline stays. Returns the object id.

    Only for a message that can no longer reach anyone. The caller deletes the blobs after
    the commit, so a rollback never leaves rows pointing at removed files.
    """
    if message.state not in DELETABLE:
        raise Conflict("Only a withdrawn, declined or withheld message can be deleted.")
    content.delete_versions(db, message.object_id)
    if message.content_deleted_at is None:
        message.content_deleted_at = utcnow()
        record(
            db,
            settings,
            AuditTag.MESSAGE_CONTENT_DELETED,
            actor_id=author_account.id,
            subject_id=message.id,
        )
    return message.object_id


# ----------------------------------------------------------------------------- what one sees


def letters_by(db: Session, author: Participant) -> list[Message]:
    """Everything ``author`` sent, newest first."""
    return list(
        db.scalars(
            select(Message)
            .where(Message.author_participant_id == author.id)
            .order_by(Message.submitted_at.desc())
        )
    )


def letters_for(db: Session, recipient: Participant) -> list[Message]:
    """What was released to ``recipient`` (only once approved), latest change first."""
    return list(
        db.scalars(
            select(Message)
            .where(
                Message.recipient_participant_id == recipient.id,
                Message.state.in_(RECIPIENT_GRANT_STATES),
            )
            .order_by(Message.state_changed_at.desc())
        )
    )


def waiting_counts(db: Session, case_ids: Sequence[str]) -> dict[str, int]:
    """How many items wait for review in each of these cases (cases with none are left out)."""
    rows = db.execute(
        select(Message.case_id, func.count())
        .where(Message.case_id.in_(case_ids), Message.state.in_(WAITING_FOR_REVIEW))
        .group_by(Message.case_id)
    ).all()
    return {case_id: int(count) for case_id, count in rows}


def message_ids_in(db: Session, case: Case) -> list[str]:
    return list(db.scalars(select(Message.id).where(Message.case_id == case.id)))


# ------------------------------------------------------------------------------------ the queue


def queue_for(
    db: Session,
    facilitator: Account,
    *,
    case_id: str | None = None,
    states: frozenset[MessageState] = WAITING_FOR_REVIEW,
    format_: Format | None = None,
) -> list[Message]:
    """Items waiting for review across the facilitator's cases, oldest first."""
    query = (
        select(Message)
        .join(CaseFacilitator, CaseFacilitator.case_id == Message.case_id)
        .where(CaseFacilitator.account_id == facilitator.id, Message.state.in_(states))
        .order_by(Message.submitted_at)
    )
    if case_id:
        query = query.where(Message.case_id == case_id)
    if format_ is not None:
        query = query.where(Message.format == format_)
    return list(db.scalars(query))


def claim(db: Session, settings: Settings, facilitator: Account, message: Message) -> None:
    if message.state is MessageState.IN_REVIEW:
        if message.claimed_by_id == facilitator.id:
            return
        raise Conflict("Another facilitator is reviewing this letter.")
    _move(db, settings, message, Action.CLAIM, facilitator)
    message.claimed_by_id = facilitator.id
    message.claimed_at = utcnow()


def release_claim(db: Session, settings: Settings, facilitator: Account, message: Message) -> None:
    _require_reviewer(message, facilitator)
    _move(db, settings, message, Action.RELEASE_CLAIM, facilitator)
    message.claimed_by_id = None
    message.claimed_at = None


def _require_reviewer(message: Message, facilitator: Account) -> None:
    if message.state is not MessageState.IN_REVIEW or message.claimed_by_id != facilitator.id:
        raise Conflict("Open this letter for review first.")


@dataclass(frozen=True)
class FacilitatorNote:
    """Feedback, a withholding reason or a content note: a content object of the facilitator."""

    obj: ContentObject
    upload: content.Upload
    to_case: bytes
    to_person: bytes


def _store_note(
    db: Session, case: Case, facilitator: Account, note: FacilitatorNote, person: Account
) -> None:
    content.store_version(db, note.obj, 1, note.upload)
    content.add_grant(
        db, note.obj, 1, GrantPurpose.CASE, facilitator, note.to_case, case_epoch=case.key_epoch
    )
    content.add_grant(
        db, note.obj, 1, GrantPurpose.RECIPIENT, facilitator, note.to_person, recipient=person
    )


def _account_of(db: Session, participant_id: str) -> tuple[Participant, Account]:
    participant = db.get(Participant, participant_id)
    if participant is None or participant.account is None:
        raise NotFound
    return participant, participant.account


def approve(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    recipient_grant: bytes,
    content_note: FacilitatorNote | None,
    transcript: FacilitatorNote | None = None,
    transcript_label: TranscriptLabel = TranscriptLabel.TRANSCRIPT,
) -> None:
    """Release to the recipient: the grant exists from now, but is handed over only on opt-in."""
    _require_reviewer(message, facilitator)
    recipient, recipient_account = _account_of(db, message.recipient_participant_id)
    if recipient.withdrawn_at is not None:
        raise Conflict("The recipient has withdrawn from the process, so this cannot be released.")
    case = db.get(Case, message.case_id)
    obj = db.get(ContentObject, message.object_id)
    assert case is not None  # noqa: S101
    assert obj is not None  # noqa: S101
    _move(db, settings, message, Action.APPROVE, facilitator)
    content.add_grant(
        db,
        obj,
        message.version,
        GrantPurpose.RECIPIENT,
        facilitator,
        recipient_grant,
        recipient=recipient_account,
    )
    if content_note is not None:
        _store_note(db, case, facilitator, content_note, recipient_account)
        message.content_note_object_id = content_note.obj.id
    if transcript is not None:
        # Granted now, handed over only with the message itself, when the recipient opens it.
        _store_note(db, case, facilitator, transcript, recipient_account)
        message.transcript_object_id = transcript.obj.id
        message.transcript_label = transcript_label
    message.decided_by_id = facilitator.id


def _decide_with_note_to_author(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    action: Action,
    note: FacilitatorNote,
) -> None:
    """Return or withhold: the move, and the facilitator's sealed words for the author."""
    _require_reviewer(message, facilitator)
    _author, author_account = _account_of(db, message.author_participant_id)
    case = db.get(Case, message.case_id)
    assert case is not None  # noqa: S101
    _move(db, settings, message, action, facilitator)
    _store_note(db, case, facilitator, note, author_account)
    message.feedback_object_id = note.obj.id
    message.decided_by_id = facilitator.id


def return_for_changes(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    feedback: FacilitatorNote,
) -> None:
    _decide_with_note_to_author(db, settings, facilitator, message, Action.RETURN, feedback)
    message.claimed_by_id = None  # a revision comes back to the queue unclaimed


def withhold(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    reason: FacilitatorNote,
) -> None:
    _decide_with_note_to_author(db, settings, facilitator, message, Action.WITHHOLD, reason)


def resume_held(db: Session, settings: Settings, facilitator: Account, message: Message) -> None:
    recipient, _ = _account_of(db, message.recipient_participant_id)
    if recipient.withdrawn_at is not None:
        raise Conflict("The recipient has withdrawn from the process.")
    _move(db, settings, message, Action.RESUME, facilitator)


# ------------------------------------------------------------------------- the recipient decides


@dataclass(frozen=True)
class Release:
    grant: ContentGrant
    message: Message


def recipient_opens(
    db: Session,
    settings: Settings,
    recipient_account: Account,
    message: Message,
    *,
    author_may_see: bool,
) -> Release:
    """The one place a recipient's grant is handed over: on their choice, after approval."""
    if message.state is not MessageState.OPENED:
        _move(db, settings, message, Action.OPEN, recipient_account)
        message.opened_at = utcnow()
        message.author_may_see_opened = author_may_see
    grant = content.grant_for(
        db, message.object_id, message.version, GrantPurpose.RECIPIENT, recipient_account
    )
    if grant is None:
        raise NotFound
    return Release(grant, message)


def recipient_not_yet(
    db: Session, settings: Settings, recipient_account: Account, message: Message
) -> None:
    if message.state is not MessageState.AWAITING_RECIPIENT:
        raise MoveRefused("This has changed since the page was loaded. Please reload it.")
    record(
        db,
        settings,
        AuditTag.MESSAGE_NOT_YET,
        actor_id=recipient_account.id,
        subject_id=message.id,
    )


def recipient_holds(
    db: Session, settings: Settings, recipient_account: Account, message: Message
) -> None:
    _move(db, settings, message, Action.HOLD, recipient_account)


def recipient_declines(
    db: Session, settings: Settings, recipient_account: Account, message: Message
) -> None:
    _move(db, settings, message, Action.DECLINE, recipient_account)


# ------------------------------------------------------------------------------------ withdrawal


def participant_withdraws(
    db: Session, settings: Settings, account: Account, participant: Participant
) -> None:
    """Stop everything at once: their letters are withdrawn, letters for them are held."""
    if participant.withdrawn_at is not None:
        return
    participant.withdrawn_at = utcnow()
    record(
        db,
        settings,
        AuditTag.PARTICIPANT_WITHDREW,
        actor_id=account.id,
        subject_id=participant.id,
    )
    for message in db.scalars(
        select(Message).where(Message.author_participant_id == participant.id)
    ):
        _stop(db, settings, message, Action.WITHDRAW, account)
    for message in db.scalars(
        select(Message).where(Message.recipient_participant_id == participant.id)
    ):
        _stop(db, settings, message, Action.HOLD, account)


def _stop(
    db: Session, settings: Settings, message: Message, action: Action, actor: Account
) -> None:
    # Already final, or not yet released (held at approval instead): nothing to stop.
    with contextlib.suppress(MoveRefused):
        _move(db, settings, message, action, actor)
