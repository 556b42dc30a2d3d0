"""Engine, sessions and schema upgrades.

The schema is created and changed only by Alembic migrations (``portal/migrations``), in
production and in tests alike. Services receive a :class:`~sqlalchemy.orm.Session` and never
commit: the request boundary (``web.py``) or the CLI command owns the transaction.
"""

from __future__ import annotations

import collections
import hashlib
import re
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeAlias, TypeVar

from alembic import command
from alembic.config import Config
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    CompoundSelect,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    Select,
    String,
    create_engine,
    event,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.pool import Pool, PoolProxiedConnection, QueuePool
from sqlalchemy.types import TypeDecorator, TypeEngine

from portal import loop_reads
from portal.loop_reads import LoopConnection

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
# enforces it (SQLite ``PRAGMA query_only``, PostgreSQL ``BEGIN READ ONLY``): a write
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
# Execution option of an update() or delete() of rows the facilitator's home reads: what the
# change concerns, as a dict of "cases", "accounts", "accounts_cases" (every case of these
# accounts) or "objects" to ids; {} for nothing the home shows. Without it the change counts
# for every kept home (portal/homes/changes.py).
HOME_TOUCHES = "portal_home_touches"
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


# Set on a pooled connection whose transaction a ReadTransaction began on the driver: the
# SQLAlchemy Connection later made on it (for an ORM session) must not begin it again.
_BEGUN_ON_DRIVER = "portal_begun_on_driver"


