"""A throwaway PostgreSQL server for one test session.

The server runs from Debian's binaries (``/usr/lib/postgresql/<version>/bin``) in a fresh
temporary folder, listens on a free TCP port on 127.0.0.1 only, trusts every local connection
and is stopped and deleted when the session ends, whether the tests passed or not.

When the tests run as root, the server runs as the ``postgres`` OS user: ``initdb`` and
``postgres`` refuse to run as root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from tests.support.ports import free_port

BIN_ENV = "PORTAL_TEST_PG_BIN"

# Durability buys nothing for a database that is deleted at the end of the session, and each
# of these costs a disk flush per commit or checkpoint: turning them off makes CREATE DATABASE
# and every committing test several times faster. Never do this on a server that keeps data.
SPEED_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


# What docs/operator.md asks of a production server on SSD storage, so that the tests and the
# benchmarks run the statements as planned there: PostgreSQL's default of 4 prices a random
# page read for a spinning disk, and then plans the facilitator's home's "to print" part as a
# scan of every message (bench/README.md, "Reading requests on the event loop").
PLANNER_SETTINGS = {
    "random_page_cost": "1.1",
}


class PostgresError(RuntimeError):
    """The throwaway server could not be set up or started."""


def find_bin_dir() -> Path:
    """The newest Debian PostgreSQL server ``bin`` folder, or ``$PORTAL_TEST_PG_BIN``."""
    override = os.environ.get(BIN_ENV)
    if override:
        return Path(override)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresError(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin:"
            f" run ./scripts/install.sh (or set {BIN_ENV})"
        )
    return candidates[-1].parent


class PostgresServer:
    """Start with :meth:`start` (or ``with``); :meth:`stop` stops it and deletes its files."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.host = "127.0.0.1"
        self.port = 0
        self.user = "postgres"
        self._root: Path | None = None
        self._running = False

    @property
    def root(self) -> Path:
        if self._root is None:
            raise PostgresError("the server has not been started")
        return self._root

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str, *, driver: str = "psycopg") -> str:
        """An SQLAlchemy URL for ``database`` on this server."""
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str) -> str:
        """A libpq connection string for ``database`` on this server (for psycopg)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection: CREATE and DROP DATABASE cannot run in a transaction."""
        return psycopg.connect(self.conninfo(database), autocommit=True)

    def create_database(self, name: str, *, template: str | None = None) -> None:
        with self.connect() as connection:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template is not None:
                statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
            connection.execute(statement)

    def drop_database(self, name: str) -> None:
        # FORCE ends connections a test left open, so one leak cannot break every later test.
        with self.connect() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def other_connections(self, database: str) -> int:
        """How many sessions are connected to ``database`` (a template must have none)."""
        with self.connect() as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
            ).fetchone()
        return 0 if row is None else int(str(row[0]))

    def start(self) -> PostgresServer:
        owner = _server_owner()
        self._root = Path(tempfile.mkdtemp(prefix="portal-test-pg-", dir=scratch_dir()))
        try:
            if owner is not None:
                os.chown(self._root, owner.pw_uid, owner.pw_gid)
            self._run(
                owner,
                "initdb",
                "--pgdata",
                str(self.data_dir),
                "--username",
                self.user,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                # The data is thrown away: no need to wait for initdb's files to reach the disk.
                "--no-sync",
            )
            settings = {
                **SPEED_SETTINGS,
                **PLANNER_SETTINGS,
                "listen_addresses": self.host,
                # The socket goes into our own folder, not /var/run/postgresql, which may be
                # missing or belong to the machine's own cluster.
                "unix_socket_directories": str(self.root),
                "max_connections": "200",
            }
            with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write("\n# Throwaway test server (tests/support/postgres.py)\n")
                conf.writelines(f"{key} = '{value}'\n" for key, value in settings.items())
            self._start_on_a_free_port(owner)
            self._running = True
        except BaseException:
            self.stop()
            raise
        return self

    def _start_on_a_free_port(self, owner: pwd.struct_passwd | None, attempts: int = 3) -> None:
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            logged = self.log_file.stat().st_size if self.log_file.exists() else 0
            try:
                self._run(
                    owner,
                    "pg_ctl",
                    "start",
                    "--pgdata",
                    str(self.data_dir),
                    "--log",
                    str(self.log_file),
                    "--options",
                    f"-p {self.port}",
                    "--wait",
                    "--timeout",
                    "30",
                )
                return
            except PostgresError:
                # Another process (a live server, or the server of another pytest-xdist worker)
                # took the port between free_port() and the bind: try another one.
                with self.log_file.open("rb") as log:
                    log.seek(logged)
                    taken = b"Address already in use" in log.read()
                if not taken or attempt == attempts:
                    raise

    def stop(self) -> None:
        """Stop the server (if it runs) and delete its folder. Safe to call twice."""
        if self._root is None:
            return
        try:
            if self._running:
                # Immediate mode skips the shutdown checkpoint: the files are deleted next.
                self._run(
                    _server_owner(), "pg_ctl", "stop", "--pgdata", str(self.data_dir), "-m", "i"
                )
                self._running = False
        finally:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, owner: pwd.struct_passwd | None, program: str, *args: str) -> None:
        command: Sequence[str] = [str(self.bin_dir / program), *args]
        if owner is not None:
            command = ["runuser", "-u", owner.pw_name, "--", *command]
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            log = ""
            if self._root is not None and self.log_file.exists():
                log = "\nserver log:\n" + self.log_file.read_text(errors="replace")[-4000:]
            raise PostgresError(
                f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}{log}"
            )


def scratch_dir() -> str | None:
    """Where throwaway files go: memory (``/dev/shm``) when it has room, else the temp dir
    (None). The PostgreSQL server's files, and every test's ``tmp_path`` (tests/conftest.py).

    Measured here: CREATE DATABASE ... TEMPLATE takes about 10 ms on tmpfs and about 300 ms on
    the machine's disk, even with fsync off, and every database test pays it.
    """
    shm = "/dev/shm"  # noqa: S108 (a private mkdtemp folder is made inside it)
    try:
        stats = os.statvfs(shm)
    except OSError:
        return None
    room = stats.f_bavail * stats.f_frsize
    return shm if room > 1024**3 and os.access(shm, os.W_OK) else None


def _server_owner() -> pwd.struct_passwd | None:
    """The OS user to run the server as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresError(
            "running as root, but there is no 'postgres' OS user to run the test server as"
            " (Debian's postgresql package creates it: run ./scripts/install.sh)"
        ) from None


@contextlib.contextmanager
def throwaway_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database for a benchmark run: SQLite in ``folder``'s data folder, or
    a fresh database on a throwaway PostgreSQL server that lives as long as the ``with``."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'data' / 'portal.sqlite3'}"
        return
    with PostgresServer() as server:
        name = "bench_" + uuid.uuid4().hex[:8]
        server.create_database(name)
        yield server.url(name)
