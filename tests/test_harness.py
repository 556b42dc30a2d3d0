"""The test harness itself: per-test databases on both backends, the markers that say what a test
needs (and so which backends it runs on), the browser and its guards.

These tests use plain SQLAlchemy and a tiny local web server, not the portal, so that a broken
harness shows up as such and not as a failure of the application.
"""

from __future__ import annotations

import base64
import socket
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page
from sqlalchemy import create_engine, text

from tests.support import postgres
from tests.support.browser import BrowserGuard, PageObject, check_accessibility
from tests.support.env import QUICK_EXIT_URL
from tests.support.ports import free_port
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[1]

# -- databases ------------------------------------------------------------------------------


def test_per_test_database_answers_select_1(empty_database_url: str, tmp_path: Path) -> None:
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
            if connection.dialect.name == "postgresql":
                database = connection.execute(text("SELECT current_database()")).scalar_one()
                assert database.startswith("t_")
    finally:
        engine.dispose()
    if empty_database_url.startswith("sqlite"):
        assert empty_database_url == f"sqlite:///{tmp_path / 'portal.sqlite3'}"


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_a_fresh_database(empty_database_url: str, round_: int) -> None:
    # The second round would find the first round's table if databases were shared.
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE harness_probe (id INTEGER PRIMARY KEY)"))
            connection.execute(text("INSERT INTO harness_probe (id) VALUES (:id)"), {"id": round_})
    finally:
        engine.dispose()


def test_postgres_runs_without_durability(postgres_server: PostgresServer) -> None:
    with postgres_server.connect() as connection:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            row = connection.execute(f"SHOW {setting}").fetchone()
            assert row == ("off",), setting
        row = connection.execute("SHOW listen_addresses").fetchone()
        assert row == ("127.0.0.1",)


# Written by hand: this test starts a server of its own rather than use postgres_server.
@pytest.mark.postgres
def test_postgres_starts_on_another_port_when_its_first_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With pytest-xdist each worker starts its own server: another may take the free port first.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])
        monkeypatch.setattr(postgres, "free_port", lambda: next(ports, None) or free_port())

        with PostgresServer() as server, server.connect() as connection:
            assert server.port != taken.getsockname()[1]
            assert connection.execute("SELECT 1").fetchone() == (1,)


# -- a strict local site for the browser tests -----------------------------------------------

STRICT_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'"

# A 1x1 transparent PNG, so the image on /inaccessible loads (a 404 would be a console error).
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)

PAGES: dict[str, tuple[int, str, str | bytes]] = {
    "/inline": (
        200,
        "text/html",
        """<!doctype html><html lang="en"><head><title>Strict page</title></head>
        <body><main><h1>Strict page</h1>
        <script>document.title = "inline script ran";</script></main></body></html>""",
    ),
    "/throws": (
        200,
        "text/html",
        """<!doctype html><html lang="en"><head><title>Throws</title>
        <script src="/throws.js"></script></head>
        <body><main><h1>Throws</h1></main></body></html>""",
    ),
    "/throws.js": (200, "text/javascript", 'throw new Error("harness uncaught error");'),
    "/logs": (
        200,
        "text/html",
        """<!doctype html><html lang="en"><head><title>Logs</title>
        <script src="/logs.js"></script></head><body><main><h1>Logs</h1></main></body></html>""",
    ),
    "/logs.js": (200, "text/javascript", 'console.error("harness console error");'),
    "/pixel.png": (200, "image/png", PIXEL),
    "/fails": (500, "text/html", "<!doctype html><title>Server error</title>"),
    "/accessible": (
        200,
        "text/html",
        """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fine</title></head>
        <body><main><h1>Fine</h1><form><label for="name">Name</label>
        <input id="name" name="name"><button type="submit">Send</button></form></main></body>
        </html>""",
    ),
    "/inaccessible": (
        200,
        "text/html",
        """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Poor</title></head>
        <body><main><h1>Poor</h1><img src="/pixel.png"><input name="unlabelled">
        </main></body></html>""",
    ),
}


class _StrictHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, content_type, body = PAGES.get(self.path, (404, "text/plain", "not found"))
        payload = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Content-Security-Policy", STRICT_CSP)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass  # Keep the test output clean.