def _begin_sqlite(pooled: Any, *, read_only: bool, relaxed_commit: bool, no_wait: bool) -> None:
    """Begin a transaction on a pooled SQLite connection, with what its options ask for.

    A writing transaction takes the write lock up front (IMMEDIATE): a deferred one that later
    needs to write fails at once with "database is locked" when another writer went first;
    busy_timeout cannot help there. Waiting for the lock at BEGIN can. Work that only reads
    (READ_ONLY: every GET unless its endpoint says it writes) takes no lock at all: in WAL mode
    it reads a snapshot while writers go on, and query_only makes a write in it an error rather
    than a late lock.
    """
    remembered = pooled.info  # lives as long as the DBAPI connection
    # Said to the driver's connection itself: these are not the portal's statements (no
    # parameters, nothing to compile or log), and through SQLAlchemy's exec_driver_sql each one
    # cost as much as the request's own query.
    driver = pooled.driver_connection
    # Outside a transaction, so it applies to this one (see RELAXED_COMMIT). Said only when it
    # changes: the connection remembers what it was last told. A read-only transaction commits
    # nothing, so it leaves it as it is (an upload's PUT alternates a read-only transaction and
    # a relaxed one: two PRAGMAs fewer per PUT).
    synchronous = "NORMAL" if relaxed_commit else "FULL"
    if not read_only and remembered.get("portal_synchronous") != synchronous:
        driver.execute(f"PRAGMA synchronous={synchronous}")
        remembered["portal_synchronous"] = synchronous
    busy_timeout = 0 if no_wait else SQLITE_BUSY_TIMEOUT_MS
    if remembered.get("portal_busy_timeout", SQLITE_BUSY_TIMEOUT_MS) != busy_timeout:
        driver.execute(f"PRAGMA busy_timeout={busy_timeout}")
        remembered["portal_busy_timeout"] = busy_timeout
    if remembered.get("portal_query_only", False) != read_only:
        driver.execute(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
        remembered["portal_query_only"] = read_only
    driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _begin_postgresql(pooled: Any, *, read_only: bool, no_wait: bool) -> None:
    """Set what a PostgreSQL transaction's options ask for. Read-only or not is said in the
    BEGIN psycopg sends before the first statement (``BEGIN READ ONLY`` or ``BEGIN READ
    WRITE``: no statement of its own). The rest as the transaction's first statements, on the
    driver's cursor, not through SQLAlchemy's exec_driver_sql (see _begin_sqlite). Reading
    requests run elsewhere, on make_read_engine's connections."""
    driver = pooled.driver_connection
    if driver.read_only is not read_only:
        driver.read_only = read_only  # not in a transaction yet: said with the next BEGIN
    if no_wait:
        with driver.cursor() as cursor:
            # A row another transaction holds fails the statement rather than waiting.
            cursor.execute("SET LOCAL lock_timeout = '1ms'")


# Every PostgreSQL session of the portal's in UTC. The portal keeps and compares moments in UTC
# (UTCDateTime) and works out local days in Python (local_time), never in SQL; in a session
# in the server's own zone (the default, even when that zone is UTC under another name such as
# "Etc/UTC") psycopg gives each timestamp that zone's tzinfo and UTCDateTime converted every
# one back: 3 % of a signed-in page's instructions and 4 % of the facilitator's home's
# (bench/README.md, "The loop's trip to the database"). In UTC they arrive as UTCDateTime
# keeps them.
_IN_UTC = "-c TimeZone=UTC"


def _postgresql_options(url: URL, ours: str) -> str:
    """The server options said when connecting: any the database URL gives (which must not be
    dropped), then ``ours``, which win over the URL's."""
    given = url.query.get("options")
    if not given:
        return ours
    return " ".join([given] if isinstance(given, str) else list(given)) + " " + ours


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
            # A deleted row's bytes are overwritten with zeros, not left in the file's free
            # space: an address erased when notices are turned off must not linger there.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()
            # pysqlite's own transaction handling delays BEGIN and breaks SAVEPOINT; let
            # SQLAlchemy emit BEGIN itself (the recipe in SQLAlchemy's SQLite dialect docs).
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            pooled = connection.connection
            if pooled.info.pop(_BEGUN_ON_DRIVER, False):
                return  # a ReadTransaction's: begun already
            options = connection.get_execution_options()
            try:
                _begin_sqlite(
                    pooled,
                    read_only=bool(options.get(READ_ONLY, False)),
                    relaxed_commit=bool(options.get(RELAXED_COMMIT, False)),
                    no_wait=bool(options.get(NO_WAIT, False)),
                )
            except connection.dialect.loaded_dbapi.Error as error:
                # Said on the driver, so raised as the driver's: given SQLAlchemy's form, as
                # its own BEGIN's would be. A NO_WAIT transaction that finds the write lock
                # taken ("database is locked") is then the OperationalError its caller expects
                # (web._keep_session skips the touch quietly; it had logged each one as an
                # error with its traceback, a dozen times every few seconds under load).
                raise DBAPIError.instance(
                    "BEGIN", None, error, connection.dialect.loaded_dbapi.Error
                ) from error

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
        connect_args={"options": _postgresql_options(make_url(database_url), _IN_UTC)},
    )

    @event.listens_for(engine, "begin")
    def _postgresql_begin(connection: Any) -> None:
        pooled = connection.connection
        if pooled.info.pop(_BEGUN_ON_DRIVER, False):
            return  # a ReadTransaction's: begun already
        options = connection.get_execution_options()
        _begin_postgresql(
            pooled,
            read_only=bool(options.get(READ_ONLY, False)),
            no_wait=bool(options.get(NO_WAIT, False)),
        )

    return engine


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Any]:
    """Sessions on ``engine``; with ``read_only``, each of their transactions is read-only.

    The read-only factory sets the option on the engine rather than on a connection, so that a
    request that never touches the database (``/healthz`` without a session) never checks one
    out.
    """
    import portal.models  # noqa: F401  (every table must be known before a flush)

    bind = read_only_engine(engine) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


# Set on a pooled connection of make_read_engine's PostgreSQL pool.
_READS_IN_AUTOCOMMIT = "portal_reads_in_autocommit"
# Connections a PostgreSQL server process keeps for reading requests (make_read_engine): one
# for each of the reads it runs on the loop at once and each slow reader (web.READS_AT_ONCE and
# web.SLOW_READERS_PER_PROCESS), which is all that read at once: a read on the loop must never
# wait for a connection (loop_reads.py).
PG_READ_POOL_SIZE = 12
PG_READ_POOL_OVERFLOW = 4


