"""Message rules: submit, queue, review decisions, release on opt-in, withdrawal. Never commits.

Every state change goes through ``_move``, which asks the pure state machine (``states.py``),
writes the author's timeline event and the audit row. The blob store is touched in one place
only: ``submit`` makes the chunks a message names durable before anything is written (blobs
that are no longer needed are deleted by the caller, after the commit).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from portal import local_time, paging
from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.blobstore import BlobStore, ChunkKey
from portal.cases import policy as case_policy
from portal.cases import services as case_services
from portal.cases import supporters
from portal.cases.models import (
    Case,
    CaseCondition,
    CaseFacilitator,
    Format,
    Participant,
    Side,
    Supporter,
)
from portal.cases.services import require_participant_action
from portal.cases.states import (
    KeyStanding,
    ParticipantAction,
    key_standing,
    recipient_grant_refusal,
)
from portal.content import quota, uploads
from portal.content import services as content
from portal.content.models import (
    ContentChunk,
    ContentGrant,
    ContentKind,
    ContentObject,
    GrantPurpose,
)
from portal.db import lock_row, required, utcnow
from portal.errors import BadInput, Conflict, NotFound
from portal.messages import drafts
from portal.messages.entered import PAPER_FORMATS, ConfirmedHow, confirmation_refusal
from portal.messages.labels import NOT_SET_UP_ON_BEHALF
from portal.messages.models import WAITING_STATES, Message, MessageEvent, TranscriptLabel
from portal.messages.states import (
    RECIPIENT_GRANT_STATES,
    SINGLE,
    STOPPED_FOR_GOOD,
    WAITING_FOR_REVIEW,
    Action,
    Approvals,
    CaseNotMoving,
    ClaimHolder,
    MessageState,
    NeedsTwoApprovals,
    NotAllowedNow,
    review_actions,
    transition,
)
from portal.notifications import services as notices
from portal.notifications.models import NoticeEvent
from portal.paging import Page
from portal.settings import Settings

ACTION_TAGS = {
    Action.CLAIM: AuditTag.MESSAGE_CLAIMED,
    Action.RELEASE_CLAIM: AuditTag.MESSAGE_CLAIM_RELEASED,
    Action.APPROVE: AuditTag.MESSAGE_APPROVED,
    Action.APPROVE_ONCE: AuditTag.MESSAGE_APPROVED_ONCE,
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
    Message.approval_note_object_id,
)


class MoveRefused(Conflict):
    """The state machine said no; the sentence says why in plain words."""


def _move(
    db: Session,
    settings: Settings,
    message: Message,
    action: Action,
    actor: Account,
    approvals: Approvals = SINGLE,
    *,
    tell: bool = True,
) -> None:
    """The move, its timeline entry and audit row; ``tell``: queue its notices (a participant's
    withdrawal queues one for the whole of it instead of one per message)."""
    try:
        message.state = transition(message.state, action, message.case.status, approvals)
    except CaseNotMoving:
        raise MoveRefused(
            "This case is paused or closed, so nothing can move on for now."
        ) from None
    except NeedsTwoApprovals:
        raise MoveRefused(
            "This case is high-risk, so a second facilitator must approve it: "
            "your own approval cannot count twice."
            if approvals.first_approver
            else "This case is high-risk, so release needs two facilitators' approval. "
            "Please reload the page."
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
    if tell:
        _queue_notices(db, settings, message, action, actor)
    if message.state in STOPPED_FOR_GOOD:
        # Crypto-shredding: whatever was released with it (the facilitator's note, the
        # transcript) goes too. Feedback and a withholding reason are the author's to keep.
        for object_id in _released_with(message):
            content.remove_recipient_grants(db, object_id)


# The moves someone who asked is told of by a notice (portal/notifications), and whom: the
# case's facilitators (but the one who moved it), the recipient, or the writer.
FACILITATORS_HEAR = {
    Action.REVISE: NoticeEvent.WAITING_FOR_REVIEW,
    Action.APPROVE_ONCE: NoticeEvent.WAITING_FOR_SECOND_APPROVAL,
    Action.DECLINE: NoticeEvent.DECLINE,
    Action.WITHDRAW: NoticeEvent.WITHDRAWAL,
}


def _queue_notices(
    db: Session, settings: Settings, message: Message, action: Action, actor: Account
) -> None:
    """Queued in the move's own transaction: a move that rolls back tells nobody."""
    if action in FACILITATORS_HEAR:
        case_services.queue_notice_for_facilitators(
            db, settings, message.case_id, FACILITATORS_HEAR[action], except_id=actor.id
        )
    elif action in (Action.APPROVE, Action.RESUME):
        # Only now, once released: never while it is still being reviewed.
        receiver = receiver_of(db, message.recipient)
        if receiver is not None:
            notices.queue(db, settings, [receiver.account.id], NoticeEvent.WAITING_FOR_YOU)
    elif action is Action.RETURN:
        writer = _writer_now(message)
        if writer is not None:
            notices.queue(db, settings, [writer.id], NoticeEvent.RETURNED_WITH_SUGGESTIONS)


def _released_with(message: Message) -> list[str]:
    """The message's content and what was released to its recipient along with it."""
    return [
        object_id
        for object_id in (
            message.object_id,
            message.content_note_object_id,
            message.transcript_object_id,
        )
        if object_id is not None
    ]


def _belonging_to(message: Message) -> list[str]:
    """Every content object of the message: its content, notes, transcript and feedback."""
    feedback = [message.feedback_object_id] if message.feedback_object_id else []
    return [*_released_with(message), *feedback]


def _joined(participant: Participant) -> Account:
    """The account of a participant who must have joined (an author, a recipient)."""
    if participant.account is None:
        raise NotFound
    return participant.account


def _sealed_by(message: Message) -> Account:
    """Whose browser sealed ``message``: its author participant, or the supporter or
    representative who wrote it on their behalf (even after their access ended)."""
    place = message.written_by
    if place is None:
        return _joined(message.author)
    return required(place.account, "the account of who wrote a message on someone's behalf")


def _writer_now(message: Message) -> Account | None:
    """Who gets the facilitator's words about ``message`` now: its writer, unless they wrote it
    on someone's behalf and their access has since ended (no new grant goes to them), or a
    facilitator entered it for someone without access (the words stay with the case key)."""
    if message.entered_by_id is not None:
        return None
    place = message.written_by
    if place is not None and not place.has_access(utcnow()):
        return None
    return _sealed_by(message)


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
    people = [
        p
        for p in db.scalars(select(Participant).where(Participant.case_id == author.case_id))
        if p.side is author.side.other
    ]
    held = held_sides(db, people)
    return [
        p
        for p in people
        if (
            receivable(author, p, held=p.id in held)
            if format_ is None
            else format_ in receivable(author, p, held=p.id in held)
        )
    ]


