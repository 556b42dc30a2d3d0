"""Engine, sessions and schema upgrades.

The schema is created and changed only by Alembic migrations (``portal/migrations``), in
production and in tests alike. Services receive a :class:`~sqlalchemy.orm.Session` and never
commit: the request boundary (``web.py``) or the CLI command owns the transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, LargeBinary, String, create_engine, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


T = TypeVar("T")


class MissingRow(LookupError):
    """A row the data model guarantees is missing: the database was edited or damaged.

    Not a :class:`~portal.errors.PortalError`: nobody's request asked for something absent, so
    it is a server error (logged with its reference, answered 500), never a 404.
    """


def required(row: T | None, what: str) -> T:
    """``row``, which the data model guarantees exists; MissingRow (naming ``what``) if not."""
    if row is None:
        raise MissingRow(what)
    return row


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_class: type[StrEnum]) -> SAEnum:
    """A StrEnum stored as its value in a VARCHAR (no database enum type to migrate)."""
    return SAEnum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


# Shared annotated column types.
IdColumn = Annotated[str, mapped_column(String(36), primary_key=True, default=new_id)]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
Blob = Annotated[bytes, mapped_column(LargeBinary)]


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


# Execution option for a transaction that never writes: ``db.connection(execution_options=
# {READ_ONLY: True})`` before its first statement, or a session from
# ``make_session_factory(engine, read_only=True)``. The database
# enforces it (SQLite ``PRAGMA query_only``, PostgreSQL ``SET TRANSACTION READ ONLY``): a write
# in it is an error at once, never a lock taken late (on SQLite a deferred transaction that
# starts writing under load fails with "database is locked").
READ_ONLY = "portal_read_only"
# Execution option for a transaction whose loss in a power cut or OS crash costs nothing but a
# retry (a held upload chunk: the browser sends it again). Its commit does not wait for the
# disk (SQLite synchronous=NORMAL in WAL mode; PostgreSQL synchronous_commit=off); it is never
# torn, and every other transaction still waits for the disk, taking earlier ones with it.
RELAXED_COMMIT = "portal_relaxed_commit"
# Execution option for a write that is worth doing only if it costs no wait (the session's
# last-seen time: the next request writes it if this one cannot). On SQLite, BEGIN IMMEDIATE
# fails at once ("database is locked") instead of queueing behind other writers; on
# PostgreSQL, a row another transaction holds fails the statement (lock_timeout).
NO_WAIT = "portal_no_wait"
# How long a SQLite transaction waits for the write lock otherwise.
SQLITE_BUSY_TIMEOUT_MS = 30000


def lock_row(db: Session, row: object) -> None:
    """Re-read ``row`` and hold it (``SELECT ... FOR UPDATE``) to the end of the transaction.

    Every state change starts here, so that two changes of one row cannot both decide from the
    same old state: on PostgreSQL the second waits for the first to commit, then sees its
    result (and the state machine refuses what no longer applies). SQLite needs no row lock:
    every writing transaction takes the database's write lock at BEGIN (see make_engine).
    """
    db.refresh(row, with_for_update=True)


# Pooled PostgreSQL connections are replaced after this long (see make_engine).
PG_POOL_RECYCLE_SECONDS = 1800
# Connections a server process keeps open between requests: about as many as it serves at
# once under load (requests run in threads, each holding a connection to its end). A
# connection taken beyond these is closed when it comes back, so a busier process would open
# a new one for every few requests: on PostgreSQL that is a new server backend (a fork and
# its catalogue caches), a tenth of the requests under 16 concurrent clients with the
# earlier 5. Beyond POOL_SIZE + overflow, requests wait for a connection.
POOL_SIZE = 16
SQLITE_POOL_OVERFLOW = 24
# PostgreSQL's max_connections (100 by default) must hold this much per server process.
PG_POOL_OVERFLOW = 8


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        # Reads take no lock: many may run at once, each on a connection of its own (a SQLite
        # connection is only an open file). Writing requests hold at most
        # web.WRITERS_PER_PROCESS of them.
        engine = create_engine(
            database_url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=POOL_SIZE,
            max_overflow=SQLITE_POOL_OVERFLOW,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL lets readers and one writer work at once, which several server processes need.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()
            # pysqlite's own transaction handling delays BEGIN and breaks SAVEPOINT; let
            # SQLAlchemy emit BEGIN itself (the recipe in SQLAlchemy's SQLite dialect docs).
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # A writing transaction takes the write lock up front (IMMEDIATE): a deferred one
            # that later needs to write fails at once with "database is locked" when another
            # writer went first; busy_timeout cannot help there. Waiting for the lock at BEGIN
            # can. Work that only reads (READ_ONLY: every GET unless its endpoint says it
            # writes) takes no lock at all: in WAL mode it reads a snapshot while writers go on,
            # and query_only makes a write in it an error rather than a late lock.
            options = connection.get_execution_options()
            pooled = connection.connection
            remembered = pooled.info  # lives as long as the DBAPI connection
            # Said to the driver's connection itself: these are not the portal's statements
            # (no parameters, nothing to compile or log), and through SQLAlchemy's
            # exec_driver_sql each one cost as much as the request's own query.
            driver = pooled.driver_connection
            # Outside a transaction, so it applies to this one (see RELAXED_COMMIT). Said only
            # when it changes: the connection remembers what it was last told.
            synchronous = "NORMAL" if options.get(RELAXED_COMMIT, False) else "FULL"
            if remembered.get("portal_synchronous") != synchronous:
                driver.execute(f"PRAGMA synchronous={synchronous}")
                remembered["portal_synchronous"] = synchronous
            busy_timeout = 0 if options.get(NO_WAIT, False) else SQLITE_BUSY_TIMEOUT_MS
            if remembered.get("portal_busy_timeout", SQLITE_BUSY_TIMEOUT_MS) != busy_timeout:
                driver.execute(f"PRAGMA busy_timeout={busy_timeout}")
                remembered["portal_busy_timeout"] = busy_timeout
            read_only = bool(options.get(READ_ONLY, False))
            if remembered.get("portal_query_only", False) != read_only:
                driver.execute(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
                remembered["portal_query_only"] = read_only
            driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it would cost a round trip on every checkout, that is on every request. A
    # connection the server dropped (a restart, a failover) fails the one statement that finds
    # out; SQLAlchemy then invalidates it and every pooled connection older than it, so the next
    # checkouts connect afresh (the request that found out answers "try again"). pool_recycle
    # replaces connections before a firewall or server idle timeout silently cuts them.
    engine = create_engine(
        database_url,
        pool_pre_ping=False,
        pool_recycle=PG_POOL_RECYCLE_SECONDS,
        pool_size=POOL_SIZE,
        max_overflow=PG_POOL_OVERFLOW,
        hide_parameters=True,
    )

    @event.listens_for(engine, "begin")
    def _postgresql_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        read_only = bool(options.get(READ_ONLY, False))
        no_wait = bool(options.get(NO_WAIT, False))
        if not (read_only or no_wait):
            return
        # On the driver's cursor, not through SQLAlchemy's exec_driver_sql (see the SQLite
        # begin above: these are not the portal's statements, and compiling and dispatching
        # each cost as much as the request's own query).
        with connection.connection.driver_connection.cursor() as cursor:
            if read_only:
                # psycopg sends BEGIN before this, the transaction's first statement.
                cursor.execute("SET TRANSACTION READ ONLY")
            if no_wait:
                # A row another transaction holds fails the statement rather than waiting.
                cursor.execute("SET LOCAL lock_timeout = '1ms'")

    return engine


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Any]:
    """Sessions on ``engine``; with ``read_only``, each of their transactions is read-only.

    The read-only factory sets the option on the engine rather than on a connection, so that a
    request that never touches the database (``/healthz`` without a session) never checks one
    out.
    """
    import portal.models  # noqa: F401  (every table must be known before a flush)

    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (head by default)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
