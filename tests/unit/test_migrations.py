"""Alembic is the only way the schema is made: up, down and up again on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

import portal.models  # noqa: F401  (registers every table on Base)
from portal.db import Base, downgrade, make_engine, make_session_factory, upgrade
from portal.demo_scale import Scale, seed_scale
from portal.settings import Settings
from tests.support.env import portal_env


def test_migrations_build_exactly_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set(Base.metadata.tables)
        for name, table in Base.metadata.tables.items():
            found = inspect(engine).get_columns(name)
            assert {column["name"] for column in found} == set(table.columns.keys()), name
            if engine.dialect.name == "postgresql":  # SQLite keeps no comments
                # What a column holds is said once, in the model; the migrations must agree.
                comments = {column["name"]: column.get("comment") for column in found}
                assert comments == {c.name: c.comment for c in table.columns}, name
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


def test_trust_anchor_revision_keeps_what_was_there_and_goes_down_again(
    empty_database_url: str,
) -> None:
    """0005 on a service from before trust anchors: its accounts and server-made invitations
    stay as they were (no signing key yet, the code hash kept); down again, browser-made
    invitations (which have no code hash) go and everything else stays."""
    upgrade(empty_database_url, "0004")
    engine = make_engine(empty_database_url)
    now = "2026-11-01 10:00:00+00:00"
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO accounts (id, role, sign_in_name, kdf_salt, kdf_ops, kdf_mem,"
                    " auth_hash, recovery_auth_hash, public_key, key_bundle, recovery_bundle,"
                    " created_at, keys_changed_at) VALUES (:id, 'service_manager',"
                    " 'old manager', :b, 1, 8388608, 'h', 'h', :b, :b, :b, :now, :now)"
                ),
                {"id": "1" * 8 + "-1111-4111-8111-" + "1" * 12, "b": b"\x01" * 32, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO invitations (id, code_hash, purpose, role, account_id, kdf_salt,"
                    " kdf_ops, kdf_mem, created_at, expires_at) VALUES (:id, :h, 'setup',"
                    " 'service_manager', :account, :b, 1, 8388608, :now, :now)"
                ),
                {
                    "id": "2" * 8 + "-2222-4222-8222-" + "2" * 12,
                    "h": b"\x02" * 32,
                    "account": "3" * 8 + "-3333-4333-8333-" + "3" * 12,
                    "b": b"\x01" * 16,
                    "now": now,
                },
            )
    finally:
        engine.dispose()

    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) >= {
            "trust_log",
            "service_root",
            "case_key_epochs",
        }
        with engine.begin() as connection:
            signing = connection.execute(text("SELECT signing_public_key FROM accounts")).one()
            assert signing == (None,)
            kept = connection.execute(text("SELECT code_hash, lookup_id FROM invitations")).one()
            assert (bytes(kept[0]), kept[1]) == (b"\x02" * 32, None)
            # A browser-made invitation: no code hash.
            connection.execute(
                text(
                    "INSERT INTO invitations (id, purpose, role, account_id, kdf_salt, kdf_ops,"
                    " kdf_mem, created_at, expires_at, lookup_id) VALUES (:id, 'invite',"
                    " 'facilitator', :account, :b, 1, 8388608, :now, :now, :lookup)"
                ),
                {
                    "id": "4" * 8 + "-4444-4444-8444-" + "4" * 12,
                    "account": "5" * 8 + "-5555-4555-8555-" + "5" * 12,
                    "b": b"\x01" * 16,
                    "now": now,
                    "lookup": "a" * 32,
                },
            )
    finally:
        engine.dispose()

    downgrade(empty_database_url, "0004")
    engine = make_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"trust_log", "service_root", "case_key_epochs"}.isdisjoint(tables)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM invitations")).scalar() == 1
            assert connection.execute(text("SELECT count(*) FROM accounts")).scalar() == 1
        assert "signing_public_key" not in {
            c["name"] for c in inspect(engine).get_columns("accounts")
        }
    finally:
        engine.dispose()
    upgrade(empty_database_url)


def test_pages_revision_counts_what_each_case_stores_and_goes_down_again(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0006 on a service that already stores content: each case's running total starts as the
    sum of its versions; down again, the total and the indexes go, and up again they return."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    settings = Settings.from_env(
        portal_env(data_dir=tmp_path, database_url=empty_database_url, base_url="http://t")
    )
    summed = text(
        "SELECT o.case_id, SUM(v.ciphertext_size) FROM content_versions v"
        " JOIN content_objects o ON o.id = v.object_id GROUP BY o.case_id"
    )
    try:
        with make_session_factory(engine)() as db:
            seed_scale(db, settings, Scale(cases=3, messages=30), "password")
            db.commit()
        every_row = text(
            "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM message_events),"
            " (SELECT COUNT(*) FROM participants), (SELECT COUNT(*) FROM content_objects)"
        )
        with engine.connect() as connection:
            expected = {str(case): int(size) for case, size in connection.execute(summed)}
            before = tuple(connection.execute(every_row).one())
        assert len(expected) == 3
        downgrade(empty_database_url, "0005")
        assert "stored_bytes" not in {c["name"] for c in inspect(engine).get_columns("cases")}
        assert "ix_audit_events_subject" not in {
            i["name"] for i in inspect(engine).get_indexes("audit_events")
        }
        upgrade(empty_database_url)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, stored_bytes FROM cases"))
            totals = {str(case): int(size) for case, size in rows}
            after = tuple(connection.execute(every_row).one())
        assert totals == expected
        # Nothing went with the rebuilt indexes (a SQLite table rebuild would cascade).
        assert after == before
        assert "ix_audit_events_subject" in {
            i["name"] for i in inspect(engine).get_indexes("audit_events")
        }
    finally:
        engine.dispose()


def test_pages_pg2_revision_adds_two_partial_indexes_and_goes_down_again(
    empty_database_url: str,
) -> None:
    """0007: what waits for review and who waits for a case key get small partial indexes;
    down again they go, and nothing else does."""
    expected = {"messages": "ix_messages_waiting", "participants": "ix_participants_awaiting_key"}
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:

        def indexes(table: str) -> set[str]:
            return {str(i["name"]) for i in inspect(engine).get_indexes(table)}

        for table, name in expected.items():
            assert name in indexes(table)
        downgrade(empty_database_url, "0006_pages_indexes")
        for table, name in expected.items():
            assert name not in indexes(table)
        assert "ix_messages_queue" in indexes("messages")
        upgrade(empty_database_url)
        for table, name in expected.items():
            assert name in indexes(table)
    finally:
        engine.dispose()


def test_message_objects_revision_indexes_each_object_column_and_goes_down_again(
    empty_database_url: str,
) -> None:
    """0008: the four columns naming a message's content objects are indexed; down again they
    go, and 0007's indexes stay."""
    expected = {
        "ix_messages_object",
        "ix_messages_feedback_object",
        "ix_messages_content_note_object",
        "ix_messages_transcript_object",
    }
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:

        def indexes() -> set[str]:
            return {str(i["name"]) for i in inspect(engine).get_indexes("messages")}

        assert expected <= indexes()
        downgrade(empty_database_url, "0007_pages_pg2")
        assert not expected & indexes()
        assert "ix_messages_waiting" in indexes()
        upgrade(empty_database_url)
        assert expected <= indexes()
    finally:
        engine.dispose()