def held_sides(db: Session, people: Sequence[Participant]) -> frozenset[str]:
    """Which of ``people`` have no account and a representative who joined holding their side
    (what is released to them goes to that representative, recordings too)."""
    return frozenset(
        p.id for p in people if p.account_id is None and receiver_of(db, p) is not None
    )


def receivable(
    author: Participant, recipient: Participant, *, held: bool = False
) -> frozenset[Format]:
    """What ``recipient`` can be sent by ``author``: what both agreed to, and for someone
    without access (on paper, printed by a facilitator: messages/entered.py) only letters,
    unless a representative holds their side (``held``: ``held_sides``)."""
    formats = shared_formats(author, recipient)
    return formats if recipient.account_id is not None or held else formats & PAPER_FORMATS


KEY_CHANGING = (
    "The facilitators working on your case have changed, so your case is getting a new key to "
    "keep what you send private. You can keep writing; sending will be possible again once a "
    "facilitator has opened your case. You do not need to do anything."
)


def require_can_write(case: Case, author: Participant, format_: Format | None = None) -> None:
    """Whether ``author`` may send now: in ``format_``, or (None) in any format at all."""
    if author.withdrawn_at is not None:
        raise Conflict("You have withdrawn from this process, so letters cannot be sent.")
    if case.key_change_since is not None:
        # A facilitator left: nothing is sealed to the key they hold (cases/team.py).
        raise Conflict(KEY_CHANGING)
    if not author.has_consented or not author.accepted_formats:
        raise Conflict("Your facilitator has not yet set up letters for you. Please talk to them.")
    if format_ is not None and format_ not in author.accepted_formats:
        raise Conflict(
            f"You have not agreed to send a {format_.label.lower()}. Please talk to your "
            "facilitator."
        )
    if case.status is not CaseCondition.OPEN:
        raise Conflict(
            "This case is paused at the moment, so letters cannot be sent. Your draft is kept."
        )


def require_may_write_for(place: Supporter) -> None:
    """A supporter or representative may write for their participant now: allowed to, access
    neither taken away nor ended (the participant's own standing is ``require_can_write``)."""
    if not place.may_write or not place.has_access(utcnow()):
        raise Conflict("You can no longer write for this person.")
    if place.case_public_grant is None:
        raise Conflict(NOT_SET_UP_ON_BEHALF)


def why_cannot_write(case: Case, author: Participant) -> str | None:
    """The sentence that says why ``author`` cannot send anything now, or None if they can."""
    try:
        require_can_write(case, author)
    except Conflict as refused:
        return refused.message
    return None


def new_letter_object(db: Session, author_account: Account, author: Participant) -> ContentObject:
    """An id for a letter about to be sealed, if ``author`` may write at all now."""
    require_can_write(author.case, author)
    return content.issue_object(db, author.case, author_account, ContentKind.LETTER)


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


