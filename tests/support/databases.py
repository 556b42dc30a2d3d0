"""Per-test databases, copied from one template per backend.

Running the migrations for every test would cost far more than the tests themselves. Instead each
backend migrates one template database per session and every test gets its own copy: SQLite by
copying the file into the test's folder, PostgreSQL with ``CREATE DATABASE ... TEMPLATE``. A
test may therefore commit, break constraints or leave rows behind without affecting another.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Literal, Protocol

from tests.support.postgres import PostgresServer

Migrate = Callable[[str], None]
Backend = Literal["sqlite", "postgresql"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgresql")

_names = itertools.count(1)


class TemplateError(RuntimeError):
    """A template database could not be prepared."""


class Databases(Protocol):
    def database(self, directory: Path, *, migrated: bool) -> AbstractContextManager[str]:
        """The URL of a fresh database, migrated to head or empty; dropped on exit."""
        ...


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class SqliteDatabases:
    """SQLite templates in ``root``; each test's copy lives in that test's own folder."""

    def __init__(self, root: Path, migrate: Callable[[], Migrate]) -> None:
        self._root = root
        self._migrate = migrate
        self._templates: dict[bool, Path] = {}

    def _template(self, *, migrated: bool) -> Path:
        if migrated not in self._templates:
            path = self._root / ("migrated.sqlite3" if migrated else "empty.sqlite3")
            with closing(sqlite3.connect(path)):
                pass  # creates the empty file
            if migrated:
                self._migrate()(sqlite_url(path))
                # In WAL mode the -wal file disappears when the last connection closes; if it is
                # still there, the copy below would miss the freshest pages.
                if path.with_name(path.name + "-wal").exists():
                    raise TemplateError(
                        "portal.db.upgrade left a connection to the SQLite template open:"
                        " dispose the engine it creates"
                    )
            self._templates[migrated] = path
        return self._templates[migrated]

    @contextmanager
    def database(self, directory: Path, *, migrated: bool) -> Iterator[str]:
        path = directory / "portal.sqlite3"
        shutil.copyfile(self._template(migrated=migrated), path)
        yield sqlite_url(path)


class PostgresDatabases:
    """PostgreSQL templates on the session's server; each test gets ``t_<n>``, dropped after."""

    def __init__(self, server: PostgresServer, migrate: Callable[[], Migrate]) -> None:
        self._server = server
        self._migrate = migrate
        self._templates: dict[bool, str] = {}

    def _template(self, *, migrated: bool) -> str:
        if migrated not in self._templates:
            name = "template_migrated" if migrated else "template_empty"
            self._server.create_database(name, template="template0")
            if migrated:
                self._migrate()(self._server.url(name))
            # CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template.
            left_open = self._connections_still_open(name)
            if left_open:
                raise TemplateError(
                    f"portal.db.upgrade left {left_open} connection(s) to the PostgreSQL"
                    " template open: dispose the engine it creates"
                )
            self._templates[migrated] = name
        return self._templates[migrated]

    def _connections_still_open(self, name: str) -> int:
        # A closed connection's server process ends a moment after the client hangs up, and
        # pg_stat_activity lists it until then: on a crowded machine that moment can be long
        # enough to count an engine that was disposed. One that stays past a few seconds was not.
        deadline = time.monotonic() + 5.0
        while (left_open := self._server.other_connections(name)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left_open

    @contextmanager
    def database(self, directory: Path, *, migrated: bool) -> Iterator[str]:
        template = self._template(migrated=migrated)
        name = f"t_{next(_names)}"
        self._server.create_database(name, template=template)
        try:
            yield self._server.url(name)
        finally:
            self._server.drop_database(name)
