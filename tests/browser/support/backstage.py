"""Behind the scenes of a live portal: what a test does directly to its database.

Browser tests go through the UI for what they are about, and come here for the rest: accounts
that merely need to exist (made with the real protocol, as a browser would make them, but
without the browser's round trips), and the clock the server reads (a session made to look idle
for longer than it was, since a browser cannot make the server's time pass).

The engine is the test's own, on the same database and with the same server secret (read from
the data folder the server created) as the live server.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import Engine, MetaData, select, update
from sqlalchemy.orm import Session

from portal import browser_steps as browser
from portal.accounts import services
from portal.accounts.hashing import make_hasher
from portal.accounts.models import Account, Role, SignInSession
from portal.db import make_engine
from portal.factors import services as factors
from portal.invitations import services as invitations
from portal.settings import Settings
from portal.trust import services as trust
from tests.support import second_factor
from tests.support.live_server import LiveServer


@dataclass(frozen=True)
class Member:
    """Someone with an account, and what only they know."""

    account_id: str
    name: str
    password: str
    role: Role
    recovery_code: str


@dataclass(frozen=True)
class SessionRow:
    ended: bool
    end_reason: str | None
    idle_for: timedelta


def new_password() -> str:
    """A password the portal's strength meter accepts, different every time."""
    return f"quiet harbour {secrets.token_hex(4)} lantern"