def make_read_engine(engine: Engine) -> Engine:
    """The engine reading requests run on (:class:`ReadTransaction`), beside ``engine``.

    On SQLite, ``engine`` with every transaction read-only, sharing its pool (see READ_ONLY).

    On PostgreSQL, a pool of its own whose connections read only, in autocommit, for their
    whole life: each statement is its own read-only transaction, so a page that runs one
    statement (the session's, on /account) makes one round trip to the server, not four
    (BEGIN, SET TRANSACTION READ ONLY, the statement, COMMIT), and a request sets and undoes
    nothing on its connection. Nothing is lost by it: in READ COMMITTED, PostgreSQL's default
    and the portal's, each statement of a transaction sees its own snapshot anyway, and a
    reading request takes no lock. Read-only is the server's own default for these sessions
    (``default_transaction_read_only``, given when connecting), so a write is refused; the
    writing engine's connections are never touched by it. Its connections are
    loop_reads.LoopConnection: a read on the event loop waits there for the server's answer
    (web.endpoint). Dispose of it with ``engine`` (:func:`dispose_read_engine`).
    """
    if engine.dialect.name == "sqlite":
        return read_only_engine(engine)
    options = _postgresql_options(engine.url, f"{_IN_UTC} -c default_transaction_read_only=on")
    reader = create_engine(
        engine.url,
        pool_pre_ping=False,  # as make_engine: a dropped connection fails one statement
        pool_recycle=PG_POOL_RECYCLE_SECONDS,
        pool_size=PG_READ_POOL_SIZE,
        max_overflow=PG_READ_POOL_OVERFLOW,
        hide_parameters=True,
        isolation_level="AUTOCOMMIT",
        # A connection in autocommit holds no transaction to roll back when it comes back.
        pool_reset_on_return=None,
        connect_args={"options": options},
    )

    @event.listens_for(reader, "do_connect")
    def _connect_for_the_loop(
        _dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]
    ) -> LoopConnection:
        # In a thread when a read on the loop asks (loop_reads.blocking): a server out of reach
        # must not stop the loop.
        return loop_reads.blocking(partial(LoopConnection.connect, *cargs, **cparams))

    @event.listens_for(reader, "connect")
    def _reads_in_autocommit(dbapi_connection: LoopConnection, record: Any) -> None:
        record.info[_READS_IN_AUTOCOMMIT] = True
        record.info[_CONNECTED_AT] = time.monotonic()
        # Set up (SQLAlchemy's first-connection statements are done): its waits may be the
        # loop's from now on.
        dbapi_connection.on_loop = True

    @event.listens_for(reader, "begin")
    def _begun_already(connection: Any) -> None:
        # An ORM session's Connection in a ReadTransaction: there is nothing to begin.
        connection.connection.info.pop(_BEGUN_ON_DRIVER, None)

    _SET_ASIDE[reader.pool] = _SetAside()

    @event.listens_for(reader, "invalidate")
    def _none_set_aside_after(*_args: Any) -> None:
        # A connection found dropped: the pool replaces every older one as it lends it again,
        # so those set aside go back to it first (_SetAside).
        set_aside = _SET_ASIDE.get(reader.pool)
        if set_aside is not None:
            set_aside.give_all_back()

    # Not read_only_engine(reader): its option is for the begin hooks of make_engine, and here
    # the server itself refuses a write.
    return reader


def dispose_read_engine(read_engine: Engine, engine: Engine) -> None:
    """Close make_read_engine's pool, if it has one of its own."""
    if read_engine.pool is not engine.pool:
        set_aside = _SET_ASIDE.pop(read_engine.pool, None)
        if set_aside is not None:
            set_aside.give_all_back()
        read_engine.dispose()


# A connection with no transaction open and no statement under way.
_PG_IDLE = TransactionStatus.IDLE
# Set on a pooled connection of make_read_engine's PostgreSQL pool when it connects.
_CONNECTED_AT = "portal_connected_at"


