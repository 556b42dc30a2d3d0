"""Giving access again: what was released to someone whose key changed, what they wrote
themselves, or what was released before a supporter's key was compared (issue 11, "Keys that
change").

A grant is a content key boxed to one public key, so it opens only with that key's secret. When
a participant or supporter is re-keyed (``invitations.services._rekey``) every grant to their
account goes; a supporter compared in person late never had one for what was released before.
Only a facilitator's browser can make a grant (it holds the case key, which opens the content's
grant to the case): this module says what is owed, to whom, and stores what the browser made.

What is owed, worked out from the database at the moment it is asked (never kept):
- to a **participant** who has not withdrawn, whose current key is the one compared in person:
  every message released to them and still releasable to them (offered, held or opened), with
  the facilitator's note and the transcript released with it, that has no grant to them;
- to a **participant** (the same conditions), also what a supporter or representative wrote on
  their behalf, so they can read it before it goes out and stop it if it is not what they want:
  the current version of each such letter not stopped for good (withdrawn, withheld, declined),
  and the facilitator's latest note to its writer (feedback), each without a grant to them.
  The letter is granted for the ``AUTHOR`` purpose (it goes out in their name: they read it as
  its author does), the note for ``RECIPIENT`` (as the writer gets it);
- to a **supporter or representative** who may read now (joined, allowed to read, access not
  taken away or ended, the participant not withdrawn) and whose current key is the one compared
  in person: every message the participant chose to open, without the note and transcript (as
  at approval), that has no grant to them;
- to either, also **what they wrote themselves** (the participant's own messages, a supporter's
  written on the participant's behalf; not what a facilitator entered, whose grant is the
  facilitator's), in whatever state, unless its content was deleted: its current version (their
  grant as its author) and the feedback returned on it. Both are sealed to the case key too, so
  a facilitator's browser reaches their content keys. Drafts are sealed to the author's own key
  only: nobody else can open them, so a re-key drops them (``invitations.services._rekey``).

Nothing is owed to a key that changed and was not compared again (``cases/states.py``
``reader_grant_refusal``), and storing re-checks everything with the person's row locked, so a
revocation, a withdrawal or another re-key that commits first wins. Never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, exists, func, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from portal.accounts.models import Account
from portal.audit.services import record
from portal.audit.tags import AuditTag
from portal.cases import policy as case_policy
from portal.cases import supporters
from portal.cases.models import (
    Case,
    CaseCondition,
    CaseFacilitator,
    Participant,
    Side,
    Supporter,
)
from portal.cases.states import KeyStanding, key_standing, reader_grant_refusal
from portal.content import services as content
from portal.content.models import ContentGrant, ContentObject, GrantPurpose
from portal.db import DriverQuery, ReadTransaction, lock_row, utcnow
from portal.errors import BadInput, Conflict, NotFound
from portal.messages.models import Message
from portal.messages.states import RECIPIENT_GRANT_STATES, SIDE_GRANT_STATES, MessageState
from portal.settings import Settings

# The facilitator's home and queue list at most this many cases with people waiting.
REGRANT_CASES_SHOWN = 10


@dataclass(frozen=True)
class OwedItem:
    """One grant owed: this version of this object, opened from its grant to the case key."""

    message_id: str
    # Released to them: "letter" (the message itself), "content_note" or "transcript";
    # written by them: "own_letter" (granted as its author) or "feedback"; written on a
    # participant's behalf, for them to read before it goes out: "written_for" (granted as its
    # author) or "written_for_feedback" (the facilitator's note on it).
    what: str
    object_id: str
    version: int
    case_grant: ContentGrant
    purpose: GrantPurpose = GrantPurpose.RECIPIENT

    @property
    def for_side(self) -> bool:
        """Written on the participant's behalf (or the note on it), not released to them."""
        return self.what in {"written_for", "written_for_feedback"}