@dataclass(frozen=True)
class LetterIn:
    """A letter as its author's browser sent it: a new one, or the next version of one."""

    object_id: str
    version: int
    upload: content.Upload
    grants: AuthorGrants
    declared: Declared
    recipient_id: str | None = None  # a new letter's; a revision keeps its recipient
    draft_id: str | None = None  # the autosaved draft to drop once it is sent


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
    case_services.hold_current_epoch(db, case)
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
    *,
    on_behalf: Supporter | None = None,
) -> Message:
    """A new message, waiting for review (its chunks already held or inline); ``on_behalf``:
    written by this supporter or representative for ``author``, and labelled so everywhere."""
    declared = declared or Declared()
    case = author.case
    require_can_write(case, author, declared.format)
    if recipient.id not in {p.id for p in recipients_for(db, author, declared.format)}:
        if recipient.account_id is None and declared.format in shared_formats(author, recipient):
            raise Conflict(NOT_ON_PAPER_TO_AUTHOR)
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
        written_by_supporter_id=on_behalf.id if on_behalf is not None else None,
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
    case_services.queue_notice_for_facilitators(
        db, settings, case.id, NoticeEvent.WAITING_FOR_REVIEW
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
    """The next version of a returned message, back into the queue."""
    declared = declared or Declared()
    if declared.format not in shared_formats(message.author, message.recipient):
        raise Conflict(
            f"A {declared.format.label.lower()} cannot be sent to this person. Please talk to "
            "your facilitator."
        )
    declared.apply(message)
    version = message.version + 1
    _store_letter_version(
        db, message.case, author_account, message.content_object, version, upload, grants
    )
    message.version = version
    message.submitted_at = utcnow()
    _move(db, settings, message, Action.REVISE, author_account)


@dataclass(frozen=True)
class Submitted:
    message: Message
    # Held chunks the submit did not list (a file removed before sending): the caller deletes
    # their blobs once the transaction has committed.
    leftovers: list[ChunkKey]


def submit(
    db: Session,
    settings: Settings,
    blobs: BlobStore,
    author_account: Account,
    author: Participant,
    letter: LetterIn,
    *,
    revising: Message | None = None,
    on_behalf: Supporter | None = None,
) -> Submitted:
    """Send a new letter, or (``revising``) the next version of a returned one; ``on_behalf``:
    the supporter or representative writing for ``author`` (``author_account`` is theirs).

    Before anything is written, every uploaded chunk the letter lists must be on disk, and the
    version's folders are fsynced, so what the message names survives a crash. The draft it was
    written from is dropped with it.
    """
    if on_behalf is not None:
        # Taken away at this moment? The revocation holds this row (cases/supporters.revoke).
        lock_row(db, on_behalf)
        require_may_write_for(on_behalf)
    if revising is None:
        case = author.case
        obj = content.object_for(db, letter.object_id, case, author_account, ContentKind.LETTER)
        recipient = case_policy.participant_in_case(db, case, letter.recipient_id or "")
    else:
        lock_row(db, revising)
        if letter.object_id != revising.object_id or letter.version != revising.version + 1:
            raise BadInput(
                "This letter changed since the page was loaded. Please reload it.", field="letter"
            )
        obj = revising.content_object
    uploads.make_submitted_chunks_durable(db, blobs, obj.id, letter.version, letter.upload.stored)
    leftovers = content.unlisted_held(db, obj, letter.version, letter.upload)
    if revising is None:
        message = submit_letter(
            db,
            settings,
            author_account,
            author,
            recipient,
            obj,
            letter.upload,
            letter.grants,
            letter.declared,
            on_behalf=on_behalf,
        )
    else:
        message = revising
        revise_letter(
            db, settings, author_account, message, letter.upload, letter.grants, letter.declared
        )
    drafts.drop_sent(db, author_account, letter.draft_id)
    # Everything it stores counts, the letter's own words included (content/quota.py).
    quota.require_room(db, settings, author.case_id, what="this message")
    return Submitted(message, leftovers)


@dataclass(frozen=True)
class Confirmation:
    """How and when a participant without access confirmed what was entered for them, and the
    facilitator's words about it (sealed in their browser to the case key, or None)."""

    how: ConfirmedHow
    on: date
    sealed_note: bytes | None = None


def new_entered_object(
    db: Session, facilitator: Account, case: Case, author: Participant
) -> ContentObject:
    """An id for a letter or recording a facilitator is about to seal for ``author``."""
    require_participant_action(case, author, ParticipantAction.ENTER_FOR)
    require_can_write(case, author)
    return content.issue_object(db, case, facilitator, ContentKind.LETTER, entered_for=author)


def enter(
    db: Session,
    settings: Settings,
    blobs: BlobStore,
    facilitator: Account,
    case: Case,
    author: Participant,
    letter: LetterIn,
    confirmation: Confirmation,
) -> Submitted:
    """A message a facilitator entered for ``author`` (who has no access): theirs, as if they
    had sent it (same consent, same recipients, same review), sealed in the facilitator's
    browser and labelled as entered by them (messages/entered.py)."""
    # Locked: joining (which ends entering for them) and entering cannot cross.
    lock_row(db, author)
    require_participant_action(case, author, ParticipantAction.ENTER_FOR)
    refusal = confirmation_refusal(confirmation.on, local_time.local(utcnow()).date())
    if refusal is not None:
        raise BadInput(refusal, field="confirmed_on")
    obj = content.object_for(db, letter.object_id, case, facilitator, ContentKind.LETTER)
    if obj.entered_for_id != author.id:
        raise NotFound("That item could not be found.")
    recipient = case_policy.participant_in_case(db, case, letter.recipient_id or "")
    uploads.make_submitted_chunks_durable(db, blobs, obj.id, letter.version, letter.upload.stored)
    leftovers = content.unlisted_held(db, obj, letter.version, letter.upload)
    message = submit_letter(
        db,
        settings,
        facilitator,
        author,
        recipient,
        obj,
        letter.upload,
        letter.grants,
        letter.declared,
    )
    message.entered_by_id = facilitator.id
    message.entered_how = confirmation.how
    message.entered_confirmed_on = confirmation.on
    message.entered_note = confirmation.sealed_note
    record(db, settings, AuditTag.MESSAGE_ENTERED, actor_id=facilitator.id, subject_id=message.id)
    quota.require_room(db, settings, case.id, what="this message")
    return Submitted(message, leftovers)


def withdraw_letter(
    db: Session, settings: Settings, author_account: Account, message: Message
) -> None:
    lock_row(db, message)
    _move(db, settings, message, Action.WITHDRAW, author_account)


def delete_content(
    db: Session, settings: Settings, author_account: Account, message: Message
) -> list[str]:
    """Remove every version's chunks and grants of everything that belonged to the message
    (its content, the facilitator's note, the transcript, the feedback); the timeline stays.
    Returns those content object ids.

    Only for a message that can no longer reach anyone. The caller deletes the blobs after
    the commit, so a rollback never leaves rows pointing at removed files.
    """
    lock_row(db, message)
    if message.state not in STOPPED_FOR_GOOD:
        raise Conflict("Only a withdrawn, declined or withheld message can be deleted.")
    objects = _belonging_to(message)
    for object_id in objects:
        content.delete_versions(db, object_id)
    if message.content_deleted_at is None:
        message.content_deleted_at = utcnow()
        record(
            db,
            settings,
            AuditTag.MESSAGE_CONTENT_DELETED,
            actor_id=author_account.id,
            subject_id=message.id,
        )
    return objects


# ----------------------------------------------------------------------------- what one sees


# A participant's home lists this many of their letters, and of what waits for them, a page.
HOME_PAGE = 10
# The review queue shows this many items a page.
QUEUE_PAGE = 25
# The queue's case filter offers at most this many cases (a facilitator may have hundreds):
# those where something has waited longest. Any case's items are one link away from the cases
# list and the case page (``/queue?case=...``), and that case is then offered too.
CASE_CHOICES = 30


def letters_by(db: Session, author: Participant, page: int = 1) -> Page[Message]:
    """What ``author``'s side sent (themself, or someone on their behalf), newest first, one
    page of ``HOME_PAGE``."""
    query = (
        select(Message)
        .where(Message.author_participant_id == author.id)
        .order_by(Message.submitted_at.desc(), Message.id)
    )
    return paging.scalars_page(db, query, page, HOME_PAGE)


def letters_written_by(db: Session, place: Supporter, page: int = 1) -> Page[Message]:
    """What a supporter or representative wrote on their participant's behalf, newest first."""
    query = (
        select(Message)
        .where(
            Message.author_participant_id == place.participant_id,
            Message.written_by_supporter_id == place.id,
        )
        .order_by(Message.submitted_at.desc(), Message.id)
    )
    return paging.scalars_page(db, query, page, HOME_PAGE)


def letters_for(db: Session, recipient: Participant, page: int = 1) -> Page[Message]:
    """What was released to ``recipient`` (only once approved), latest change first."""
    query = (
        select(Message)
        .where(
            Message.recipient_participant_id == recipient.id,
            Message.state.in_(RECIPIENT_GRANT_STATES),
        )
        .order_by(Message.state_changed_at.desc(), Message.id)
    )
    return paging.scalars_page(db, query, page, HOME_PAGE)


def opened_for(db: Session, recipient: Participant, page: int = 1) -> Page[Message]:
    """What the recipient chose to open, the latest first (what their supporters may read)."""
    query = (
        select(Message)
        .where(
            Message.recipient_participant_id == recipient.id,
            Message.state == MessageState.OPENED,
        )
        .order_by(Message.state_changed_at.desc(), Message.id)
    )
    return paging.scalars_page(db, query, page, HOME_PAGE)


def waiting_counts(db: Session, case_ids: Sequence[str]) -> dict[str, int]:
    """How many items wait for review in each of these cases (cases with none are left out)."""
    rows = db.execute(
        select(Message.case_id, func.count())
        .where(Message.case_id.in_(case_ids), waiting_for_review())
        .group_by(Message.case_id)
    ).all()
    return {case_id: int(count) for case_id, count in rows}


def message_ids_in(db: Session, case: Case) -> list[str]:
    return list(db.scalars(select(Message.id).where(Message.case_id == case.id)))


@dataclass(frozen=True)
class Granted:
    """A stored version, and the grant that opens it for one reader."""

    sealed: content.SealedObject
    grant: ContentGrant


def note_for(
    db: Session, object_id: str | None, reader: Account, purpose: GrantPurpose
) -> Granted | None:
    """A facilitator's note (feedback, content note, transcript) as ``reader`` may open it:
    through the case key (``CASE``) or their own grant (``RECIPIENT``); None if there is none."""
    if object_id is None:
        return None
    grant = content.grant_for(
        db, object_id, 1, purpose, reader if purpose is GrantPurpose.RECIPIENT else None
    )
    if grant is None:
        return None
    return Granted(content.sealed_object(db, object_id, 1), grant)


@dataclass(frozen=True)
class ForReview:
    """A message as its case's facilitators read it."""

    letter: Granted
    author_account: Account
    feedback: Granted | None
    approval_note: Granted | None  # the first approver's note (a high-risk case)
    actions: frozenset[Action]  # what the review page offers now (states.review_actions)


def approvals_for(message: Message, facilitator: Account) -> Approvals:
    """What release of ``message`` needs, as ``facilitator`` would move it now: the case's
    high-risk mark is read at this moment (so marking a case while an item is reviewed applies
    to it), and whether they gave its first approval."""
    return Approvals(
        high_risk=message.case.high_risk is not None,
        first_approver=message.first_approved_by_id == facilitator.id,
    )


def claim_holder(message: Message, facilitator: Account) -> ClaimHolder:
    return claim_holder_of(message.claimed_by_id, facilitator.id)


def claim_holder_of(claimed_by_id: str | None, facilitator_id: str) -> ClaimHolder:
    if claimed_by_id is None:
        return ClaimHolder.NOBODY
    return ClaimHolder.ME if claimed_by_id == facilitator_id else ClaimHolder.SOMEONE_ELSE


def for_review(db: Session, facilitator: Account, message: Message) -> ForReview:
    grant = required(
        content.grant_for(db, message.object_id, message.version, GrantPurpose.CASE),
        "the case grant of a message's current version",
    )
    # Whoever sealed it: its author, or the facilitator who entered this version for them (a
    # colleague may have revised it: messages/paper.revise_for_them).
    author_account = required(
        db.get(Account, message.entered_by_id or message.content_object.author_id),
        "the account that sealed a message",
    )
    return ForReview(
        letter=Granted(content.sealed_object(db, message.object_id, message.version), grant),
        author_account=author_account,
        feedback=note_for(db, message.feedback_object_id, facilitator, GrantPurpose.CASE),
        approval_note=note_for(db, message.approval_note_object_id, facilitator, GrantPurpose.CASE),
        actions=review_actions(
            message.state,
            message.case.status,
            claim_holder(message, facilitator),
            approvals_for(message, facilitator),
        ),
    )


class ReleaseBlocker(StrEnum):
    """Why nothing can be released to a message's recipient now (approved, or offered again)."""

    WITHDRAWN = "withdrawn"
    KEY_CHANGED = "key_changed"  # re-keyed since compared in person: compare it again first
    # A recording for someone without an account whose representative no longer holds their
    # side: it would go on paper, and a recording cannot be printed.
    NOT_ON_PAPER = "not_on_paper"


NOT_ON_PAPER_TO_AUTHOR = (
    "That person does not use the portal, so only a letter can reach them: their facilitator "
    "prints it for them."
)
NOT_ON_PAPER = (
    "The recipient does not use the portal and nobody holds their side now, so it would go on "
    "paper, and a recording cannot be printed. Withhold it, or talk to the author."
)


@dataclass(frozen=True)
class Receiver:
    """Whose key a release to a participant goes to: their own account, or the account of the
    representative who holds the side of a participant without one (``holder``), with the key
    a facilitator compared in person. None of either: it is released on paper."""

    account: Account
    verified_public_key: bytes | None
    holder: Supporter | None = None


def receiver_of(db: Session, participant: Participant) -> Receiver | None:
    if participant.account is not None:
        return Receiver(participant.account, participant.verified_public_key)
    holder = supporters.holder_of(db, participant)
    if holder is None or holder.account is None:
        return None
    return Receiver(holder.account, holder.verified_public_key, holder)


def release_blocker(db: Session, message: Message) -> ReleaseBlocker | None:
    """A recipient who has not joined is no blocker: it is released to them on paper, or to
    the representative who holds their side."""
    recipient = message.recipient
    if recipient.withdrawn_at is not None:
        return ReleaseBlocker.WITHDRAWN
    receiver = receiver_of(db, recipient)
    if receiver is None:
        return ReleaseBlocker.NOT_ON_PAPER if message.format not in PAPER_FORMATS else None
    standing = key_standing(receiver.account.public_key, receiver.verified_public_key)
    if standing is KeyStanding.CHANGED:
        return ReleaseBlocker.KEY_CHANGED
    return None


@dataclass(frozen=True)
class ReviewSummary:
    """The review page before anything is opened: what this facilitator can do now, and which
    sealed pieces there are for the browser to open."""

    actions: frozenset[Action]  # states.review_actions: the forms the page renders
    claim: ClaimHolder
    release_blocker: ReleaseBlocker | None  # approving is offered, but cannot succeed
    has_feedback: bool  # feedback on the previous version
    has_parts: bool  # recordings, scanned pages or files beside the written letter
    approvals: Approvals  # high-risk now; whether this facilitator gave the first approval
    first_approver_name: str | None  # while it waits for a second approval
    on_paper: bool  # the recipient has no access: released on paper (messages/entered.py)


def review_summary(db: Session, facilitator: Account, message: Message) -> ReviewSummary:
    claim = claim_holder(message, facilitator)
    approvals = approvals_for(message, facilitator)
    first = (
        db.get(Account, message.first_approved_by_id)
        if message.state is MessageState.APPROVED_ONCE and message.first_approved_by_id
        else None
    )
    return ReviewSummary(
        actions=review_actions(message.state, message.case.status, claim, approvals),
        approvals=approvals,
        first_approver_name=first.sign_in_name if first else None,
        claim=claim,
        release_blocker=release_blocker(db, message),
        has_feedback=message.feedback_object_id is not None,
        has_parts=message.content_deleted_at is None and _has_parts(db, message),
        on_paper=receiver_of(db, message.recipient) is None,
    )


def _has_parts(db: Session, message: Message) -> bool:
    """Whether the current version holds more than its written letter (inline part 0)."""
    found = db.scalars(
        select(ContentChunk.part)
        .where(
            ContentChunk.object_id == message.object_id,
            ContentChunk.version == message.version,
            or_(ContentChunk.part != 0, ContentChunk.data.is_(None)),
        )
        .limit(1)
    ).first()
    return found is not None


@dataclass(frozen=True)
class ForAuthor:
    """A message as its author reads it again: their own words and any feedback on them."""

    letter: Granted
    feedback: Granted | None


AUTHOR_GRANT_WAITING = (
    "You cannot read this message again yet: your account has a new key, and your facilitator "
    "gives you access again after checking it with you. You do not need to do anything else."
)


def for_author(db: Session, author_account: Account, message: Message) -> ForAuthor:
    """Their grant as its author: their own (made when they sent it), or one a facilitator's
    browser made again after their key changed (``regrants.py``); none in between (409)."""
    readable = readable_by(db, author_account, message)
    if readable is None:
        raise Conflict(AUTHOR_GRANT_WAITING)
    return readable


def readable_by(db: Session, account: Account, message: Message) -> ForAuthor | None:
    """The message's current version and feedback as ``account`` opens them on the author's
    side: its writer (their own grant, or one given again after their key changed), or the
    participant it was written for once a facilitator's browser granted it to them
    (messages/regrants.py); None before that."""
    grant = content.grant_for(db, message.object_id, message.version, GrantPurpose.AUTHOR, account)
    if grant is None:
        return None
    return ForAuthor(
        letter=Granted(content.sealed_object(db, message.object_id, message.version), grant),
        feedback=note_for(db, message.feedback_object_id, account, GrantPurpose.RECIPIENT),
    )


@dataclass(frozen=True)
class Notice:
    """What a recipient sees before choosing: the size of the message and the facilitator's
    note (granted to them at approval)."""

    ciphertext_size: int
    note: Granted | None


def notice_for(db: Session, recipient_account: Account, message: Message) -> Notice:
    version = content.version_of(db, message.object_id, message.version)
    return Notice(
        ciphertext_size=version.ciphertext_size,
        note=note_for(
            db, message.content_note_object_id, recipient_account, GrantPurpose.RECIPIENT
        ),
    )


# ------------------------------------------------------------------------------------ the queue

ALL_STATES = frozenset(MessageState)


def waiting_for_review() -> ColumnElement[bool]:
    """Items waiting for review, as ix_messages_waiting's own condition: the states written
    into the SQL as literals (not bound values), so that the database can prove the index
    covers the query in any plan, PostgreSQL's generic plans of prepared statements included."""
    return Message.state.in_(
        bindparam("waiting_states", WAITING_STATES, expanding=True, literal_execute=True)
    )


# The queue page's statements are built once per shape (which filters it has), with the
# facilitator, the case and the format bound at execution: a request no longer rebuilds them
# clause by clause, which cost more Python than running them through SQLAlchemy's compiled
# cache (bench/README.md, "The review queue's Python"). They run on the session's connection
# as Core statements: plain rows, no ORM objects for a page that only shows a few columns.


@cache
def _queue_ids(states: frozenset[MessageState], by_case: bool, by_format: bool) -> Select[Any]:
    """The ids of items in these states across a facilitator's cases, oldest first (bound:
    ``facilitator_id``, and ``case_id`` and ``format`` when filtered)."""
    query = (
        select(Message.id)
        .join(CaseFacilitator, CaseFacilitator.case_id == Message.case_id)
        .where(CaseFacilitator.account_id == bindparam("facilitator_id"))
        .order_by(Message.submitted_at, Message.id)
    )
    if states == WAITING_FOR_REVIEW:
        query = query.where(waiting_for_review())
    elif states != ALL_STATES:
        # Every state is no condition: "All" walks the index without testing each entry.
        query = query.where(Message.state.in_(sorted(states)))
    if by_case:
        query = query.where(Message.case_id == bindparam("case_id"))
    if by_format:
        query = query.where(Message.format == bindparam("format"))
    return query


# Each item's case reference and status, and who reviews it, come with it in the same
# statement (the case filter lists only a few cases, not every case an item may be in).
_ENTERED_BY = aliased(Account)
_AUTHOR = aliased(Participant)
_QUEUE_ROWS = (
    select(
        Message.id,
        Message.state,
        Message.format,
        Message.submitted_at,
        Message.claimed_by_id,
        Account.sign_in_name,
        Case.reference,
        Case.status,
        Message.first_approved_by_id,
        # Entered by a facilitator for a participant without access: the row says so.
        Message.entered_by_id,
        _ENTERED_BY.sign_in_name,
        _AUTHOR.side,
    )
    .join(Case, Case.id == Message.case_id)
    .join(_AUTHOR, _AUTHOR.id == Message.author_participant_id)
    .outerjoin(Account, Account.id == Message.claimed_by_id)
    .outerjoin(_ENTERED_BY, _ENTERED_BY.id == Message.entered_by_id)
    .where(Message.id.in_(bindparam("ids", expanding=True)))
)


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One row of the queue: the few facts it shows, not the message's ORM object."""

    id: str
    state: MessageState
    format: Format
    submitted_at: datetime
    claimed_by_id: str | None
    claimed_by_name: str | None  # while someone reviews it
    case_reference: str
    case_status: CaseCondition
    first_approved_by_id: str | None  # waiting for a second approval: who gave the first
    entered_by_id: str | None = None  # a facilitator entered it for its author (no access)
    entered_by_name: str | None = None
    author_side: Side | None = None


@dataclass(frozen=True)
class CaseChoices:
    """The cases the queue's filter offers, and whether more have something waiting."""

    cases: list[case_policy.CaseChoice]
    more: bool


@cache
def _case_choices(chosen: bool) -> Select[str, str, str, CaseCondition]:
    """queue_case_choices' statement (bound: ``facilitator_id``, ``shown``, and ``chosen``)."""
    oldest = func.min(Message.submitted_at)
    case_id = CaseFacilitator.case_id
    is_chosen = case_id == bindparam("chosen")
    # The chosen case (if any) comes first, then the one waiting longest.
    picked = (
        select(case_id, oldest.label("oldest"))
        .outerjoin(Message, (Message.case_id == case_id) & waiting_for_review())
        .where(CaseFacilitator.account_id == bindparam("facilitator_id"))
        .group_by(case_id)
        .having(or_(oldest.is_not(None), is_chosen) if chosen else oldest.is_not(None))
        .order_by(*([is_chosen.desc()] if chosen else []), oldest.asc().nulls_last(), case_id)
        .limit(bindparam("shown"))
        .subquery()
    )
    return (
        select(Case.id, Case.reference, Case.label, Case.status)
        .join(picked, picked.c.case_id == Case.id)
        .order_by(
            *([(Case.id == bindparam("chosen")).desc()] if chosen else []),
            picked.c.oldest.asc().nulls_last(),
            Case.id,
        )
    )


def queue_case_choices(db: Session, facilitator: Account, chosen: str | None) -> CaseChoices:
    """The facilitator's cases with something waiting for review, the one waiting longest
    first, at most ``CASE_CHOICES``; and the ``chosen`` case first, whatever waits in it, if
    the facilitator facilitates it (so a filter can only name one of their cases).

    One statement, in two steps: the few cases are chosen from indexes alone (the
    facilitator's case ids from ix_case_facilitators_account, the oldest waiting item of each
    from ix_messages_queue), and only those cases' rows are read. Joining every case row first
    let PostgreSQL scan the whole cases table to hash it."""
    params: dict[str, Any] = {"facilitator_id": facilitator.id, "shown": CASE_CHOICES + 1}
    if chosen:
        params["chosen"] = chosen
    rows = db.connection().execute(_case_choices(bool(chosen)), params).all()
    return CaseChoices(
        [case_policy.CaseChoice(*row) for row in rows[:CASE_CHOICES]], len(rows) > CASE_CHOICES
    )


def review_queue(
    db: Session,
    facilitator: Account,
    *,
    case_id: str | None,
    states: frozenset[MessageState],
    format_: Format | None,
    page: int = 1,
) -> Page[QueueItem]:
    """One page of the queue, with the name of whoever reviews each item (two statements).

    The page's ids are chosen first, from the index alone (ix_messages_queue holds case, state,
    time and id: a facilitator's thousands of items are sorted without reading one row), then
    only those rows are read."""
    params: dict[str, Any] = {"facilitator_id": facilitator.id}
    if case_id:
        params["case_id"] = case_id
    if format_ is not None:
        params["format"] = format_
    query = _queue_ids(states, bool(case_id), format_ is not None)
    ids = paging.scalars_page(db, query, page, QUEUE_PAGE, params)
    if not ids.items:
        return ids.with_items([])
    rows = db.connection().execute(_QUEUE_ROWS, {"ids": list(ids.items)}).all()
    by_id = {row[0]: row for row in rows}
    return ids.with_items(
        [
            QueueItem(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5] if row[1] is MessageState.IN_REVIEW else None,
                row[6],
                row[7],
                row[8],
                row[9],
                row[10],
                row[11],
            )
            for row in (by_id.get(i) for i in ids.items)
            if row is not None
        ]
    )