class _SetAside:
    """Connections of make_read_engine's PostgreSQL pool kept out of it between reading
    transactions, each lent to the next one as it is (:class:`ReadTransaction`).

    The pool's checkout and checkin (its bookkeeping objects, events and locks) were about a
    fourteenth of /account's CPU; a read in autocommit leaves nothing on its connection to
    reset. So a ReadTransaction that ends with its connection idle sets it aside here, and the
    next takes the last one set aside (the one most likely still in the CPU's caches). The
    pool's rules hold all the same: a connection is set aside only while valid, idle and younger
    than PG_POOL_RECYCLE_SECONDS (older ones go back to the pool, which replaces them); when
    the pool finds a connection dropped, every one set aside goes back to it, to be checked as
    the pool checks its own; and dispose_read_engine gives them back before closing the pool.
    They stay counted as lent by the pool, so its limits hold: at most as many as it lends.
    """

    def __init__(self) -> None:
        self._kept: collections.deque[PoolProxiedConnection] = collections.deque()

    def take(self) -> PoolProxiedConnection | None:
        while True:
            try:
                pooled = self._kept.pop()
            except IndexError:
                return None
            if pooled.is_valid and _young(pooled):
                return pooled
            pooled.close()

    def keep(self, pooled: PoolProxiedConnection) -> None:
        """Set ``pooled`` aside, or give it back to the pool if it is not fit to lend as is."""
        if not pooled.is_valid:
            pooled.close()
            return
        driver = pooled.driver_connection
        if driver is None or driver.pgconn.transaction_status != _PG_IDLE:
            # Left in a transaction or amid a statement: nothing in the portal does that on
            # these connections, and the pool resets nothing (autocommit), so it is closed
            # rather than lent to a request that would read in someone else's transaction.
            pooled.invalidate()
            pooled.close()
        elif _young(pooled):
            self._kept.append(pooled)
        else:
            pooled.close()

    def __len__(self) -> int:
        return len(self._kept)

    def give_all_back(self) -> None:
        while True:
            try:
                pooled = self._kept.pop()
            except IndexError:
                return
            pooled.close()


def reading_connections_in_use(read_engine: Engine) -> int:
    """Connections of make_read_engine's pool a transaction holds now (not those set aside)."""
    pool = read_engine.pool
    if not isinstance(pool, QueuePool):
        raise TypeError("make_read_engine's engines pool their connections in a QueuePool")
    set_aside = _SET_ASIDE.get(pool)
    return pool.checkedout() - (len(set_aside) if set_aside is not None else 0)


def _young(pooled: PoolProxiedConnection) -> bool:
    connected_at = pooled.info.get(_CONNECTED_AT)
    return connected_at is not None and time.monotonic() - connected_at < PG_POOL_RECYCLE_SECONDS


# make_read_engine's pools, each with the connections set aside from it.
_SET_ASIDE: weakref.WeakKeyDictionary[Pool, _SetAside] = weakref.WeakKeyDictionary()


def read_only_engine(engine: Engine) -> Engine:
    """``engine`` with every transaction read-only (see READ_ONLY), sharing its pool."""
    return engine.execution_options(**{READ_ONLY: True})


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (head by default)."""
    command.upgrade(alembic_config(database_url), revision)


# Rows ANALYZE reads at most from each index on SQLite: approximate figures are enough for the
# planner, and a run stays milliseconds long at any size (7.5 ms against 123 for a full ANALYZE
# at a tenth of the bench's full service: bench/README.md).
ANALYSIS_LIMIT = 1000


def refresh_planner_statistics(db: Session) -> bool:
    """On SQLite, what its planner knows of each table and index made anew (ANALYZE, into
    ``sqlite_stat1``), in ``db``'s transaction; whether it did. SQLite keeps no statistics by
    itself, and without them it guesses (it once took the NULLs of an index of those who
    withdrew for "not withdrawn, few"). bench/pages.py measures pages with statistics made so;
    tests/http/test_pages_at_scale.py reads the plans of a service that has none yet.
    PostgreSQL's autovacuum keeps its own: nothing to do there."""
    if db.get_bind().dialect.name != "sqlite":
        return False
    db.execute(text(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}"))
    db.execute(text("ANALYZE"))
    return True


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


# A statement DriverQuery runs: a SELECT, or a UNION of them, of any columns.
DriverStatement: TypeAlias = Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]


