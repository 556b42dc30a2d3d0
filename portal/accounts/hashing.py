"""argon2-cffi hashes of keys that the browser derives (the auth key, the recovery auth key).

The inputs are 256-bit random-looking keys, not passwords: the browser already ran Argon2id on
the password. The server-side hash only stops someone with a copy of the database from using the
stored verifier to sign in, so moderate parameters are enough; tests use the cheapest ones.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.settings import AuthHashProfile


def make_hasher(profile: AuthHashProfile) -> PasswordHasher:
    if profile == "test":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_key(hasher: PasswordHasher, key: bytes) -> str:
    return hasher.hash(key)


def verify_key(hasher: PasswordHasher, stored_hash: str, key: bytes) -> bool:
    try:
        return hasher.verify(stored_hash, key)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class DummyVerifier:
    """Verifies against a throwaway hash so an unknown name costs the same time as a known one."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._hash = hasher.hash(b"portal/v1/no-such-account")

    def burn(self, key: bytes) -> None:
        verify_key(self._hasher, self._hash, key)
