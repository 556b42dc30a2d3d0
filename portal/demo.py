"""``portal demo``: a small demo service, encrypted end to end with the Python protocol.

It does what the browsers would do (derive keys, seal letters, make grants) so that every row
it writes is exactly what real use would write: the server-side code paths are the real ones.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import browser_steps as browser
from portal import protocol
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
from portal.trust import services as trust


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
    # The service root, with its own certificate, unless the service was set up already.
    manager = browser.join_setup(db, settings, hasher, manager_code, "demo manager")
    facilitator = browser.join_invited(
        db,
        settings,
        hasher,
        browser.invite(db, settings, manager, Role.FACILITATOR),
        "demo facilitator",
    )
    # Certified by the demo manager when their own signature counts (they are the root);
    # on a service set up before, a certified service manager certifies both on the Certify
    # page.
    certified = trust.may_sign_for_the_service(db, manager.account)
    if certified:
        browser.certify(db, settings, manager, facilitator.account)

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
        case_key_statement=browser.case_key_statement(
            facilitator.account.id, facilitator.signing_secret, case_id, case_pk
        ),
    )
    people: dict[Side, tuple[browser.BrowserPerson, Participant]] = {}
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
        code = browser.invite(
            db, settings, facilitator, Role.PARTICIPANT, participant=(case, participant)
        )
        person = browser.join_invited(db, settings, hasher, code, name)
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
    if not certified:
        lines += [
            "",
            "This service was set up before, so the demo staff are not certified: a certified",
            "service manager can certify them on the Certify staff page.",
        ]
    return lines
