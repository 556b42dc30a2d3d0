"""A case with its people, built through the HTTP API with the Python protocol (no shortcuts).

``CaseWorld.build(portal)`` gives a facilitator, a case, a person harmed and a person
responsible who joined with their invitations, consented to letters and hold the case key.
Its methods are the story's steps: ``write_letter``, ``claim``, ``approve``, ``open_letter``...
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

from portal import protocol
from portal.accounts.models import Role
from tests.factories import Person, Portal, SealedMessage

b64 = protocol.b64encode
_references = itertools.count(1)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def open_released(recipient: Person, released: dict[str, Any]) -> str:
    """A written letter as its recipient's browser opens it, from the answer that released it
    (POST /api/inbox/{id}/open, or the inbox page's data-released)."""
    return protocol.open_letter(
        recipient.secret_key,
        protocol.b64decode(released["sender_public_key"]),
        released["object_id"],
        released["version"],
        protocol.b64decode(released["grant"]),
        protocol.b64decode(released["manifest"]),
        [protocol.b64decode(c) for c in released["chunks"]],
    )


def open_reviewed_letter(case_sk: bytes, item: dict[str, Any]) -> str:
    """A written letter's text from its review answer, opened with a case secret key (the one
    of the epoch it was sealed in)."""
    return protocol.open_letter(
        case_sk,
        protocol.b64decode(item["author_public_key"]),
        item["object_id"],
        item["version"],
        protocol.b64decode(item["grant"]),
        protocol.b64decode(item["manifest"]),
        [protocol.b64decode(c) for c in item["chunks"]],
    )


def sealed_object(object_id: str, version: int, sealed: protocol.SealedLetter) -> dict[str, Any]:
    return {
        "object_id": object_id,
        "version": version,
        "manifest": b64(sealed.manifest),
        "manifest_hash": b64(sealed.manifest_hash),
        "chunks": [
            {"part": 0, "index": i, "final": i == len(sealed.chunks) - 1, "data": b64(chunk)}
            for i, chunk in enumerate(sealed.chunks)
        ],
    }


def open_case(facilitator: Person) -> tuple[str, bytes, bytes, str]:
    """A new case of ``facilitator``'s, nobody invited yet: its id, secret and public key, and
    reference."""
    case_id = str(uuid.uuid4())
    case_sk, case_pk = protocol.generate_identity()
    reference = f"RJ-{next(_references):04d}"
    grant = protocol.make_case_grant(
        facilitator.secret_key, facilitator.public_key, case_id, case_sk
    )
    _ok(
        facilitator.post_json(
            "/api/cases",
            {
                "case_id": case_id,
                "reference": reference,
                "label": "Burglary, indirect",
                "public_key": b64(case_pk),
                "grant": b64(grant),
                "case_key_statement": facilitator.case_key_statement(case_id, case_pk),
            },
        )
    )
    return case_id, case_sk, case_pk, reference


@dataclass
class CaseWorld:
    portal: Portal
    facilitator: Person
    case_id: str
    case_sk: bytes
    case_pk: bytes
    harmed: Person
    responsible: Person
    participant_ids: dict[str, str] = field(default_factory=dict)  # account id -> participant id
    reference: str = ""

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        portal: Portal,
        facilitator: Person | None = None,
        names: tuple[str, str] = ("Alex", "Sam"),
    ) -> CaseWorld:
        facilitator = facilitator or portal.person(Role.FACILITATOR)
        case_id, case_sk, case_pk, reference = open_case(facilitator)
        world = cls(
            portal,
            facilitator,
            case_id,
            case_sk,
            case_pk,
            harmed=portal.visitor(),
            responsible=portal.visitor(),
            reference=reference,
        )
        world.harmed = world.add_participant("person_harmed", names[0])
        world.responsible = world.add_participant("person_responsible", names[1])
        return world

    def add_participant(self, side: str, display_name: str) -> Person:
        participant_id, code = self.invite_participant(side, display_name)
        base = f"/api/cases/{self.case_id}/participants/{participant_id}"
        person = self.portal.visitor().join_invited(code)
        self.participant_ids[person.account_id] = participant_id
        _ok(self.facilitator.post_json(f"{base}/consent", {"formats": ["letter"]}))
        grant = protocol.make_case_public_grant(
            self.facilitator.secret_key, person.public_key, self.case_id, self.case_pk
        )
        _ok(self.facilitator.post_json(f"{base}/case-key", {"grant": b64(grant)}))
        return person

    def invite_participant(self, side: str, display_name: str) -> tuple[str, str]:
        """A participant added to the case and invited with a code made in the facilitator's
        browser (docs/api-trust.md), not yet joined: their participant id and the code."""
        participant_id = str(uuid.uuid4())
        sealed = protocol.seal_case_text(
            self.case_sk, self.case_id, f"participant-name:{participant_id}", display_name
        )
        _ok(
            self.facilitator.post_json(
                f"/api/cases/{self.case_id}/participants",
                {
                    "participant_id": participant_id,
                    "side": side,
                    "sealed_name": b64(sealed),
                },
            )
        )
        # An invitation made in the facilitator's browser (docs/api-trust.md).
        code = self.facilitator.invite(Role.PARTICIPANT, participant_id, self.case_id)
        return participant_id, code

    def add_without_access(
        self, side: str, display_name: str, formats: tuple[str, ...] = ("letter",)
    ) -> str:
        """A participant added to the case who consented to letters but never joined (someone
        in prison, say): a facilitator enters letters for them. Their participant id."""
        participant_id = str(uuid.uuid4())
        sealed = protocol.seal_case_text(
            self.case_sk, self.case_id, f"participant-name:{participant_id}", display_name
        )
        base = f"/api/cases/{self.case_id}/participants"
        body = {"participant_id": participant_id, "side": side, "sealed_name": b64(sealed)}
        _ok(self.facilitator.post_json(base, body))
        consent = {"formats": list(formats)}
        _ok(self.facilitator.post_json(f"{base}/{participant_id}/consent", consent))
        return participant_id

    def add_supporter_place(
        self,
        for_person: Person | str,
        display_name: str = "Jo",
        *,
        kind: str = "supporter",
        may_read: bool = True,
        may_write: bool = False,
        ends_on: str | None = None,
    ) -> str:
        """A supporter's or representative's place on ``for_person``'s side, as the case page's
        sealed form makes it (the participant's agreement recorded): its id."""
        supporter_id = str(uuid.uuid4())
        sealed = protocol.seal_case_text(
            self.case_sk, self.case_id, f"supporter-name:{supporter_id}", display_name
        )
        body: dict[str, Any] = {
            "supporter_id": supporter_id,
            "kind": kind,
            "may_read": may_read,
            "may_write": may_write,
            "may_receive_notices": False,
            "sealed_name": b64(sealed),
            "participant_agreed": True,
        }
        if ends_on is not None:
            body["ends_on"] = ends_on
        participant_id = self.participant_id(for_person)
        _ok(
            self.facilitator.post_json(
                f"/api/cases/{self.case_id}/participants/{participant_id}/supporters", body
            )
        )
        return supporter_id

    def invite_supporter(self, supporter_id: str, for_person: Person | str) -> str:
        """The place's invitation, made in the facilitator's browser: the code."""
        participant_id = self.participant_id(for_person)
        prepared = _ok(
            self.facilitator.post_json(
                "/api/invitations/prepare", {"role": "supporter", "supporter_id": supporter_id}
            )
        )
        code, sealed = self.facilitator.seal_for(
            prepared, Role.SUPPORTER, participant_id, self.case_id
        )
        _ok(
            self.facilitator.post_json(f"/api/invitations/{prepared['invitation_id']}/seal", sealed)
        )
        return code

    def add_supporter(
        self, for_person: Person | str, *, verified: bool = True, **place: Any
    ) -> tuple[Person, str]:
        """A supporter who joined on ``for_person``'s side: the person and their place's id.
        ``verified``: the facilitator compared their security number in person (the server
        accepts a grant to a supporter only then)."""
        supporter_id = self.add_supporter_place(for_person, **place)
        person = self.portal.visitor().join_invited(self.invite_supporter(supporter_id, for_person))
        if verified:
            self.verify_supporter(supporter_id, person)
        return person, supporter_id

    def add_writer(self, for_person: Person, **place: Any) -> tuple[Person, str]:
        """A supporter who joined on ``for_person``'s side and may write for them, given the
        case public key as the case page's browser gives it: the person and their place's id."""
        place.setdefault("may_write", True)
        person, supporter_id = self.add_supporter(for_person, **place)
        grant = protocol.make_case_public_grant(
            self.facilitator.secret_key, person.public_key, self.case_id, self.case_pk
        )
        url = f"/api/cases/{self.case_id}/supporters/{supporter_id}/case-key"
        _ok(self.facilitator.post_json(url, {"grant": b64(grant)}))
        return person, supporter_id

    def verify_supporter(self, supporter_id: str, person: Person) -> None:
        """The facilitator compared the supporter's security number in person."""
        url = f"/api/cases/{self.case_id}/supporters/{supporter_id}/verified"
        _ok(self.facilitator.post_json(url, {"public_key": b64(person.public_key)}))

    def verify(self, person: Person) -> None:
        """The facilitator compared the participant's security number in person."""
        url = f"/api/cases/{self.case_id}/participants/{self.participant_id(person)}/verified"
        _ok(self.facilitator.post_json(url, {"public_key": b64(person.public_key)}))

    def participant_id(self, person: Person | str) -> str:
        """A person's participant id (or the id itself, for someone without an account)."""
        if isinstance(person, str):
            return person
        return self.participant_ids[person.account_id]

    def consent(self, person: Person, formats: list[str]) -> None:
        base = f"/api/cases/{self.case_id}/participants/{self.participant_id(person)}"
        _ok(self.facilitator.post_json(f"{base}/consent", {"formats": formats}))

    # -- the author -------------------------------------------------------------------------

    def case_key_as_seen_by(self, person: Person) -> bytes:
        me = _ok(person.get("/api/me/case"))
        return protocol.open_case_public_grant(
            person.secret_key,
            protocol.b64decode(me["grant_sender_public_key"]),
            me["case_id"],
            protocol.b64decode(me["case_public_grant"]),
        )

    def write_letter(self, author: Person, text: str, to: str | None = None) -> str:
        """``to``: the recipient's participant id (the first one offered by default)."""
        case_pk = self.case_key_as_seen_by(author)
        me = _ok(author.get("/api/me/case"))
        object_id = _ok(author.post_json("/api/letters/objects"))["object_id"]
        sealed = protocol.seal_letter(
            author.secret_key,
            author.public_key,
            case_pk,
            object_id,
            1,
            text,
            "2026-11-22T12:00:00Z",
            author.account_id,
        )
        body = {
            "recipient_participant_id": to or me["recipients"][0]["participant_id"],
            "letter": sealed_object(object_id, 1, sealed),
            "grant_to_case": b64(sealed.grant_to_case),
            "grant_to_author": b64(sealed.grant_to_author),
        }
        return str(_ok(author.post_json("/api/letters", body))["message_id"])

    def seal_media(
        self,
        author: Person,
        text: str,
        media: list[protocol.Part],
        *,
        object_id: str | None = None,
        version: int = 1,
    ) -> SealedMessage:
        """A new object id (unless given) and the message sealed as the author's browser would."""
        if object_id is None:
            object_id = _ok(author.post_json("/api/letters/objects"))["object_id"]
        return author.seal_message(
            self.case_key_as_seen_by(author), object_id, version, text, media
        )

    def submit_media(
        self,
        author: Person,
        sealed: SealedMessage,
        *,
        format_: str = "video",
        length: dict[str, int] | None = None,
    ) -> httpx.Response:
        me = _ok(author.get("/api/me/case"))
        body: dict[str, Any] = {
            "recipient_participant_id": me["recipients"][0]["participant_id"],
            "letter": sealed.letter_json(),
            "grant_to_case": b64(sealed.grant_to_case),
            "grant_to_author": b64(sealed.grant_to_author),
            "format": format_,
        }
        if length is not None:
            body["length"] = length
        return author.post_json("/api/letters", body)

    def write_media_message(
        self,
        author: Person,
        text: str,
        media: list[protocol.Part],
        *,
        format_: str = "video",
        length: dict[str, int] | None = None,
    ) -> str:
        """Seal, upload every chunk, submit: a media message under review."""
        sealed = self.seal_media(author, text, media)
        author.upload(sealed)
        return str(
            _ok(self.submit_media(author, sealed, format_=format_, length=length))["message_id"]
        )

    def revise_letter(self, author: Person, message_id: str, text: str) -> None:
        current = _ok(author.get(f"/api/letters/{message_id}"))
        version = current["version"] + 1
        sealed = protocol.seal_letter(
            author.secret_key,
            author.public_key,
            self.case_key_as_seen_by(author),
            current["object_id"],
            version,
            text,
            "2026-11-22T13:00:00Z",
            author.account_id,
        )
        _ok(
            author.post_json(
                f"/api/letters/{message_id}/revise",
                {
                    "letter": sealed_object(current["object_id"], version, sealed),
                    "grant_to_case": b64(sealed.grant_to_case),
                    "grant_to_author": b64(sealed.grant_to_author),
                },
            )
        )

    def read_own_letter(self, author: Person, message_id: str) -> str:
        """Their own grant, or the one a facilitator made again after their key changed."""
        mine = _ok(author.get(f"/api/letters/{message_id}"))
        return protocol.open_letter(
            author.secret_key,
            protocol.b64decode(mine["sender_public_key"]),
            mine["object_id"],
            mine["version"],
            protocol.b64decode(mine["grant"]),
            protocol.b64decode(mine["manifest"]),
            [protocol.b64decode(c) for c in mine["chunks"]],
        )

    def read_feedback(self, author: Person, message_id: str) -> str:
        feedback = _ok(author.get(f"/api/letters/{message_id}"))["feedback"]
        return self._open_note(author, feedback)

    # -- the facilitator --------------------------------------------------------------------

    def review(
        self, message_id: str, facilitator: Person | None = None
    ) -> tuple[dict[str, Any], str]:
        facilitator = facilitator or self.facilitator
        _ok(facilitator.post_json(f"/api/messages/{message_id}/claim"))
        item = _ok(facilitator.get(f"/api/messages/{message_id}/review"))
        key = _ok(facilitator.get(f"/api/cases/{self.case_id}/key"))
        case_sk = protocol.open_case_grant(
            facilitator.secret_key,
            protocol.b64decode(key["sender_public_key"]),
            self.case_id,
            protocol.b64decode(key["grant"]),
        )
        if len(item["layout"]) > len(item["chunks"]):  # a media message: uploaded parts too
            parts = facilitator.open_sealed(
                case_sk,
                protocol.b64decode(item["author_public_key"]),
                item,
                protocol.b64decode(item["grant"]),
            )
            return item, parts[0].data.decode()
        return item, open_reviewed_letter(case_sk, item)

    def case_secret_key(self, facilitator: Person | None = None) -> bytes:
        facilitator = facilitator or self.facilitator
        key = _ok(facilitator.get(f"/api/cases/{self.case_id}/key"))
        return protocol.open_case_grant(
            facilitator.secret_key,
            protocol.b64decode(key["sender_public_key"]),
            self.case_id,
            protocol.b64decode(key["grant"]),
        )

    def _sealed_by(
        self, facilitator: Person, kind: str, text: str
    ) -> tuple[str, protocol.SealedLetter]:
        """A facilitator's words of ``kind``, sealed in their browser to the case key under an
        object id the server issued: (object id, sealed)."""
        object_id = _ok(
            facilitator.post_json(f"/api/cases/{self.case_id}/objects", {"kind": kind})
        )["object_id"]
        sealed = protocol.seal_letter(
            facilitator.secret_key,
            facilitator.public_key,
            self.case_pk,
            object_id,
            1,
            text,
            "2026-11-22T12:30:00Z",
            facilitator.account_id,
        )
        return object_id, sealed

    def note(
        self, person_pk: bytes, kind: str, text: str, facilitator: Person | None = None
    ) -> dict[str, Any]:
        f = facilitator or self.facilitator
        object_id, sealed = self._sealed_by(f, kind, text)
        grant_to_person = protocol.make_content_grant(
            f.secret_key, person_pk, object_id, 1, sealed.content_key, sealed.manifest_hash
        )
        return {
            **sealed_object(object_id, 1, sealed),
            "grant_to_case": b64(sealed.grant_to_case),
            "grant_to_person": b64(grant_to_person),
        }

    def return_with_feedback(
        self, message_id: str, feedback: str, writer: Person | None = None
    ) -> httpx.Response:
        """Return, the feedback sealed to whoever wrote it (the person responsible by
        default; ``writer``: one who wrote it on their behalf)."""
        self.review(message_id)
        to = (writer or self.responsible).public_key
        body = {"feedback": self.note(to, "feedback", feedback)}
        return self.facilitator.post_json(f"/api/messages/{message_id}/return", body)

    # -- a team of facilitators and two-person approval --------------------------------------

    def add_colleague(self, colleague: Person) -> httpx.Response:
        """``colleague`` (a certified facilitator) joins the case's team: the first
        facilitator's browser grants them the case key (POST /api/cases/{id}/facilitators)."""
        grant = protocol.make_case_grant(
            self.facilitator.secret_key, colleague.public_key, self.case_id, self.case_sk
        )
        added = self.facilitator.post_json(
            f"/api/cases/{self.case_id}/facilitators",
            {"account_id": colleague.account_id, "grant": b64(grant)},
        )
        assert added.status_code == 200, added.text
        return added

    def mark_high_risk(self, reason: str = "domestic_abuse") -> httpx.Response:
        return self.facilitator.post_json(
            f"/api/cases/{self.case_id}/high-risk", {"high_risk": reason}
        )

    def approval_note(self, text: str, facilitator: Person | None = None) -> dict[str, Any]:
        """A first approver's note: sealed to the case key, with no grant to anyone else."""
        object_id, sealed = self._sealed_by(facilitator or self.facilitator, "approval_note", text)
        return {**sealed_object(object_id, 1, sealed), "grant_to_case": b64(sealed.grant_to_case)}

    def open_note_with_case_key(self, note: dict[str, Any]) -> str:
        """A note as a facilitator's browser opens it: with the case secret key."""
        return protocol.open_letter(
            self.case_sk,
            protocol.b64decode(note["sender_public_key"]),
            note["object_id"],
            note["version"],
            protocol.b64decode(note["grant"]),
            protocol.b64decode(note["manifest"]),
            [protocol.b64decode(c) for c in note["chunks"]],
        )

    def approve_once(
        self, message_id: str, note: str | None = None, facilitator: Person | None = None
    ) -> httpx.Response:
        """The first of two approvals: claim, read, approve with a note for the second."""
        facilitator = facilitator or self.facilitator
        self.review(message_id, facilitator)
        body = {"note": self.approval_note(note, facilitator)} if note else {}
        return facilitator.post_json(f"/api/messages/{message_id}/approve-once", body)

    def approve(
        self,
        message_id: str,
        note: str | None = None,
        recipient: Person | None = None,
        *,
        transcript: str | None = None,
        transcript_label: str | None = None,
        facilitator: Person | None = None,
        claim: bool = True,
        readers: dict[str, Person] | None = None,
    ) -> httpx.Response:
        """Approve as ``facilitator`` (the case's first by default): claimed first, unless it
        is a second approval (``claim=False``: an item approved once is decided unclaimed).
        ``readers``: supporter id -> supporter, granted as the facilitator's browser grants
        those it compared in person."""
        recipient = recipient or self.harmed
        approver = facilitator or self.facilitator
        if claim:
            item, _text = self.review(message_id, approver)
        else:
            item = _ok(approver.get(f"/api/messages/{message_id}/review"))
        key = _ok(approver.get(f"/api/cases/{self.case_id}/key"))
        case_sk = protocol.open_case_grant(
            approver.secret_key,
            protocol.b64decode(key["sender_public_key"]),
            self.case_id,
            protocol.b64decode(key["grant"]),
        )
        content_key, digest = protocol.open_content_grant(
            case_sk,
            protocol.b64decode(item["author_public_key"]),
            item["object_id"],
            item["version"],
            protocol.b64decode(item["grant"]),
        )

        def grant_to(person: Person) -> str:
            """This version's content key, boxed from the approver to ``person``."""
            return b64(
                protocol.make_content_grant(
                    approver.secret_key,
                    person.public_key,
                    item["object_id"],
                    item["version"],
                    content_key,
                    digest,
                )
            )

        body: dict[str, Any] = {"recipient_grant": grant_to(recipient)}
        if readers:
            body["supporter_grants"] = [
                {"supporter_id": supporter_id, "grant": grant_to(reader)}
                for supporter_id, reader in readers.items()
            ]
        if note is not None:
            body["note"] = self.note(recipient.public_key, "content_note", note, approver)
        if transcript is not None:
            body["transcript"] = self.note(recipient.public_key, "transcript", transcript, approver)
        if transcript_label is not None:
            body["transcript_label"] = transcript_label
        return approver.post_json(f"/api/messages/{message_id}/approve", body)

    def withhold(self, message_id: str, reason: str) -> httpx.Response:
        self.review(message_id)
        body = {"reason": self.note(self.responsible.public_key, "feedback", reason)}
        return self.facilitator.post_json(f"/api/messages/{message_id}/withhold", body)

    # -- the recipient ----------------------------------------------------------------------

    def read_content_note(self, recipient: Person, message_id: str) -> str:
        note = _ok(recipient.get(f"/api/inbox/{message_id}/note"))["note"]
        return self._open_note(recipient, note)

    def open_letter(self, recipient: Person, message_id: str, *, tell_author: bool = False) -> str:
        released = _ok(
            recipient.post_json(f"/api/inbox/{message_id}/open", {"author_may_see": tell_author})
        )
        return open_released(recipient, released)

    def open_media(
        self, recipient: Person, message_id: str, *, tell_author: bool = False
    ) -> tuple[dict[str, Any], list[protocol.Part]]:
        """Opt in, then open every part, fetching uploaded chunks as the browser would."""
        released = _ok(
            recipient.post_json(f"/api/inbox/{message_id}/open", {"author_may_see": tell_author})
        )
        parts = recipient.open_sealed(
            recipient.secret_key,
            protocol.b64decode(released["sender_public_key"]),
            released,
            protocol.b64decode(released["grant"]),
        )
        return released, parts

    def open_note(self, reader: Person, note: dict[str, Any]) -> str:
        return self._open_note(reader, note)

    def _open_note(self, reader: Person, note: dict[str, Any]) -> str:
        return protocol.open_letter(
            reader.secret_key,
            protocol.b64decode(note["sender_public_key"]),
            note["object_id"],
            note["version"],
            protocol.b64decode(note["grant"]),
            protocol.b64decode(note["manifest"]),
            [protocol.b64decode(c) for c in note["chunks"]],
        )

    # -- the team changes -------------------------------------------------------------------

    def remove_facilitator(self, who: Person, by: Person | None = None) -> httpx.Response:
        """``by`` (the first facilitator by default) takes ``who`` off the case."""
        remover = by or self.facilitator
        return remover.post_json(f"/api/cases/{self.case_id}/facilitators/{who.account_id}/remove")

    def next_epoch_fields(
        self, by: Person, team: list[Person], *, chain: bool = True, epoch: int | None = None
    ) -> tuple[dict[str, Any], bytes, bytes]:
        """The next epoch as ``by``'s browser makes it (client/case-epochs.js): a new key pair,
        signed; the secret boxed to each of ``team``, the public key to every participant who
        joined, and (``chain``) the current secret boxed to the new key. Returns the fields
        and the new key pair."""
        if epoch is None:
            epoch = _ok(by.get(f"/api/cases/{self.case_id}/key"))["epoch"] + 1
        new_sk, new_pk = protocol.generate_identity()
        listed = by.get(f"/api/cases/{self.case_id}/participants")
        assert listed.status_code == 200, listed.text
        participants: list[dict[str, Any]] = listed.json()
        fields = {
            "epoch": epoch,
            "public_key": b64(new_pk),
            "case_key_statement": by.case_key_statement(self.case_id, new_pk, epoch),
            "facilitator_grants": [
                {
                    "account_id": member.account_id,
                    "grant": b64(
                        protocol.make_case_grant(
                            by.secret_key, member.public_key, self.case_id, new_sk
                        )
                    ),
                }
                for member in team
            ],
            "participant_grants": [
                {
                    "participant_id": p["participant_id"],
                    "grant": b64(
                        protocol.make_case_public_grant(
                            by.secret_key,
                            protocol.b64decode(p["account_public_key"]),
                            self.case_id,
                            new_pk,
                        )
                    ),
                }
                for p in participants
                if p["joined"] and not p["withdrawn_at"]
            ],
        }
        if chain:
            old_sk = self.case_secret_key(by)
            fields["previous_grant"] = b64(
                protocol.make_case_grant(new_sk, new_pk, self.case_id, old_sk)
            )
        return fields, new_sk, new_pk

    def start_next_epoch(
        self, by: Person, team: list[Person], *, chain: bool = True, epoch: int | None = None
    ) -> None:
        """``by``'s browser makes the next epoch for ``team`` (``epoch``: for a browser that
        holds no key of the case to ask); the world then seals with it and ``by`` speaks for
        the case's facilitators."""
        fields, new_sk, new_pk = self.next_epoch_fields(by, team, chain=chain, epoch=epoch)
        _ok(by.post_json(f"/api/cases/{self.case_id}/key-epochs", fields))
        self.case_sk, self.case_pk, self.facilitator = new_sk, new_pk, by
