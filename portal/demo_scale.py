"""``portal seed-scale``: a large service, for the page benchmark (bench/pages.py) and for the
tests that check pages do not grow with the data (tests/http/test_pages_at_scale.py).

It writes through the project's own tables (the models' ``Table`` objects, with SQLAlchemy Core
inserts of many rows per statement: one ORM object per row would take hours at full size), in
the shape real use leaves behind over ``years``: staff, facilitators with about 300 cases each,
two participants per case (a few not joined yet, with an invitation waiting), messages in every
state with their timelines, content objects with versions, chunks and grants, notes and
feedback, some drafts, agreement items in about a third of the cases (most of those past due
completed), and the audit log (about 8 rows per message plus each case's own), chained
exactly as ``audit.services.record`` chains it, so ``portal audit verify`` passes.

Nothing here is real content: ciphertext, keys and grants are random bytes of the right sizes
(nobody decrypts them; chunks are marked as living in the blob store, which holds nothing).
Every account signs in with the one password given, through the real sign-in protocol.
Deterministic for a given ``seed``. Never commits: the command does.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from portal import protocol, wire
from portal.accounts.hashing import hash_key, make_hasher
from portal.accounts.models import Account, Role
from portal.audit.models import AuditEvent
from portal.audit.services import GENESIS, chain_key, chained_hash
from portal.audit.tags import AuditTag
from portal.cases.models import (
    Case,
    CaseCondition,
    CaseFacilitator,
    CaseKeyGrant,
    Format,
    Participant,
    Side,
)
from portal.casework.models import AgreementItem, AgreementKind
from portal.content.models import (
    ContentChunk,
    ContentGrant,
    ContentKind,
    ContentObject,
    ContentVersion,
    Draft,
    GrantPurpose,
)
from portal.db import refresh_planner_statistics, utcnow
from portal.errors import Conflict
from portal.invitations.models import Invitation, InvitationPurpose
from portal.messages.models import Message, MessageEvent
from portal.messages.states import MessageState
from portal.settings import Settings

S = MessageState
MIB = 1024 * 1024
FULL_CHUNK = protocol.CHUNK_SIZE + wire.NONCE + wire.TAG
# Seeded accounts derive their keys cheaply (the bench signs in a few times, not thousands).
KDF_OPS = 1
KDF_MEM = 8 * 1024 * 1024
NAME_PREFIX = "scale"
# Rows held before they are written, all tables together (memory stays flat at any size).
FLUSH_EVERY = 20_000
# The share of cases that agreed something at their outcome (1 to 3 items each).
AGREEMENT_SHARE = 0.35

# The states a message ends in, and how often, for messages decided before the last weeks;
# each with the timeline it took (the messages' own state machine, messages/states.py).
PATHS: dict[MessageState, tuple[MessageState, ...]] = {
    S.SUBMITTED: (S.SUBMITTED,),
    S.IN_REVIEW: (S.SUBMITTED, S.IN_REVIEW),
    S.RETURNED: (S.SUBMITTED, S.IN_REVIEW, S.RETURNED),
    S.AWAITING_RECIPIENT: (S.SUBMITTED, S.IN_REVIEW, S.AWAITING_RECIPIENT),
    S.HELD: (S.SUBMITTED, S.IN_REVIEW, S.AWAITING_RECIPIENT, S.HELD),
    S.OPENED: (S.SUBMITTED, S.IN_REVIEW, S.AWAITING_RECIPIENT, S.OPENED),
    S.DECLINED: (S.SUBMITTED, S.IN_REVIEW, S.AWAITING_RECIPIENT, S.DECLINED),
    S.WITHHELD: (S.SUBMITTED, S.IN_REVIEW, S.WITHHELD),
    S.WITHDRAWN: (S.SUBMITTED, S.WITHDRAWN),
}
DECIDED = {
    S.OPENED: 45,
    S.AWAITING_RECIPIENT: 8,
    S.HELD: 5,
    S.DECLINED: 6,
    S.RETURNED: 16,
    S.WITHHELD: 8,
    S.WITHDRAWN: 12,
}
STATE_TAGS = {
    S.IN_REVIEW: AuditTag.MESSAGE_CLAIMED,
    S.RETURNED: AuditTag.MESSAGE_RETURNED,
    S.AWAITING_RECIPIENT: AuditTag.MESSAGE_APPROVED,
    S.HELD: AuditTag.MESSAGE_HELD,
    S.OPENED: AuditTag.MESSAGE_OPENED,
    S.DECLINED: AuditTag.MESSAGE_DECLINED,
    S.WITHHELD: AuditTag.MESSAGE_WITHHELD,
    S.WITHDRAWN: AuditTag.MESSAGE_WITHDRAWN,
}
# Who acts at each step: the author, the facilitator or the recipient.
ACTOR = {
    S.IN_REVIEW: "facilitator",
    S.RETURNED: "facilitator",
    S.AWAITING_RECIPIENT: "facilitator",
    S.WITHHELD: "facilitator",
    S.HELD: "recipient",
    S.OPENED: "recipient",
    S.DECLINED: "recipient",
    S.WITHDRAWN: "author",
}
# Messages this recent are still waiting for review (about 300 per facilitator at full size).
WAITING_DAYS = 21


@dataclass(frozen=True)
class Scale:
    cases: int
    messages: int
    years: float = 3.0
    cases_per_facilitator: int = 300
    seed: int = 1


@dataclass(frozen=True)
class Seeded:
    """What a benchmark or a test needs to look at the seeded service."""

    password: str
    facilitator_name: str  # facilitates the first share of cases
    participant_name: str  # the person responsible in a typical case of that facilitator
    typical_case_id: str  # that case (about the median number of messages)
    busiest_case_id: str  # that facilitator's case with the most messages
    busiest_participant_name: str  # the person responsible in it
    rows: dict[str, int]


@dataclass
class _Writer:
    """Rows waiting to be inserted, per table, written in an order the foreign keys accept."""

    db: Session
    pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    held: int = 0

    ORDER: tuple[Any, ...] = (
        Account.__table__,
        Case.__table__,
        CaseFacilitator.__table__,
        CaseKeyGrant.__table__,
        Participant.__table__,
        AgreementItem.__table__,
        Invitation.__table__,
        ContentObject.__table__,
        ContentVersion.__table__,
        ContentChunk.__table__,
        ContentGrant.__table__,
        Message.__table__,
        MessageEvent.__table__,
        Draft.__table__,
        AuditEvent.__table__,
    )

    def add(self, table: Any, row: dict[str, Any]) -> None:
        self.pending.setdefault(table.name, []).append(row)
        self.held += 1
        if self.held >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        for table in self.ORDER:
            rows = self.pending.pop(table.name, None)
            if rows:
                self.db.execute(insert(table), rows)
                self.written[table.name] = self.written.get(table.name, 0) + len(rows)
        self.held = 0


@dataclass
class _Deferred:
    """A case's content and messages, kept until the case and its participants are written
    (they name them), then handed to the writer in the order they were made."""

    rows: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)

    def add(self, table: Any, row: dict[str, Any]) -> None:
        self.rows.append((table, row))


class _Audit:
    """Appends audit rows chained as ``audit.services.record`` does, ids from 1."""

    def __init__(self, writer: _Writer, settings: Settings) -> None:
        self.writer = writer
        self.key = chain_key(settings.secret_key.reveal())
        self.prev = GENESIS
        self.next_id = 1

    def __call__(
        self, at: datetime, tag: AuditTag, actor_id: str | None, subject_id: str | None
    ) -> None:
        event_id = self.next_id
        row_hash = chained_hash(self.key, self.prev, event_id, at, str(tag), actor_id, subject_id)
        self.writer.add(
            AuditEvent.__table__,
            {
                "id": event_id,
                "at": at,
                "tag": str(tag),
                "actor_id": actor_id,
                "subject_id": subject_id,
                "prev_hash": self.prev,
                "row_hash": row_hash,
            },
        )
        self.prev = row_hash
        self.next_id += 1


class _Seeder:
    def __init__(self, db: Session, settings: Settings, scale: Scale, password: str) -> None:
        self.rng = random.Random(scale.seed)  # noqa: S311  (shapes test data, not secrets)
        # Agreement items draw from their own, so the rest is as it was before they were seeded.
        self.items_rng = random.Random(f"{scale.seed}:agreement")  # noqa: S311
        self.scale = scale
        self.password = password
        self.writer = _Writer(db)
        self.deferred = _Deferred()
        self.audit = _Audit(self.writer, settings)
        self.now = utcnow()
        self.start = self.now - timedelta(days=365 * scale.years)
        salt = self.bytes(wire.SALT)
        keys = protocol.derive_account_keys(password, salt, KDF_OPS, KDF_MEM)
        hasher = make_hasher(settings.auth_hash_profile)
        # One verifier for every account (same password, same salt): hashing 20,000 of them
        # would take minutes and prove nothing here.
        self.credentials = {
            "kdf_salt": salt,
            "kdf_ops": KDF_OPS,
            "kdf_mem": KDF_MEM,
            "auth_hash": hash_key(hasher, keys.auth_key),
            "recovery_auth_hash": hash_key(hasher, self.bytes(32)),
        }

    # -- small helpers ----------------------------------------------------------------------

    def id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def bytes(self, size: int) -> bytes:
        return self.rng.randbytes(size)

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random()

    def account(self, role: Role, name: str, at: datetime) -> str:
        account_id = self.id()
        self.writer.add(
            Account.__table__,
            {
                "id": account_id,
                "role": role,
                "sign_in_name": name,
                **self.credentials,
                "public_key": self.bytes(wire.KEY),
                "signing_public_key": self.bytes(wire.KEY),
                "key_bundle": self.bytes(wire.KEY_BUNDLE),
                "recovery_bundle": self.bytes(wire.KEY_BUNDLE),
                "created_at": at,
                "keys_changed_at": at,
                "disabled_at": None,
            },
        )
        self.audit(at, AuditTag.ACCOUNT_JOINED, account_id, account_id)
        return account_id

    def signs_in(self, account_id: str, at: datetime) -> None:
        """A sign-in and, mostly, a sign-out: what each visit leaves in the audit log."""
        session_id = self.id()
        self.audit(at - timedelta(minutes=3), AuditTag.ACCOUNT_SIGNED_IN, account_id, session_id)
        if self.rng.random() < 0.7:
            self.audit(
                at + timedelta(minutes=4), AuditTag.ACCOUNT_SIGNED_OUT, account_id, session_id
            )

    def version(
        self,
        case_id: str,
        kind: ContentKind,
        author_id: str,
        at: datetime,
        grants: list[tuple[GrantPurpose, str | None]],
        media_bytes: int = 0,
    ) -> tuple[str, int]:
        """A content object with one version (a text part, and a recording part if any)."""
        object_id = self.id()
        text_size = self.rng.randint(600, 9000)
        sizes = [(0, [text_size])]
        if media_bytes:
            chunks = max(1, math.ceil(media_bytes / FULL_CHUNK))
            last = media_bytes - (chunks - 1) * FULL_CHUNK
            sizes.append((1, [FULL_CHUNK] * (chunks - 1) + [last]))
        total = sum(sum(part) for _p, part in sizes)
        w = self.deferred
        w.add(
            ContentObject.__table__,
            {
                "id": object_id,
                "case_id": case_id,
                "kind": kind,
                "author_id": author_id,
                "entered_for_id": None,
                "created_at": at,
            },
        )
        manifest = self.bytes(self.rng.randint(180, 400))
        w.add(
            ContentVersion.__table__,
            {
                "object_id": object_id,
                "version": 1,
                "manifest": manifest,
                "manifest_hash": protocol.manifest_hash(manifest),
                "ciphertext_size": total,
                "created_at": at,
            },
        )
        for part, chunk_sizes in sizes:
            for index, size in enumerate(chunk_sizes):
                w.add(
                    ContentChunk.__table__,
                    {
                        "object_id": object_id,
                        "version": 1,
                        "part": part,
                        "index": index,
                        "final": index == len(chunk_sizes) - 1,
                        "data": None,  # "in the blob store", which holds nothing here
                        "size": size,
                        "hash": self.bytes(32),
                    },
                )
        for purpose, recipient in grants:
            w.add(
                ContentGrant.__table__,
                {
                    "id": self.id(),
                    "object_id": object_id,
                    "version": 1,
                    "purpose": purpose,
                    "sender_id": author_id,
                    "recipient_account_id": recipient,
                    "recipient_case_epoch": 1 if purpose is GrantPurpose.CASE else None,
                    "grant": self.bytes(wire.CONTENT_GRANT),
                    "created_at": at,
                },
            )
        return object_id, total

    # -- the service ------------------------------------------------------------------------

    def run(self) -> Seeded:
        scale = self.scale
        rng = self.rng
        manager = self.account(Role.SERVICE_MANAGER, f"{NAME_PREFIX} manager", self.start)
        facilitators = [
            self.account(Role.FACILITATOR, f"{NAME_PREFIX} facilitator {n + 1}", self.start)
            for n in range(max(1, math.ceil(scale.cases / scale.cases_per_facilitator)))
        ]
        self.audit(self.start, AuditTag.TRUST_ROOT_ESTABLISHED, manager, manager)
        # Busier and quieter cases; a few (not joined yet) have none.
        weights = [rng.expovariate(1.0) for _ in range(scale.cases)]
        unjoined = {n for n in range(scale.cases) if rng.random() < 0.04}
        for n in unjoined:
            weights[n] = 0.0
        per_case = [0] * scale.cases
        if scale.messages and scale.cases > len(unjoined):
            for n in rng.choices(range(scale.cases), weights=weights, k=scale.messages):
                per_case[n] += 1
        first_share: list[tuple[int, str, str]] = []  # (messages, case id, responsible name)
        for n in range(scale.cases):
            facilitator = facilitators[n % len(facilitators)]
            case_id, responsible = self.case(n, facilitator, per_case[n], joined=n not in unjoined)
            if facilitator == facilitators[0] and n not in unjoined:
                first_share.append((per_case[n], case_id, responsible))
        self.writer.flush()
        first_share.sort()
        typical = first_share[len(first_share) // 2] if first_share else (0, "", "")
        busiest = first_share[-1] if first_share else (0, "", "")
        return Seeded(
            password=self.password,
            facilitator_name=f"{NAME_PREFIX} facilitator 1",
            participant_name=typical[2],
            typical_case_id=typical[1],
            busiest_case_id=busiest[1],
            busiest_participant_name=busiest[2],
            rows=dict(self.writer.written),
        )

    def case(self, n: int, facilitator: str, messages: int, *, joined: bool) -> tuple[str, str]:
        rng = self.rng
        w = self.writer
        opened = self.between(self.start, self.now - timedelta(days=2))
        case_id = self.id()
        status = rng.choices(
            [CaseCondition.OPEN, CaseCondition.PAUSED, CaseCondition.CLOSED], [88, 4, 8]
        )[0]
        self.signs_in(facilitator, opened)
        people: dict[Side, tuple[str, str | None, str]] = {}  # participant, account, name
        participant_rows: list[dict[str, Any]] = []
        for side in (Side.PERSON_HARMED, Side.PERSON_RESPONSIBLE):
            participant_id = self.id()
            name = f"{NAME_PREFIX} participant {n + 1} {'h' if side is Side.PERSON_HARMED else 'r'}"
            is_joined = joined or side is Side.PERSON_RESPONSIBLE
            joined_at = opened + timedelta(days=rng.uniform(0.5, 1.5))
            account_id = self.account(Role.PARTICIPANT, name, joined_at) if is_joined else None
            formats = "letter" if rng.random() < 0.6 else "letter,audio,video"
            participant_rows.append(
                {
                    "id": participant_id,
                    "case_id": case_id,
                    "side": side,
                    "display_name": self.bytes(self.rng.randint(60, 90)),
                    "account_id": account_id,
                    "formats": formats if is_joined else "",
                    "consent_recorded_at": joined_at if is_joined else None,
                    "consent_recorded_by_id": facilitator if is_joined else None,
                    "case_public_grant": self.bytes(wire.CASE_PUBLIC_GRANT) if is_joined else None,
                    "case_public_grant_sender_id": facilitator if is_joined else None,
                    "key_verified_at": joined_at if is_joined else None,
                    "key_verified_by_id": facilitator if is_joined else None,
                    "verified_public_key": self.bytes(wire.KEY) if is_joined else None,
                    "joined_at": joined_at if is_joined else None,
                    "withdrawn_at": None,
                    "created_at": opened,
                }
            )
            people[side] = (participant_id, account_id, name)
        stored = 0
        events: list[tuple[datetime, AuditTag, str | None, str | None]] = []
        times = sorted(self.between(opened + timedelta(days=2), self.now) for _ in range(messages))
        for submitted in times:
            stored += self.message(case_id, facilitator, people, submitted, events)
        w.add(
            Case.__table__,
            {
                "id": case_id,
                "reference": f"SC-{n + 1:06d}",
                "label": f"Seeded case {n + 1}",
                "status": status,
                "public_key": self.bytes(wire.KEY),
                "key_epoch": 1,
                "created_by_id": facilitator,
                "created_at": opened,
                "status_changed_at": opened,
                "stored_bytes": stored,
            },
        )
        w.add(
            CaseFacilitator.__table__,
            {"case_id": case_id, "account_id": facilitator, "added_at": opened},
        )
        w.add(
            CaseKeyGrant.__table__,
            {
                "id": self.id(),
                "case_id": case_id,
                "epoch": 1,
                "recipient_id": facilitator,
                "sender_id": facilitator,
                "grant": self.bytes(wire.CASE_GRANT),
                "created_at": opened,
            },
        )
        for row in participant_rows:
            w.add(Participant.__table__, row)
        self.audit(opened, AuditTag.CASE_OPENED, facilitator, case_id)
        for row in participant_rows:
            self.audit(opened, AuditTag.PARTICIPANT_ADDED, facilitator, row["id"])
            invitation_id = self.id()
            self.audit(opened, AuditTag.INVITATION_CREATED, facilitator, invitation_id)
            if row["account_id"] is None:
                self.invitation(invitation_id, facilitator, row["id"], opened)
                continue
            at = row["joined_at"]
            self.audit(at, AuditTag.PARTICIPANT_JOINED, row["account_id"], row["id"])
            for tag in (
                AuditTag.PARTICIPANT_CONSENT_RECORDED,
                AuditTag.PARTICIPANT_GIVEN_CASE_KEY,
                AuditTag.PARTICIPANT_KEY_VERIFIED,
            ):
                self.audit(at, tag, facilitator, row["id"])
        for table, row in self.deferred.rows:
            w.add(table, row)
        self.deferred.rows.clear()
        self.agreement(case_id, facilitator, opened, events)
        for event in sorted(events, key=lambda e: e[0]):
            self.audit(*event)
        responsible_account = people[Side.PERSON_RESPONSIBLE][1]
        if responsible_account and self.rng.random() < 0.05:
            w.add(
                Draft.__table__,
                {
                    "id": self.id(),
                    "account_id": responsible_account,
                    "case_id": case_id,
                    "revises_message_id": None,
                    "blob": self.bytes(self.rng.randint(500, 4000)),
                    "updated_at": self.now - timedelta(days=self.rng.uniform(0, 30)),
                },
            )
        return case_id, people[Side.PERSON_RESPONSIBLE][2]

    def agreement(
        self,
        case_id: str,
        facilitator: str,
        opened: datetime,
        events: list[tuple[datetime, AuditTag, str | None, str | None]],
    ) -> None:
        """Some cases agreed a few things at their outcome, each due weeks later; most of those
        past due are completed. What is left is the facilitator's to follow up (the home's
        "Agreement follow-ups" and ``/follow-ups``)."""
        rng = self.items_rng
        if rng.random() >= AGREEMENT_SHARE:
            return
        today = self.now.date()
        for _ in range(rng.randint(1, 3)):
            item_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            added = opened + (self.now - opened) * rng.uniform(0.5, 1.0)
            due = added.date() + timedelta(days=rng.randint(7, 90))
            done = due < today - timedelta(days=3) and rng.random() < 0.8
            self.writer.add(
                AgreementItem.__table__,
                {
                    "id": item_id,
                    "case_id": case_id,
                    "kind": rng.choice(list(AgreementKind)),
                    "due_on": due,
                    "completed_on": due if done else None,
                    "description": rng.randbytes(rng.randint(60, 200)),
                    "added_by_id": facilitator,
                    "added_at": added,
                    "removed_at": None,
                },
            )
            events.append((added, AuditTag.AGREEMENT_ITEM_ADDED, facilitator, item_id))
            if done:
                at = added + timedelta(days=(due - added.date()).days)
                events.append((at, AuditTag.AGREEMENT_ITEM_COMPLETED, facilitator, item_id))

    def invitation(
        self, invitation_id: str, facilitator: str, participant: str, at: datetime
    ) -> None:
        self.writer.add(
            Invitation.__table__,
            {
                "id": invitation_id,
                "code_hash": None,
                "purpose": InvitationPurpose.INVITE,
                "role": Role.PARTICIPANT,
                "account_id": self.id(),
                "kdf_salt": self.bytes(wire.SALT),
                "kdf_ops": KDF_OPS,
                "kdf_mem": KDF_MEM,
                "created_by_id": facilitator,
                "participant_id": participant,
                "created_at": at,
                "expires_at": self.now + timedelta(days=self.rng.uniform(1, 14)),
                "redeemed_at": None,
                "revoked_at": None,
                "lookup_id": uuid.UUID(int=self.rng.getrandbits(128)).hex,
                "redeem_proof_hash": self.bytes(32),
                "mac": self.bytes(32),
                "sealed_at": at,
                "inviter_box_public_key": self.bytes(wire.KEY),
                "inviter_signing_public_key": self.bytes(wire.KEY),
                "root_account_id": None,
                "root_signing_public_key": None,
            },
        )

    def message(
        self,
        case_id: str,
        facilitator: str,
        people: dict[Side, tuple[str, str | None, str]],
        submitted: datetime,
        events: list[tuple[datetime, AuditTag, str | None, str | None]],
    ) -> int:
        """One message with its content, timeline and audit events; returns bytes stored."""
        rng = self.rng
        author_side = Side.PERSON_RESPONSIBLE if rng.random() < 0.8 else Side.PERSON_HARMED
        author, author_account, _ = people[author_side]
        recipient, recipient_account, _ = people[author_side.other]
        if author_account is None or recipient_account is None:
            raise ValueError("messages pass only between participants who joined")
        age = self.now - submitted
        if age < timedelta(days=WAITING_DAYS):
            final = S.SUBMITTED if rng.random() < 0.8 else S.IN_REVIEW
        else:
            final = rng.choices(list(DECIDED), list(DECIDED.values()))[0]
        path = PATHS[final]
        roll = rng.random()
        format_ = Format.LETTER if roll < 0.85 else Format.AUDIO if roll < 0.95 else Format.VIDEO
        media = 0
        if format_ is Format.AUDIO:
            media = rng.randint(1, 8) * MIB
        elif format_ is Format.VIDEO:
            media = rng.randint(5, 40) * MIB
        granted = final in (S.AWAITING_RECIPIENT, S.HELD, S.OPENED)
        grants: list[tuple[GrantPurpose, str | None]] = [
            (GrantPurpose.CASE, None),
            (GrantPurpose.AUTHOR, author_account),
        ]
        if granted:
            grants.append((GrantPurpose.RECIPIENT, recipient_account))
        object_id, stored = self.version(
            case_id, ContentKind.LETTER, author_account, submitted, grants, media
        )
        message_id = self.id()
        # Each step a few hours to days after the one before, never in the future.
        step_times = [submitted]
        for _ in path[1:]:
            step = step_times[-1] + timedelta(hours=rng.uniform(2, 96))
            step_times.append(min(step, self.now))
        note_id = feedback_id = None
        if granted and rng.random() < 0.3:
            note_id, size = self.version(
                case_id,
                ContentKind.CONTENT_NOTE,
                facilitator,
                step_times[2],
                [(GrantPurpose.CASE, None), (GrantPurpose.RECIPIENT, recipient_account)],
            )
            stored += size
        if final is S.RETURNED:
            feedback_id, size = self.version(
                case_id,
                ContentKind.FEEDBACK,
                facilitator,
                step_times[-1],
                [(GrantPurpose.CASE, None), (GrantPurpose.AUTHOR, author_account)],
            )
            stored += size
        in_review = final is S.IN_REVIEW
        self.deferred.add(
            Message.__table__,
            {
                "id": message_id,
                "case_id": case_id,
                "author_participant_id": author,
                "recipient_participant_id": recipient,
                "format": format_,
                "state": final,
                "object_id": object_id,
                "version": 1,
                "submitted_at": submitted,
                "state_changed_at": step_times[-1],
                "claimed_by_id": facilitator if S.IN_REVIEW in path else None,
                "claimed_at": step_times[1] if S.IN_REVIEW in path else None,
                "decided_by_id": facilitator if len(path) > 2 or in_review else None,
                "content_note_object_id": note_id,
                "feedback_object_id": feedback_id,
                "opened_at": step_times[-1] if final is S.OPENED else None,
                "author_may_see_opened": final is S.OPENED and rng.random() < 0.5,
                "media_seconds": media // 16_000 if media else None,
                "page_count": None,
                "transcript_object_id": None,
                "transcript_label": None,
                "content_deleted_at": None,
            },
        )
        actors = {
            "author": author_account,
            "facilitator": facilitator,
            "recipient": recipient_account,
        }
        self.signs_in_later(events, author_account, submitted)
        events.append((submitted, AuditTag.MESSAGE_SUBMITTED, author_account, message_id))
        for state, at in zip(path, step_times, strict=True):
            self.deferred.add(
                MessageEvent.__table__,
                {"message_id": message_id, "state": state, "version": 1, "at": at},
            )
            if state is S.SUBMITTED:
                continue
            actor = actors[ACTOR[state]]
            if state is not S.AWAITING_RECIPIENT:  # approving follows the claim's visit
                self.signs_in_later(events, actor, at)
            events.append((at, STATE_TAGS[state], actor, message_id))
        return stored

    def signs_in_later(
        self,
        events: list[tuple[datetime, AuditTag, str | None, str | None]],
        account_id: str,
        at: datetime,
    ) -> None:
        session_id = self.id()
        events.append(
            (at - timedelta(minutes=3), AuditTag.ACCOUNT_SIGNED_IN, account_id, session_id)
        )
        if self.rng.random() < 0.7:
            events.append(
                (at + timedelta(minutes=4), AuditTag.ACCOUNT_SIGNED_OUT, account_id, session_id)
            )


def seed_scale(db: Session, settings: Settings, scale: Scale, password: str) -> Seeded:
    """Seed ``scale`` into an empty service; refuses if anything seeded is there already."""
    if db.query(Account.id).filter(Account.sign_in_name == f"{NAME_PREFIX} manager").first():
        raise Conflict("This database has been seeded already.")
    if db.query(AuditEvent.id).first() is not None:
        # The seeded audit chain starts at row 1: it cannot be appended to an existing one.
        raise Conflict("seed-scale needs an empty service (no audit rows yet).")
    return _Seeder(db, settings, scale, password).run()


def analyze(engine: Engine) -> None:
    """Leave the database as one that grew over years would be: the planner knows the tables'
    sizes (ANALYZE) and, on PostgreSQL, the visibility map is set (VACUUM), so index-only scans
    read no table rows. On PostgreSQL autovacuum would do both, some time after a bulk load; on
    SQLite the daily planner-statistics job does the first, as here."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        return
    # As a running SQLite service's planner-statistics job leaves them (portal/maintenance.py).
    with Session(engine) as db:
        refresh_planner_statistics(db)
        db.commit()