@dataclass(frozen=True)
class OwedPerson:
    """Someone owed grants: a participant, or a supporter on ``participant_id``'s side."""

    participant_id: str
    supporter_id: str | None
    account: Account
    verified_public_key: bytes
    items: list[OwedItem]


def _missing_grant(
    object_id: Any, version: Any, account_id: Any, purpose: GrantPurpose = GrantPurpose.RECIPIENT
) -> Any:
    # Correlated to every enclosing query, not only the nearest: nested in an EXISTS over
    # messages, SQLAlchemy's automatic correlation looks one level up only, so the person's
    # table (``account_id``'s) came into this subquery's own FROM, uncorrelated: "no grant to
    # anyone in that table", and a look-up of every grant's account in it, at each of the
    # facilitator's letters (bench/README.md, "The facilitator's home, seventh round").
    return ~exists().where(
        ContentGrant.object_id == object_id,
        ContentGrant.version == version,
        ContentGrant.purpose == purpose,
        ContentGrant.recipient_account_id == account_id,
    ).correlate_except(ContentGrant)


def _own_condition(*, participant_id: Any = None, supporter_id: Any = None) -> Any:
    """The messages written by this participant themselves, or by this supporter for them."""
    if supporter_id is not None:
        return Message.written_by_supporter_id == supporter_id
    return and_(
        Message.author_participant_id == participant_id,
        Message.written_by_supporter_id.is_(None),
        Message.entered_by_id.is_(None),
    )


def _own_owed(account_id: Any, **whose: Any) -> Any:
    """Whether something they wrote has no grant to them as its author (one EXISTS)."""
    return exists().where(
        _own_condition(**whose),
        Message.content_deleted_at.is_(None),
        _missing_grant(Message.object_id, Message.version, account_id, GrantPurpose.AUTHOR),
    )


def _released_to(participant_id: str, states: frozenset[MessageState]) -> Select[Message]:
    return (
        select(Message)
        .where(
            Message.recipient_participant_id == participant_id,
            Message.state.in_(states),
            Message.content_deleted_at.is_(None),
        )
        .order_by(Message.submitted_at, Message.id)
    )


def _written(db: Session, **whose: Any) -> Sequence[Message]:
    return db.scalars(
        select(Message)
        .where(_own_condition(**whose), Message.content_deleted_at.is_(None))
        .order_by(Message.submitted_at, Message.id)
    ).all()


Piece = tuple[str, str | None, int, GrantPurpose]


def _released_pieces(message: Message, *, with_notes: bool) -> list[Piece]:
    pieces: list[Piece] = [("letter", message.object_id, message.version, GrantPurpose.RECIPIENT)]
    if with_notes:
        pieces += [
            ("content_note", message.content_note_object_id, 1, GrantPurpose.RECIPIENT),
            ("transcript", message.transcript_object_id, 1, GrantPurpose.RECIPIENT),
        ]
    return pieces


def _own_pieces(message: Message) -> list[Piece]:
    return [
        ("own_letter", message.object_id, message.version, GrantPurpose.AUTHOR),
        ("feedback", message.feedback_object_id, 1, GrantPurpose.RECIPIENT),
    ]


def _owed_items(
    db: Session, pieces: Sequence[tuple[Message, Piece]], account: Account
) -> list[OwedItem]:
    items: list[OwedItem] = []
    for message, (what, object_id, version, purpose) in pieces:
        if object_id is None:
            continue
        if content.grant_for(db, object_id, version, purpose, account):
            continue
        case_grant = content.grant_for(db, object_id, version, GrantPurpose.CASE)
        if case_grant is None:
            continue  # nothing a facilitator's browser could open to grant again
        items.append(OwedItem(message.id, what, object_id, version, case_grant, purpose))
    return items


def _written_for(participant_id: str) -> Select[Message]:
    return (
        select(Message)
        .where(
            Message.author_participant_id == participant_id,
            Message.written_by_supporter_id.is_not(None),
            Message.state.in_(SIDE_GRANT_STATES),
            Message.content_deleted_at.is_(None),
        )
        .order_by(Message.submitted_at, Message.id)
    )


