"""Headless Chromium for the browser tests: launch options, guards, accessibility and page objects.

Every browser context the fixtures make carries a :class:`BrowserGuard`. It collects what a user
would never see but a reviewer must: console errors, uncaught exceptions, Content Security Policy
violations and server errors (HTTP 5xx). The test fails at its end if anything was collected that
the test did not announce with :meth:`BrowserGuard.expect`.

CSP violations are caught by an init script that listens for ``securitypolicyviolation`` and
reports through a binding. Playwright injects init scripts and runs ``evaluate`` through the
DevTools protocol, which the page's CSP does not govern, so the listener (and axe-core, below)
work on the portal's strict pages without loosening its policy; ``tests/test_harness.py`` checks
both against a page whose CSP forbids inline script and eval.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response, Route
from playwright.sync_api import Error as PlaywrightError

from tests.support.env import QUICK_EXIT_URL

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    # We run as root in a container: Chromium's sandbox needs user namespaces we do not have.
    "--no-sandbox",
    "--disable-gpu",
    # The network is closed: without these Chromium keeps trying to reach Google's services.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Media capture without a camera or a permission prompt.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
# Playwright's default of 30 s per action hides a hang for too long.
DEFAULT_TIMEOUT_MS = 10_000

AXE_SOURCE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

NEUTRAL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Weather forecast</title></head>
<body><main><h1>Weather forecast</h1><p>Sunny spells, light winds.</p></main></body></html>
"""

Kind = Literal["console", "pageerror", "csp", "http"]
KINDS: tuple[Kind, ...] = ("console", "pageerror", "csp", "http")

_REPORT_BINDING = "__portalTestGuardReport"
_CSP_LISTENER = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  const report = globalThis.{_REPORT_BINDING};
  if (typeof report !== "function") return;
  report({{
    directive: event.effectiveDirective || event.violatedDirective,
    blockedURI: event.blockedURI,
    disposition: event.disposition,
    sourceFile: event.sourceFile,
    lineNumber: event.lineNumber,
    sample: event.sample,
    documentURI: event.documentURI,
  }});
}}, true);
globalThis.__portalTestGuardInstalled = true;
"""


@dataclass(frozen=True)
class Problem:
    """One thing the guard caught. ``details`` holds the CSP violation's fields."""

    kind: Kind
    text: str
    url: str = ""
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        where = f" (at {self.url})" if self.url else ""
        return f"[{self.kind}] {self.text}{where}"


@dataclass
class Expectation:
    """A problem the test means to cause; ``seen`` lists the problems it accounted for."""

    kind: Kind
    pattern: re.Pattern[str]
    seen: list[Problem] = field(default_factory=list)

    def matches(self, problem: Problem) -> bool:
        return problem.kind == self.kind and self.pattern.search(problem.text) is not None

    def __str__(self) -> str:
        return f"[{self.kind}] matching {self.pattern.pattern!r}"


class BrowserGuard:
    """Collects console errors, page errors, CSP violations and HTTP 5xx of a browser context."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.expectations: list[Expectation] = []
        self._contexts: list[BrowserContext] = []

    # -- what tests use ------------------------------------------------------------------------

    def expect(self, kind: Kind, pattern: str = "") -> Expectation:
        """Announce a problem the test causes on purpose (``pattern``: a regex on its text).

        Matching problems do not fail the test; an expectation that nothing matched does.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
        expectation = Expectation(kind, re.compile(pattern))
        self.expectations.append(expectation)
        return expectation

    def found(self, kind: Kind, pattern: str = "") -> list[Problem]:
        """The problems of ``kind`` collected so far whose text matches ``pattern``."""
        regex = re.compile(pattern)
        return [p for p in self.problems if p.kind == kind and regex.search(p.text)]

    def wait_for(self, kind: Kind, pattern: str = "", timeout: float = 5.0) -> list[Problem]:
        """Like :meth:`found`, but waits until at least one such problem has arrived."""
        deadline = time.monotonic() + timeout
        while True:
            self.settle()
            problems = self.found(kind, pattern)
            if problems or time.monotonic() > deadline:
                return problems
            time.sleep(0.02)

    def unexpected(self) -> list[Problem]:
        return [p for p in self.problems if not any(e.matches(p) for e in self.expectations)]

    def failures(self) -> list[str]:
        """Why the test fails: unexpected problems and expectations nothing matched."""
        for expectation in self.expectations:
            expectation.seen = [p for p in self.problems if expectation.matches(p)]
        lines = [f"unexpected {problem}" for problem in self.unexpected()]
        lines += [f"expected but not seen: {e}" for e in self.expectations if not e.seen]
        return lines

    def assert_clean(self) -> None:
        __tracebackhide__ = True
        self.settle()
        failures = self.failures()
        if failures:
            raise AssertionError(
                "the browser guard caught problems:\n" + "\n".join(f"  {f}" for f in failures)
            )

    # -- wiring -----------------------------------------------------------------------------

    def install(self, context: BrowserContext) -> None:
        """Watch ``context`` and every page opened in it from now on."""
        self._contexts.append(context)
        context.expose_binding(_REPORT_BINDING, self._on_csp_violation)
        context.add_init_script(script=_CSP_LISTENER)
        context.on("page", self._watch_page)
        context.on("response", self._on_response)
        for page in context.pages:
            self._watch_page(page)

    def settle(self) -> None:
        """Let events already raised in the pages reach us.

        A CSP violation is reported from a task the page queues, then through the binding; one
        round trip through a timer in each page delivers anything that happened before it.
        """
        for context in self._contexts:
            for page in context.pages:
                if page.is_closed():
                    continue
                # A page that is navigating or closing has nothing more to give.
                with contextlib.suppress(PlaywrightError):
                    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 0))")

    def _watch_page(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self._add("pageerror", _error_text(error), page.url))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self._add("console", message.text, str(message.location.get("url", "")))

    def _on_response(self, response: Response) -> None:
        if response.status >= 500:
            self._add("http", f"{response.status} {response.request.method}", response.url)

    def _on_csp_violation(self, source: dict[str, Any], details: dict[str, Any]) -> None:
        text = (
            f"{details.get('disposition', 'enforce')} {details.get('directive')}"
            f" blocked {details.get('blockedURI') or '(inline)'}"
            f" from {details.get('sourceFile') or '(document)'}:{details.get('lineNumber')}"
        )
        self._add("csp", text, str(details.get("documentURI", "")), details)

    def _add(self, kind: Kind, text: str, url: str, details: dict[str, Any] | None = None) -> None:
        self.problems.append(Problem(kind, text, url, details or {}))