def test_teams_revision_adds_two_person_approval_and_goes_down_again(
    empty_database_url: str,
) -> None:
    """0010: a case's high-risk category and a message's first approval; what waits for review
    includes items waiting for a second approval. Down again the columns go, and 0008's
    indexes and 0009's supporters stay."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:

        def columns(table: str) -> set[str]:
            return {str(c["name"]) for c in inspect(engine).get_columns(table)}

        assert {"high_risk", "high_risk_changed_at"} <= columns("cases")
        assert {"first_approved_by_id", "approval_note_object_id"} <= columns("messages")
        downgrade(empty_database_url, "0009_supporters")
        assert "case_supporters" in inspect(engine).get_table_names()
        assert "high_risk" not in columns("cases")
        assert "first_approved_by_id" not in columns("messages")
        indexes = {str(i["name"]) for i in inspect(engine).get_indexes("messages")}
        assert {"ix_messages_waiting", "ix_messages_object"} <= indexes
        upgrade(empty_database_url)
        assert "approval_note_object_id" in columns("messages")
    finally:
        engine.dispose()


def test_supporters_revision_adds_their_places_and_goes_down_again(
    empty_database_url: str,
) -> None:
    """0009: supporters' and representatives' places, and invitations naming one. Down again
    both go, and 0008's indexes stay."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:

        def tables() -> set[str]:
            return set(inspect(engine).get_table_names())

        def invitation_columns() -> set[str]:
            return {str(c["name"]) for c in inspect(engine).get_columns("invitations")}

        assert "case_supporters" in tables()
        assert "supporter_id" in invitation_columns()
        downgrade(empty_database_url, "0008_message_objects")
        assert "case_supporters" not in tables()
        assert "supporter_id" not in invitation_columns()
        indexes = {str(i["name"]) for i in inspect(engine).get_indexes("messages")}
        assert "ix_messages_object" in indexes
        upgrade(empty_database_url)
        assert "case_supporters" in tables()
    finally:
        engine.dispose()