def _written_for_pieces(message: Message) -> list[Piece]:
    """A letter written on the participant's behalf, for them to read before it goes out: its
    current version, and the facilitator's latest note to its writer."""
    return [
        ("written_for", message.object_id, message.version, GrantPurpose.AUTHOR),
        ("written_for_feedback", message.feedback_object_id, 1, GrantPurpose.RECIPIENT),
    ]


def owed_to_participant(db: Session, participant: Participant) -> OwedPerson | None:
    account = participant.account
    if (
        account is None
        or participant.withdrawn_at is not None
        or participant.verified_public_key is None
        or key_standing(account.public_key, participant.verified_public_key)
        is not KeyStanding.VERIFIED
    ):
        return None
    released = db.scalars(_released_to(participant.id, RECIPIENT_GRANT_STATES)).all()
    pieces = [(m, piece) for m in released for piece in _released_pieces(m, with_notes=True)]
    pieces += [
        (m, piece) for m in _written(db, participant_id=participant.id) for piece in _own_pieces(m)
    ]
    written_for = db.scalars(_written_for(participant.id)).all()
    pieces += [(m, piece) for m in written_for for piece in _written_for_pieces(m)]
    items = _owed_items(db, pieces, account)
    if not items:
        return None
    return OwedPerson(participant.id, None, account, participant.verified_public_key, items)


def mark_if_owed(db: Session, participant: Participant) -> None:
    """After a participant's key was compared in person: if grants are owed to them now, mark
    them (``Participant.grants_owed_since``) for the facilitator's home and queue, which look
    only at those marked; ``regrant`` clears the mark once nothing is owed.

    A participant can be owed only after such a comparison: every release to them is granted
    at approval to a key compared in person (messages/services.approve refuses any other) and
    everything they write is granted to them as they send it; grants to them go only with a
    re-key (invitations/services._rekey), after which nothing is released to them or owed
    until their new key is compared. The same comparison finds what went to the
    representative who held their side before they joined. What a supporter wrote for them is
    looked for apart (``written_for_statement``), and supporters are looked at every time
    (few, and what they may read changes with what the participant opens)."""
    if participant.grants_owed_since is None and owed_to_participant(db, participant):
        participant.grants_owed_since = utcnow()


def owed_to_supporter(db: Session, supporter: Supporter) -> OwedPerson | None:
    account = supporter.account
    if (
        account is None
        or not supporter.has_access(utcnow())
        or supporter.participant.withdrawn_at is not None
        or supporter.verified_public_key is None
        or supporters.key_standing_of(supporter) is not KeyStanding.VERIFIED
    ):
        return None
    pieces: list[tuple[Message, Piece]] = []
    if supporter.may_read:
        # Only what the participant chose to open: a supporter reads nothing before they do.
        opened = frozenset({MessageState.OPENED})
        released = db.scalars(_released_to(supporter.participant_id, opened)).all()
        pieces += [(m, piece) for m in released for piece in _released_pieces(m, with_notes=False)]
    pieces += [
        (m, piece) for m in _written(db, supporter_id=supporter.id) for piece in _own_pieces(m)
    ]
    items = _owed_items(db, pieces, account)
    if not items:
        return None
    return OwedPerson(
        supporter.participant_id, supporter.id, account, supporter.verified_public_key, items
    )


def owed_in_case(db: Session, case: Case) -> list[OwedPerson]:
    """Everyone in the case owed grants now, participants first, each with what is owed."""
    if case.status is CaseCondition.CLOSED:
        return []
    owed = [owed_to_participant(db, p) for p in case.participants]
    places = supporters.supporters_of(db, [p.id for p in case.participants])
    owed += [owed_to_supporter(db, s) for s in places]
    return [person for person in owed if person is not None]


# --------------------------------------------------------------------------------- storing


