"""The PORTAL_* environment the tests give the portal, in process and as a live server."""

from __future__ import annotations

from pathlib import Path

# There is no internet here: the browser context answers this address itself with a neutral
# page (see tests/support/browser.py), so quick-exit tests can follow the redirect.
QUICK_EXIT_URL = "https://weather.example/"


def portal_env(*, data_dir: Path, database_url: str, base_url: str) -> dict[str, str]:
    return {
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_BASE_URL": base_url,
        # The cheapest key derivation libsodium accepts: the tests check the protocol, not the
        # cost, and a real 64 MiB Argon2id per sign-in would make the browser tests crawl.
        "PORTAL_KDF_OPS": "1",
        "PORTAL_KDF_MEM_KIB": "8192",
        # Cheap server-side password hashing, for the same reason.
        "PORTAL_AUTH_HASH_PROFILE": "test",
        "PORTAL_QUICK_EXIT_URL": QUICK_EXIT_URL,
        # Tests run the periodic jobs themselves when they mean to (Maintenance, `portal
        # cleanup`): a live server's own runner starting in the middle of a test would race it.
        "PORTAL_MAINTENANCE_START_SECONDS": "86400",
    }