def test_rekey_revision_keeps_each_grants_sender_key_and_goes_down_again(
    empty_database_url: str,
) -> None:
    """0012: a content grant keeps its sender's box key of the day (grants made before it have
    none, and open with the sender's current key, as before). Down again the column goes."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:

        def columns() -> set[str]:
            return {str(c["name"]) for c in inspect(engine).get_columns("content_grants")}

        assert "sender_public_key" in columns()
        downgrade(empty_database_url, "0010_teams")
        assert "sender_public_key" not in columns()
        upgrade(empty_database_url)
        assert "sender_public_key" in columns()
    finally:
        engine.dispose()


def test_case_path_revision_starts_every_case_on_its_path_and_goes_down_again(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0016: each existing case was referred on the day it was opened, and a closed one reached
    "closed" on the day it closed, with no reason (none was asked then); recorded by the portal.
    Down again the table and the columns go."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    settings = Settings.from_env(
        portal_env(data_dir=tmp_path, database_url=empty_database_url, base_url="http://t")
    )
    try:
        with make_session_factory(engine)() as db:
            seed_scale(db, settings, Scale(cases=3, messages=3), "password")
            db.commit()
        downgrade(empty_database_url, "0015_epochs")
        assert "case_stage_moves" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            ids = sorted(str(i) for i in connection.scalars(text("SELECT id FROM cases")))
            connection.execute(
                text("UPDATE cases SET status = 'closed' WHERE id = :id"), {"id": ids[0]}
            )
            closed = {
                str(i)
                for i in connection.scalars(text("SELECT id FROM cases WHERE status = 'closed'"))
            }
        upgrade(empty_database_url)
        with engine.connect() as connection:
            moves = connection.execute(
                text(
                    "SELECT case_id, stage, recorded_by_id FROM case_stage_moves"
                    " ORDER BY case_id, recorded_at, stage DESC"
                )
            ).all()
            stages = {
                str(i): str(s) for i, s in connection.execute(text("SELECT id, stage FROM cases"))
            }
        assert ids[0] in closed
        assert sorted((str(c), str(s)) for c, s, _by in moves) == sorted(
            [(i, "referred") for i in ids] + [(i, "closed") for i in closed]
        )
        assert {by for _c, _s, by in moves} == {None}
        assert stages == {i: "closed" if i in closed else "referred" for i in ids}
    finally:
        engine.dispose()


def test_account_events_revision_keeps_what_was_queued_and_goes_down_again(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0025: the notices queued before it (not test notices) become their people's first
    events, with their subject (so an overdue referral already told is not told again). Down
    again the table goes."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    settings = Settings.from_env(
        portal_env(data_dir=tmp_path, database_url=empty_database_url, base_url="http://t")
    )
    try:
        with make_session_factory(engine)() as db:
            seed_scale(db, settings, Scale(cases=1, messages=1), "password")
            db.commit()
        downgrade(empty_database_url, "0024_second_factor")
        assert "account_events" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            account_id = str(connection.scalar(text("SELECT id FROM accounts LIMIT 1")))
            connection.execute(
                text(
                    "INSERT INTO notice_preferences (account_id, email, frequency, created_at)"
                    " VALUES (:a, 'a@mail.example', 'each', CURRENT_TIMESTAMP)"
                ),
                {"a": account_id},
            )
            for notice_id, event, subject in (
                ("n-told", "referral_overdue", "referral-1"),
                ("n-test", "test", None),
            ):
                connection.execute(
                    text(
                        "INSERT INTO notices (id, account_id, event, subject_id, created_at,"
                        " next_attempt_at, attempts) VALUES"
                        " (:id, :a, :e, :s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0)"
                    ),
                    {"id": notice_id, "a": account_id, "e": event, "s": subject},
                )
        upgrade(empty_database_url)
        with engine.connect() as connection:
            events = connection.execute(
                text("SELECT id, account_id, event, subject_id FROM account_events")
            ).all()
        assert [tuple(map(str, row)) for row in events] == [
            ("n-told", account_id, "referral_overdue", "referral-1")
        ]
        downgrade(empty_database_url, "0024_second_factor")
        assert "account_events" not in inspect(engine).get_table_names()
        upgrade(empty_database_url)
    finally:
        engine.dispose()


def test_referral_triage_revision_starts_earlier_referrals_as_received_and_goes_down_again(
    empty_database_url: str, tmp_path: Path
) -> None:
    """0023: a referral received before triage existed starts as received (the column's
    default), with no triage move, facilitator or share; down again the columns go."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    settings = Settings.from_env(
        portal_env(data_dir=tmp_path, database_url=empty_database_url, base_url="http://t")
    )
    try:
        with make_session_factory(engine)() as db:
            seed_scale(db, settings, Scale(cases=1, messages=1), "password")
            db.commit()
        downgrade(empty_database_url, "0022_notices")
        assert "state" not in {c["name"] for c in inspect(engine).get_columns("referrals")}
        with engine.begin() as connection:
            signer = connection.scalars(text("SELECT id FROM accounts")).first()
            connection.execute(
                text(
                    "INSERT INTO referral_keys (id, public_key, statement, signature,"
                    " signer_account_id, created_at) VALUES ('rk1', :k, :s, :g, :a, :t)"
                ),
                {"k": b"k" * 32, "s": b"{}", "g": b"g" * 64, "a": signer, "t": "2026-11-01"},
            )
            connection.execute(
                text(
                    "INSERT INTO referrals (id, reference, channel, source, key_id, ciphertext,"
                    " received_at) VALUES ('r1', 'R-1', 'agency', 'police', 'rk1', :c, :t)"
                ),
                {"c": b"c" * 64, "t": "2026-11-02"},
            )
        upgrade(empty_database_url)
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT state, state_changed_at, assigned_facilitator_id, share"
                    " FROM referrals WHERE id = 'r1'"
                )
            ).one()
        assert tuple(row) == ("received", None, None, None)
        downgrade(empty_database_url, "0022_notices")
        assert "state" not in {c["name"] for c in inspect(engine).get_columns("referrals")}
    finally:
        engine.dispose()


def test_grants_owed_index_revision_adds_a_partial_index_and_goes_down_again(
    empty_database_url: str,
) -> None:
    """0028: the participants marked as owed grants get a small partial index; down again it
    goes, and the mark stays."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:

        def indexes() -> set[str]:
            return {str(i["name"]) for i in inspect(engine).get_indexes("participants")}

        assert "ix_participants_grants_owed" in indexes()
        downgrade(empty_database_url, "0027_grants_owed_marker")
        assert "ix_participants_grants_owed" not in indexes()
        columns = {c["name"] for c in inspect(engine).get_columns("participants")}
        assert "grants_owed_since" in columns
        upgrade(empty_database_url)
        assert "ix_participants_grants_owed" in indexes()
    finally:
        engine.dispose()
