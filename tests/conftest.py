"""Fixtures and markers shared by every test.

Markers say what a test needs (registered here, next to the code that applies them):
    browser         drives headless Chromium against a live portal; the test says so itself
    postgres        runs against PostgreSQL; given here to the PostgreSQL variant of every
                    database test and to tests that use ``postgres_server`` (written by hand
                    only on a test that starts a server of its own), so ``-m "not postgres"``
                    never starts one
    both_databases  a browser test that runs on PostgreSQL too (one whole journey has it)
    sqlite_only     a test of something only SQLite has (its one write lock)
    postgresql_only a test of something only PostgreSQL has (reading requests in threads)
    s3              keeps blobs in moto's S3 server; given here to the S3 variant of every test
                    that asks for ``blob_store_env`` and to tests that use ``s3_server``
Temporary folders: every ``tmp_path`` is in memory (``/dev/shm``) when it has room
(``use_memory_for_tmp_path``): SQLite files there commit without waiting for a disk.
Garbage collection: what is loaded once the tests are collected is frozen (``gc.freeze``:
``pytest_collection_finish``), so full collections stop walking modules and mappers.
Databases (a test that asks for one runs on SQLite and on PostgreSQL; a browser test on SQLite
only, unless marked ``both_databases``: see ``database_backends``):
    database_url        URL of a fresh database migrated to head, the test's own
    empty_database_url  the same, but never migrated (for migration tests and the harness)
    db_engine           ``portal.db.make_engine(database_url)``, disposed afterwards
    read_engine         ``portal.db.make_read_engine(db_engine)``, disposed afterwards
    db_session          a Session inside a transaction that is rolled back afterwards
Blob stores (a test that asks for ``blob_store_env`` runs once per store: filesystem, s3):
    s3_server           the session's moto S3 server (tests/support/s3.py), started on first use
    blob_store_env      the PORTAL_* variables choosing the test's store ({} for the data folder;
                        for S3 a fresh bucket of its own)
The portal in process:
    settings_env        the PORTAL_* variables (a dict: override the fixture to change it)
    settings            ``Settings.from_env(settings_env)``
    app                 ``create_app(settings)``
    client              a ``TestClient`` with the lifespan running
Mail:
    smtp_server         a real SMTP server (aiosmtpd) keeping what it receives; ``.env()`` gives
                        the PORTAL_SMTP_* variables that send the portal's notices to it
The portal as a server, and a browser (mark such tests ``@pytest.mark.browser``):
    live_server_factory ``live_server_factory(**env)`` starts ``portal serve``
    live_server         one server started with the default environment
    browser_context     a fresh Chromium context with the guard and the neutral quick-exit site
    page                a page in that context
    browser_guard       the guard, to ``expect()`` problems a test causes on purpose

The portal's modules are imported inside the fixtures, not at the top, so that a test that needs
none of them (tests/test_harness.py) runs even when the application cannot be imported.
"""

from __future__ import annotations

import gc
import os
import re
import sqlite3
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEFAULT_TIMEOUT_MS,
    BrowserGuard,
    route_neutral_site,
)
from tests.support.databases import (
    BACKENDS,
    Backend,
    Databases,
    Migrate,
    PostgresDatabases,
    SqliteDatabases,
)
from tests.support.env import portal_env
from tests.support.live_server import LiveServer, LiveServerFactory, tail
from tests.support.postgres import PostgresServer, scratch_dir
from tests.support.s3 import S3Server

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from portal.settings import Settings
    from tests.support.smtp import SmtpServer

# pytester lets tests/test_harness.py check that the guards fail a test in a pytest of its own.
pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
# Screenshots of failed browser tests go here (git-ignored).
ARTIFACTS = Path(os.environ.get("PORTAL_TEST_ARTIFACTS", REPO / "test-artifacts"))

GUARD = pytest.StashKey[BrowserGuard]()
CONTEXT = pytest.StashKey[BrowserContext]()
SERVERS = pytest.StashKey[LiveServerFactory]()


