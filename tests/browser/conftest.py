"""Fixtures for the browser tests, on top of those in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.browser.support.backstage import Backstage
from tests.browser.support.devices import NewContext, open_context
from tests.browser.support.letters_backstage import LettersBackstage, seeded_portal
from tests.factories import Portal
from tests.support.browser import BrowserGuard
from tests.support.live_server import LiveServer


@pytest.fixture
def backstage_of() -> Iterator[Callable[[LiveServer], Backstage]]:
    """``backstage_of(server)``: direct access to that server's database (support/backstage.py)."""
    stages: list[Backstage] = []

    def make(server: LiveServer) -> Backstage:
        stages.append(Backstage(server))
        return stages[-1]

    try:
        yield make
    finally:
        for stage in stages:
            stage.close()


@pytest.fixture
def backstage(
    live_server: LiveServer, backstage_of: Callable[[LiveServer], Backstage]
) -> Backstage:
    return backstage_of(live_server)


@pytest.fixture
def new_context(browser: Browser, browser_guard: BrowserGuard) -> Iterator[NewContext]:
    """``new_context()``: another device, watched by the test's browser guard."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        contexts.append(open_context(browser, browser_guard))
        return contexts[-1]

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def stage(live_server: LiveServer) -> Iterator[LettersBackstage]:
    """Facilitators and whole cases behind the live server (support/letters_backstage.py)."""
    stage = LettersBackstage(live_server)
    try:
        yield stage
    finally:
        stage.close()


@pytest.fixture
def portal(live_server: LiveServer, stage: LettersBackstage) -> Iterator[Portal]:
    """The live server as tests/factories.Portal: people who use its API from Python."""
    with seeded_portal(live_server, stage) as portal:
        yield portal