@dataclass(frozen=True)
class RegrantIn:
    object_id: str
    version: int
    grant: bytes


def regrant(
    db: Session,
    settings: Settings,
    facilitator: Account,
    case: Case,
    account_id: str,
    public_key: bytes,
    grants: Sequence[RegrantIn],
) -> int:
    """Store the grants a facilitator's browser made again for one person of the case, to the
    key it compared in person (``public_key``); how many. All or nothing: each must be owed to
    them now, and the key must be their current one, compared in person (409 otherwise)."""
    if not grants:
        raise BadInput("Send at least one grant.", field="grants")
    holder = _holder(db, case, account_id)
    # The row a revocation, a withdrawal, a re-key and a verification each lock first.
    lock_row(db, holder)
    account = holder.account
    if account is None:
        raise NotFound
    lock_row(db, account)
    # A letter written for them that is being stopped: its withdrawal or withholding holds the
    # message's row, and once it commits nothing more of it is owed (read below).
    for message in _written_for_messages(db, holder, grants):
        lock_row(db, message)
    if isinstance(holder, Supporter):
        standing = supporters.key_standing_of(holder)
        owed = owed_to_supporter(db, holder)
    else:
        standing = key_standing(account.public_key, holder.verified_public_key)
        owed = owed_to_participant(db, holder)
    refusal = reader_grant_refusal(standing)
    if refusal is not None:
        raise Conflict(refusal)
    if public_key != account.public_key:
        raise Conflict("This person's key changed since the page was loaded. Please reload it.")
    if owed is None:
        raise Conflict("Nothing is waiting to be given to this person now. Please reload the page.")
    by_piece = {(item.object_id, item.version): item for item in owed.items}
    if len({(g.object_id, g.version) for g in grants}) != len(grants):
        raise BadInput("Each item is granted once.", field="grants")
    for g in grants:
        item = by_piece.get((g.object_id, g.version))
        if item is None:
            raise Conflict(
                "What this person may read changed since the page was loaded. Please reload it."
            )
        obj = db.get(ContentObject, g.object_id)
        if obj is None:  # owed, so never; narrows the type
            raise NotFound
        content.add_grant(db, obj, g.version, item.purpose, facilitator, g.grant, recipient=account)
    if isinstance(holder, Participant) and owed_to_participant(db, holder) is None:
        holder.grants_owed_since = None  # all given back: the home and queue stop looking
    given = [by_piece[(g.object_id, g.version)] for g in grants]
    for message_id, for_side in sorted({(item.message_id, item.for_side) for item in given}):
        tag = AuditTag.MESSAGE_SHOWN_TO_SIDE if for_side else AuditTag.MESSAGE_REGRANTED
        record(db, settings, tag, actor_id=facilitator.id, subject_id=message_id)
    return len(grants)


def _written_for_messages(
    db: Session, holder: Participant | Supporter, grants: Sequence[RegrantIn]
) -> list[Message]:
    """The letters written on ``holder``'s behalf that ``grants`` name (their current version
    or their feedback), in a fixed order so that two transactions lock them alike."""
    if not isinstance(holder, Participant):
        return []
    object_ids = sorted({g.object_id for g in grants})
    return list(
        db.scalars(
            select(Message)
            .where(
                Message.author_participant_id == holder.id,
                Message.written_by_supporter_id.is_not(None),
                or_(Message.object_id.in_(object_ids), Message.feedback_object_id.in_(object_ids)),
            )
            .order_by(Message.id)
        )
    )


def _holder(db: Session, case: Case, account_id: str) -> Participant | Supporter:
    """The participant or supporter of this case with this account (404 for anyone else)."""
    if len(account_id) > 36:
        raise NotFound
    participant = db.scalars(
        select(Participant).where(
            Participant.case_id == case.id, Participant.account_id == account_id
        )
    ).first()
    if participant is not None:
        return participant
    supporter = db.scalars(
        select(Supporter).where(Supporter.case_id == case.id, Supporter.account_id == account_id)
    ).first()
    if supporter is None:
        raise NotFound
    return supporter


