"""Alembic is the only way the schema is made: up, down and up again on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

import portal.models  # noqa: F401  (registers every table on Base)
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


def test_media_revision_goes_down_and_up_again(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "0002")
    engine = make_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"uploads", "upload_chunks"}.isdisjoint(tables)
        chunk_columns = {c["name"]: c for c in inspect(engine).get_columns("content_chunks")}
        assert "size" not in chunk_columns
        assert chunk_columns["data"]["nullable"] is False
    finally:
        engine.dispose()
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        chunk_columns = {c["name"]: c for c in inspect(engine).get_columns("content_chunks")}
        assert chunk_columns["data"]["nullable"] is True
        assert chunk_columns["size"]["nullable"] is False
        message_columns = {c["name"] for c in inspect(engine).get_columns("messages")}
        assert {"media_seconds", "page_count", "transcript_object_id"} <= message_columns
    finally:
        engine.dispose()


def test_maintenance_revision_goes_down_and_up_again(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "0003")
    engine = make_engine(empty_database_url)
    try:
        assert "maintenance_leases" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("maintenance_leases")}
        assert columns == {"job", "holder", "leased_until", "last_finished_at"}
    finally:
        engine.dispose()
