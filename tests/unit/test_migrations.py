"""Alembic is the only way the schema is made: up, down and up again on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

import portal.accounts.models  # registers its tables on Base
import portal.audit.models  # noqa: F401  (both register their tables on Base)
from portal.db import Base, downgrade, make_engine, upgrade


def test_migrations_build_exactly_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set(Base.metadata.tables)
        for name, table in Base.metadata.tables.items():
            columns = {column["name"] for column in inspect(engine).get_columns(name)}
            assert columns == set(table.columns.keys()), name
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")
    engine = make_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(empty_database_url)