# ------------------------------------------------------------------- the facilitator's task


@dataclass(frozen=True)
class RegrantCase:
    case_id: str
    reference: str
    people: int


@dataclass(frozen=True)
class WrittenForSide:
    """A participant who cannot read yet what was written on their behalf."""

    case_id: str
    reference: str
    side: Side


@dataclass(frozen=True)
class Regrants:
    """Cases where someone waits for a facilitator's browser to give access again, and
    participants waiting for it to let them read what was written for them."""

    cases: list[RegrantCase]
    people: int
    written_for: list[WrittenForSide] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.people or self.written_for)

    @classmethod
    def from_rows(cls, cases: Sequence[Sequence[Any]], written_for: Sequence[Any]) -> Regrants:
        """From waiting_statement's rows (in its order) and written_for_statement's."""
        shown = [RegrantCase(*row) for row in cases]
        people = sum(case.people for case in shown)
        return cls(shown[:REGRANT_CASES_SHOWN], people, [WrittenForSide(*r) for r in written_for])


@cache
def waiting_statement() -> Select[str, str, int]:
    """(case id, reference, people) for ``account_id``'s open cases with someone owed grants:
    built once, bound at execution (also a part of the facilitator's home's one statement,
    workspace/facilitator_home.py). Only the main object is looked at (notes go with it)."""
    account_id: BindParameter[str] = bindparam("account_id")
    now: BindParameter[datetime] = bindparam("now")
    p_account = aliased(Account)
    participants = (
        select(Participant.case_id.label("case_id"), Participant.id.label("person"))
        .join(p_account, p_account.id == Participant.account_id)
        .join(CaseFacilitator, case_policy.facilitated_by(Participant.case_id, account_id))
        .where(
            # Only the few marked (mark_if_owed): the exact look below is then for them alone.
            Participant.grants_owed_since.is_not(None),
            Participant.withdrawn_at.is_(None),
            Participant.verified_public_key == p_account.public_key,
            or_(
                exists().where(
                    Message.recipient_participant_id == Participant.id,
                    Message.state.in_(sorted(RECIPIENT_GRANT_STATES)),
                    Message.content_deleted_at.is_(None),
                    _missing_grant(Message.object_id, Message.version, Participant.account_id),
                ),
                _own_owed(Participant.account_id, participant_id=Participant.id),
            ),
        )
    )
    side = aliased(Participant)
    s_account = aliased(Account)
    supporting = (
        select(Supporter.case_id.label("case_id"), Supporter.id.label("person"))
        .join(s_account, s_account.id == Supporter.account_id)
        .join(side, side.id == Supporter.participant_id)
        .join(CaseFacilitator, case_policy.facilitated_by(Supporter.case_id, account_id))
        .where(
            Supporter.revoked_at.is_(None),
            or_(Supporter.ends_at.is_(None), Supporter.ends_at > now),
            side.withdrawn_at.is_(None),
            Supporter.verified_public_key == s_account.public_key,
            or_(
                and_(
                    Supporter.may_read.is_(True),
                    exists().where(
                        Message.recipient_participant_id == Supporter.participant_id,
                        Message.state == MessageState.OPENED,
                        Message.content_deleted_at.is_(None),
                        _missing_grant(Message.object_id, Message.version, Supporter.account_id),
                    ),
                ),
                _own_owed(Supporter.account_id, supporter_id=Supporter.id),
            ),
        )
    )
    owed = union_all(participants, supporting).subquery()
    return (
        select(Case.id, Case.reference, func.count(owed.c.person))
        .join(owed, owed.c.case_id == Case.id)
        .where(Case.status != CaseCondition.CLOSED)
        .group_by(Case.id, Case.reference)
        .order_by(Case.reference)
    )


