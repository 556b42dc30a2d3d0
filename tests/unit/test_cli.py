"""The portal command, run as a newcomer would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