# -- markers --------------------------------------------------------------------------------

MARKERS = {
    "browser": "drives headless Chromium against a live portal",
    "postgres": "runs against PostgreSQL (given by tests/conftest.py to database tests)",
    "both_databases": "a browser test that runs on PostgreSQL too, not only on SQLite",
    "sqlite_only": "a test of something only SQLite has (its one write lock), run on SQLite alone",
    "postgresql_only": "a test of something only PostgreSQL has, run on PostgreSQL alone",
    "s3": "keeps blobs in moto's S3 server (given by tests/conftest.py)",
}
# A test that uses one of these, directly or through another fixture, is generated once per
# backend it runs on (``pytest_generate_tests``).
DATABASE_FIXTURES = ("database_url", "empty_database_url")
# A test that uses one of these talks to PostgreSQL whatever its parameters.
POSTGRES_FIXTURES = ("postgres_server", "postgresql_databases")
# A test that uses this runs once per blob store; one that uses s3_server is an s3 test.
BLOB_STORE_FIXTURE = "blob_store_env"
BLOB_STORES = (
    pytest.param("filesystem", id="filesystem"),
    pytest.param("s3", id="s3", marks=pytest.mark.s3),
)
BACKEND_MARKS: dict[Backend, tuple[pytest.MarkDecorator, ...]] = {
    "sqlite": (),
    "postgresql": (pytest.mark.postgres,),
}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    use_memory_for_tmp_path(config)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Leave what the run has loaded by now (the portal's modules, classes and mappers, the
    test modules and their items) out of every later garbage collection.

    They live as long as the process, and each full collection walked all of them again: a
    fifth of an HTTP test's time went to the collector (measured with ``gc.callbacks``), less
    than half of that once they are left out. ``portal serve`` does the same after start-up
    (``portal.app.freeze_start_up``). Only what exists now is left out: the apps, sessions and
    people each test makes later are collected as before.
    """
    gc.collect()
    gc.freeze()


def use_memory_for_tmp_path(config: pytest.Config) -> None:
    """Put every ``tmp_path`` (the SQLite databases, data folders and live servers' files) in
    memory (``/dev/shm``) when it has room, as the PostgreSQL server's files already are.

    Each SQLite commit in WAL mode waits for the disk to sync its log; on tmpfs that wait is
    nothing, and the tests still use real SQLite files on a real file system. pytest's own
    variable for the temporary root keeps its numbered folders and their clean-up; read when the
    first ``tmp_path`` is made, and inherited by the xdist workers (started after this hook).
    An explicit ``--basetemp`` or PYTEST_DEBUG_TEMPROOT wins.
    """
    if config.option.basetemp or "PYTEST_DEBUG_TEMPROOT" in os.environ:
        return
    scratch = scratch_dir()
    if scratch is not None:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = scratch


def database_backends(test: pytest.Function) -> tuple[Backend, ...]:
    """The backends a test's database fixtures are generated for.

    Unit and HTTP tests run on both. A browser test runs on SQLite only: it costs seconds of a
    real browser and what it checks (pages, scripts, the protocol in the browser) does not change
    with the database, which the unit and HTTP tests cover on both. One whole journey, marked
    ``both_databases``, still runs on PostgreSQL, to show the live server works there too.
    """
    if test.get_closest_marker("sqlite_only") is not None:
        return ("sqlite",)
    if test.get_closest_marker("postgresql_only") is not None:
        return ("postgresql",)
    browser = test.get_closest_marker("browser") is not None
    both = test.get_closest_marker("both_databases") is not None
    if both and not browser:
        pytest.fail(
            f"{test.nodeid}: both_databases is for browser tests (others run on both anyway)",
            pytrace=False,
        )
    return ("sqlite",) if browser and not both else BACKENDS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backends = database_backends(metafunc.definition)
    for name in DATABASE_FIXTURES:
        if name in metafunc.fixturenames:
            metafunc.parametrize(
                name,
                [pytest.param(b, id=b, marks=BACKEND_MARKS[b]) for b in backends],
                indirect=True,
            )
    # A test may name its stores itself (one that checks the filesystem store's own files).
    chosen = any(
        BLOB_STORE_FIXTURE in str(mark.args[0])
        for mark in metafunc.definition.iter_markers("parametrize")
    )
    if BLOB_STORE_FIXTURE in metafunc.fixturenames and not chosen:
        metafunc.parametrize(BLOB_STORE_FIXTURE, BLOB_STORES, indirect=True)


def pytest_itemcollected(item: pytest.Item) -> None:
    """A test that uses the PostgreSQL server directly is a ``postgres`` test too (a database
    test is one through its PostgreSQL parameter); the same for S3. Called before ``-m``
    selects."""
    names = getattr(item, "fixturenames", ())
    if any(name in names for name in POSTGRES_FIXTURES):
        item.add_marker(pytest.mark.postgres)
    if "s3_server" in names:
        item.add_marker(pytest.mark.s3)


# -- databases ------------------------------------------------------------------------------


def _portal_upgrade() -> Migrate:
    from portal.db import upgrade

    return upgrade


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's throwaway PostgreSQL server, started on first use."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite-templates"), _portal_upgrade)


@pytest.fixture(scope="session")
def postgresql_databases(postgres_server: PostgresServer) -> PostgresDatabases:
    return PostgresDatabases(postgres_server, _portal_upgrade)


def _databases(request: pytest.FixtureRequest) -> Databases:
    # The backend is the test's parameter, given by pytest_generate_tests. Looked up by name so
    # that a run which selects only SQLite never starts PostgreSQL.
    databases: Databases = request.getfixturevalue(f"{request.param}_databases")
    return databases


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated to head by ``portal.db.upgrade``, for this test alone.

    On each backend in ``database_backends(test)``: the test is generated once per backend."""
    with _databases(request).database(tmp_path, migrated=True) as url:
        yield url


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with no tables, for this test alone (one test per backend, as above)."""
    with _databases(request).database(tmp_path, migrated=False) as url:
        yield url


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    from portal.db import make_engine

    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def read_engine(db_engine: Engine) -> Iterator[Engine]:
    """``portal.db.make_read_engine(db_engine)``: what reading requests run on."""
    from portal.db import dispose_read_engine, make_read_engine

    engine = make_read_engine(db_engine)
    try:
        yield engine
    finally:
        dispose_read_engine(engine, db_engine)


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session whose every commit is undone at the end of the test.

    SQLAlchemy's "joining a Session into an external transaction" recipe: the session's commits
    release savepoints inside a transaction that the fixture rolls back.
    """
    with db_engine.connect() as connection:
        transaction = connection.begin()
        driver_connection = connection.connection.driver_connection
        if isinstance(driver_connection, sqlite3.Connection):
            _begin_sqlite(driver_connection)
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


def _begin_sqlite(driver_connection: sqlite3.Connection) -> None:
    # Python's sqlite3 module (before 3.12's autocommit attribute) does not emit BEGIN when
    # SQLAlchemy begins a transaction, only before the first INSERT or UPDATE. The session's
    # SAVEPOINT would then open the outermost transaction and its RELEASE would commit for real.
    # Begin explicitly, unless the engine already does (SQLAlchemy's pysqlite recipe).
    if not driver_connection.in_transaction:
        driver_connection.execute("BEGIN")


# -- blob stores ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """The session's moto S3 server, started on first use."""
    with S3Server(tmp_path_factory.mktemp("s3-server")) as server:
        yield server


@pytest.fixture
def blob_store_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The PORTAL_* variables of the test's blob store (its parameter, from
    pytest_generate_tests). Looked up by name, so a run that selects only the filesystem never
    starts the S3 server."""
    if request.param == "filesystem":
        return {}
    server: S3Server = request.getfixturevalue("s3_server")
    return server.env(server.new_bucket())


# -- the portal in process ------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The test's PORTAL_DATA_DIR, shared by ``settings`` and the live servers."""
    return tmp_path / "data"