class DriverQuery:
    """A Core SELECT run straight on the driver's cursor, for the statements pages run most (the
    session's on every request, the facilitator's home): its SQL compiled once per dialect by
    SQLAlchemy, its parameters and values converted by the columns' own types, as SQLAlchemy
    converts them.

    Through SQLAlchemy's execution (an execution context, result metadata, a cursor result per
    call) the session's statement cost about ten times running it in the driver; the home's
    four statements (a UNION of fourteen parts among them) 2.8 ms a page against 0.4 ms: most of
    it hashing their large cache keys and expanding their constant ``IN`` lists again at every
    execution (bench/README.md, "Requests per second, fifth round").

    The statement's own constants (``LIMIT 100``, ``state IN ('submitted', ...)``) are bound
    once, when it is compiled; every parameter without a value must be given by name at each
    call, and may not be a list (an expanding ``IN``).
    """

    def __init__(self, statement: DriverStatement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _CompiledQuery] = {}
        self._fingerprints: dict[str, str] = {}

    def _compiled(self, dialect: Dialect) -> _CompiledQuery:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _CompiledQuery(self.statement, dialect)
        return compiled

    def fingerprint(self, dialect: Dialect) -> str:
        """A short hash of the SQL this runs on ``dialect``: what it read changes with it."""
        found = self._fingerprints.get(dialect.name)
        if found is None:
            sql = self._compiled(dialect).sql
            found = self._fingerprints[dialect.name] = hashlib.sha256(sql.encode()).hexdigest()[:16]
        return found

    def first(
        self, transaction: ReadTransaction, parameters: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row for ``parameters`` (by bound parameter name), converted; or None."""
        compiled = self._compiled(transaction.dialect)
        return transaction.on_driver(lambda driver: compiled.first(driver, parameters))

    def all(
        self, db: Session | ReadTransaction, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Every row for ``parameters``, converted, in the transaction of ``db``.

        ``db`` is a reading request's transaction (``Ctx.reader``), or an ORM session: then
        the statement runs on its connection's driver, in its transaction, after flushing what
        it holds (as the ORM's autoflush would before a query).
        """
        if isinstance(db, ReadTransaction):
            compiled = self._compiled(db.dialect)
            return db.on_driver(lambda driver: compiled.all(driver, parameters))
        if db.autoflush:
            db.flush()
        connection = db.connection()
        compiled = self._compiled(connection.dialect)
        try:
            return compiled.all(connection.connection.driver_connection, parameters)
        except connection.dialect.loaded_dbapi.Error as error:
            # As SQLAlchemy does for its own statements: a dropped connection is replaced.
            if connection.dialect.is_disconnect(error, connection.connection, None):
                connection.invalidate(error)
            raise


# A placeholder in SQLAlchemy's "pyformat" SQL for psycopg, or a literal percent sign.
_PYFORMAT_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with ``%(name)s`` placeholders as ``$1``, ``$2``..., one number per name, and
    the names in that order."""
    order: dict[str, int] = {}

    def number(found: re.Match[str]) -> str:
        name = found.group(1)
        if name is None:
            return "%"
        return f"${order.setdefault(name, len(order) + 1)}"

    numbered = _PYFORMAT_PLACEHOLDER.sub(number, sql)
    return numbered, tuple(order)


def _result_processor(
    column_type: TypeEngine[Any], dialect: Dialect
) -> Callable[[Any], Any] | None:
    """What converts a column's value from the driver's to SQLAlchemy's, or None if nothing.

    On PostgreSQL every session of the portal's is in UTC (``_IN_UTC``), so psycopg gives each
    timestamp with ``datetime.UTC``, which UTCDateTime's conversion gives back unchanged: two
    Python calls a time, ten on every signed-in request (its session's and account's times).
    """
    if dialect.name == "postgresql" and isinstance(column_type, UTCDateTime):
        return None
    return column_type.dialect_impl(dialect).result_processor(dialect, None)


def _driver_cursor(driver: Any) -> Any:
    return driver.cursor()


class _CompiledQuery:
    def __init__(self, statement: DriverStatement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.escaped_bind_names:  # names the driver's paramstyle cannot carry as they are
            raise ValueError("a driver query's parameters need plain names")
        # Given at each call: the parameters without a value of their own.
        given = {
            name
            for name, bind in compiled.binds.items()
            if bind.value is None and bind.callable is None and not bind.expanding
        }
        for name in given:
            bind = compiled.binds[name]
            if bind.literal_execute:
                raise ValueError(f"{name}: a parameter given at each call is bound, not rendered")
        # The constants rendered, or expanded into one parameter each (an IN list), once.
        expanded = compiled.construct_expanded_state(dict.fromkeys(given), escape_names=False)
        self.sql = expanded.statement
        names = tuple(expanded.positiontup or ()) if dialect.positional else None
        self.positional = names
        # The driver's cursor, or on psycopg its raw one, given the statement with PostgreSQL's
        # own numbered parameters: psycopg's cursor finds ``%(name)s`` placeholders in the text
        # at every execution, with a regular expression, and remembers what it found only for
        # statements shorter than 4 KB with at most 50 parameters. The facilitator's home is
        # longer: a fifth of its CPU went there (bench/README.md, "ninth round").
        self._cursor: Callable[[Any], Any] = _driver_cursor
        if dialect.driver == "psycopg":
            from psycopg import RawCursor

            self.sql, self.positional = _numbered(self.sql)
            self._cursor = RawCursor
        self.sql_bytes = self.sql.encode()
        # The parameters' names in the order of their numbers (psycopg's statements only).
        self.numbered: tuple[str, ...] = self.positional or ()
        # Each parameter converted by its type, as SQLAlchemy converts it (an IN list's
        # members each by the list's type).
        processors: dict[str, Callable[[Any], Any] | None] = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            for sent_as in expanded.parameter_expansion.get(name, [name]):
                processors[sent_as] = process
        self.binds: dict[str, Callable[[Any], Any] | None] = {
            name: processors[name] for name in given
        }
        self.constants: dict[str, Any] = {}
        for name, value in expanded.parameters.items():
            if name not in given:
                convert = processors.get(name)
                self.constants[name] = convert(value) if convert is not None else value
        results = [_result_processor(column.type, dialect) for column in statement.selected_columns]
        self.width = len(results)
        # The columns whose values the driver's do not stand for as they are (times, enums).
        self.converted = tuple(
            (index, process) for index, process in enumerate(results) if process is not None
        )

    def _values(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(self.constants) if self.constants else {}
        for name, process in self.binds.items():
            value = parameters[name]
            values[name] = process(value) if process is not None else value
        return values

    @staticmethod
    def _runs_lean(driver: Any) -> bool:
        """Whether ``driver`` is a connection of make_read_engine's, in autocommit: then it runs
        the statement itself (LoopConnection.rows); any other takes a cursor."""
        return type(driver) is LoopConnection and driver.autocommit

    def _lean_rows(self, driver: LoopConnection, parameters: Mapping[str, Any]) -> list[Any]:
        values = self._values(parameters)
        return driver.rows(self.sql_bytes, [values[name] for name in self.numbered])

    def _execute(self, driver: Any, parameters: Mapping[str, Any]) -> Any:
        values = self._values(parameters)
        cursor = self._cursor(driver)
        try:
            if self.positional is not None:
                cursor.execute(self.sql, tuple([values[name] for name in self.positional]))
            else:
                cursor.execute(self.sql, values)
        except BaseException:
            cursor.close()
            raise
        return cursor

    def first(self, driver: Any, parameters: Mapping[str, Any]) -> tuple[Any, ...] | None:
        if self._runs_lean(driver):
            lean = self._lean_rows(driver, parameters)
            return self._convert(lean[0]) if lean else None
        cursor = self._execute(driver, parameters)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return self._convert(row)

    def all(self, driver: Any, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if self._runs_lean(driver):
            return [self._convert(row) for row in self._lean_rows(driver, parameters)]
        cursor = self._execute(driver, parameters)
        try:
            found = cursor.fetchall()
        finally:
            cursor.close()
        return [self._convert(row) for row in found]

    def _convert(self, row: Any) -> tuple[Any, ...]:
        if len(row) != self.width:
            raise ValueError("the driver's row does not have the statement's columns")
        if not self.converted:
            return tuple(row)
        values = list(row)
        for index, process in self.converted:
            values[index] = process(values[index])
        return tuple(values)


class ReadTransaction:
    """A read-only transaction begun on a pooled connection's driver, for a request that only
    reads: its own statements (the session's) go to the driver (:class:`DriverQuery`), and an
    ORM session in the same transaction is made only when the handler asks for one.

    An ORM session costs, before it runs anything, a Session, a Connection, their transaction
    objects and the events at begin, commit and close: on a signed-in page whose handler reads
    nothing beyond its session (``/account``), about a third of the page's CPU.

    ``engine`` is make_read_engine's: the transaction is read-only as any other (``PRAGMA
    query_only``; on PostgreSQL each statement its own read-only transaction in autocommit,
    so there is nothing to begin, commit or undo).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dialect = engine.dialect
        self._set_aside = _SET_ASIDE.get(engine.pool)
        lent = self._set_aside.take() if self._set_aside is not None else None
        self._pooled: PoolProxiedConnection = lent or engine.raw_connection()
        self._connection: Connection | None = None
        self._session: Session | None = None
        try:
            if self.dialect.name == "sqlite":
                self.on_driver(
                    lambda _driver: _begin_sqlite(
                        self._pooled, read_only=True, relaxed_commit=False, no_wait=False
                    )
                )
            elif not self._pooled.info.get(_READS_IN_AUTOCOMMIT):
                raise ValueError("a reading transaction on PostgreSQL needs make_read_engine's")
        except BaseException:
            self.close()
            raise

    def on_driver(self, work: Callable[[Any], T]) -> T:
        """``work(driver_connection)``; a dropped connection is handled as SQLAlchemy handles
        it for its own statements (see make_engine): this connection and every pooled one
        older than it are replaced."""
        try:
            return work(self._pooled.driver_connection)
        except self.dialect.loaded_dbapi.Error as error:
            if self.dialect.is_disconnect(error, self._pooled, None):
                self._engine.pool._invalidate(self._pooled, error)
            raise

    def session(self, opened: Callable[[Session], None] | None = None) -> Session:
        """An ORM session in this transaction (made at the first call; ``opened`` is given it
        then)."""
        if self._session is None:
            # The Connection begins "its" transaction at its first use: the begin hook finds it
            # begun already (make_engine) and says nothing to the database.
            self._pooled.info[_BEGUN_ON_DRIVER] = True
            self._connection = Connection(self._engine, self._pooled)
            self._session = Session(bind=self._connection, expire_on_commit=False)
            if opened is not None:
                opened(self._session)
        return self._session

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        elif self.dialect.name == "sqlite":  # (PostgreSQL's ran in autocommit)
            self.on_driver(_commit)

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        elif self.dialect.name == "sqlite":
            self.on_driver(_rollback)

    def close(self) -> None:
        """Back to the pool (which rolls back whatever is left)."""
        self._pooled.info.pop(_BEGUN_ON_DRIVER, None)
        if self._session is not None:
            self._session.close()
        if self._connection is not None:
            self._connection.close()
        elif self._set_aside is not None:
            self._set_aside.keep(self._pooled)
        else:
            self._pooled.close()

    def __enter__(self) -> ReadTransaction:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _commit(driver: Any) -> None:
    driver.commit()


def _rollback(driver: Any) -> None:
    driver.rollback()