def claim(db: Session, settings: Settings, facilitator: Account, message: Message) -> None:
    lock_row(db, message)
    if message.state is MessageState.IN_REVIEW:
        if message.claimed_by_id == facilitator.id:
            return
        raise Conflict("Another facilitator is reviewing this letter.")
    _move(db, settings, message, Action.CLAIM, facilitator)
    message.claimed_by_id = facilitator.id
    message.claimed_at = utcnow()


def release_claim(db: Session, settings: Settings, facilitator: Account, message: Message) -> None:
    lock_row(db, message)
    _require_reviewer(message, facilitator)
    _move(db, settings, message, Action.RELEASE_CLAIM, facilitator)
    message.claimed_by_id = None
    message.claimed_at = None


def _require_reviewer(message: Message, facilitator: Account) -> None:
    if message.state is not MessageState.IN_REVIEW or message.claimed_by_id != facilitator.id:
        raise Conflict("Open this letter for review first.")


def _require_decider(message: Message, facilitator: Account) -> None:
    """Whoever holds the review claim decides; an item waiting for a second approval is
    decided by any facilitator of its case but the first approver (states.transition refuses
    them), without a claim: the second decision is one move under the message's row lock."""
    if message.state is not MessageState.APPROVED_ONCE:
        _require_reviewer(message, facilitator)