@pytest.fixture
def settings_env(data_dir: Path, database_url: str) -> dict[str, str]:
    return portal_env(data_dir=data_dir, database_url=database_url, base_url="http://testserver")


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    from portal.settings import Settings

    return Settings.from_env(settings_env)


@pytest.fixture
def app(settings: Settings) -> Starlette:
    from portal.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app: Starlette, db_engine: Engine) -> Iterator[TestClient]:
    from starlette.testclient import TestClient

    from tests.support.kept_homes import assert_kept_homes_hold

    with TestClient(app) as test_client:
        yield test_client
    assert_kept_homes_hold(db_engine)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd, tests/support/smtp.py) on a free port, for this test."""
    from tests.support.smtp import SmtpServer

    with SmtpServer() as server:
        yield server


# -- the portal as a server -----------------------------------------------------------------


@pytest.fixture
def live_server_factory(
    request: pytest.FixtureRequest, data_dir: Path, database_url: str
) -> Iterator[LiveServerFactory]:
    # A browser refuses to make keys under less than the standard Argon2id cost (64 MiB, 3
    # passes: client/accounts.js), so servers that browsers join get the standard cost; the
    # Python clients of the HTTP tests keep the cheapest cost libsodium accepts.
    standard_cost = (
        {"PORTAL_KDF_OPS": "3", "PORTAL_KDF_MEM_KIB": "65536"}
        if request.node.get_closest_marker("browser") is not None
        else {}
    )
    factory = LiveServerFactory(
        data_dir=data_dir, database_url=database_url, default_env=standard_cost
    )
    request.node.stash[SERVERS] = factory
    yield factory
    crashes = factory.close()
    if crashes:
        pytest.fail("the portal server stopped on its own:\n" + "\n".join(crashes))


@pytest.fixture
def live_server(live_server_factory: LiveServerFactory) -> LiveServer:
    return live_server_factory()


# -- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def browser_guard(request: pytest.FixtureRequest) -> BrowserGuard:
    guard = BrowserGuard()
    request.node.stash[GUARD] = guard
    return guard


@pytest.fixture
def browser_context(
    request: pytest.FixtureRequest, browser: Browser, browser_guard: BrowserGuard
) -> Iterator[BrowserContext]:
    context = browser.new_context(
        locale="en-GB",
        timezone_id="UTC",
        viewport={"width": 1280, "height": 800},
        reduced_motion="reduce",
    )
    try:
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        browser_guard.install(context)
        route_neutral_site(context)
        request.node.stash[CONTEXT] = context
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    return browser_context.new_page()


# -- hooks ----------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a browser test that passed but left console errors, CSP violations, 5xx..."""
    __tracebackhide__ = True
    result = yield
    guard = item.stash.get(GUARD, None)
    if guard is not None:
        guard.assert_clean()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On failure, add what the browser and the servers saw, and save screenshots."""
    report: pytest.TestReport = yield
    if report.when != "call" or not report.failed:
        return report
    guard = item.stash.get(GUARD, None)
    if guard is not None and guard.problems:
        report.sections.append(("browser guard", "\n".join(map(str, guard.problems))))
    factory = item.stash.get(SERVERS, None)
    for server in factory.servers if factory is not None else []:
        report.sections.append((f"portal {server.base_url} stderr", tail(server.stderr_path)))
        report.sections.append((f"portal {server.base_url} log", tail(server.log_path)))
    context = item.stash.get(CONTEXT, None)
    if context is not None:
        folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", item.nodeid)
        for number, open_page in enumerate(context.pages, start=1):
            try:
                open_page.screenshot(path=folder / f"page-{number}.png", full_page=True)
            except PlaywrightError:
                continue  # A closed or crashed page has nothing to show.
        if folder.exists():
            report.sections.append(("screenshots", str(folder)))
    return report
