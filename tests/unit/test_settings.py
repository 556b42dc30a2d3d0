from __future__ import annotations

from pathlib import Path

import pytest

from portal.settings import Settings, SettingsError


def test_defaults_put_everything_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path / "var")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'portal.sqlite3'}"
    assert settings.log_file == tmp_path / "var" / "logs" / "portal.log"
    assert (settings.session_idle_participant_minutes, settings.session_idle_staff_minutes) == (
        20,
        480,
    )
    assert (settings.kdf_ops, settings.kdf_mem_kib) == (3, 65536)
    assert settings.blobs_dir == tmp_path / "var" / "blobs"
    gib = 1024**3
    assert (
        settings.max_message_bytes,
        settings.case_quota_bytes,
        settings.storage_cap_bytes,
        settings.upload_expiry_hours,
    ) == (gib, 20 * gib, 200 * gib, 48)


def test_secret_is_generated_once_and_masked(tmp_path: Path) -> None:
    env = {"PORTAL_DATA_DIR": str(tmp_path)}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    assert first.secret_key.reveal() == second.secret_key.reveal()
    assert len(first.secret_key.reveal()) >= 32
    assert first.secret_key.reveal().decode() not in repr(first)
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORTAL_KDF_OPS", "0"),
        ("PORTAL_KDF_MEM_KIB", "1024"),
        ("PORTAL_SESSION_ABSOLUTE_HOURS", "soon"),
        ("PORTAL_AUTH_HASH_PROFILE", "fast"),
        ("PORTAL_CASE_QUOTA_BYTES", "lots"),
        ("PORTAL_UPLOAD_EXPIRY_HOURS", "0"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path), name: value})


def test_https_base_url_turns_on_secure_cookies(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_BASE_URL": "https://x.example/"}
    )
    assert settings.secure_cookies
    assert settings.base_url == "https://x.example"