@dataclass(frozen=True)
class NoteIn:
    """Feedback, a withholding reason, a content note or a transcript: a content object of the
    facilitator's (issued before sealing), its one version, and its two grants."""

    object_id: str
    kind: ContentKind
    upload: content.Upload
    to_case: bytes
    to_person: bytes | None  # None: for the case's facilitators only (a first approval's note)


@dataclass(frozen=True)
class _Note:
    obj: ContentObject
    note: NoteIn


def _note_object(db: Session, case: Case, facilitator: Account, note: NoteIn) -> _Note:
    return _Note(content.object_for(db, note.object_id, case, facilitator, note.kind), note)


def _store_note(
    db: Session, case: Case, facilitator: Account, found: _Note, person: Account | None
) -> None:
    """The note's version and its grants: to the case key, and to ``person`` (None for a note
    among the case's facilitators only, such as a first approval's)."""
    obj, note = found.obj, found.note
    case_services.hold_current_epoch(db, case)
    content.store_version(db, obj, 1, note.upload)
    content.add_grant(
        db, obj, 1, GrantPurpose.CASE, facilitator, note.to_case, case_epoch=case.key_epoch
    )
    if person is not None and note.to_person is not None:
        content.add_grant(
            db, obj, 1, GrantPurpose.RECIPIENT, facilitator, note.to_person, recipient=person
        )