class Backstage:
    """Seeds accounts and moves the server's idea of time, for one live server."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.settings = Settings.from_env(server.env)
        self.engine: Engine = make_engine(server.database_url)
        self._hasher = make_hasher(self.settings.auth_hash_profile)
        # What only each person's browser knows, for the people made here.
        self._people: dict[str, browser.BrowserPerson] = {}

    def close(self) -> None:
        self.engine.dispose()

    # -- accounts ---------------------------------------------------------------------------

    def service_manager(self, name: str = "morgan", password: str | None = None) -> Member:
        """A service manager made through a fresh setup code (the printed link stops working):
        the service root if there is none yet, else certified by the root."""
        with Session(self.engine) as db:
            issued = invitations.issue_setup_link(db, self.settings)
            person = browser.join_setup(
                db, self.settings, self._hasher, issued.code, name, password or new_password()
            )
            self._certify(db, person)
            self._add_app_if_staff(db, person, name)
            member = self._member(person, name)
            db.commit()
        return member

    def invitation_code(self, inviter: Member, role: Role) -> str:
        """A code made as the inviter's browser makes it (docs/api-trust.md), which the
        browser's joining page redeems."""
        with Session(self.engine) as db:
            code = browser.invite(db, self.settings, self._person(db, inviter.account_id), role)
            db.commit()
        return code

    def server_made_code(self, inviter: Member, role: Role) -> str:
        """A server-made code (kept for browsers made before trust anchors)."""
        with Session(self.engine) as db:
            account = db.get(Account, inviter.account_id)
            assert account is not None
            issued = invitations.create_invitation(db, self.settings, account, role)
            db.commit()
        return issued.code

    def invited(
        self, inviter: Member, role: Role, name: str, password: str | None = None
    ) -> Member:
        """Someone invited with a code made in the inviter's browser (docs/api-trust.md), who
        joined; staff are certified by the root."""
        with Session(self.engine) as db:
            code = browser.invite(db, self.settings, self._person(db, inviter.account_id), role)
            person = browser.join_invited(
                db, self.settings, self._hasher, code, name, password or new_password()
            )
            if role.is_staff:
                self._certify(db, person)
            self._add_app_if_staff(db, person, name)
            member = self._member(person, name)
            db.commit()
        return member

    def joined_before_trust_anchors(
        self, inviter: Member, role: Role, name: str, password: str | None = None
    ) -> Member:
        """Someone who joined with a server-made code in a browser made before trust anchors:
        no signing key, so no certificate, and the box-only security number."""
        code = self.server_made_code(inviter, role)
        password = password or new_password()
        with Session(self.engine) as db:
            invitation = invitations.usable_invitation(db, self.settings, code)
            keys, secret_key, recovery = browser.account_keys(invitation, password)
            keys = dataclasses.replace(keys, signing_public_key=None)
            account = invitations.complete_join(
                db,
                self.settings,
                services.hash_new_keys(self._hasher, keys),
                code,
                name,
                keys,
            )
            person = browser.BrowserPerson(account, password, secret_key, recovery)
            self._add_app_if_staff(db, person, name)
            member = self._member(person, name)
            db.commit()
        return member

    def _add_app_if_staff(self, db: Session, person: browser.BrowserPerson, name: str) -> None:
        """Staff hold an authenticator app (they can reach nothing without a second factor);
        its secret is remembered for the sign-in page object (tests/support/second_factor.py)."""
        if not person.account.role.is_staff:
            return
        secret = pyotp.random_base32()
        factors.add_app_factor(db, self.settings, person.account, secret)
        second_factor.remember(name, secret)

    def _certify(self, db: Session, person: browser.BrowserPerson) -> None:
        """Certified by the root, if this backstage made the root (a root made in a browser
        keeps its key to itself) and the person is not the root."""
        root = trust.service_root(db)
        if root is None or root.account_id == person.account.id:
            return
        if root.account_id in self._people:
            manager = self._person(db, root.account_id)
            browser.certify(db, self.settings, manager, person.account)

    def _person(self, db: Session, account_id: str) -> browser.BrowserPerson:
        """Someone made here, with their account row from this session."""
        known = self._people[account_id]
        account = db.get(Account, account_id)
        assert account is not None
        return dataclasses.replace(known, account=account)

    def _member(self, person: browser.BrowserPerson, name: str) -> Member:
        """``name`` as typed (the account keeps it normalised). Called before the commit."""
        member = Member(
            account_id=person.account.id,
            name=name,
            password=person.password,
            role=person.account.role,
            recovery_code=person.recovery_code,
        )
        self._people[member.account_id] = person
        return member

    def account_named(self, name: str) -> Account:
        with Session(self.engine) as db:
            account = db.scalars(
                select(Account).where(Account.sign_in_name == services.normalize_name(name))
            ).one()
            db.expunge(account)
        return account

    # -- sessions ---------------------------------------------------------------------------

    def sessions_of(self, account_id: str) -> list[SessionRow]:
        now = datetime.now(UTC)
        with Session(self.engine) as db:
            rows = db.scalars(
                select(SignInSession).where(SignInSession.account_id == account_id)
            ).all()
            return [
                SessionRow(
                    ended=row.ended_at is not None,
                    end_reason=row.end_reason,
                    idle_for=now - row.last_seen_at,
                )
                for row in rows
            ]

    def make_sessions_idle(self, account_id: str, *, for_: timedelta) -> None:
        """Pretend the account's open sessions last saw a request ``for_`` ago."""
        with Session(self.engine) as db:
            db.execute(
                update(SignInSession)
                .where(SignInSession.account_id == account_id, SignInSession.ended_at.is_(None))
                .values(last_seen_at=datetime.now(UTC) - for_)
            )
            db.commit()

    # -- everything stored ------------------------------------------------------------------

    def database_contents(self) -> list[bytes]:
        """What the database holds, as bytes: the SQLite files themselves (with the WAL, where
        fresh writes sit until a checkpoint), or every value of every PostgreSQL row."""
        path = self.settings.sqlite_path
        if path is not None:
            files = sorted(path.parent.glob(path.name + "*"))
            assert path in files
            return [file.read_bytes() for file in files]
        return list(self.every_value())

    def every_value(self) -> Iterator[bytes]:
        """Every value of every row of every table, as bytes (text as UTF-8, others as str)."""
        metadata = MetaData()
        metadata.reflect(self.engine)
        with self.engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    for value in row:
                        if isinstance(value, bytes | bytearray | memoryview):
                            yield bytes(value)
                        elif value is not None:
                            yield str(value).encode()