@cache
def written_for_statement() -> Select[str, str, Side]:
    """(case id, reference, side) for ``account_id``'s open cases with a participant owed what
    was written on their behalf (as ``owed_to_participant``): built once, bound at execution
    (also a part of the facilitator's home's one statement)."""
    account = aliased(Account)
    feedback_missing = Message.feedback_object_id.is_not(None) & _missing_grant(
        Message.feedback_object_id, 1, Participant.account_id
    )
    return (
        select(Case.id, Case.reference, Participant.side)
        .join(Participant, Participant.case_id == Case.id)
        .join(account, account.id == Participant.account_id)
        .join(CaseFacilitator, case_policy.facilitated_by(Case.id, bindparam("account_id")))
        .where(
            Case.status != CaseCondition.CLOSED,
            Participant.withdrawn_at.is_(None),
            Participant.verified_public_key == account.public_key,
            exists().where(
                Message.author_participant_id == Participant.id,
                Message.written_by_supporter_id.is_not(None),
                Message.state.in_(sorted(SIDE_GRANT_STATES)),
                Message.content_deleted_at.is_(None),
                or_(
                    _missing_grant(
                        Message.object_id,
                        Message.version,
                        Participant.account_id,
                        GrantPurpose.AUTHOR,
                    ),
                    feedback_missing,
                ),
            ),
        )
        .order_by(Case.reference, Participant.side)
        .limit(REGRANT_CASES_SHOWN)
    )


@cache
def _waiting_query() -> DriverQuery:
    # On the driver (db.DriverQuery): through SQLAlchemy's execution, expanding the state lists
    # and hashing the cache key cost five times the database's work.
    return DriverQuery(waiting_statement())


@cache
def _written_for_query() -> DriverQuery:
    return DriverQuery(written_for_statement())


def waiting_for(db: Session | ReadTransaction, facilitator: Account) -> Regrants:
    """The facilitator's cases where someone is owed grants (two statements)."""
    bound = {"account_id": facilitator.id, "now": utcnow()}
    return Regrants.from_rows(
        _waiting_query().all(db, bound),
        _written_for_query().all(db, {"account_id": facilitator.id}),
    )


# ------------------------------------------------------------------------- the person waiting

KEY_NOT_CHECKED = (
    "Your facilitator needs to check your new key before you can read your letters again. "
    "At your next meeting, read the security number on your “Your account” page together."
)
ACCESS_COMING_BACK = (
    "Your facilitator has checked your key. What was passed on to you, and what you wrote, can "
    "be read again once they next open your case in the portal: you do not need to do anything."
)


def why_waiting(db: Session, holder: Participant | Supporter) -> str | None:
    """What a participant's or supporter's home tells them while they wait for a facilitator
    after a key change (or, for a supporter compared late, for what was released before)."""
    account = holder.account
    if account is None:
        return None
    if key_standing(account.public_key, holder.verified_public_key) is KeyStanding.CHANGED:
        return KEY_NOT_CHECKED
    if key_standing(account.public_key, holder.verified_public_key) is not KeyStanding.VERIFIED:
        return None
    if isinstance(holder, Supporter):
        if not holder.has_access(utcnow()):
            return None
        side, states = holder.participant_id, frozenset({MessageState.OPENED})
        reads, own = holder.may_read, _own_owed(account.id, supporter_id=holder.id)
    else:
        if holder.withdrawn_at is not None:
            return None
        side, states = holder.id, RECIPIENT_GRANT_STATES
        reads, own = True, _own_owed(account.id, participant_id=holder.id)
    released = exists().where(
        Message.recipient_participant_id == side,
        Message.state.in_(sorted(states)),
        Message.content_deleted_at.is_(None),
        _missing_grant(Message.object_id, Message.version, account.id),
    )
    # One statement, however much was released or written: the home is opened often.
    owed = db.scalar(select(or_(released, own) if reads else own))
    return ACCESS_COMING_BACK if owed else None
