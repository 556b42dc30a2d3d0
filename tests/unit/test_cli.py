"""The portal command, run as a newcomer would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.s3 import S3Server

PORTAL = [sys.executable, "-m", "portal.cli"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTAL, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_setup_link_migrates_and_prints_a_single_use_link(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_BASE_URL": "http://portal.test",
    }
    result = _run(["setup-link"], env)
    assert result.returncode == 0, result.stderr
    assert "http://portal.test/setup#token=" in result.stdout
    assert "expires in 24 hours" in result.stdout


def test_check_reports_a_healthy_configuration(database_url: str, tmp_path: Path) -> None:
    env = {"PORTAL_DATA_DIR": str(tmp_path / "data"), "PORTAL_DATABASE_URL": database_url}
    assert _run(["migrate"], env).returncode == 0
    result = _run(["check"], env)
    assert "Schema:" in result.stdout
    assert "Secret key:     Secret('**********')" in result.stdout
    assert result.returncode == 0, result.stdout


def test_check_names_a_bad_setting(tmp_path: Path) -> None:
    result = _run(["check"], {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_KDF_OPS": "none"})
    assert result.returncode == 1
    assert "PORTAL_KDF_OPS must be a whole number" in result.stdout


def test_demo_seeds_once_and_the_audit_chain_verifies(database_url: str, tmp_path: Path) -> None:
    env = {
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_KDF_OPS": "1",
        "PORTAL_KDF_MEM_KIB": "8192",
        "PORTAL_AUTH_HASH_PROFILE": "test",
    }
    seeded = _run(["demo"], env)
    assert seeded.returncode == 0, seeded.stderr
    assert "demo facilitator" in seeded.stdout
    assert "demo harmed" in seeded.stdout
    again = _run(["demo"], env)
    assert again.returncode == 1
    assert again.stderr.strip() == "The demo has already been seeded in this database."
    verified = _run(["audit", "verify"], env)
    assert verified.returncode == 0, verified.stdout
    assert "The audit log is intact" in verified.stdout


def test_audit_verify_names_an_edited_row(database_url: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    from portal.db import make_engine

    env = {
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_KDF_OPS": "1",
        "PORTAL_KDF_MEM_KIB": "8192",
        "PORTAL_AUTH_HASH_PROFILE": "test",
    }
    assert _run(["demo"], env).returncode == 0
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET tag = 'message:approved' WHERE id = 5"))
    engine.dispose()
    result = _run(["audit", "verify"], env)
    assert result.returncode == 1
    assert "changed at row 5" in result.stdout


def test_cleanup_runs_once_and_reports_counts(database_url: str, tmp_path: Path) -> None:
    env = {"PORTAL_DATA_DIR": str(tmp_path / "data"), "PORTAL_DATABASE_URL": database_url}
    leftover = tmp_path / "data" / "blobs" / "ab" / ".incoming-x"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a chunk")
    os.utime(leftover, (0, 0))
    result = _run(["cleanup"], env)
    assert result.returncode == 0, result.stderr
    assert "0 expired uploads" in result.stdout
    assert "1 stale temporary files" in result.stdout
    assert not leftover.exists()


def test_check_and_cleanup_reach_the_s3_bucket(s3_server: S3Server, tmp_path: Path) -> None:
    env = {"PORTAL_DATA_DIR": str(tmp_path / "data"), **s3_server.env(s3_server.new_bucket())}
    assert _run(["migrate"], env).returncode == 0
    result = _run(["check"], env)
    assert "Blob store:     S3 bucket portal-test-" in result.stdout
    assert s3_server.env("x")["PORTAL_S3_SECRET_ACCESS_KEY"] not in result.stdout
    assert result.returncode == 0, result.stdout
    cleaned = _run(["cleanup"], env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert "0 stale temporary files, 0 orphan folders" in cleaned.stdout

    missing = _run(["check"], {**env, "PORTAL_S3_BUCKET": "no-such-bucket"})
    assert missing.returncode == 1
    assert "Problem: the S3 bucket cannot be reached (ClientError)" in missing.stdout


def test_report_prints_the_figures_as_csv_or_json_and_refuses_a_bad_period(
    database_url: str, tmp_path: Path
) -> None:
    import csv
    import json

    env = {"PORTAL_DATA_DIR": str(tmp_path / "data"), "PORTAL_DATABASE_URL": database_url}
    period = ["--from", "2027-01-01", "--to", "2027-03-31"]
    as_json = _run(["report", *period, "--format", "json"], env)
    assert as_json.returncode == 0, as_json.stderr
    figures = {(row["figure"], row["group"]): row["value"] for row in json.loads(as_json.stdout)}
    assert figures[("Period", "to")] == "2027-03-31"
    assert figures[("Referrals", "2027-02 all")] == "fewer than 5"
    feedback = ("Participants' feedback: satisfied with the process", "All who answered")
    assert figures[feedback] == "fewer than 5 answers"
    as_csv = _run(["report", *period], env)
    assert as_csv.returncode == 0, as_csv.stderr
    lines = list(csv.reader(as_csv.stdout.splitlines()))
    assert lines[0] == ["figure", "group", "value"]
    assert ["Referrals", "all", "fewer than 5"] in lines
    backwards = _run(["report", "--from", "2027-03-31", "--to", "2027-01-01"], env)
    assert backwards.returncode == 2
    assert "--to not before --from" in backwards.stdout
