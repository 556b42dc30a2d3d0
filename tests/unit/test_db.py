"""Read-only transactions (portal/db.py) on SQLite and PostgreSQL: the database itself refuses
a write in one, so a GET that writes fails loudly, and the connection writes again afterwards.
Statements run on the driver (DriverQuery) give what SQLAlchemy gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from psycopg import pq
from sqlalchemy import Engine, bindparam, event, func, literal, select, union_all
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool, QueuePool

from portal.accounts.models import Account, Role
from portal.db import (
    _CONNECTED_AT,
    PG_POOL_RECYCLE_SECONDS,
    POOL_SIZE,
    READ_ONLY,
    DriverQuery,
    ReadTransaction,
    _numbered,
    dispose_read_engine,
    make_engine,
    make_read_engine,
    make_session_factory,
    read_only_engine,
    reading_connections_in_use,
)
from tests import rows


def _count(engine: Engine) -> int:
    with Session(engine) as db:
        return int(db.scalar(select(func.count()).select_from(Account)) or 0)


def test_a_write_in_a_read_only_transaction_is_an_error(db_engine: Engine) -> None:
    read_sessions = make_session_factory(db_engine, read_only=True)
    with read_sessions() as db:
        with pytest.raises(DBAPIError, match=r"(?i)read.?only"):
            rows.account(db)
        db.rollback()
    assert _count(db_engine) == 0


def test_a_connection_option_makes_one_transaction_read_only(db_engine: Engine) -> None:
    sessions = make_session_factory(db_engine)
    with sessions() as db:
        db.connection(execution_options={READ_ONLY: True})
        with pytest.raises(DBAPIError, match=r"(?i)read.?only"):
            rows.account(db)
        db.rollback()
        # The next transaction of the same session (and pooled connection) writes again.
        rows.account(db)
        db.commit()
    assert _count(db_engine) == 1


def test_read_only_and_writing_transactions_take_turns_on_one_connection(
    db_engine: Engine,
) -> None:
    # One pooled connection for everything: what the read-only one set must not stay behind.
    db_engine.pool.dispose()
    sessions = make_session_factory(db_engine)
    read_sessions = make_session_factory(db_engine, read_only=True)
    for _ in range(2):
        with read_sessions() as db:
            assert db.scalar(select(func.count()).select_from(Account)) is not None
        with sessions() as db:
            rows.account(db)
            db.commit()
    assert _count(db_engine) == 2


def test_a_read_transaction_refuses_writes_and_leaves_its_connection_writing_again(
    db_engine: Engine, read_engine: Engine
) -> None:
    """A reading request's transaction (begun on the driver, an ORM session opened only when
    asked for) is read-only like any other, and what it set does not stay on a pooled
    connection: a writing transaction after it begins as usual (BEGIN IMMEDIATE on SQLite,
    where the two share one pool)."""
    db_engine.pool.dispose()
    with ReadTransaction(read_engine) as transaction:
        with pytest.raises(DBAPIError, match=r"(?i)read.?only"):
            rows.account(transaction.session())
        transaction.rollback()
    for opens_session in (False, True, False):
        with ReadTransaction(read_engine) as transaction:
            if opens_session:
                counted = transaction.session().scalar(select(func.count()).select_from(Account))
                assert counted is not None
            transaction.commit()
        with Session(db_engine) as db:
            rows.account(db)
            db.commit()
        with Session(db_engine) as db:
            rows.account(db)
            db.commit()
        db_engine.pool.dispose()
    assert _count(db_engine) == 6


def test_a_reading_transaction_on_postgresql_sends_its_statements_alone_and_reads_only(
    pg_engine: Engine, pg_read_engine: Engine
) -> None:
    """A reading request's statements each run as their own read-only transaction (autocommit,
    on connections of their own: no BEGIN, SET or COMMIT round trips around them, nothing left
    open), each sees what was committed before it, and a write there is refused; a read-only
    ORM session on the writing engine is refused a write too."""
    assert pg_read_engine.pool is not pg_engine.pool
    query = DriverQuery(select(func.count()).select_from(Account))
    for written in range(2):
        with ReadTransaction(pg_read_engine) as transaction:
            assert query.first(transaction, {}) == (written,)
            driver = transaction.on_driver(lambda driver: driver)
            assert driver.info.transaction_status == pq.TransactionStatus.IDLE
            with pytest.raises(DBAPIError, match=r"(?i)read.?only"):
                rows.account(transaction.session())
            transaction.rollback()
        with Session(pg_engine) as db:
            rows.account(db)
            db.commit()
    assert _count(pg_engine) == 2
    with (
        make_session_factory(pg_engine, read_only=True)() as db,
        pytest.raises(DBAPIError, match=r"(?i)read.?only"),
    ):
        rows.account(db)


def test_reading_connections_on_postgresql_keep_the_options_the_database_url_gives(
    pg_engine: Engine,
) -> None:
    url = pg_engine.url.update_query_dict({"options": "-c work_mem=5MB"})
    engine = make_engine(url.render_as_string(hide_password=False))
    reader = make_read_engine(engine)
    try:
        with ReadTransaction(reader) as transaction:
            shown = transaction.on_driver(
                lambda driver: [
                    driver.execute(f"SHOW {name}").fetchone()[0]
                    for name in ("work_mem", "default_transaction_read_only")
                ]
            )
        assert shown == ["5MB", "on"]
    finally:
        dispose_read_engine(reader, engine)
        engine.dispose()


def test_every_postgresql_session_is_in_utc_whatever_the_server_or_url_says(
    pg_engine: Engine,
) -> None:
    """Reading and writing connections alike: their sessions' time zone is UTC even when the
    database URL asks for another (and the URL's other options are kept), so the driver gives
    timestamps in UTC, as UTCDateTime keeps them, with nothing to convert."""
    url = pg_engine.url.update_query_dict({"options": "-c TimeZone=Europe/London -c work_mem=5MB"})
    engine = make_engine(url.render_as_string(hide_password=False))
    reader = make_read_engine(engine)
    moment = "SELECT timestamptz '2026-07-01 12:00:00+02', current_setting('work_mem')"
    # A driver query's times are not converted on PostgreSQL (db._result_processor): they
    # must come from the driver as UTCDateTime gives them.
    created_at = DriverQuery(select(Account.created_at).where(Account.id == bindparam("id")))
    try:
        with Session(engine) as db:
            account = rows.account(db)
            db.commit()
            held = account.created_at
            [(from_orm_session,)] = created_at.all(db, {"id": account.id})
        with ReadTransaction(reader) as transaction:
            read = transaction.on_driver(
                lambda driver: (
                    driver.execute("SHOW TimeZone").fetchone()[0],
                    *driver.execute(moment).fetchone(),
                )
            )
            from_reader = created_at.first(transaction, {"id": account.id})
        with engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            written = (
                driver.execute("SHOW TimeZone").fetchone()[0],
                *driver.execute(moment).fetchone(),
            )
    finally:
        dispose_read_engine(reader, engine)
        engine.dispose()
    for zone, at, work_mem in (read, written):
        assert zone == "UTC"
        assert at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
        assert at.tzinfo is UTC
        assert work_mem == "5MB"
    assert from_reader is not None
    for time in (from_reader[0], from_orm_session):
        assert time == held
        assert time.tzinfo is UTC


def test_a_reading_transaction_on_postgresql_refuses_the_writing_engine(pg_engine: Engine) -> None:
    """Only make_read_engine's connections read in autocommit: the writing engine's would run a
    reading request's statements in a transaction nobody commits."""
    with pytest.raises(ValueError, match="make_read_engine"):
        ReadTransaction(read_only_engine(pg_engine))


def _drop_every_connection(pg_engine: Engine) -> None:
    """As a restart of the server: every connection to the test's database is ended, the one
    that ends them too."""
    with pg_engine.connect() as admin:
        admin.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        admin.commit()
        admin.invalidate()


def test_a_dropped_postgresql_connection_fails_one_read_transaction_then_the_pool_reconnects(
    pg_engine: Engine, pg_read_engine: Engine
) -> None:
    """As below, for a reading request's transaction begun on the driver (ReadTransaction)."""
    held = [pg_read_engine.connect() for _ in range(3)]
    for connection in held:
        connection.exec_driver_sql("SELECT 1")
        connection.close()
    _drop_every_connection(pg_engine)
    query = DriverQuery(select(func.count()).select_from(Account))
    with (
        pytest.raises(pg_engine.dialect.loaded_dbapi.Error),
        ReadTransaction(pg_read_engine) as gone,
    ):
        query.first(gone, {})
    for _ in range(3):
        with ReadTransaction(pg_read_engine) as transaction:
            assert query.first(transaction, {}) == (0,)
            assert transaction.session().scalar(select(func.count()).select_from(Account)) == 0
            transaction.commit()


def _checkouts(engine: Engine) -> list[object]:
    """Each checkout from ``engine``'s pool, noted as it happens."""
    taken: list[object] = []

    def note(*_args: object) -> None:
        taken.append(None)

    event.listen(engine, "checkout", note)
    return taken


def _lent(pool: Pool) -> int:
    """Connections ``pool`` has lent and not had back."""
    return cast(QueuePool, pool).checkedout()


def _driver_of(transaction: ReadTransaction) -> object:
    return transaction.on_driver(lambda driver: driver)


def test_a_reading_transaction_on_postgresql_lends_its_connection_to_the_next_as_it_is(
    pg_read_engine: Engine,
) -> None:
    """The connection a reading transaction ends with (idle, valid, young) goes to the next one
    without a checkout from the pool; two at once each have one of their own; a connection
    older than the pool's recycling age (as it ends, or while set aside) goes back to the pool,
    and one left in a transaction is closed."""
    query = DriverQuery(select(func.count()).select_from(Account))
    taken = _checkouts(pg_read_engine)
    with ReadTransaction(pg_read_engine) as first:
        assert query.first(first, {}) == (0,)
        driver = _driver_of(first)
    for _ in range(3):
        with ReadTransaction(pg_read_engine) as transaction:
            assert query.first(transaction, {}) == (0,)
            assert _driver_of(transaction) is driver
    assert len(taken) == 1
    with ReadTransaction(pg_read_engine) as one, ReadTransaction(pg_read_engine) as two:
        assert _driver_of(one) is driver
        assert _driver_of(two) is not driver
    assert len(taken) == 2
    assert _lent(pg_read_engine.pool) == 2  # both set aside, still lent by the pool
    assert reading_connections_in_use(pg_read_engine) == 0

    with ReadTransaction(pg_read_engine) as old:
        old._pooled.info[_CONNECTED_AT] -= PG_POOL_RECYCLE_SECONDS
        aged = _driver_of(old)
    with ReadTransaction(pg_read_engine) as transaction:
        assert _driver_of(transaction) is not aged
        aging = transaction._pooled
        set_aside_then_aged = _driver_of(transaction)
    aging.info[_CONNECTED_AT] -= PG_POOL_RECYCLE_SECONDS  # it grew old while set aside
    with ReadTransaction(pg_read_engine) as transaction:
        assert _driver_of(transaction) is not set_aside_then_aged
    with ReadTransaction(pg_read_engine) as left_open:
        left_open.on_driver(lambda driver: driver.execute("BEGIN"))
        unfinished = _driver_of(left_open)
    assert unfinished.closed  # type: ignore[attr-defined]
    for _ in range(3):
        with ReadTransaction(pg_read_engine) as one, ReadTransaction(pg_read_engine) as two:
            for transaction in (one, two):
                assert _driver_of(transaction) is not unfinished
                assert query.first(transaction, {}) == (0,)


def test_connections_set_aside_go_back_to_the_pool_when_one_is_found_dropped_or_it_closes(
    pg_engine: Engine,
) -> None:
    """When the server drops every connection (a restart), the reading transaction that meets
    a dropped one fails, and those set aside go back to the pool, which replaces them: the
    next reads all succeed. Closing the pool gives back those set aside first."""
    reader = make_read_engine(pg_engine)
    try:
        query = DriverQuery(select(func.count()).select_from(Account))
        with ReadTransaction(reader) as one, ReadTransaction(reader) as two:
            assert query.first(one, {}) == query.first(two, {}) == (0,)
        assert _lent(reader.pool) == 2
        _drop_every_connection(pg_engine)
        with (
            pytest.raises(pg_engine.dialect.loaded_dbapi.Error),
            ReadTransaction(reader) as gone,
        ):
            query.first(gone, {})
        assert _lent(reader.pool) == 0
        for _ in range(3):
            with ReadTransaction(reader) as one, ReadTransaction(reader) as two:
                assert query.first(one, {}) == query.first(two, {}) == (0,)
        assert _lent(reader.pool) == 2
        pool = reader.pool
    finally:
        dispose_read_engine(reader, pg_engine)
    assert _lent(pool) == 0


def test_a_dropped_postgresql_connection_fails_one_statement_then_the_pool_reconnects(
    pg_engine: Engine,
) -> None:
    """No pre-ping per checkout (make_engine): when the server drops every connection (a
    restart), the first statement on a stale one fails, and SQLAlchemy invalidates the whole
    pool, so the other stale connections are replaced on checkout rather than failing too."""
    assert not pg_engine.pool._pre_ping  # the setting under test (no public accessor)
    held = [pg_engine.connect() for _ in range(3)]
    for connection in held:
        connection.exec_driver_sql("SELECT 1")
        connection.close()  # back to the pool, still connected
    _drop_every_connection(pg_engine)
    with pytest.raises(DBAPIError) as dropped, pg_engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    assert dropped.value.connection_invalidated
    for _ in range(3):
        with pg_engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1


def test_a_process_keeps_a_connection_for_each_request_it_serves_at_once(
    db_engine: Engine,
) -> None:
    """POOL_SIZE requests at once, then as many again: the second round opens no connection.
    (With a pool smaller than the requests served at once, every round closed the extra
    connections and opened them anew: a PostgreSQL backend started for a tenth of the pages.)"""
    opened: list[object] = []

    def count(*_args: object) -> None:
        opened.append(None)

    event.listen(db_engine, "connect", count)
    try:
        rounds = []
        # Pages that read (a writing transaction on SQLite would wait for the others' lock).
        reader = db_engine.execution_options(**{READ_ONLY: True})
        for _round in range(2):
            held = [reader.connect() for _ in range(POOL_SIZE)]
            for connection in held:
                connection.exec_driver_sql("SELECT 1")
            for connection in held:
                connection.close()
            rounds.append(len(opened))
        assert rounds == [POOL_SIZE, POOL_SIZE]
    finally:
        event.remove(db_engine, "connect", count)


def test_a_driver_query_gives_what_sqlalchemy_gives_with_its_constants(
    db_engine: Engine, read_engine: Engine
) -> None:
    """Constants of the statement's own (an IN list of enum members, a LIMIT) are bound once
    when it is compiled; the given parameter at each call; values come back converted by the
    columns' types (the role as its enum, times as aware datetimes), in a reading request's
    transaction and in an ORM session's alike."""
    with Session(db_engine) as db:
        for role in (Role.FACILITATOR, Role.PARTICIPANT, Role.SUPPORTER, Role.FACILITATOR):
            rows.account(db, role)
        db.commit()
    with Session(db_engine) as db:
        earliest = db.scalar(select(func.min(Account.created_at)))
    # Given as a time, compared as the database holds times: converted by the column's type
    # (on SQLite, the driver's own text for an aware time would sort after the held one).
    statement = (
        select(Account.id, Account.role, Account.created_at, func.count().over())
        .where(
            Account.role.in_([Role.FACILITATOR, Role.SUPPORTER]),
            Account.sign_in_name != bindparam("not_named"),
            Account.created_at >= bindparam("since"),
        )
        .order_by(Account.created_at, Account.sign_in_name)
        .limit(2)
    )
    query = DriverQuery(statement)
    parameters = {"not_named": "nobody", "since": earliest}
    with Session(db_engine) as db:
        expected = [tuple(row) for row in db.execute(statement, parameters).all()]
        assert len(expected) == 2
        assert {row[1] for row in expected} <= {Role.FACILITATOR, Role.SUPPORTER}
        assert query.all(db, parameters) == expected
        assert query.all(db, parameters)[0][2].tzinfo is UTC
    with ReadTransaction(read_engine) as transaction:
        found = query.all(transaction, parameters)
        assert found == expected
        assert isinstance(found[0][1], Role)
        assert found[0][2].tzinfo is UTC
        assert query.first(transaction, {"not_named": expected[0][0], "since": earliest})
        transaction.commit()


def test_a_driver_query_in_an_orm_session_sees_what_it_holds(db_engine: Engine) -> None:
    """As the ORM's autoflush would: what the session holds is written before the query."""
    query = DriverQuery(select(Account.id).where(Account.sign_in_name == bindparam("name")))
    with Session(db_engine) as db:
        account = rows.account(db)
        account.sign_in_name = "renamed, not flushed"
        assert query.all(db, {"name": "renamed, not flushed"}) == [(account.id,)]
        db.rollback()


def test_a_long_driver_query_with_a_parameter_used_twice_gives_what_sqlalchemy_gives(
    db_engine: Engine, read_engine: Engine
) -> None:
    """A statement as long as the facilitator's home's (beyond 4 KB and 50 parameters: on
    psycopg it is sent with numbered parameters, converted once), one given parameter used in
    every part, a constant of each part's own, and a literal percent sign (the ``%`` operator)."""
    with Session(db_engine) as db:
        for _ in range(3):
            rows.account(db, Role.FACILITATOR)
        db.commit()
    parts = [
        select(Account.id, literal(number), func.length(Account.sign_in_name) % 2).where(
            Account.sign_in_name != bindparam("not_named"),
            Account.role.in_([Role.FACILITATOR, Role.SUPPORTER]),
            Account.sign_in_name != f"nobody number {number}",
        )
        for number in range(30)
    ]
    statement = union_all(*parts)
    query = DriverQuery(statement)
    parameters = {"not_named": "nobody"}
    assert len(str(statement.compile(db_engine))) > 4096
    with Session(db_engine) as db:
        expected = sorted(tuple(row) for row in db.execute(statement, parameters).all())
    assert len(expected) == 3 * 30
    with ReadTransaction(read_engine) as transaction:
        assert sorted(query.all(transaction, parameters)) == expected
        transaction.commit()


def test_a_statement_for_psycopg_is_numbered_once_per_name() -> None:
    assert _numbered("SELECT %(a)s, %(b)s, %(a)s, 7 %% 2 WHERE x LIKE %(c)s") == (
        "SELECT $1, $2, $1, 7 % 2 WHERE x LIKE $3",
        ("a", "b", "c"),
    )
