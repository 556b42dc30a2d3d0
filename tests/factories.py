"""People who use the portal through its HTTP API, doing in Python what the browser does.

Every key is derived and every bundle wrapped with ``portal.protocol`` (the real crypto, no
mocks), so these tests exercise the same requests the browser sends.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from portal import protocol
from portal.accounts.models import Account, Role
from portal.db import make_session_factory
from portal.invitations import services
from portal.settings import Settings
from tests.support import second_factor

KDF_OPS = 1
KDF_MEM = 8 * 1024 * 1024
LETTER_MIME = "text/plain; charset=utf-8"
# issued_at in the statements test browsers sign: any valid time does (the server does not
# judge the clock; browsers compare times with each other).
NOW = "2026-11-26T09:00:00Z"
INVITATION_MAC_FIELDS = (
    "invitation_id",
    "account_id",
    "role",
    "case_id",
    "participant_id",
    "inviter_account_id",
    "inviter_box_public_key",
    "inviter_signing_public_key",
    "root_account_id",
    "root_signing_public_key",
    "expires_at",
)
_names = itertools.count(1)
b64 = protocol.b64encode


def mac_fields(invitation: dict[str, Any]) -> dict[str, Any]:
    """The MAC fields of a join/start answer, as a joiner's browser takes them
    (``client/joining.js`` macFields): with purpose "rekey" when the server says so."""
    fields = {name: invitation[name] for name in INVITATION_MAC_FIELDS}
    return fields | ({"purpose": "rekey"} if invitation.get("purpose") == "rekey" else {})


def chunk_list(chunks: Sequence[bytes]) -> str:
    """The X-Chunks header of a PUT of several chunks: each one's size and hash, in order."""
    return ",".join(f"{len(c)}:{protocol.b64encode(protocol.chunk_hash(c))}" for c in chunks)


@dataclass(frozen=True)
class SealedMessage:
    """A message of several parts, encrypted as the browser does (docs/api-media.md).

    Part 0 is the text (sent inline); parts 1.. are recordings, pages or files (uploaded).
    """

    object_id: str
    version: int
    encrypted: protocol.EncryptedObject
    grant_to_case: bytes
    grant_to_author: bytes
    content_key: bytes = field(repr=False)

    def uploaded(self) -> list[tuple[int, int, bytes]]:
        """(part, index, chunk) of every chunk that travels by upload, in order."""
        return [
            (part, index, chunk)
            for part, chunks in enumerate(self.encrypted.chunks)
            if part > 0
            for index, chunk in enumerate(chunks)
        ]

    @property
    def uploaded_bytes(self) -> int:
        return sum(len(chunk) for _part, _index, chunk in self.uploaded())

    def letter_json(self) -> dict[str, Any]:
        """The ``letter`` field of a submit: inline part 0 and the stored chunks it lists."""
        inline = self.encrypted.chunks[0]
        return {
            "object_id": self.object_id,
            "version": self.version,
            "manifest": b64(self.encrypted.manifest_blob),
            "manifest_hash": b64(self.encrypted.manifest_hash),
            "chunks": [
                {"part": 0, "index": i, "final": i == len(inline) - 1, "data": b64(chunk)}
                for i, chunk in enumerate(inline)
            ],
            "stored_chunks": [
                {
                    "part": part,
                    "index": index,
                    "final": index == len(self.encrypted.chunks[part]) - 1,
                    "size": len(chunk),
                    "hash": b64(protocol.chunk_hash(chunk)),
                }
                for part, index, chunk in self.uploaded()
            ],
        }


