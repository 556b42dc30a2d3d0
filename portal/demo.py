"""``portal demo``: a small demo service, encrypted end to end with the Python protocol.

It does what the browsers would do (derive keys, seal letters, make grants) so that every row
it writes is exactly what real use would write: the server-side code paths are the real ones.
"""

from __future__ import annotations

import secrets
import uuid

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts import services as accounts
from portal.accounts.hashing import make_hasher
from portal.accounts.models import Account, Role
from portal.cases import services as cases
from portal.cases.models import Format, Participant, Side
from portal.content import services as content
from portal.content.models import ContentKind, GrantPurpose
from portal.db import required, utcnow
from portal.errors import Conflict
from portal.invitations import services as invitations
from portal.messages import services
from portal.settings import Settings


class DemoPerson:
    def __init__(self, account: Account, password: str, secret_key: bytes) -> None:
        self.account = account
        self.password = password
        self.secret_key = secret_key

    @property
    def public_key(self) -> bytes:
        return self.account.public_key


def _passphrase() -> str:
    # Printed once; strong enough even if someone runs the demo on a reachable machine.
    return secrets.token_urlsafe(15)


def _join(
    db: Session, settings: Settings, hasher: PasswordHasher, code: str, name: str
) -> DemoPerson:
    invitation = invitations.usable_invitation(db, settings, code)
    password = _passphrase()
    keys = protocol.derive_account_keys(
        password, invitation.kdf_salt, invitation.kdf_ops, invitation.kdf_mem
    )
    secret_key, public_key = protocol.generate_identity()
    recovery = protocol.generate_recovery_key()
    account = invitations.complete_join(
        db,
        settings,
        hasher,
        code,
        name,
        accounts.NewAccountKeys(
            public_key=public_key,
            auth_key=keys.auth_key,
            bundle=protocol.wrap_secret_key(keys.wrap_key, invitation.account_id, secret_key),
            recovery_auth=protocol.recovery_auth_key(recovery),
            recovery_bundle=protocol.wrap_with_recovery(
                recovery, invitation.account_id, secret_key
            ),
        ),
    )
    return DemoPerson(account, password, secret_key)


def _upload(object_id: str, version: int, sealed: protocol.SealedLetter) -> content.Upload:
    last = len(sealed.chunks) - 1
    return content.Upload(
        manifest=sealed.manifest,
        manifest_hash=sealed.manifest_hash,
        chunks=tuple(content.ChunkIn(0, i, i == last, c) for i, c in enumerate(sealed.chunks)),
    )