@pytest.fixture
def strict_site() -> Iterator[str]:
    """A local site whose pages forbid inline script, eval and anything not from itself."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StrictHandler)
    # A short poll interval: shutdown() waits for the next poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- the browser and its guards --------------------------------------------------------------


@pytest.mark.browser
def test_browser_loads_a_data_url(page: Page) -> None:
    page.goto("data:text/html,<!doctype html><title>Hello</title><h1>Hello harness</h1>")
    assert page.get_by_role("heading", name="Hello harness").is_visible()


@pytest.mark.browser
def test_guard_reports_csp_violation_of_inline_script(
    page: Page, browser_guard: BrowserGuard, strict_site: str
) -> None:
    browser_guard.expect("csp", r"script-src")
    # Chromium also logs the refusal to the console.
    browser_guard.expect("console", r"Content Security Policy")
    page.goto(strict_site + "/inline")

    violations = browser_guard.wait_for("csp")

    assert len(violations) == 1
    assert violations[0].details["directive"] == "script-src-elem"
    assert violations[0].details["blockedURI"] == "inline"
    assert page.title() == "Strict page"  # the inline script was blocked
    # The guard's listener came in through an init script, which the page's CSP does not govern.
    assert page.evaluate("() => globalThis.__portalTestGuardInstalled") is True


@pytest.mark.browser
def test_guard_reports_page_errors_console_errors_and_server_errors(
    page: Page, browser_guard: BrowserGuard, strict_site: str
) -> None:
    browser_guard.expect("pageerror", "harness uncaught error")
    browser_guard.expect("console", "harness console error")
    browser_guard.expect("http", "500 GET")
    # Chromium logs the failed load of the 500 page too.
    browser_guard.expect("console", "500")

    page.goto(strict_site + "/throws")
    page.goto(strict_site + "/logs")
    page.goto(strict_site + "/fails")

    assert browser_guard.wait_for("pageerror")
    assert browser_guard.wait_for("console", "harness console error")
    assert [p.url for p in browser_guard.wait_for("http")] == [strict_site + "/fails"]


@pytest.mark.browser
def test_guard_fails_tests_that_leave_problems(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.conftest"]\n')
    pytester.makepyfile(
        textwrap.dedent(
            """
            from playwright.sync_api import Page

            from tests.support.browser import BrowserGuard

            LOGS = "data:text/html,<title>x</title><script>console.error('oops')</script>"
            CLEAN = "data:text/html,<title>x</title><h1>fine</h1>"


            def test_console_error_fails(page: Page) -> None:
                page.goto(LOGS)


            def test_clean_page_passes(page: Page) -> None:
                page.goto(CLEAN)


            def test_expected_problem_passes(page: Page, browser_guard: BrowserGuard) -> None:
                browser_guard.expect("console", "oops")
                page.goto(LOGS)


            def test_expected_problem_missing_fails(
                page: Page, browser_guard: BrowserGuard
            ) -> None:
                browser_guard.expect("csp")
                page.goto(CLEAN)
            """
        )
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("PORTAL_TEST_ARTIFACTS", str(pytester.path / "artifacts"))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-ra")

    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*unexpected [[]console[]] oops*"])
    result.stdout.fnmatch_lines(["*expected but not seen: [[]csp[]]*"])
    result.stdout.fnmatch_lines(
        ["FAILED *::test_console_error_fails*", "FAILED *::test_expected_problem_missing_fails*"]
    )


@pytest.mark.browser
def test_axe_runs_under_strict_csp_and_reports_violations(page: Page, strict_site: str) -> None:
    PageObject(page).visit(strict_site + "/accessible")

    page.goto(strict_site + "/inaccessible")
    with pytest.raises(AssertionError) as failure:
        check_accessibility(page)

    message = str(failure.value)
    assert "image-alt" in message
    assert "label" in message
    assert 'img src="/pixel.png"' in message


@pytest.mark.browser
def test_quick_exit_address_answers_with_neutral_page(page: Page) -> None:
    response = page.goto(QUICK_EXIT_URL)

    assert response is not None
    assert response.status == 200
    assert page.title() == "Weather forecast"
    check_accessibility(page)


# -- markers --------------------------------------------------------------------------------

SHAPES = """
import pytest


def test_http(database_url: str) -> None: ...


def test_migration(empty_database_url: str) -> None: ...


def test_server(postgres_server: object) -> None: ...


def test_no_database() -> None: ...


@pytest.mark.browser
def test_page(database_url: str) -> None: ...


@pytest.mark.browser
@pytest.mark.both_databases
def test_journey(database_url: str) -> None: ...
"""


def test_browser_tests_get_sqlite_only_and_every_postgres_test_is_marked(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.conftest"]\n')
    pytester.makepyfile(test_shapes=SHAPES)

    # In this process: a pytest in a subprocess would cost seconds.
    reprec = pytester.inline_run(
        "--strict-markers",
        "-p",
        "no:cacheprovider",
        "--collect-only",
        "-m",
        "not postgres and not browser",
    )

    selected = reprec.getcall("pytest_collection_finish").session.items
    deselected = [item for call in reprec.getcalls("pytest_deselected") for item in call.items]
    marked = {item.name: item.get_closest_marker("postgres") is not None for item in selected}
    marked |= {item.name: item.get_closest_marker("postgres") is not None for item in deselected}
    assert marked == {
        "test_http[sqlite]": False,
        "test_http[postgresql]": True,
        "test_migration[sqlite]": False,
        "test_migration[postgresql]": True,
        "test_server": True,
        "test_no_database": False,
        # Browser tests run on SQLite only, unless marked both_databases.
        "test_page[sqlite]": False,
        "test_journey[sqlite]": False,
        "test_journey[postgresql]": True,
    }
    # The marks are there before -m selects: the fast loop never starts PostgreSQL.
    assert {item.name for item in selected} == {
        "test_http[sqlite]",
        "test_migration[sqlite]",
        "test_no_database",
    }


def test_both_databases_outside_browser_tests_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.conftest"]\n')
    pytester.makepyfile(
        "import pytest\n\n\n@pytest.mark.both_databases\n"
        "def test_http(database_url: str) -> None: ...\n"
    )

    result = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q")

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*both_databases is for browser tests*"])