def new_note_object(
    db: Session, facilitator: Account, case: Case, kind: ContentKind
) -> ContentObject:
    """An id for a note about to be sealed in the facilitator's browser."""
    return content.issue_object(db, case, facilitator, kind)


def approve(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    recipient_grant: bytes | None,
    content_note: NoteIn | None,
    transcript: NoteIn | None = None,
    transcript_label: TranscriptLabel = TranscriptLabel.TRANSCRIPT,
    supporter_grants: dict[str, bytes] | None = None,
) -> None:
    """Release to the recipient: the grant exists from now, but is handed over only on opt-in.

    ``supporter_grants`` (supporter id -> grant), from the approving facilitator's browser, for
    supporters who may read for the recipient: each must be one of them now, or nothing is
    stored. A supporter reads only once the recipient has chosen to open it
    (``supporter_reads``).

    In a high-risk case this is the second approval, by a facilitator other than the first."""
    # The recipient first, then the message: the order participant_withdraws takes them in.
    lock_row(db, message.recipient)
    lock_row(db, message)
    case = message.case
    note = _note_object(db, case, facilitator, content_note) if content_note else None
    words = _note_object(db, case, facilitator, transcript) if transcript else None
    _require_decider(message, facilitator)
    recipient = message.recipient
    if recipient.withdrawn_at is not None:
        raise Conflict("The recipient has withdrawn from the process, so this cannot be released.")
    receiver = receiver_of(db, recipient)
    if receiver is not None and receiver.holder is not None:
        # Their access taken away at this moment? The revocation holds this row.
        lock_row(db, receiver.holder)
        if supporters.key_standing_of(receiver.holder) is not KeyStanding.VERIFIED:
            raise Conflict(
                "The representative who holds the recipient's side has a key that was not "
                "compared in person, or that changed since. Compare it with them first."
            )
    if receiver is None:
        # On paper (messages/entered.py): the case's facilitators print it; nobody else gets a
        # key, so nothing may come with it that would need one.
        if message.format not in PAPER_FORMATS:
            raise Conflict(NOT_ON_PAPER)
        if recipient_grant or content_note or transcript or supporter_grants:
            raise Conflict(
                "The recipient does not use the portal, so it is released on paper: send no "
                "grant or note with it. Please reload the page."
            )
        _move(
            db, settings, message, Action.APPROVE, facilitator, approvals_for(message, facilitator)
        )
        message.claimed_by_id = None
        message.decided_by_id = facilitator.id
        return
    # The recipient's own account, or the representative's who holds their side.
    recipient_account = receiver.account
    if recipient_grant is None:
        raise BadInput(field="recipient_grant")
    # A key that changed since it was compared in person is refused here too, not only in the
    # facilitator's browser (which refuses it against its own pin first).
    refusal = recipient_grant_refusal(
        key_standing(recipient_account.public_key, receiver.verified_public_key)
    )
    if refusal is not None:
        raise Conflict(refusal)
    readers = {s.id: s for s in supporters.readers_for(db, recipient)}
    if any(supporter_id not in readers for supporter_id in supporter_grants or {}):
        raise Conflict(
            "Who may read for the recipient changed since the page was loaded. Please reload it."
        )
    for supporter_id in supporter_grants or {}:
        if supporters.key_standing_of(readers[supporter_id]) is not KeyStanding.VERIFIED:
            raise Conflict(
                "A supporter's key has not been compared in person since it last changed. "
                "Please reload the page."
            )
    _move(db, settings, message, Action.APPROVE, facilitator, approvals_for(message, facilitator))
    message.claimed_by_id = None
    content.add_grant(
        db,
        message.content_object,
        message.version,
        GrantPurpose.RECIPIENT,
        facilitator,
        recipient_grant,
        recipient=recipient_account,
    )
    for supporter_id, grant in (supporter_grants or {}).items():
        content.add_grant(
            db,
            message.content_object,
            message.version,
            GrantPurpose.RECIPIENT,
            facilitator,
            grant,
            recipient=required(readers[supporter_id].account, "a reader's account"),
        )
    if note is not None:
        _store_note(db, case, facilitator, note, recipient_account)
        message.content_note_object_id = note.obj.id
    if words is not None:
        # Granted now, handed over only with the message itself, when the recipient opens it.
        _store_note(db, case, facilitator, words, recipient_account)
        message.transcript_object_id = words.obj.id
        message.transcript_label = transcript_label
    message.decided_by_id = facilitator.id