def seed_demo(db: Session, settings: Settings) -> list[str]:
    """Create the demo; returns the lines to print. Refuses to run twice."""
    if db.scalars(select(Account).where(Account.sign_in_name == "demo facilitator")).first():
        raise Conflict("The demo has already been seeded in this database.")
    hasher = make_hasher(settings.auth_hash_profile)
    manager_code = invitations.issue_setup_link(db, settings).code
    manager = _join(db, settings, hasher, manager_code, "demo manager")
    facilitator = _join(
        db,
        settings,
        hasher,
        invitations.create_invitation(db, settings, manager.account, Role.FACILITATOR).code,
        "demo facilitator",
    )

    case_id = str(uuid.uuid4())
    case_sk, case_pk = protocol.generate_identity()
    case = cases.open_case(
        db,
        settings,
        facilitator.account,
        case_id=case_id,
        reference="DEMO-001",
        label="Demo case: indirect letters",
        public_key=case_pk,
        own_grant=protocol.make_case_grant(
            facilitator.secret_key, facilitator.public_key, case_id, case_sk
        ),
    )
    people: dict[Side, tuple[DemoPerson, Participant]] = {}
    for side, display_name, name in [
        (Side.PERSON_HARMED, "Alex (demo)", "demo harmed"),
        (Side.PERSON_RESPONSIBLE, "Sam (demo)", "demo responsible"),
    ]:
        participant_id = str(uuid.uuid4())
        participant = cases.add_participant(
            db,
            settings,
            facilitator.account,
            case,
            side,
            protocol.seal_case_text(
                case_sk, case_id, f"participant-name:{participant_id}", display_name
            ),
            participant_id=participant_id,
        )
        code = invitations.invite_participant(
            db, settings, facilitator.account, case, participant
        ).code
        person = _join(db, settings, hasher, code, name)
        # Both agreed to every format, so a newcomer can try letters, recordings and scans.
        every_format = frozenset(Format)
        cases.record_consent(db, settings, facilitator.account, case, participant, every_format)
        cases.give_case_public_key(
            db,
            settings,
            facilitator.account,
            case,
            participant,
            protocol.make_case_public_grant(
                facilitator.secret_key, person.public_key, case_id, case_pk
            ),
        )
        cases.mark_key_verified(
            db, settings, facilitator.account, case, participant, person.public_key
        )
        people[side] = (person, participant)

    author, author_participant = people[Side.PERSON_RESPONSIBLE]
    recipient, recipient_participant = people[Side.PERSON_HARMED]
    letters = [
        "I have wanted to write to you for a long time. I am sorry for the fear I caused.",
        "This is my first try at a letter. I know it is not right yet.",
        "I understand if you do not want to read this. I wanted you to know I am sorry.",
    ]
    sent = []
    for text in letters:
        obj = content.issue_object(db, case, author.account, ContentKind.LETTER)
        sealed = protocol.seal_letter(
            author.secret_key,
            author.public_key,
            case_pk,
            obj.id,
            1,
            text,
            utcnow().isoformat(),
            author.account.id,
        )
        sent.append(
            services.submit_letter(
                db,
                settings,
                author.account,
                author_participant,
                recipient_participant,
                obj,
                _upload(obj.id, 1, sealed),
                services.AuthorGrants(sealed.grant_to_case, sealed.grant_to_author),
            )
        )
    _, returned, approved = sent

    def note(kind: ContentKind, text: str, person_pk: bytes) -> services.NoteIn:
        obj = content.issue_object(db, case, facilitator.account, kind)
        sealed = protocol.seal_letter(
            facilitator.secret_key,
            facilitator.public_key,
            case_pk,
            obj.id,
            1,
            text,
            utcnow().isoformat(),
            facilitator.account.id,
        )
        to_person = protocol.make_content_grant(
            facilitator.secret_key, person_pk, obj.id, 1, sealed.content_key, sealed.manifest_hash
        )
        return services.NoteIn(
            obj.id, kind, _upload(obj.id, 1, sealed), sealed.grant_to_case, to_person
        )

    services.claim(db, settings, facilitator.account, returned)
    services.return_for_changes(
        db,
        settings,
        facilitator.account,
        returned,
        note(
            ContentKind.FEEDBACK,
            "Thank you. Could you say a little more about what you are doing now?",
            author.public_key,
        ),
    )

    services.claim(db, settings, facilitator.account, approved)
    case_grant = required(
        content.grant_for(db, approved.object_id, 1, GrantPurpose.CASE),
        "the case grant submit_letter stored",
    )
    key, digest = protocol.open_content_grant(
        case_sk, author.public_key, approved.object_id, 1, case_grant.grant
    )
    services.approve(
        db,
        settings,
        facilitator.account,
        approved,
        protocol.make_content_grant(
            facilitator.secret_key, recipient.public_key, approved.object_id, 1, key, digest
        ),
        note(
            ContentKind.CONTENT_NOTE,
            "A short letter of apology. It mentions the night of the burglary briefly.",
            recipient.public_key,
        ),
    )
    people_lines = [
        ("Service manager", manager),
        ("Facilitator", facilitator),
        ("Person harmed", recipient),
        ("Person responsible", author),
    ]
    lines = ["The demo service is ready. Sign in at /sign-in with:", ""]
    for role, person in people_lines:
        lines.append(
            f"  {role:<20} name: {person.account.sign_in_name:<18} password: {person.password}"
        )
    lines += [
        "",
        "Case DEMO-001 has a letter waiting for review, one returned with feedback,",
        "and one approved and waiting for the person harmed to choose.",
    ]
    return lines
