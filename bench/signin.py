"""Sign-in throughput through the HTTP API, as a ratio of bare argon2 verification.

The server's only heavy work at sign-in is one argon2-cffi verification of the auth key (the
browser did the Argon2id of the password). This prints how close the whole request path — JSON
parsing, CSRF, throttle queries, session row, audit row, commit — comes to that floor, measured
in one run on this machine with the production hashing profile and SQLite.

    .venv/bin/python bench/signin.py [--requests 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.factories

from portal import protocol
from portal.accounts.hashing import make_hasher, verify_key
from portal.accounts.models import Role
from portal.app import create_app
from portal.db import make_engine, upgrade
from portal.settings import Settings
from tests.factories import Portal


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "PORTAL_DATA_DIR": str(Path(folder) / "data"),
            "PORTAL_KDF_OPS": "1",
            "PORTAL_KDF_MEM_KIB": "8192",
            "PORTAL_AUTH_HASH_PROFILE": "production",
            "PORTAL_SIGNIN_MAX_FAILURES_PER_ADDRESS": "100000",
        }
        settings = Settings.from_env(env)
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        with TestClient(create_app(settings)) as http:
            person = Portal(http, settings, engine).person(Role.FACILITATOR)
            auth_key = person.auth_key_for(person.name, person.password)
            body = {"sign_in_name": person.name, "auth_key": protocol.b64encode(auth_key)}
            start = time.perf_counter()
            for _ in range(args.requests):
                person.forget_cookies()
                response = person.post_json("/api/sign-in", body)
                assert response.status_code == 200, response.text
            api_seconds = time.perf_counter() - start
        engine.dispose()
        hasher = make_hasher("production")
        stored = hasher.hash(auth_key)
        start = time.perf_counter()
        for _ in range(args.requests):
            assert verify_key(hasher, stored, auth_key)
        floor_seconds = time.perf_counter() - start
    print(f"sign-ins through the API: {args.requests / api_seconds:.1f}/s")
    print(f"bare argon2 verifications: {args.requests / floor_seconds:.1f}/s")
    print(f"ratio (API / bare verification): {floor_seconds / api_seconds:.2f}")


if __name__ == "__main__":
    main()
