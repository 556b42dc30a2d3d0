"""A breached server, for the browser tests: what an attacker who owns the database does.

The attacker can make accounts (here: a facilitator invited with a server-made code, so never
certified by the service root) and rewrite any row: grants, case keys, case-key statements,
the account a grant names as its sender. What they cannot do is sign as certified staff or open
a box made for someone else. Each method edits the live server's database directly, between the
steps a browser takes, and the browser tests then check that the browser refuses.

An invitation made in the inviter's browser can also be edited: the inviter's keys its MAC
covers swapped for the attacker's, so the joining browser must refuse it before redeeming.

Also here: what a test reads back (the audit trail's security events, letters sent, what became
of an invitation) and a recorder of the requests a page made.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlparse

from playwright.sync_api import Page, Request
from sqlalchemy import delete, select, update

from portal import protocol
from portal.accounts.models import Account, Role
from portal.audit.models import AuditEvent
from portal.cases.models import Case, CaseKeyEpoch, CaseKeyGrant, Participant
from portal.content.models import ContentGrant, GrantPurpose
from portal.invitations.models import Invitation
from portal.messages.models import Message
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal

b64 = protocol.b64encode

Statement = Literal["kept", "missing", "forged"]


@dataclass(frozen=True)
class SecurityEvent:
    tag: str
    actor_id: str | None
    subject_id: str | None


@dataclass(frozen=True)
class InvitationState:
    """What became of an invitation: redeemed or not, and whether its account or its place in
    the case was taken."""

    redeemed: bool
    account_made: bool
    participant_joined: bool


def lookup_id_of(code: str) -> str:
    """The lookup id a joining browser sends for a browser-made code (docs/api-trust.md)."""
    return protocol.invitation_secrets(protocol.decode_invitation_code(code)).lookup_id


@dataclass
class Attacker:
    """An account the attacker made on the breached server, and a case key pair of theirs."""

    person: Person
    case_sk: bytes = field(repr=False)
    case_pk: bytes


class BreachedServer:
    """The database of the live server behind ``portal``, as an attacker edits it."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def attacker(self) -> Attacker:
        """A facilitator account the server made itself (a server-made code): it has a box key,
        a signing key and a password like anyone, but no certificate from the root."""
        person = self.portal.visitor().join(
            self.portal.invitation_code(self.portal.service_root(), Role.FACILITATOR)
        )
        case_sk, case_pk = protocol.generate_identity()
        return Attacker(person, case_sk, case_pk)

    # -- a participant's case key -----------------------------------------------------------

    def give_attackers_case_key(self, world: CaseWorld, to: Person, attacker: Attacker) -> None:
        """The participant's grant of the case public key replaced with one the attacker made,
        of the attacker's case key, naming the attacker as its sender."""
        grant = protocol.make_case_public_grant(
            attacker.person.secret_key, to.public_key, world.case_id, attacker.case_pk
        )
        with self.portal.db() as db:
            db.execute(
                update(Participant)
                .where(Participant.account_id == to.account_id)
                .values(
                    case_public_grant=grant,
                    case_public_grant_sender_id=attacker.person.account_id,
                )
            )
            db.commit()

    def name_grant_sender(self, of: Person, sender: Person) -> None:
        """The server names ``sender`` as the one who made ``of``'s case public grant."""
        with self.portal.db() as db:
            db.execute(
                update(Participant)
                .where(Participant.account_id == of.account_id)
                .values(case_public_grant_sender_id=sender.account_id)
            )
            db.commit()

    def name_key(self, account_id: str, public_key: bytes) -> bytes:
        """The server serves ``public_key`` as this account's box key; the key it had."""
        with self.portal.db() as db:
            account = db.get(Account, account_id)
            assert account is not None
            before = bytes(account.public_key)
            account.public_key = public_key
            db.commit()
        return before

    def without_case_key(self, world: CaseWorld, person: Person) -> None:
        """As if ``person`` had joined and not yet been given the case key: their case page
        card asks the facilitator's browser to give it (data-needs-case-key)."""
        with self.portal.db() as db:
            db.execute(
                update(Participant)
                .where(Participant.account_id == person.account_id)
                .values(case_public_grant=None, case_public_grant_sender_id=None)
            )
            db.commit()

    def case_public_grant_of(self, person: Person) -> bytes | None:
        with self.portal.db() as db:
            grant = db.scalars(
                select(Participant.case_public_grant).where(
                    Participant.account_id == person.account_id
                )
            ).one()
        return None if grant is None else bytes(grant)

    # -- the facilitator's case key ---------------------------------------------------------

    def swap_case_key(
        self,
        world: CaseWorld,
        attacker: Attacker,
        *,
        grant_by_attacker: bool,
        statement: Statement,
    ) -> None:
        """``cases.public_key`` becomes the attacker's. With ``grant_by_attacker`` the
        facilitator's grant of the case secret key is replaced by one the attacker made of
        their own secret key (otherwise the facilitator's own grant stays). The case-key
        statement is ``kept`` (names the genuine key), ``missing``, or ``forged``: signed by the
        attacker's account for the attacker's key."""
        facilitator = world.facilitator
        with self.portal.db() as db:
            db.execute(
                update(Case).where(Case.id == world.case_id).values(public_key=attacker.case_pk)
            )
            if grant_by_attacker:
                grant = protocol.make_case_grant(
                    attacker.person.secret_key,
                    facilitator.public_key,
                    world.case_id,
                    attacker.case_sk,
                )
                db.execute(
                    update(CaseKeyGrant)
                    .where(
                        CaseKeyGrant.case_id == world.case_id,
                        CaseKeyGrant.recipient_id == facilitator.account_id,
                    )
                    .values(grant=grant, sender_id=attacker.person.account_id)
                )
            if statement == "missing":
                db.execute(delete(CaseKeyEpoch).where(CaseKeyEpoch.case_id == world.case_id))
            elif statement == "forged":
                forged = attacker.person.case_key_statement(world.case_id, attacker.case_pk)
                db.execute(
                    update(CaseKeyEpoch)
                    .where(CaseKeyEpoch.case_id == world.case_id)
                    .values(
                        statement=protocol.b64decode(forged["statement"]),
                        signature=protocol.b64decode(forged["signature"]),
                        signer_account_id=attacker.person.account_id,
                    )
                )
            db.commit()

    # -- a release --------------------------------------------------------------------------

    def release_from_attacker(self, message_id: str, to: Person, attacker: Attacker) -> None:
        """The recipient's grant of an approved message replaced with one the attacker made
        (a content key of their own), naming the attacker as the sender."""
        with self.portal.db() as db:
            message = db.get(Message, message_id)
            assert message is not None
            row = db.scalars(
                select(ContentGrant).where(
                    ContentGrant.object_id == message.object_id,
                    ContentGrant.version == message.version,
                    ContentGrant.purpose == GrantPurpose.RECIPIENT,
                )
            ).one()
            row.grant = protocol.make_content_grant(
                attacker.person.secret_key,
                to.public_key,
                message.object_id,
                message.version,
                secrets.token_bytes(32),
                secrets.token_bytes(32),
            )
            row.sender_id = attacker.person.account_id
            db.commit()

    # -- an invitation made in the inviter's browser ---------------------------------------

    def swap_inviter_keys(
        self, code: str, *, box: bytes | None = None, signing: bytes | None = None
    ) -> None:
        """The invitation's row serves ``box`` and/or ``signing`` as the inviter's keys (the
        keys its MAC covers), as if the inviter were someone else."""
        values: dict[str, bytes] = {}
        if box is not None:
            values["inviter_box_public_key"] = box
        if signing is not None:
            values["inviter_signing_public_key"] = signing
        assert values, "nothing to swap"
        with self.portal.db() as db:
            changed = db.execute(
                update(Invitation).where(Invitation.lookup_id == lookup_id_of(code)).values(values)
            )
            assert changed.rowcount == 1  # type: ignore[attr-defined]
            db.commit()

    def invitation_state(self, code: str) -> InvitationState:
        with self.portal.db() as db:
            invitation = db.scalars(
                select(Invitation).where(Invitation.lookup_id == lookup_id_of(code))
            ).one()
            participant = (
                db.get(Participant, invitation.participant_id)
                if invitation.participant_id
                else None
            )
            return InvitationState(
                redeemed=invitation.redeemed_at is not None,
                account_made=db.get(Account, invitation.account_id) is not None,
                participant_joined=participant is not None and participant.account_id is not None,
            )

    # -- what the server holds afterwards ---------------------------------------------------

    def security_events(self) -> list[SecurityEvent]:
        with self.portal.db() as db:
            rows = db.scalars(
                select(AuditEvent).where(AuditEvent.tag.like("security:%")).order_by(AuditEvent.id)
            ).all()
            return [SecurityEvent(row.tag, row.actor_id, row.subject_id) for row in rows]

    def reference_of(self, world: CaseWorld) -> str:
        with self.portal.db() as db:
            case = db.get(Case, world.case_id)
            assert case is not None
            return case.reference

    def messages_in(self, world: CaseWorld) -> int:
        with self.portal.db() as db:
            return len(db.scalars(select(Message.id).where(Message.case_id == world.case_id)).all())


class Requests:
    """Every request a page makes from now on, as "METHOD /path"."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        page.on("request", self._record)

    def _record(self, request: Request) -> None:
        self.seen.append(f"{request.method} {urlparse(request.url).path}")

    def posts(self, ending: str) -> list[str]:
        return [r for r in self.seen if r.startswith("POST ") and r.endswith(ending)]
