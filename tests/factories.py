"""People who use the portal through its HTTP API, doing in Python what the browser does.

Every key is derived and every bundle wrapped with ``portal.protocol`` (the real crypto, no
mocks), so these tests exercise the same requests the browser sends.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
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

KDF_OPS = 1
KDF_MEM = 8 * 1024 * 1024
LETTER_MIME = "text/plain; charset=utf-8"
_names = itertools.count(1)
b64 = protocol.b64encode


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

    def post_json(self, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.request("POST", url, json=body or {}, headers={"X-CSRF-Token": self.csrf()})

    def post_form(self, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        form = {"csrf_token": self.csrf(), **(data or {})}
        return self.request("POST", url, data=form)

    # -- journeys --------------------------------------------------------------------------

    def join(self, code: str, name: str | None = None, password: str | None = None) -> Person:
        self.name = name or f"person {next(_names)}"
        self.password = password or secrets.token_urlsafe(12)
        started = self.post_json("/api/join/start", {"code": code})
        assert started.status_code == 200, started.text
        invitation = started.json()
        self.account_id = invitation["account_id"]
        self.role = invitation["role"]
        kdf = invitation["kdf"]
        keys = protocol.derive_account_keys(
            self.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
        )
        self.secret_key, self.public_key = protocol.generate_identity()
        self.recovery_key = protocol.generate_recovery_key()
        completed = self.post_json("/api/join/complete", self.join_body(code, keys))
        assert completed.status_code == 200, completed.text
        return self

    def join_body(self, code: str, keys: protocol.AccountKeys) -> dict[str, str]:
        b64 = protocol.b64encode
        return {
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

    def auth_key_for(self, name: str, password: str) -> bytes:
        params = self.post_json("/api/sign-in/params", {"sign_in_name": name}).json()
        keys = protocol.derive_account_keys(
            password, protocol.b64decode(params["salt"]), params["ops"], params["mem"]
        )
        return keys.auth_key

    def try_sign_in(self, name: str | None = None, password: str | None = None) -> httpx.Response:
        name = self.name if name is None else name
        password = self.password if password is None else password
        auth_key = self.auth_key_for(name, password)
        return self.post_json(
            "/api/sign-in", {"sign_in_name": name, "auth_key": protocol.b64encode(auth_key)}
        )

    def sign_in(self) -> dict[str, Any]:
        response = self.try_sign_in()
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
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

    def upload(self, sealed: SealedMessage, *, parallel: int = 1) -> None:
        """Start (or resume) the upload and PUT every chunk the server does not hold yet."""
        started = self.start_upload(sealed.object_id, sealed.version, sealed.uploaded_bytes)
        assert started.status_code == 200, started.text
        held = {(h["part"], h["index"]) for h in started.json()["held"]}
        todo = [c for c in sealed.uploaded() if (c[0], c[1]) not in held]
        csrf = self.csrf()
        self.http.cookies = self.jar

        def put(item: tuple[int, int, bytes]) -> None:
            part, index, chunk = item
            # Straight through the shared client (its cookies are this person's, set above),
            # so several PUTs can run at once as a browser's would.
            response = self.http.request(
                "PUT",
                f"/api/uploads/{sealed.object_id}/{sealed.version}/{part}/{index}",
                content=chunk,
                headers={"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"},
            )
            assert response.status_code == 200, response.text

        if parallel <= 1:
            for item in todo:
                put(item)
        else:
            with ThreadPoolExecutor(parallel) as pool:
                list(pool.map(put, todo))

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
    """The service under test: makes people and invitations."""

    def __init__(self, http: httpx.Client, settings: Settings, engine: Engine) -> None:
        self.http = http
        self.settings = settings
        self.sessions = make_session_factory(engine)

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
        with self.db() as db:
            account = db.get(Account, inviter.account_id)
            assert account is not None
            issued = services.create_invitation(db, self.settings, account, role)
            db.commit()
        return issued.code

    def service_manager(self) -> Person:
        return self.visitor().join(self.setup_code())

    def person(self, role: Role, inviter: Person | None = None) -> Person:
        """A signed-in person with ``role``, invited the way the service would invite them."""
        if role is Role.SERVICE_MANAGER:
            return self.service_manager()
        if inviter is None:
            inviter = self.service_manager()
            if role is not Role.FACILITATOR:
                inviter = self.visitor().join(self.invitation_code(inviter, Role.FACILITATOR))
        return self.visitor().join(self.invitation_code(inviter, role))