@dataclass
class Person:
    """One browser: its own cookie jar, and what it knows after joining."""

    http: httpx.Client
    name: str = ""
    password: str = ""
    account_id: str = ""
    role: str = ""
    secret_key: bytes = b""
    public_key: bytes = b""
    recovery_key: bytes = b""
    jar: httpx.Cookies = field(default_factory=httpx.Cookies)
    # A browser made before trust anchors: it sends no signing key when joining.
    legacy: bool = False
    # Staff add an authenticator app as they join (they can reach nothing else before): its
    # secret, as the set-up page showed it. "" for anyone without one.
    totp_secret: str = ""
    adds_app_on_joining: bool = True

    @property
    def signing_secret(self) -> bytes:
        return protocol.signing_keys_from_secret(self.secret_key)[0]

    @property
    def signing_public_key(self) -> bytes:
        return protocol.signing_public_key_from_secret(self.secret_key)

    # -- transport -------------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.http.cookies = self.jar
        kwargs.setdefault("follow_redirects", False)
        response = self.http.request(method, url, **kwargs)
        self.jar = httpx.Cookies(self.http.cookies)
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def csrf(self) -> str:
        if "portal_csrf" not in self.jar:
            self.get("/healthz")
        return str(self.jar["portal_csrf"])

    def post_json(
        self,
        url: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.request(
            "POST", url, json=body or {}, headers={"X-CSRF-Token": self.csrf(), **(headers or {})}
        )

    def post_form(self, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        form = {"csrf_token": self.csrf(), **(data or {})}
        return self.request("POST", url, data=form)

    # -- journeys --------------------------------------------------------------------------

    def join(
        self,
        code: str,
        name: str | None = None,
        password: str | None = None,
        *,
        as_root: bool = False,
    ) -> Person:
        """Join with a server-made code (the setup link, or an invitation made before trust
        anchors). ``as_root``: at setup, send this service manager's own certificate."""
        invitation = self._start_join({"code": code}, name, password)
        body = self.join_body(code, self._account_keys(invitation))
        if as_root:
            statement, signature = self.sign_staff_cert(self.account_id, self.role, self)
            body["staff_cert"] = {"statement": b64(statement), "signature": b64(signature)}
        completed = self.post_json("/api/join/complete", body)
        assert completed.status_code == 200, completed.text
        self._add_app_if_staff(completed.json())
        return self

    def join_invited(
        self, code_text: str, name: str | None = None, password: str | None = None
    ) -> Person:
        """Join with a code made in the inviter's browser (docs/api-trust.md): find the
        invitation by its lookup id, check its MAC before anything else is sent, redeem it
        with the redeem proof."""
        found = protocol.invitation_secrets(protocol.decode_invitation_code(code_text))
        invitation = self._start_join({"lookup_id": found.lookup_id}, name, password)
        fields = mac_fields(invitation)
        protocol.check_invitation_mac(found.mac_key, fields, protocol.b64decode(invitation["mac"]))
        body: dict[str, Any] = self.join_body("", self._account_keys(invitation))
        del body["code"]
        body["redeem_proof"] = b64(found.redeem_proof)
        completed = self.post_json("/api/join/complete", body)
        assert completed.status_code == 200, completed.text
        self._add_app_if_staff(completed.json())
        return self

    # -- the second factor (docs/security.md "Second factor") -------------------------------

    def _add_app_if_staff(self, signed_in: dict[str, Any]) -> None:
        if signed_in.get("second_factor") == "enrol" and self.adds_app_on_joining:
            self.add_authenticator_app()

    def add_authenticator_app(self) -> str:
        """Add an authenticator app through its set-up page: read the secret it shows, confirm
        with the first code (pyotp, from that secret)."""
        page = self.get("/account/second-factor/app")
        assert page.status_code == 200, page.text
        found = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
        assert found is not None, "the set-up page shows no secret"
        secret = found.group(1)
        confirmed = self.post_form(
            "/account/second-factor/app", {"code": second_factor.used_now(secret)}
        )
        assert confirmed.status_code == 303, confirmed.text
        self.totp_secret = secret
        second_factor.remember(self.name, secret)
        return secret

    def pass_second_factor(self) -> httpx.Response:
        """The step after the password, with the app's next code (another device of the same
        person, made with their name and password, uses the same app)."""
        secret = self.totp_secret or second_factor.secret_for(self.name)
        assert secret, "this person has no authenticator app"
        return self.post_json(
            "/api/sign-in/second-factor", {"code": second_factor.next_code(secret)}
        )

    def _start_join(
        self, start: dict[str, str], name: str | None, password: str | None
    ) -> dict[str, Any]:
        self.name = name or f"person {next(_names)}"
        self.password = password or secrets.token_urlsafe(12)
        started = self.post_json("/api/join/start", start)
        assert started.status_code == 200, started.text
        invitation: dict[str, Any] = started.json()
        self.account_id = invitation["account_id"]
        self.role = invitation["role"]
        return invitation

    def _account_keys(self, invitation: dict[str, Any]) -> protocol.AccountKeys:
        kdf = invitation["kdf"]
        keys = protocol.derive_account_keys(
            self.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
        )
        self.secret_key, self.public_key = protocol.generate_identity()
        self.recovery_key = protocol.generate_recovery_key()
        return keys

    def join_body(self, code: str, keys: protocol.AccountKeys) -> dict[str, Any]:
        b64 = protocol.b64encode
        body: dict[str, Any] = {
            "code": code,
            "sign_in_name": self.name,
            "public_key": b64(self.public_key),
            "auth_key": b64(keys.auth_key),
            "bundle": b64(
                protocol.wrap_secret_key(keys.wrap_key, self.account_id, self.secret_key)
            ),
            "recovery_auth": b64(protocol.recovery_auth_key(self.recovery_key)),
            "recovery_bundle": b64(
                protocol.wrap_with_recovery(self.recovery_key, self.account_id, self.secret_key)
            ),
        }
        if not self.legacy:
            body["signing_public_key"] = b64(self.signing_public_key)
        return body

    # -- trust anchors (docs/api-trust.md) -------------------------------------------------

    def sign_staff_cert(
        self, account_id: str, role: str, subject: Person, issued_at: str | None = None
    ) -> tuple[bytes, bytes]:
        """A staff-cert by this person for ``subject``'s keys."""
        return protocol.sign_staff_cert(
            self.signing_secret,
            {
                "account_id": account_id,
                "role": role,
                "box_public_key": b64(subject.public_key),
                "signing_public_key": b64(subject.signing_public_key),
                "issued_at": issued_at or NOW,
                "issuer_account_id": self.account_id,
            },
        )

    def certify(self, subject: Person) -> httpx.Response:
        """The Certify page's sealer: a staff-cert for ``subject``, posted."""
        statement, signature = self.sign_staff_cert(subject.account_id, subject.role, subject)
        return self.post_json(
            "/api/trust/certificates",
            {"statement": b64(statement), "signature": b64(signature)},
        )

    def sign_revocation(self, subject: Person, reason: str = "disabled") -> dict[str, str]:
        statement, signature = protocol.sign_revocation(
            self.signing_secret,
            {
                "account_id": subject.account_id,
                "revoked_at": NOW,
                "issuer_account_id": self.account_id,
                "reason": reason,
            },
        )
        return {"statement": b64(statement), "signature": b64(signature)}

    def sign_root_handover(
        self, new_root: Person, signing_key: bytes | None = None
    ) -> dict[str, str]:
        """The root's hand-over to ``new_root`` (naming ``signing_key``, theirs by default)."""
        statement, signature = protocol.sign_root_handover(
            self.signing_secret,
            {
                "new_root_account_id": new_root.account_id,
                "new_root_signing_public_key": b64(signing_key or new_root.signing_public_key),
                "issued_at": NOW,
                "issuer_account_id": self.account_id,
            },
        )
        return {"statement": b64(statement), "signature": b64(signature)}

    def case_key_statement(
        self, case_id: str, case_public_key: bytes, epoch: int = 1
    ) -> dict[str, str]:
        statement, signature = protocol.sign_case_key_epoch(
            self.signing_secret,
            {
                "case_id": case_id,
                "epoch": epoch,
                "case_public_key": b64(case_public_key),
                "issued_at": NOW,
                "issuer_account_id": self.account_id,
            },
        )
        return {"statement": b64(statement), "signature": b64(signature)}

    def prepare_invitation(self, role: Role, participant_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"role": role.value}
        if participant_id is not None:
            body["participant_id"] = participant_id
        response = self.post_json("/api/invitations/prepare", body)
        assert response.status_code == 200, response.text
        prepared: dict[str, Any] = response.json()
        return prepared

    def invite(
        self, role: Role, participant_id: str | None = None, case_id: str | None = None
    ) -> str:
        """The inviter's browser (docs/api-trust.md): reserve an invitation, make its code and
        MAC, seal it; the code's text, shown once."""
        prepared = self.prepare_invitation(role, participant_id)
        code_text, sealed = self.seal_for(prepared, role, participant_id, case_id)
        response = self.post_json(f"/api/invitations/{prepared['invitation_id']}/seal", sealed)
        assert response.status_code == 200, response.text
        return code_text

    def seal_for(
        self,
        prepared: dict[str, Any],
        role: Role,
        participant_id: str | None = None,
        case_id: str | None = None,
        *,
        rekey: bool = False,
    ) -> tuple[str, dict[str, str]]:
        """A fresh code for a prepared invitation (``rekey``: a code for a new key, which says
        so under its MAC), and the seal body it makes."""
        code, code_text = protocol.generate_invitation_code()
        found = protocol.invitation_secrets(code)
        fields = {
            "invitation_id": prepared["invitation_id"],
            "account_id": prepared["account_id"],
            "role": role.value,
            "case_id": case_id,
            "participant_id": participant_id,
            "inviter_account_id": self.account_id,
            "inviter_box_public_key": b64(self.public_key),
            "inviter_signing_public_key": b64(self.signing_public_key),
            "root_account_id": prepared["root"]["account_id"],
            "root_signing_public_key": prepared["root"]["signing_public_key"],
            "expires_at": prepared["expires_at"],
        } | ({"purpose": "rekey"} if rekey else {})
        return code_text, {
            "lookup_id": found.lookup_id,
            "redeem_proof_hash": b64(protocol.invitation_redeem_hash(found.redeem_proof)),
            "mac": b64(protocol.invitation_mac(found.mac_key, fields)),
        }

    def auth_key_for(self, name: str, password: str) -> bytes:
        params = self.post_json("/api/sign-in/params", {"sign_in_name": name}).json()
        keys = protocol.derive_account_keys(
            password, protocol.b64decode(params["salt"]), params["ops"], params["mem"]
        )
        return keys.auth_key

    def try_sign_in(
        self,
        name: str | None = None,
        password: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        name = self.name if name is None else name
        password = self.password if password is None else password
        auth_key = self.auth_key_for(name, password)
        return self.post_json(
            "/api/sign-in",
            {"sign_in_name": name, "auth_key": protocol.b64encode(auth_key)},
            headers=headers,
        )

    def sign_in(self, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Sign in with the password and, when the session then owes it, the second factor (or,
        for staff who hold none yet, add an authenticator app as the portal asks)."""
        response = self.try_sign_in(headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body.get("second_factor") == "verify":
            passed = self.pass_second_factor()
            assert passed.status_code == 200, passed.text
        elif body.get("second_factor") == "enrol":  # staff made without one (seeded services)
            self.add_authenticator_app()
        return body

    def sign_out(self) -> httpx.Response:
        return self.post_form("/sign-out")

    # -- media messages (docs/api-media.md) ------------------------------------------------

    def seal_message(
        self,
        case_pk: bytes,
        object_id: str,
        version: int,
        text: str,
        media: Sequence[protocol.Part],
        created_at: str = "2026-11-22T12:00:00Z",
    ) -> SealedMessage:
        """Text as part 0 and ``media`` as parts 1.., with the two grants the author makes."""
        key = protocol.generate_content_key()
        parts = [protocol.Part("letter", LETTER_MIME, "", text.encode()), *media]
        encrypted = protocol.encrypt_content(
            key, object_id, version, parts, created_at, self.account_id
        )
        digest = encrypted.manifest_hash
        return SealedMessage(
            object_id=object_id,
            version=version,
            encrypted=encrypted,
            grant_to_case=protocol.make_content_grant(
                self.secret_key, case_pk, object_id, version, key, digest
            ),
            grant_to_author=protocol.make_content_grant(
                self.secret_key, self.public_key, object_id, version, key, digest
            ),
            content_key=key,
        )

    def start_upload(self, object_id: str, version: int, size: int) -> httpx.Response:
        return self.post_json(f"/api/uploads/{object_id}/{version}", {"bytes": size})

    def put_chunk(
        self, object_id: str, version: int, part: int, index: int, data: bytes
    ) -> httpx.Response:
        return self.request(
            "PUT",
            f"/api/uploads/{object_id}/{version}/{part}/{index}",
            content=data,
            headers={"X-CSRF-Token": self.csrf(), "Content-Type": "application/octet-stream"},
        )

    def put_chunks(
        self,
        object_id: str,
        version: int,
        part: int,
        first: int,
        chunks: Sequence[bytes],
        *,
        listed: str | None = None,
        body: bytes | Iterator[bytes] | None = None,
    ) -> httpx.Response:
        """One PUT of consecutive chunks (docs/api-media.md, "Several chunks in one PUT");
        ``listed`` and ``body`` replace the header and the body the chunks make."""
        return self.request(
            "PUT",
            f"/api/uploads/{object_id}/{version}/{part}/{first}",
            content=b"".join(chunks) if body is None else body,
            headers={
                "X-CSRF-Token": self.csrf(),
                "Content-Type": "application/octet-stream",
                "X-Chunks": chunk_list(chunks) if listed is None else listed,
            },
        )

    def upload(self, sealed: SealedMessage, *, parallel: int = 1, batch: int = 4) -> None:
        """Start (or resume) the upload and PUT every chunk the server does not hold yet, as
        the browser does: up to ``batch`` consecutive chunks of a part in each PUT (1: one
        chunk per PUT, without X-Chunks)."""
        started = self.start_upload(sealed.object_id, sealed.version, sealed.uploaded_bytes)
        assert started.status_code == 200, started.text
        held = {(h["part"], h["index"]) for h in started.json()["held"]}
        todo = [c for c in sealed.uploaded() if (c[0], c[1]) not in held]
        groups: list[list[tuple[int, int, bytes]]] = []
        for item in todo:
            last = groups[-1][-1] if groups else None
            if (
                last is not None
                and len(groups[-1]) < batch
                and (last[0], last[1] + 1) == (item[0], item[1])
            ):
                groups[-1].append(item)
            else:
                groups.append([item])
        csrf = self.csrf()
        self.http.cookies = self.jar

        def put(group: list[tuple[int, int, bytes]]) -> None:
            part, first, _chunk = group[0]
            chunks = [chunk for _part, _index, chunk in group]
            headers = {"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"}
            if batch > 1:
                headers["X-Chunks"] = chunk_list(chunks)
            # Straight through the shared client (its cookies are this person's, set above),
            # so several PUTs can run at once as a browser's would.
            response = self.http.request(
                "PUT",
                f"/api/uploads/{sealed.object_id}/{sealed.version}/{part}/{first}",
                content=b"".join(chunks),
                headers=headers,
            )
            assert response.status_code == 200, response.text

        if parallel <= 1:
            for group in groups:
                put(group)
        else:
            with ThreadPoolExecutor(parallel) as pool:
                list(pool.map(put, groups))

    def open_sealed(
        self, secret_key: bytes, sender_pk: bytes, sealed: dict[str, Any], grant: bytes
    ) -> list[protocol.Part]:
        """Open any sealed object the server returned, fetching uploaded chunks by URL."""
        object_id, version = sealed["object_id"], sealed["version"]
        key, digest = protocol.open_content_grant(secret_key, sender_pk, object_id, version, grant)
        inline = iter(sealed["chunks"])
        located: dict[tuple[int, int], bytes | None] = {}
        for entry in sealed["layout"]:
            data = protocol.b64decode(next(inline)) if entry["inline"] else None
            located[(entry["part"], entry["index"])] = data

        def fetch(part: int, index: int) -> bytes:
            data = located[(part, index)]
            if data is not None:
                return data
            response = self.get(f"{sealed['chunk_url']}{part}/{index}")
            assert response.status_code == 200, response.text
            return response.content

        return protocol.open_content(
            key, object_id, version, protocol.b64decode(sealed["manifest"]), digest, fetch
        )

    def forget_cookies(self) -> None:
        self.jar = httpx.Cookies()


class Portal:
    """The service under test: makes people and invitations.

    The first service manager it makes is the service root (their setup sends their own
    certificate); every other member of staff is certified by the root, as a service manager
    would on the Certify page, so that everyone's browser would trust them.
    """

    def __init__(self, http: httpx.Client, settings: Settings, engine: Engine) -> None:
        self.http = http
        self.settings = settings
        self.sessions = make_session_factory(engine)
        self.root: Person | None = None

    def visitor(self) -> Person:
        return Person(self.http)

    def db(self) -> Session:
        """A session of the test's own, outside any request (the caller commits)."""
        session: Session = self.sessions()
        return session

    def setup_code(self) -> str:
        with self.db() as db:
            issued = services.issue_setup_link(db, self.settings)
            db.commit()
        return issued.code

    def invitation_code(self, inviter: Person, role: Role) -> str:
        """A server-made code, as invitations were made before trust anchors."""
        with self.db() as db:
            account = db.get(Account, inviter.account_id)
            assert account is not None
            issued = services.create_invitation(db, self.settings, account, role)
            db.commit()
        return issued.code

    def service_root(self) -> Person:
        """The first service manager: the root of the trust chain."""
        if self.root is None:
            self.root = self.visitor().join(self.setup_code(), as_root=True)
        return self.root

    def certified(self, person: Person) -> Person:
        """``person`` (staff) certified by the root."""
        root = self.service_root()
        response = root.certify(person)
        if response.status_code == 401:  # the test signed the root out: back in
            root.sign_in()
            response = root.certify(person)
        assert response.status_code == 200, response.text
        return person

    def service_manager(self) -> Person:
        """A service manager: the root first, then others, each through a setup link and
        certified by the root."""
        if self.root is None:
            return self.service_root()
        return self.certified(self.visitor().join(self.setup_code()))

    def person(self, role: Role, inviter: Person | None = None) -> Person:
        """A signed-in person with ``role``, invited the way the service would invite them:
        staff with codes made in the inviter's browser, then certified; a participant without a
        case, or a supporter on nobody's side, with a server-made code (an invitation made in
        the browser names its case and place: see ``tests/cases_world.py``)."""
        if role is Role.SERVICE_MANAGER:
            return self.service_manager()
        if inviter is None:
            inviter = self.service_manager()
            if role is not Role.FACILITATOR:
                inviter = self.person(Role.FACILITATOR, inviter)
        if role in (Role.PARTICIPANT, Role.SUPPORTER):
            return self.visitor().join(self.invitation_code(inviter, role))
        person = self.visitor().join_invited(inviter.invite(role))
        if role.is_staff:
            self.certified(person)
        return person