def approve_once(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    note: NoteIn | None,
) -> None:
    """The first of two approvals in a high-risk case: the item waits for a second facilitator.

    No grant for the recipient is made or accepted here: before the second approval no key
    for them exists anywhere. The note is for the second facilitator, sealed to the case key."""
    lock_row(db, message)
    case = message.case
    found = _note_object(db, case, facilitator, note) if note else None
    _require_reviewer(message, facilitator)
    _move(
        db, settings, message, Action.APPROVE_ONCE, facilitator, approvals_for(message, facilitator)
    )
    if found is not None:
        _store_note(db, case, facilitator, found, None)
    message.approval_note_object_id = found.obj.id if found else None
    message.first_approved_by_id = facilitator.id
    message.first_approved_at = utcnow()
    message.claimed_by_id = None  # a second facilitator decides without a claim


def _decide_with_note_to_author(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    action: Action,
    note: NoteIn,
) -> None:
    """Return or withhold: the move, and the facilitator's sealed words for the author."""
    lock_row(db, message)
    found = _note_object(db, message.case, facilitator, note)
    _require_decider(message, facilitator)
    author_account = _writer_now(message)
    if (
        note.to_person is None
        and author_account is not None
        and not _sealed_before_key_change(db, message, author_account)
    ):
        raise BadInput(field="feedback" if action is Action.RETURN else "reason")
    _move(db, settings, message, action, facilitator, approvals_for(message, facilitator))
    _store_note(db, message.case, facilitator, found, author_account)
    message.feedback_object_id = found.obj.id
    message.decided_by_id = facilitator.id


def _sealed_before_key_change(db: Session, message: Message, writer: Account) -> bool:
    """Whether the writer was given a new key pair since they sealed this version: words to
    them then wait for a browser that compared their new key in person, which gives them again
    from the case key (regrants.py, "feedback"), since the reviewer's browser may not have."""
    case_grant = content.grant_for(db, message.object_id, message.version, GrantPurpose.CASE)
    return (
        case_grant is not None
        and case_grant.sender_id == writer.id
        and case_grant.sender_box_key != writer.public_key
    )


def return_for_changes(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    feedback: NoteIn,
) -> None:
    _decide_with_note_to_author(db, settings, facilitator, message, Action.RETURN, feedback)
    message.claimed_by_id = None  # a revision comes back to the queue unclaimed
    # A revision is a new version: a first approval of the old one never counts for it.
    message.first_approved_by_id = None
    message.first_approved_at = None
    message.approval_note_object_id = None


def withhold(
    db: Session,
    settings: Settings,
    facilitator: Account,
    message: Message,
    reason: NoteIn,
) -> None:
    _decide_with_note_to_author(db, settings, facilitator, message, Action.WITHHOLD, reason)


