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
        ("PORTAL_TIME_ZONE", "Mars/Olympus_Mons"),
        ("PORTAL_TIME_ZONE", "../../etc/passwd"),
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


def test_blobs_stay_in_the_data_folder_unless_s3_is_chosen(tmp_path: Path) -> None:
    settings = Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)})
    assert (settings.blob_store, settings.s3) == ("filesystem", None)


def test_s3_settings_are_read_and_their_secrets_masked(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_BLOB_STORE": "s3",
            "PORTAL_S3_BUCKET": "portal-blobs",
            "PORTAL_S3_ENDPOINT_URL": "https://minio.internal:9000",
            "PORTAL_S3_REGION": "eu-west-2",
            "PORTAL_S3_PREFIX": "/service-a/",
            "PORTAL_S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "PORTAL_S3_SECRET_ACCESS_KEY": "very-secret-key-value",
        }
    )
    s3 = settings.s3
    assert s3 is not None
    assert (s3.bucket, s3.endpoint_url, s3.region, s3.prefix, s3.path_style) == (
        "portal-blobs",
        "https://minio.internal:9000",
        "eu-west-2",
        "service-a/",
        True,  # an endpoint of one's own: path-style addressing unless told otherwise
    )
    assert s3.secret_access_key is not None
    assert s3.secret_access_key.reveal() == b"very-secret-key-value"
    assert "very-secret-key-value" not in repr(settings)
    assert "AKIAEXAMPLE" not in repr(settings)


def test_s3_without_keys_uses_boto3s_own_credentials(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_BLOB_STORE": "s3", "PORTAL_S3_BUCKET": "b"}
    )
    assert settings.s3 is not None
    assert (settings.s3.access_key_id, settings.s3.endpoint_url) == (None, None)
    assert settings.s3.path_style is False  # AWS itself: virtual-hosted addressing


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORTAL_BLOB_STORE": "ftp"}, "PORTAL_BLOB_STORE"),
        ({"PORTAL_BLOB_STORE": "s3"}, "PORTAL_S3_BUCKET"),
        (
            {"PORTAL_BLOB_STORE": "s3", "PORTAL_S3_BUCKET": "b", "PORTAL_S3_ENDPOINT_URL": "x"},
            "PORTAL_S3_ENDPOINT_URL",
        ),
        (
            {"PORTAL_BLOB_STORE": "s3", "PORTAL_S3_BUCKET": "b", "PORTAL_S3_ACCESS_KEY_ID": "k"},
            "PORTAL_S3_SECRET_ACCESS_KEY",
        ),
        (
            {"PORTAL_BLOB_STORE": "s3", "PORTAL_S3_BUCKET": "b", "PORTAL_S3_ADDRESSING": "odd"},
            "PORTAL_S3_ADDRESSING",
        ),
    ],
)
def test_bad_s3_settings_are_named(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path), **env})


def test_notices_are_off_without_an_smtp_host(tmp_path: Path) -> None:
    assert Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).smtp is None


def test_smtp_settings_are_read_and_the_password_masked(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_BASE_URL": "https://portal.example",
            "PORTAL_SMTP_HOST": "mail.example",
            "PORTAL_SMTP_TLS": "tls",
            "PORTAL_SMTP_USERNAME": "sender",
            "PORTAL_SMTP_PASSWORD": "smtp-password-canary",
            "PORTAL_SMTP_SENDER": "notices@service.example",
            "PORTAL_SMTP_SENDER_NAME": "Appointments",
            "PORTAL_SMTP_SUBJECT": "An update",
        }
    )
    smtp = settings.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.tls) == ("mail.example", 465, "tls")
    assert (smtp.sender_name, smtp.subject) == ("Appointments", "An update")
    # The sign-in link points at the portal unless PORTAL_PUBLIC_URL says otherwise.
    assert smtp.public_url == "https://portal.example"
    assert smtp.password is not None
    assert smtp.password.reveal() == b"smtp-password-canary"
    assert "smtp-password-canary" not in repr(settings)
    starttls = Settings.from_env(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_SMTP_HOST": "mail.example",
            "PORTAL_SMTP_SENDER": "notices@service.example",
            "PORTAL_PUBLIC_URL": "https://elsewhere.example/",
        }
    ).smtp
    assert starttls is not None
    assert (starttls.port, starttls.tls, starttls.username) == (587, "starttls", None)
    assert (starttls.sender_name, starttls.subject) == ("Notices", "Something new")
    assert starttls.public_url == "https://elsewhere.example"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORTAL_SMTP_SENDER": ""}, "PORTAL_SMTP_SENDER"),
        ({"PORTAL_SMTP_SENDER": "Notices <n@service.example>"}, "PORTAL_SMTP_SENDER"),
        ({"PORTAL_SMTP_TLS": "ssl"}, "PORTAL_SMTP_TLS"),
        ({"PORTAL_SMTP_USERNAME": "only-a-name"}, "PORTAL_SMTP_PASSWORD"),
        ({"PORTAL_PUBLIC_URL": "portal.example"}, "PORTAL_PUBLIC_URL"),
    ],
)
def test_bad_smtp_settings_are_named(tmp_path: Path, env: dict[str, str], named: str) -> None:
    base = {
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_SMTP_HOST": "mail.example",
        "PORTAL_SMTP_SENDER": "notices@service.example",
    }
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({**base, **env})