def _error_text(error: PlaywrightError) -> str:
    return error.stack or f"{error.name}: {error.message}"


def route_neutral_site(context: BrowserContext) -> None:
    """Answer the quick-exit address with a harmless page: there is no internet here."""

    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=NEUTRAL_PAGE)

    context.route(QUICK_EXIT_URL + "**", fulfil)


# -- accessibility --------------------------------------------------------------------------


@functools.cache
def _axe_source() -> str:
    if not AXE_SOURCE.exists():
        raise FileNotFoundError(f"{AXE_SOURCE} is missing: run ./scripts/install.sh (npm ci)")
    return AXE_SOURCE.read_text(encoding="utf-8")


_RUN_AXE = """async (options) => {
  const results = await axe.run(document, options);
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    helpUrl: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({
      target: node.target.join(" "),
      html: node.html,
      summary: node.failureSummary,
    })),
  }));
}"""


def accessibility_violations(page: Page, *, disable_rules: tuple[str, ...] = ()) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now, one readable entry each."""
    # After a click that navigates, the new page's elements can be found before its stylesheet
    # has loaded; axe would then measure unstyled links (target-size fails on a 17 px line).
    page.wait_for_load_state("load")
    for frame in page.frames:
        if frame.is_detached():
            continue
        # Evaluated through DevTools, not added as a <script>: the portal's CSP would refuse an
        # inline script, and serving axe from the portal would ship a test tool to users.
        if not frame.evaluate("() => typeof globalThis.axe === 'object'"):
            frame.evaluate(_axe_source())
    options = {
        "runOnly": {"type": "tag", "values": WCAG_TAGS},
        "resultTypes": ["violations"],
        "rules": {rule: {"enabled": False} for rule in disable_rules},
    }
    violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, options)
    entries = []
    for violation in violations:
        lines = [
            f"{violation['id']} ({violation['impact']}): {violation['help']}",
            f"  {violation['helpUrl']}",
        ]
        for node in violation["nodes"]:
            lines.append(f"  - {node['target']}: {node['html']}")
            lines.extend(f"      {line}" for line in str(node["summary"]).splitlines())
        entries.append("\n".join(lines))
    return entries


def check_accessibility(page: Page, *, disable_rules: tuple[str, ...] = ()) -> None:
    """Fail with a readable list if axe-core finds WCAG 2.2 AA violations on ``page``.

    ``disable_rules`` turns off named axe rules; every use needs a comment saying why.
    """
    violations = accessibility_violations(page, disable_rules=disable_rules)
    if violations:
        raise AssertionError(
            f"{len(violations)} accessibility violation(s) on {page.url}:\n" + "\n".join(violations)
        )


class PageObject:
    """Base for page objects: the user's story in methods, checked at every page it reaches.

    A subclass calls :meth:`check` whenever the user arrives somewhere new (after a navigation
    or an htmx swap that changes what is on screen)::

        class SignInPage(PageObject):
            def signs_in(self, name: str, passphrase: str) -> CaseListPage:
                self.page.get_by_label("Name").fill(name)
                self.page.get_by_label("Passphrase").fill(passphrase)
                self.page.get_by_role("button", name="Sign in").click()
                return CaseListPage(self.page).check()
    """

    def __init__(self, page: Page) -> None:
        self.page = page

    def check(self) -> Self:
        """Run the accessibility check on the page as it is now; returns ``self``."""
        check_accessibility(self.page)
        return self

    def visit(self, url: str) -> Self:
        """Open ``url``, wait for it to load, and check it."""
        self.page.goto(url)
        return self.check()
