"""Behind the scenes for the letters tests: people and cases made through the live server's API.

The journey test builds everything through the browser. The tests about one rule (nothing before
opting in, withdrawal, pausing, another facilitator's case) only need a case with a letter in a
given state: :class:`SeededCase` builds it over HTTP with the Python side of the protocol
(``tests/cases_world.py``: the same requests and the same crypto the browser sends), so that the
browser is used only for the step the test is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2 as httpx

from portal.accounts.models import Role
from tests.browser.support.backstage import Backstage, Member
from tests.cases_world import CaseWorld
from tests.factories import Person, Portal
from tests.support.live_server import LiveServer


class LettersBackstage(Backstage):
    """Backstage, plus facilitators and whole cases."""

    def facilitator(self, name: str, *, before_trust_anchors: bool = False) -> Member:
        """A certified facilitator, invited by a fresh service manager, as a browser would
        have joined; or one who joined in a browser made before trust anchors."""
        manager = self.service_manager(name=f"manager of {name}")
        if before_trust_anchors:
            return self.joined_before_trust_anchors(manager, Role.FACILITATOR, name)
        return self.invited(manager, Role.FACILITATOR, name)


@dataclass
class SeededCase:
    """A case with a person harmed and a person responsible who have joined and consented.

    ``facilitator``, ``harmed`` and ``responsible`` can sign in in a browser with their
    ``name`` and ``password``.
    """

    world: CaseWorld

    @property
    def case_id(self) -> str:
        return self.world.case_id

    @property
    def facilitator(self) -> Person:
        return self.world.facilitator

    @property
    def harmed(self) -> Person:
        return self.world.harmed

    @property
    def responsible(self) -> Person:
        return self.world.responsible

    def letter_waiting_for_review(self, text: str) -> str:
        """The person responsible sends a letter to the person harmed; its message id."""
        return self.world.write_letter(self.responsible, text)

    def approved_letter(self, text: str, note: str | None = None) -> str:
        """A letter the facilitator has approved: it waits for the person harmed to choose."""
        message_id = self.letter_waiting_for_review(text)
        self.approve(message_id, note)
        return message_id

    def approve(self, message_id: str, note: str | None = None) -> None:
        approved = self.world.approve(message_id, note=note)
        assert approved.status_code == 200, approved.text


@contextmanager
def seeded_portal(server: LiveServer, backstage: Backstage) -> Iterator[Portal]:
    """The live server as ``tests/factories.Portal``: people who use its API from Python."""
    with httpx.Client(base_url=server.base_url, timeout=30.0) as http:
        yield Portal(http, backstage.settings, backstage.engine)


def seed_case(portal: Portal, facilitator: Person | None = None) -> SeededCase:
    """A new case (with a new facilitator unless one is given) and its two participants."""
    return SeededCase(CaseWorld.build(portal, facilitator=facilitator))