DECLINE_ALREADY_TOLD = "Its writer was already told. Please reload the page."


def record_decline_told(
    db: Session, settings: Settings, facilitator: Account, message: Message
) -> None:
    """A facilitator of the case has told the writer that the recipient declined it (their
    pages say it waits until then: labels.author_state). Once; the message's row is locked, so
    two facilitators recording it at once record it once."""
    lock_row(db, message)
    if message.state is not MessageState.DECLINED:
        raise Conflict("Only a declined message is told about. Please reload the page.")
    if message.decline_told_at is not None:
        raise Conflict(DECLINE_ALREADY_TOLD)
    message.decline_told_at = utcnow()
    record(
        db, settings, AuditTag.MESSAGE_DECLINE_TOLD, actor_id=facilitator.id, subject_id=message.id
    )


@dataclass(frozen=True)
class DeclineToTell:
    case_id: str
    reference: str
    message_id: str
    at: datetime  # when it was declined


# Listed at most this many at once (the oldest first): each is a conversation to have.
DECLINES_SHOWN = 20


def declines_to_tell(
    db: Session, *, facilitator_id: str | None = None, case_id: str | None = None
) -> list[DeclineToTell]:
    """The declines waiting for a facilitator to tell their writer, in the facilitator's cases
    or in one case (declines_to_tell_query)."""
    query = declines_to_tell_query(facilitator_id=facilitator_id, case_id=case_id)
    rows = db.execute(query.limit(DECLINES_SHOWN)).all()
    return [DeclineToTell(case_id, ref, message_id, at) for at, case_id, ref, message_id in rows]


def declines_to_tell_query(
    *, facilitator_id: Any = None, case_id: Any = None
) -> Select[datetime, str, str, str]:
    """Declined messages whose writer nobody has told yet, in ``facilitator_id``'s cases (a
    join, case_policy.facilitated_by) and/or in ``case_id`` (values or bound parameters): when
    it was declined, its case, the case's reference and the message's id, oldest first."""
    query = (
        select(Message.state_changed_at, Message.case_id, Case.reference, Message.id)
        .join(Case, Case.id == Message.case_id)
        .where(Message.state == MessageState.DECLINED, Message.decline_told_at.is_(None))
        .order_by(Message.state_changed_at, Message.id)
    )
    if facilitator_id is not None:
        query = query.join(
            CaseFacilitator, case_policy.facilitated_by(Message.case_id, facilitator_id)
        )
    if case_id is not None:
        query = query.where(Message.case_id == case_id)
    return query


def resume_held(db: Session, settings: Settings, facilitator: Account, message: Message) -> None:
    recipient = message.recipient
    lock_row(db, recipient)
    lock_row(db, message)
    _joined(recipient)
    if recipient.withdrawn_at is not None:
        raise Conflict("The recipient has withdrawn from the process.")
    if release_blocker(db, message) is ReleaseBlocker.KEY_CHANGED:
        raise Conflict(
            "The recipient's key changed since it was compared in person. Compare it with them "
            "before offering anything to them again."
        )
    _move(db, settings, message, Action.RESUME, facilitator)


# ------------------------------------------------------------------------- the recipient decides


@dataclass(frozen=True)
class Release:
    grant: ContentGrant
    message: Message
    sealed: content.SealedObject
    transcript: Granted | None  # handed over with the message, never before


def recipient_opens(
    db: Session,
    settings: Settings,
    recipient_account: Account,
    message: Message,
    *,
    author_may_see: bool,
) -> Release:
    """The one place a recipient's grant is handed over: on their choice, after approval."""
    lock_row(db, message)
    if message.state is not MessageState.OPENED:
        _move(db, settings, message, Action.OPEN, recipient_account)
        message.opened_at = utcnow()
        message.author_may_see_opened = author_may_see
    grant = content.grant_for(
        db, message.object_id, message.version, GrantPurpose.RECIPIENT, recipient_account
    )
    if grant is None:
        raise NotFound
    return Release(
        grant,
        message,
        content.sealed_object(db, message.object_id, message.version),
        note_for(db, message.transcript_object_id, recipient_account, GrantPurpose.RECIPIENT),
    )


def supporter_reads(
    db: Session, settings: Settings, supporter_account: Account, message: Message
) -> Release:
    """A supporter reads what the participant they support chose to open, with the grant the
    approving facilitator's browser made to them (none: NotFound). Recorded in the audit trail,
    so the participant's facilitator can see who read for them."""
    grant = content.grant_for(
        db, message.object_id, message.version, GrantPurpose.RECIPIENT, supporter_account
    )
    if grant is None:
        raise NotFound
    record(
        db,
        settings,
        AuditTag.MESSAGE_READ_BY_SUPPORTER,
        actor_id=supporter_account.id,
        subject_id=message.id,
    )
    return Release(
        grant, message, content.sealed_object(db, message.object_id, message.version), None
    )


def recipient_not_yet(
    db: Session, settings: Settings, recipient_account: Account, message: Message
) -> None:
    lock_row(db, message)
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
    lock_row(db, message)
    _move(db, settings, message, Action.HOLD, recipient_account)


def recipient_declines(
    db: Session, settings: Settings, recipient_account: Account, message: Message
) -> None:
    lock_row(db, message)
    _move(db, settings, message, Action.DECLINE, recipient_account)


# ------------------------------------------------------------------------------------ withdrawal


def participant_withdraws(
    db: Session, settings: Settings, account: Account, participant: Participant
) -> None:
    """Stop everything at once: their letters are withdrawn, letters for them are held."""
    lock_row(db, participant)
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
    case_services.queue_notice_for_facilitators(
        db, settings, participant.case_id, NoticeEvent.WITHDRAWAL, except_id=account.id
    )
    # Every message of theirs held at once, in one order (by id), so that two people withdrawing
    # together cannot each hold one the other waits for.
    mine_or_for_me = db.scalars(
        select(Message)
        .where(
            or_(
                Message.author_participant_id == participant.id,
                Message.recipient_participant_id == participant.id,
            )
        )
        .order_by(Message.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for message in mine_or_for_me:
        if message.author_participant_id == participant.id:
            _stop(db, settings, message, Action.WITHDRAW, account)
        else:
            _stop(db, settings, message, Action.HOLD, account)


def _stop(
    db: Session, settings: Settings, message: Message, action: Action, actor: Account
) -> None:
    # Already final, or not yet released (held at approval instead): nothing to stop.
    with contextlib.suppress(MoveRefused):
        _move(db, settings, message, action, actor, tell=False)
