"""Fixtures for unit tests that need real concurrent transactions: a migrated throwaway
PostgreSQL database of their own (SQLite serialises writers, so races only show there) and
settings that point at it. Tests using them are marked ``postgres`` by tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from portal.db import dispose_read_engine, make_engine, make_read_engine
from portal.settings import Settings
from tests.support.databases import PostgresDatabases
from tests.support.env import portal_env


@pytest.fixture
def pg_engine(postgresql_databases: PostgresDatabases, tmp_path: Path) -> Iterator[Engine]:
    with postgresql_databases.database(tmp_path, migrated=True) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def pg_read_engine(pg_engine: Engine) -> Iterator[Engine]:
    """``portal.db.make_read_engine(pg_engine)``: the pool reading requests run on."""
    reader = make_read_engine(pg_engine)
    try:
        yield reader
    finally:
        dispose_read_engine(reader, pg_engine)


@pytest.fixture
def pg_settings(pg_engine: Engine, tmp_path: Path) -> Settings:
    url = pg_engine.url.render_as_string(hide_password=False)
    return Settings.from_env(
        portal_env(data_dir=tmp_path / "data", database_url=url, base_url="http://testserver")
    )
