"""Portal protocol v1, the PyNaCl side. The byte-exact specification is docs/protocol-v1.md.

Every function here is pure (randomness only where a nonce or key is not given) and
byte-for-byte identical to static/js/crypto/protocol.js; tests/vectors/ pins both implementations
against each other in both directions.

Exceptions::

    ProtocolError           anything this module refuses; never carries secret material
     +-- DecryptionFailed   authentication failed: wrong key, tampered bytes, wrong associated
     |                      data, a grant from another sender, or a hash that does not match
     +-- MalformedInput     wrong type, length, encoding, range or structure
     +-- WrongContext       authentic, but made for another purpose, object, version, case,
                            sender or recipient than the caller expected
"""

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import struct
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, NoReturn

import nacl.bindings
import nacl.exceptions
import nacl.hash
import nacl.pwhash.argon2id
import nacl.utils
from nacl.public import Box, PrivateKey, PublicKey

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_KDF_MEM",
    "DEFAULT_KDF_OPS",
    "INVITATION_CODE_BYTES",
    "LOOKUP_ID_BYTES",
    "MAX_STATEMENT_BYTES",
    "MIN_KDF_MEM",
    "MIN_KDF_OPS",
    "REFERRAL_BUCKETS",
    "SIGNATURE_BYTES",
    "SIGNING_SECRET_BYTES",
    "AccountKeys",
    "DecryptionFailed",
    "EncryptedObject",
    "InvitationSecrets",
    "MalformedInput",
    "Part",
    "ProtocolError",
    "SealedLetter",
    "TrustLogEntry",
    "WrongContext",
    "b64decode",
    "b64encode",
    "case_data_key",
    "check_invitation_mac",
    "chunk_hash",
    "decode_invitation_code",
    "decode_recovery_code",
    "decrypt_chunk",
    "decrypt_manifest",
    "derive_account_keys",
    "draft_key",
    "encode_invitation_code",
    "encode_recovery_code",
    "encrypt_chunk",
    "encrypt_content",
    "encrypt_manifest",
    "fake_salt",
    "fingerprint_digits",
    "format_fingerprint",
    "generate_content_key",
    "generate_identity",
    "generate_invitation_code",
    "generate_recovery_key",
    "identity_fingerprint_digits",
    "invitation_mac",
    "invitation_redeem_hash",
    "invitation_secrets",
    "make_case_grant",
    "make_case_public_grant",
    "make_content_grant",
    "make_referral_key_grant",
    "make_referral_share",
    "manifest_hash",
    "open_case_data",
    "open_case_grant",
    "open_case_key_epoch",
    "open_case_public_grant",
    "open_case_text",
    "open_content",
    "open_content_grant",
    "open_draft",
    "open_letter",
    "open_referral",
    "open_referral_key",
    "open_referral_key_grant",
    "open_referral_share",
    "open_revocation",
    "open_root_handover",
    "open_staff_cert",
    "open_statement",
    "open_vault",
    "public_key_from_secret",
    "recovery_auth_key",
    "referral_plaintext",
    "referral_sealed_sizes",
    "referral_share_sizes",
    "seal_case_data",
    "seal_case_text",
    "seal_draft",
    "seal_letter",
    "seal_referral",
    "seal_vault",
    "session_unwrap",
    "session_wrap",
    "sign_case_key_epoch",
    "sign_referral_key",
    "sign_revocation",
    "sign_root_handover",
    "sign_staff_cert",
    "sign_statement",
    "signing_keys_from_secret",
    "signing_public_key_from_secret",
    "token_hash",
    "trust_log_head",
    "unwrap_secret_key",
    "unwrap_with_recovery",
    "vault_key",
    "verify_trust_log_extends",
    "wrap_secret_key",
    "wrap_with_recovery",
]


class ProtocolError(Exception):
    """Base of every refusal in this module."""


class DecryptionFailed(ProtocolError):
    """The bytes do not authenticate under this key, associated data or hash."""


class MalformedInput(ProtocolError):
    """An argument or a decrypted payload has the wrong type, length, encoding or shape."""


class WrongContext(ProtocolError):
    """Authentic, but made for another purpose, object, version or pair of keys."""


# --- sizes and parameters ---------------------------------------------------------------------

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 24  # XChaCha20-Poly1305 and crypto_box both take 24-byte nonces
TAG_BYTES: Final = 16
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
CHUNK_SIZE: Final = 1024 * 1024
SIGNING_SECRET_BYTES: Final = 64  # libsodium's Ed25519 secret key: seed (32) || public key (32)
SIGNATURE_BYTES: Final = 64
MAX_STATEMENT_BYTES: Final = 4096  # every kind of statement is a few hundred bytes
INVITATION_CODE_BYTES: Final = 10  # 80 bits
LOOKUP_ID_BYTES: Final = 16
# A sealed referral's plaintext is padded to the smallest of these that holds the form's JSON and
# the 0x80 marker, so its length says only which bucket it fell in (docs/protocol-v1.md).
REFERRAL_BUCKETS: Final = (2048, 4096, 8192, 16384, 32768)
SEAL_BYTES: Final = 48  # crypto_box_seal: ephemeral public key (32) and tag (16)

DEFAULT_KDF_OPS: Final = 3
DEFAULT_KDF_MEM: Final = 64 * 1024 * 1024
# The client refuses anything cheaper, so a hostile server cannot ask for an auth_key that is
# cheap to brute-force back to the password.
MIN_KDF_OPS: Final = 1
MIN_KDF_MEM: Final = 8 * 1024 * 1024

_MAX_SAFE_INT: Final = 2**53 - 1  # JSON numbers both implementations read exactly
_SERVER_SECRET_MIN: Final = 16
_SERVER_SECRET_MAX: Final = 64  # BLAKE2b's largest key

# --- context strings (docs/protocol-v1.md) ---------------------------------------------------

_AUTH: Final = b"portal/v1/auth"
_WRAP: Final = b"portal/v1/wrap"
_BUNDLE: Final = b"portal/v1/bundle"
_FINGERPRINT: Final = b"portal/v1/fingerprint"
_RECOVERY_AUTH: Final = b"portal/v1/recovery-auth"
_RECOVERY_WRAP: Final = b"portal/v1/recovery-wrap"
_RECOVERY: Final = b"portal/v1/recovery"
_SESSION: Final = b"portal/v1/session"
_GRANT_CASE: Final = b"portal/v1/grant/case\x00"
_GRANT_CASE_PUBLIC: Final = b"portal/v1/grant/case-public\x00"
_GRANT_CONTENT: Final = b"portal/v1/grant/content\x00"
_GRANT_REFERRAL_KEY: Final = b"portal/v1/grant/referral-key\x00"
_GRANT_REFERRAL: Final = b"portal/v1/grant/referral\x00"
_REFERRAL: Final = b"portal/v1/referral\x00"
_CHUNK: Final = b"portal/v1/chunk"
_CHUNK_HASH: Final = b"portal/v1/chunk-hash"
_MANIFEST: Final = b"portal/v1/manifest"
_MANIFEST_HASH: Final = b"portal/v1/manifest-hash"
_VAULT: Final = b"portal/v1/vault"
_CASE_DATA: Final = b"portal/v1/case-data"
_DRAFT: Final = b"portal/v1/draft"
_FAKE_SALT: Final = b"portal/v1/fake-salt"
_TOKEN: Final = b"portal/v1/token"
# Trust anchors (docs/protocol-v1.md, "Trust anchors").
_SIGNING_SEED: Final = b"portal/v1/signing-seed"
_IDENTITY_FINGERPRINT: Final = b"portal/v1/identity-fingerprint"
_STATEMENT: Final = b"portal/v1/statement\x00"
_CONTEXT_PREFIX: Final = "portal/v1/"
_TRUST_LOG: Final = b"portal/v1/trust-log"
_INVITE_LOOKUP: Final = b"portal/v1/invite/lookup"
_INVITE_REDEEM: Final = b"portal/v1/invite/redeem"
_INVITE_MAC_KEY: Final = b"portal/v1/invite/mac"
_INVITE_MAC: Final = b"portal/v1/invite\x00"
_INVITE_REDEEM_HASH: Final = b"portal/v1/invite/redeem-hash"

_UUID_RE: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_B64_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
_DIGITS_RE: Final = re.compile(r"[0-9]{60}")
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
_RECOVERY_SEPARATORS: Final = str.maketrans(dict.fromkeys(" \t\r\n-"))
_RECOVERY_SYMBOLS: Final = 52  # ceil(256 / 5); the last symbol carries 1 bit and 4 zero bits
# A case-data purpose is the last field of its AD (so its length needs no prefix): a short label
# of visible ASCII such as "participant-name:<uuid>".
_PURPOSE_RE: Final = re.compile(r"[\x21-\x7e]{1,100}")
_LETTER_KIND: Final = "letter"
_LETTER_MIME: Final = "text/plain; charset=utf-8"
_INVITATION_SYMBOLS: Final = 16  # 80 bits / 5: no padding bits
# "YYYY-MM-DDTHH:MM:SSZ"; the calendar is checked separately.
_TIMESTAMP_RE: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z"
)


# --- small helpers ---------------------------------------------------------------------------


def _fail(exc: type[ProtocolError], message: str) -> NoReturn:
    raise exc(message)


def _bytes(name: str, value: object, length: int | None = None) -> bytes:
    if not isinstance(value, bytes):
        _fail(MalformedInput, f"{name} must be bytes")
    if length is not None and len(value) != length:
        _fail(MalformedInput, f"{name} must be {length} bytes")
    return value


def _id(name: str, value: object) -> bytes:
    """A canonical lowercase UUID as its 36 ASCII bytes (fixed length keeps AD unambiguous)."""
    if not isinstance(value, str) or _UUID_RE.fullmatch(value) is None:
        _fail(MalformedInput, f"{name} must be a canonical lowercase UUID")
    return value.encode("ascii")


def _uint(name: str, value: object, bits: int) -> int:
    # bool is an int subclass; True as a version or index is a caller bug.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        _fail(MalformedInput, f"{name} must be an integer in [0, 2**{bits})")
    return value


def _u32(name: str, value: object) -> bytes:
    return struct.pack(">I", _uint(name, value, 32))


def _h(key: bytes, msg: bytes) -> bytes:
    """Keyed BLAKE2b-256: H(key, msg) in the spec.

    From the standard library: the same bytes as libsodium's ``crypto_generichash`` (RFC 7693;
    tests/unit/test_protocol.py compares them), without PyNaCl's argument checks, which cost ten
    times the hash of a few dozen bytes (pages hash keys for security numbers).
    """
    return hashlib.blake2b(msg, digest_size=HASH_BYTES, key=key).digest()


def _nonce(nonce: bytes | None) -> bytes:
    if nonce is None:
        return nacl.utils.random(NONCE_BYTES)
    return _bytes("nonce", nonce, NONCE_BYTES)


def _aead_seal(key: bytes, plaintext: bytes, ad: bytes, nonce: bytes | None) -> bytes:
    _bytes("key", key, KEY_BYTES)
    n = _nonce(nonce)
    sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, n, key)
    return n + sealed


def _aead_open(key: bytes, blob: bytes, ad: bytes) -> bytes:
    _bytes("key", key, KEY_BYTES)
    _bytes("ciphertext", blob)
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        _fail(MalformedInput, "ciphertext is too short")
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            blob[NONCE_BYTES:], ad, blob[:NONCE_BYTES], key
        )
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed("ciphertext does not authenticate") from None


def _box(secret_key: bytes, public_key: bytes) -> Box:
    _bytes("secret key", secret_key, KEY_BYTES)
    _bytes("public key", public_key, KEY_BYTES)
    try:
        return Box(PrivateKey(secret_key), PublicKey(public_key))
    except nacl.exceptions.CryptoError:  # a low-order point gives an all-zero shared secret
        raise MalformedInput("public key is not usable") from None


def _canonical_value(value: object) -> object:
    """Check that a value is in the JSON subset both sides serialise alike; sort its keys."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            _fail(MalformedInput, "JSON integers must fit in 53 bits")
        return value
    if isinstance(value, str):
        _utf8(value)
        return value
    if isinstance(value, list | tuple):
        return [_canonical_value(item) for item in value]
    if isinstance(value, dict):
        keys: list[str] = []
        for key in value:
            if not isinstance(key, str):
                _fail(MalformedInput, "JSON object keys must be strings")
            _utf8(key)
            keys.append(key)
        # UTF-16 code unit order, which is what JavaScript's default sort gives.
        keys.sort(key=lambda key: key.encode("utf-16-be"))
        return {key: _canonical_value(value[key]) for key in keys}
    _fail(MalformedInput, f"{type(value).__name__} is not allowed in protocol JSON")


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        raise MalformedInput("text is not valid Unicode") from None


def _from_utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")  # strict; a leading U+FEFF is kept, as in protocol.js
    except UnicodeDecodeError:
        raise MalformedInput("text is not UTF-8") from None


def _canonical_json(data: dict[str, object]) -> bytes:
    if not isinstance(data, dict):
        _fail(MalformedInput, "protocol JSON must be an object")
    text = json.dumps(
        _canonical_value(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def _reject_constant(name: str) -> NoReturn:
    _fail(MalformedInput, f"{name} is not JSON")


def _parse_json_object(raw: bytes) -> dict[str, object]:
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise MalformedInput("payload is not UTF-8 JSON") from None
    if not isinstance(value, dict):
        _fail(MalformedInput, "payload must be a JSON object")
    return value


# --- encodings -------------------------------------------------------------------------------


def b64encode(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(_bytes("data", data)).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict base64url without padding: no '=', no whitespace, no stray low bits."""
    if not isinstance(text, str) or _B64_RE.fullmatch(text) is None or len(text) % 4 == 1:
        _fail(MalformedInput, "not base64url without padding")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise MalformedInput("not base64url without padding") from None
    if b64encode(data) != text:  # non-zero unused bits: libsodium refuses these too
        _fail(MalformedInput, "not canonical base64url")
    return data


# --- accounts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountKeys:
    """Keys derived from a password. repr hides them so they never reach a log."""

    master: bytes = field(repr=False)
    auth_key: bytes = field(repr=False)
    wrap_key: bytes = field(repr=False)


def derive_account_keys(password: str, salt: bytes, ops: int, mem: int) -> AccountKeys:
    """Argon2id over NFKC(password); ``mem`` is in bytes and a whole number of KiB."""
    if not isinstance(password, str):
        _fail(MalformedInput, "password must be a str")
    _bytes("salt", salt, SALT_BYTES)
    if _uint("ops", ops, 32) < MIN_KDF_OPS:
        _fail(MalformedInput, "ops is below the minimum")
    if _uint("mem", mem, 64) < MIN_KDF_MEM or mem % 1024:
        _fail(MalformedInput, "mem is below the minimum or not a whole number of KiB")
    secret = _utf8(unicodedata.normalize("NFKC", password))
    try:
        master = nacl.pwhash.argon2id.kdf(KEY_BYTES, secret, salt, opslimit=ops, memlimit=mem)
    except (nacl.exceptions.ValueError, nacl.exceptions.RuntimeError):
        raise MalformedInput("KDF parameters are out of range") from None
    return AccountKeys(master=master, auth_key=_h(master, _AUTH), wrap_key=_h(master, _WRAP))


def generate_identity() -> tuple[bytes, bytes]:
    """A fresh X25519 key pair: (secret_key, public_key)."""
    secret = PrivateKey.generate()
    return bytes(secret), bytes(secret.public_key)


def public_key_from_secret(secret_key: bytes) -> bytes:
    return bytes(PrivateKey(_bytes("secret key", secret_key, KEY_BYTES)).public_key)


def wrap_secret_key(
    wrap_key: bytes, account_id: str, secret_key: bytes, *, nonce: bytes | None = None
) -> bytes:
    """The key bundle the server stores: only the password (via wrap_key) opens it."""
    ad = _BUNDLE + _id("account_id", account_id)
    return _aead_seal(wrap_key, _bytes("secret key", secret_key, KEY_BYTES), ad, nonce)


def unwrap_secret_key(wrap_key: bytes, account_id: str, bundle: bytes) -> bytes:
    secret = _aead_open(wrap_key, bundle, _BUNDLE + _id("account_id", account_id))
    return _bytes("unwrapped secret key", secret, KEY_BYTES)


def _digits(digest: bytes) -> str:
    return f"{int.from_bytes(digest, 'big') % 10**60:060d}"


def fingerprint_digits(public_key: bytes) -> str:
    """60 decimal digits people compare in person before a key is trusted.

    For an account with no signing key yet; see identity_fingerprint_digits.
    """
    return _digits(_h(_FINGERPRINT, _bytes("public key", public_key, KEY_BYTES)))


def format_fingerprint(digits: str) -> str:
    """'12345 67890 ...': 12 groups of 5 digits."""
    if not isinstance(digits, str) or _DIGITS_RE.fullmatch(digits) is None:
        _fail(MalformedInput, "a fingerprint is 60 ASCII digits")
    return " ".join(digits[i : i + 5] for i in range(0, 60, 5))


# --- recovery --------------------------------------------------------------------------------


def generate_recovery_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def encode_recovery_code(key: bytes) -> str:
    """Crockford base32 of the 32 bytes, 13 groups of 4 symbols joined by '-'."""
    number = int.from_bytes(_bytes("recovery key", key, KEY_BYTES), "big") << 4
    return _crockford_symbols(number, _RECOVERY_SYMBOLS)


def _crockford_number(code: str, count: int, what: str) -> int:
    """Crockford base32 as typed by a person: forgiving about case, spaces, '-' and O/I/L;
    strict about everything else (non-ASCII, other symbols, a wrong count)."""
    if not isinstance(code, str) or not code.isascii():
        _fail(MalformedInput, f"a {what} is ASCII")
    symbols = code.upper().translate(_RECOVERY_SEPARATORS).translate(_CROCKFORD_ALIASES)
    if len(symbols) != count:
        _fail(MalformedInput, f"a {what} has {count} symbols")
    number = 0
    for symbol in symbols:
        value = _CROCKFORD.find(symbol)
        if value < 0:
            _fail(MalformedInput, f"not a {what} symbol")
        number = number << 5 | value
    return number


def _crockford_symbols(number: int, count: int) -> str:
    """``count`` symbols, most significant first, in groups of 4 joined by '-'."""
    symbols = "".join(_CROCKFORD[(number >> (5 * (count - 1 - i))) & 31] for i in range(count))
    return "-".join(symbols[i : i + 4] for i in range(0, count, 4))


def decode_recovery_code(code: str) -> bytes:
    """Forgiving about case, spaces, '-' and O/I/L; strict about everything else."""
    number = _crockford_number(code, _RECOVERY_SYMBOLS, "recovery code")
    if number & 0xF:  # the padding bits of the last symbol; a typo there would go unnoticed
        _fail(MalformedInput, "recovery code does not end in a valid symbol")
    return (number >> 4).to_bytes(KEY_BYTES, "big")


def recovery_auth_key(recovery_key: bytes) -> bytes:
    """What the browser sends to prove it holds the recovery key."""
    return _h(_bytes("recovery key", recovery_key, KEY_BYTES), _RECOVERY_AUTH)


def _recovery_wrap_key(recovery_key: bytes) -> bytes:
    return _h(_bytes("recovery key", recovery_key, KEY_BYTES), _RECOVERY_WRAP)


def wrap_with_recovery(
    recovery_key: bytes, account_id: str, secret_key: bytes, *, nonce: bytes | None = None
) -> bytes:
    ad = _RECOVERY + _id("account_id", account_id)
    secret = _bytes("secret key", secret_key, KEY_BYTES)
    return _aead_seal(_recovery_wrap_key(recovery_key), secret, ad, nonce)


def unwrap_with_recovery(recovery_key: bytes, account_id: str, bundle: bytes) -> bytes:
    ad = _RECOVERY + _id("account_id", account_id)
    secret = _aead_open(_recovery_wrap_key(recovery_key), bundle, ad)
    return _bytes("unwrapped secret key", secret, KEY_BYTES)


# --- session storage -------------------------------------------------------------------------


def session_wrap(
    session_key: bytes, account_id: str, secret_key: bytes, *, nonce: bytes | None = None
) -> bytes:
    """The sessionStorage copy; useless once the server forgets session_key."""
    ad = _SESSION + _id("account_id", account_id)
    return _aead_seal(session_key, _bytes("secret key", secret_key, KEY_BYTES), ad, nonce)


def session_unwrap(session_key: bytes, account_id: str, blob: bytes) -> bytes:
    secret = _aead_open(session_key, blob, _SESSION + _id("account_id", account_id))
    return _bytes("unwrapped secret key", secret, KEY_BYTES)


# --- grants ----------------------------------------------------------------------------------


def _seal_grant(
    context: bytes, sender_sk: bytes, recipient_pk: bytes, body: bytes, nonce: bytes | None
) -> bytes:
    box = _box(sender_sk, recipient_pk)
    # Both public keys go inside: crypto_box's key is the same in both directions, so without
    # them a grant from A to B would also open as a grant from B to A.
    payload = context + public_key_from_secret(sender_sk) + recipient_pk + body
    n = _nonce(nonce)
    return bytes(box.encrypt(payload, n))


def _open_grant(
    context: bytes, recipient_sk: bytes, sender_pk: bytes, grant: bytes, body_length: int
) -> bytes:
    box = _box(recipient_sk, sender_pk)
    _bytes("grant", grant)
    if len(grant) < NONCE_BYTES + TAG_BYTES:
        _fail(MalformedInput, "grant is too short")
    try:
        payload = box.decrypt(grant)
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed("grant does not open with these keys") from None
    if not payload.startswith(context):
        _fail(WrongContext, "grant is of another kind")
    keys_end = len(context) + 2 * KEY_BYTES
    if len(payload) != keys_end + body_length:
        _fail(MalformedInput, "grant payload has the wrong length")
    expected_keys = sender_pk + public_key_from_secret(recipient_sk)
    if not hmac.compare_digest(payload[len(context) : keys_end], expected_keys):
        _fail(WrongContext, "grant was made by or for other keys")
    return payload[keys_end:]


def make_case_grant(
    sender_sk: bytes,
    recipient_pk: bytes,
    case_id: str,
    case_secret_key: bytes,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """Give a facilitator (or the organisation's recovery key) a case's secret key."""
    body = _id("case_id", case_id) + _bytes("case secret key", case_secret_key, KEY_BYTES)
    return _seal_grant(_GRANT_CASE, sender_sk, recipient_pk, body, nonce)


def open_case_grant(recipient_sk: bytes, sender_pk: bytes, case_id: str, grant: bytes) -> bytes:
    """The case secret key, if ``sender_pk`` granted exactly this case to ``recipient_sk``."""
    expected_id = _id("case_id", case_id)
    body = _open_grant(_GRANT_CASE, recipient_sk, sender_pk, grant, 36 + KEY_BYTES)
    if body[:36] != expected_id:
        _fail(WrongContext, "grant is for another case")
    return body[36:]


def make_case_public_grant(
    sender_sk: bytes,
    recipient_pk: bytes,
    case_id: str,
    case_public_key: bytes,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """Tell a participant the case's public key, vouched for by the granting facilitator.

    Participants seal letters to this key, so it must come from a facilitator they know, never
    from a bare server field the server could swap for a key of its own.
    """
    body = _id("case_id", case_id) + _bytes("case public key", case_public_key, KEY_BYTES)
    return _seal_grant(_GRANT_CASE_PUBLIC, sender_sk, recipient_pk, body, nonce)


def open_case_public_grant(
    recipient_sk: bytes, sender_pk: bytes, case_id: str, grant: bytes
) -> bytes:
    """The case public key, if ``sender_pk`` vouched for it for exactly this case."""
    expected_id = _id("case_id", case_id)
    # Same body length as a case (secret) grant: only the context string tells them apart.
    body = _open_grant(_GRANT_CASE_PUBLIC, recipient_sk, sender_pk, grant, 36 + KEY_BYTES)
    if body[:36] != expected_id:
        _fail(WrongContext, "grant is for another case")
    return body[36:]


def make_content_grant(
    sender_sk: bytes,
    recipient_pk: bytes,
    object_id: str,
    version: int,
    content_key: bytes,
    manifest_hash: bytes,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """Release one exact version of a content object (its manifest hash) to a recipient."""
    body = (
        _id("object_id", object_id)
        + _u32("version", version)
        + _bytes("content key", content_key, KEY_BYTES)
        + _bytes("manifest hash", manifest_hash, HASH_BYTES)
    )
    return _seal_grant(_GRANT_CONTENT, sender_sk, recipient_pk, body, nonce)


def open_content_grant(
    recipient_sk: bytes, sender_pk: bytes, object_id: str, version: int, grant: bytes
) -> tuple[bytes, bytes]:
    """(K, manifest_hash), if ``sender_pk`` released exactly this object version."""
    expected = _id("object_id", object_id) + _u32("version", version)
    body = _open_grant(
        _GRANT_CONTENT, recipient_sk, sender_pk, grant, 36 + 4 + KEY_BYTES + HASH_BYTES
    )
    if body[:40] != expected:
        _fail(WrongContext, "grant is for another object or version")
    return body[40:72], body[72:]


# --- referrals -------------------------------------------------------------------------------


def make_referral_key_grant(
    sender_sk: bytes,
    recipient_pk: bytes,
    key_id: str,
    referral_secret_key: bytes,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """Give a service manager or a designated facilitator the referral key's secret half."""
    body = _id("key_id", key_id) + _bytes("referral secret key", referral_secret_key, KEY_BYTES)
    return _seal_grant(_GRANT_REFERRAL_KEY, sender_sk, recipient_pk, body, nonce)


def open_referral_key_grant(
    recipient_sk: bytes, sender_pk: bytes, key_id: str, grant: bytes
) -> bytes:
    """The referral secret key, if ``sender_pk`` granted exactly this referral key."""
    expected_id = _id("key_id", key_id)
    body = _open_grant(_GRANT_REFERRAL_KEY, recipient_sk, sender_pk, grant, 36 + KEY_BYTES)
    if body[:36] != expected_id:
        _fail(WrongContext, "grant is for another referral key")
    return body[36:]


def referral_plaintext(key_id: str, form: dict[str, object]) -> bytes:
    """What is sealed: "portal/v1/referral" 0x00 || key id || canonical JSON of the form, then
    0x80 and zeros up to the smallest bucket (REFERRAL_BUCKETS)."""
    padded = _padded_form(form)
    return _REFERRAL + _id("key_id", key_id) + padded


def referral_sealed_sizes() -> tuple[int, ...]:
    """Every length a sealed referral can have: the server refuses any other."""
    return tuple(len(_REFERRAL) + 36 + size + SEAL_BYTES for size in REFERRAL_BUCKETS)


def seal_referral(referral_public_key: bytes, key_id: str, form: dict[str, object]) -> bytes:
    """crypto_box_seal of referral_plaintext to the referral key: anyone can seal, only a holder
    of the secret key opens, and the sealer keeps nothing that opens it again."""
    plaintext = referral_plaintext(key_id, form)
    public_key = _bytes("referral public key", referral_public_key, KEY_BYTES)
    try:
        return bytes(nacl.bindings.crypto_box_seal(plaintext, public_key))
    except nacl.exceptions.CryptoError:
        raise MalformedInput("public key is not usable") from None


def _unpad(padded: bytes) -> bytes:
    if len(padded) not in REFERRAL_BUCKETS:
        _fail(MalformedInput, "the referral is not padded to a bucket")
    end = padded.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        _fail(MalformedInput, "the referral's padding is not well formed")
    return end[:-1]


def open_referral(referral_secret_key: bytes, key_id: str, sealed: bytes) -> dict[str, object]:
    """The form, if ``sealed`` opens with this referral key and was sealed for exactly it."""
    secret = _bytes("referral secret key", referral_secret_key, KEY_BYTES)
    _bytes("sealed referral", sealed)
    if len(sealed) < SEAL_BYTES:
        _fail(MalformedInput, "sealed referral is too short")
    try:
        plaintext = nacl.bindings.crypto_box_seal_open(
            sealed, public_key_from_secret(secret), secret
        )
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed("sealed referral does not open with this key") from None
    if not plaintext.startswith(_REFERRAL):
        _fail(WrongContext, "sealed data is not a referral")
    head = len(_REFERRAL) + 36
    if plaintext[len(_REFERRAL) : head] != _id("key_id", key_id):
        _fail(WrongContext, "referral was sealed for another referral key")
    return _form_from_padded(plaintext[head:])


def _padded_form(form: dict[str, object]) -> bytes:
    body = _canonical_json(form)
    bucket = next((size for size in REFERRAL_BUCKETS if len(body) + 1 <= size), None)
    if bucket is None:
        _fail(MalformedInput, "the referral is too long")
    return body + b"\x80" + bytes(bucket - len(body) - 1)


def _form_from_padded(padded: bytes) -> dict[str, object]:
    body = _unpad(padded)
    form = _parse_json_object(body)
    if _canonical_json(form) != body:
        _fail(MalformedInput, "referral is not canonical JSON")
    return form


def make_referral_share(
    sender_sk: bytes,
    recipient_pk: bytes,
    referral_id: str,
    form: dict[str, object],
    *,
    nonce: bytes | None = None,
) -> bytes:
    """Share one opened referral with the facilitator who will hold its case: a grant whose
    body is the referral id and the form, padded as when it was sealed. It opens nothing else,
    so that facilitator never needs the referral key itself."""
    body = _id("referral_id", referral_id) + _padded_form(form)
    return _seal_grant(_GRANT_REFERRAL, sender_sk, recipient_pk, body, nonce)


def referral_share_sizes() -> tuple[int, ...]:
    """Every length a referral share can have: the server refuses any other."""
    head = NONCE_BYTES + TAG_BYTES + len(_GRANT_REFERRAL) + 2 * KEY_BYTES + 36
    return tuple(head + size for size in REFERRAL_BUCKETS)


def open_referral_share(
    recipient_sk: bytes, sender_pk: bytes, referral_id: str, share: bytes
) -> dict[str, object]:
    """The form, if ``sender_pk`` shared exactly this referral with ``recipient_sk``."""
    expected_id = _id("referral_id", referral_id)
    _bytes("referral share", share)
    if len(share) not in referral_share_sizes():
        _fail(MalformedInput, "referral share has the wrong length")
    body_length = len(share) - (referral_share_sizes()[0] - REFERRAL_BUCKETS[0])
    body = _open_grant(_GRANT_REFERRAL, recipient_sk, sender_pk, share, 36 + body_length)
    if body[:36] != expected_id:
        _fail(WrongContext, "share is of another referral")
    return _form_from_padded(body[36:])


# --- content objects -------------------------------------------------------------------------


def generate_content_key() -> bytes:
    """K: fresh for every version of every content object."""
    return nacl.utils.random(KEY_BYTES)


def _chunk_ad(object_id: str, version: int, part: int, index: int, final: bool) -> bytes:
    if not isinstance(final, bool):
        _fail(MalformedInput, "final must be a bool")
    return (
        _CHUNK
        + _id("object_id", object_id)
        + _u32("version", version)
        + struct.pack(">H", _uint("part", part, 16))
        + _u32("index", index)
        + (b"\x01" if final else b"\x00")
    )


def encrypt_chunk(
    key: bytes,
    object_id: str,
    version: int,
    part: int,
    index: int,
    final: bool,
    plaintext: bytes,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """One chunk of a part; its place (part, index, last or not) is bound into the AD."""
    if len(_bytes("plaintext", plaintext)) > CHUNK_SIZE:
        _fail(MalformedInput, "a chunk holds at most CHUNK_SIZE bytes")
    ad = _chunk_ad(object_id, version, part, index, final)
    return _aead_seal(key, plaintext, ad, nonce)


def decrypt_chunk(
    key: bytes, object_id: str, version: int, part: int, index: int, final: bool, chunk: bytes
) -> bytes:
    if len(_bytes("chunk", chunk)) > NONCE_BYTES + CHUNK_SIZE + TAG_BYTES:
        _fail(MalformedInput, "chunk is too long")
    return _aead_open(key, chunk, _chunk_ad(object_id, version, part, index, final))


def chunk_hash(chunk: bytes) -> bytes:
    """Hash of the stored chunk (nonce included), listed in the manifest."""
    return _h(_CHUNK_HASH, _bytes("chunk", chunk))


def _manifest_ad(object_id: str, version: int) -> bytes:
    return _MANIFEST + _id("object_id", object_id) + _u32("version", version)


def encrypt_manifest(
    key: bytes,
    object_id: str,
    version: int,
    manifest: dict[str, object],
    *,
    nonce: bytes | None = None,
) -> bytes:
    """Encrypt a manifest as canonical JSON (docs/protocol-v1.md, "Canonical JSON")."""
    ad = _manifest_ad(object_id, version)
    return _aead_seal(key, _canonical_json(manifest), ad, nonce)


def decrypt_manifest(key: bytes, object_id: str, version: int, blob: bytes) -> dict[str, object]:
    return _parse_json_object(_aead_open(key, blob, _manifest_ad(object_id, version)))


def manifest_hash(blob: bytes) -> bytes:
    """Commits to the whole object: the manifest lists every chunk's hash."""
    return _h(_MANIFEST_HASH, _bytes("manifest", blob))


@dataclass(frozen=True)
class Part:
    """One part of a content object (letter text, a scanned page, audio, video)."""

    kind: str
    mime: str
    name: str
    data: bytes = field(repr=False)  # plaintext: kept out of logs


@dataclass(frozen=True)
class EncryptedObject:
    """What gets uploaded: the manifest and, per part, its chunks in order."""

    manifest_blob: bytes
    manifest_hash: bytes
    chunks: tuple[tuple[bytes, ...], ...]


def _split(data: bytes) -> list[bytes]:
    """Chunks of exactly CHUNK_SIZE bytes but the last; an empty part is one empty chunk."""
    return [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [b""]


def _chunk_count(size: int) -> int:
    return max(1, math.ceil(size / CHUNK_SIZE))


def encrypt_content(
    key: bytes,
    object_id: str,
    version: int,
    parts: Sequence[Part],
    created_at: str,
    author: str,
    *,
    nonces: Sequence[bytes] | None = None,
) -> EncryptedObject:
    """Encrypt every part and the manifest that lists them.

    ``nonces`` (for test vectors) supplies one nonce per chunk, part by part in order, then
    one for the manifest.
    """
    _id("author", author)
    if not isinstance(created_at, str):
        _fail(MalformedInput, "created_at must be a str")
    if len(parts) > 2**16:
        _fail(MalformedInput, "too many parts")
    for part in parts:
        if not all(isinstance(text, str) for text in (part.kind, part.mime, part.name)):
            _fail(MalformedInput, "part kind, mime and name must be str")
    pieces = [_split(_bytes("part data", part.data)) for part in parts]
    if nonces is not None and len(nonces) != sum(map(len, pieces)) + 1:
        _fail(MalformedInput, "need one nonce per chunk plus one for the manifest")
    supplied = iter(nonces or ())

    chunks: list[tuple[bytes, ...]] = []
    listed: list[object] = []
    for number, (part, plaintexts) in enumerate(zip(parts, pieces, strict=True)):
        last = len(plaintexts) - 1
        sealed = tuple(
            encrypt_chunk(
                key,
                object_id,
                version,
                number,
                index,
                index == last,
                plaintext,
                nonce=next(supplied, None),
            )
            for index, plaintext in enumerate(plaintexts)
        )
        chunks.append(sealed)
        listed.append(
            {
                "kind": part.kind,
                "mime": part.mime,
                "name": part.name,
                "size": len(part.data),
                "chunks": len(sealed),
                "hashes": [b64encode(chunk_hash(chunk)) for chunk in sealed],
            }
        )
    manifest: dict[str, object] = {
        "v": 1,
        "object_id": object_id,
        "version": version,
        "created_at": created_at,
        "author": author,
        "parts": listed,
    }
    blob = encrypt_manifest(key, object_id, version, manifest, nonce=next(supplied, None))
    return EncryptedObject(
        manifest_blob=blob, manifest_hash=manifest_hash(blob), chunks=tuple(chunks)
    )


def _str_field(mapping: dict[str, object], name: str) -> str:
    value = mapping.get(name)
    if not isinstance(value, str):
        _fail(MalformedInput, f"manifest field {name!r} must be a string")
    return value


def _int_field(mapping: dict[str, object], name: str) -> int:
    value = mapping.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(MalformedInput, f"manifest field {name!r} must be an integer")
    return value


def _list_field(mapping: dict[str, object], name: str) -> list[object]:
    value = mapping.get(name)
    if not isinstance(value, list):
        _fail(MalformedInput, f"manifest field {name!r} must be a list")
    return value


def open_content(
    key: bytes,
    object_id: str,
    version: int,
    manifest_blob: bytes,
    expected_manifest_hash: bytes,
    fetch_chunk: Callable[[int, int], bytes],
) -> list[Part]:
    """Check the manifest against the granted hash, then every chunk against the manifest.

    ``fetch_chunk(part, index)`` returns the stored chunk bytes. Nothing is decrypted before
    its hash has been checked.
    """
    expected = _bytes("expected manifest hash", expected_manifest_hash, HASH_BYTES)
    if not hmac.compare_digest(manifest_hash(manifest_blob), expected):
        _fail(DecryptionFailed, "manifest does not match the granted hash")
    manifest = decrypt_manifest(key, object_id, version, manifest_blob)
    if _int_field(manifest, "v") != 1:
        _fail(MalformedInput, "unknown manifest version")
    same_object = _str_field(manifest, "object_id") == object_id
    if not same_object or _int_field(manifest, "version") != version:
        _fail(WrongContext, "manifest is for another object or version")
    _str_field(manifest, "created_at")
    _str_field(manifest, "author")

    opened: list[Part] = []
    for number, entry in enumerate(_list_field(manifest, "parts")):
        if not isinstance(entry, dict):
            _fail(MalformedInput, "manifest part is not an object")
        size = _int_field(entry, "size")
        count = _int_field(entry, "chunks")
        hashes = _list_field(entry, "hashes")
        if size < 0 or count != _chunk_count(size) or len(hashes) != count:
            _fail(MalformedInput, "manifest part sizes do not add up")
        data = bytearray()
        for index, listed_hash in enumerate(hashes):
            if not isinstance(listed_hash, str):
                _fail(MalformedInput, "manifest chunk hash is not a string")
            chunk = fetch_chunk(number, index)
            if not hmac.compare_digest(chunk_hash(chunk), b64decode(listed_hash)):
                _fail(DecryptionFailed, "chunk does not match the manifest")
            final = index == count - 1
            plaintext = decrypt_chunk(key, object_id, version, number, index, final, chunk)
            wanted = size - CHUNK_SIZE * index if final else CHUNK_SIZE
            if len(plaintext) != wanted:
                _fail(MalformedInput, "chunk has the wrong length")
            data += plaintext
        opened.append(
            Part(
                kind=_str_field(entry, "kind"),
                mime=_str_field(entry, "mime"),
                name=_str_field(entry, "name"),
                data=bytes(data),
            )
        )
    return opened


# --- letters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedLetter:
    """A single-part text letter ready to upload, with its two initial grants."""

    manifest: bytes
    manifest_hash: bytes
    chunks: list[bytes]
    grant_to_case: bytes  # so facilitators can review it; never to the recipient before approval
    grant_to_author: bytes  # so the author can read it again
    content_key: bytes = field(repr=False)


def seal_letter(
    author_sk: bytes,
    author_pk: bytes,
    case_pk: bytes,
    object_id: str,
    version: int,
    text: str,
    created_at: str,
    author_id: str,
    *,
    content_key: bytes | None = None,
    nonces: Sequence[bytes] | None = None,
) -> SealedLetter:
    """Encrypt ``text`` as a content object with one part (kind "letter", no file name).

    ``nonces`` (for test vectors) supplies one nonce per chunk, then one for the manifest, one
    for the grant to the case and one for the grant to the author.
    """
    if not isinstance(text, str):
        _fail(MalformedInput, "letter text must be a str")
    if not hmac.compare_digest(
        public_key_from_secret(author_sk), _bytes("author public key", author_pk, KEY_BYTES)
    ):
        # Otherwise the author's own copy would be granted to somebody else's key.
        _fail(MalformedInput, "author public key does not belong to the author secret key")
    data = _utf8(text)
    count = _chunk_count(len(data))
    if nonces is not None and len(nonces) != count + 3:
        _fail(MalformedInput, "need one nonce per chunk, then manifest, case and author grants")
    content_nonces = None if nonces is None else list(nonces[: count + 1])
    case_nonce, author_nonce = (None, None) if nonces is None else nonces[count + 1 :]
    key = generate_content_key() if content_key is None else content_key
    _bytes("content key", key, KEY_BYTES)
    part = Part(kind=_LETTER_KIND, mime=_LETTER_MIME, name="", data=data)
    sealed = encrypt_content(
        key, object_id, version, [part], created_at, author_id, nonces=content_nonces
    )
    digest = sealed.manifest_hash
    return SealedLetter(
        manifest=sealed.manifest_blob,
        manifest_hash=digest,
        chunks=list(sealed.chunks[0]),
        grant_to_case=make_content_grant(
            author_sk, case_pk, object_id, version, key, digest, nonce=case_nonce
        ),
        grant_to_author=make_content_grant(
            author_sk, author_pk, object_id, version, key, digest, nonce=author_nonce
        ),
        content_key=key,
    )


def open_letter(
    recipient_sk: bytes,
    sender_pk: bytes,
    object_id: str,
    version: int,
    grant: bytes,
    manifest: bytes,
    chunks: Sequence[bytes],
) -> str:
    """The letter's text, after checking the grant, the manifest hash and every chunk hash."""
    key, granted_hash = open_content_grant(recipient_sk, sender_pk, object_id, version, grant)

    def fetch(part: int, index: int) -> bytes:
        # Called only once the manifest has authenticated, so a second part means another kind.
        if part != 0:
            _fail(WrongContext, "content object is not a single-part text letter")
        if index >= len(chunks):
            _fail(MalformedInput, "letter is missing chunks")
        return chunks[index]

    parts = open_content(key, object_id, version, manifest, granted_hash, fetch)
    if len(parts) != 1 or (parts[0].kind, parts[0].mime) != (_LETTER_KIND, _LETTER_MIME):
        # Authentic, but another kind of content object (media, feedback with files, ...).
        _fail(WrongContext, "content object is not a single-part text letter")
    if len(chunks) != _chunk_count(len(parts[0].data)):
        _fail(MalformedInput, "letter has more chunks than its manifest lists")
    return _from_utf8(parts[0].data)


# --- client vault ----------------------------------------------------------------------------


def vault_key(secret_key: bytes) -> bytes:
    return _h(_bytes("secret key", secret_key, KEY_BYTES), _VAULT)


def seal_vault(
    secret_key: bytes, account_id: str, data: dict[str, object], *, nonce: bytes | None = None
) -> bytes:
    """Pinned fingerprints, drafts index, preferences: opaque to the server, unforgeable."""
    ad = _VAULT + _id("account_id", account_id)
    return _aead_seal(vault_key(secret_key), _canonical_json(data), ad, nonce)


def open_vault(secret_key: bytes, account_id: str, blob: bytes) -> dict[str, object]:
    ad = _VAULT + _id("account_id", account_id)
    return _parse_json_object(_aead_open(vault_key(secret_key), blob, ad))


# --- case data -------------------------------------------------------------------------------


def case_data_key(case_secret_key: bytes) -> bytes:
    return _h(_bytes("case secret key", case_secret_key, KEY_BYTES), _CASE_DATA)


def _case_data_ad(case_id: str, purpose: str) -> bytes:
    if not isinstance(purpose, str) or _PURPOSE_RE.fullmatch(purpose) is None:
        _fail(MalformedInput, "purpose must be 1 to 100 visible ASCII characters")
    return _CASE_DATA + _id("case_id", case_id) + purpose.encode("ascii")


def seal_case_data(
    case_secret_key: bytes,
    case_id: str,
    purpose: str,
    data: bytes,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """Participant names, facilitator notes: readable only by holders of the case secret key.

    ``purpose`` (e.g. "participant-name:<uuid>") is bound into the AD, so the server cannot
    show one participant's name as another's or a note as a name.
    """
    ad = _case_data_ad(case_id, purpose)
    return _aead_seal(case_data_key(case_secret_key), _bytes("data", data), ad, nonce)


def open_case_data(case_secret_key: bytes, case_id: str, purpose: str, blob: bytes) -> bytes:
    return _aead_open(case_data_key(case_secret_key), blob, _case_data_ad(case_id, purpose))


def seal_case_text(
    case_secret_key: bytes,
    case_id: str,
    purpose: str,
    text: str,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """``seal_case_data`` of the text as UTF-8."""
    if not isinstance(text, str):
        _fail(MalformedInput, "text must be a str")
    return seal_case_data(case_secret_key, case_id, purpose, _utf8(text), nonce=nonce)


def open_case_text(case_secret_key: bytes, case_id: str, purpose: str, blob: bytes) -> str:
    return _from_utf8(open_case_data(case_secret_key, case_id, purpose, blob))


# --- drafts ----------------------------------------------------------------------------------


def draft_key(secret_key: bytes) -> bytes:
    return _h(_bytes("secret key", secret_key, KEY_BYTES), _DRAFT)


def seal_draft(
    secret_key: bytes,
    account_id: str,
    draft_id: str,
    data: bytes,
    *,
    nonce: bytes | None = None,
) -> bytes:
    """An autosaved draft only its author can read; the server stores it opaque.

    Account and draft id are bound into the AD, so the server cannot show one draft in the
    place of another or hand one account's draft to another.
    """
    ad = _DRAFT + _id("account_id", account_id) + _id("draft_id", draft_id)
    return _aead_seal(draft_key(secret_key), _bytes("data", data), ad, nonce)


def open_draft(secret_key: bytes, account_id: str, draft_id: str, blob: bytes) -> bytes:
    ad = _DRAFT + _id("account_id", account_id) + _id("draft_id", draft_id)
    return _aead_open(draft_key(secret_key), blob, ad)


# --- trust anchors: signing keys, signed statements, the trust log, invitations ---------------


def _signing_seed(secret_key: bytes) -> bytes:
    return _h(_bytes("secret key", secret_key, KEY_BYTES), _SIGNING_SEED)


def signing_keys_from_secret(secret_key: bytes) -> tuple[bytes, bytes]:
    """(signing_secret, signing_public_key): the account's Ed25519 key pair, derived from its
    X25519 identity secret key, so bundles, recovery bundles and session blobs stay as they are.

    ``signing_secret`` is libsodium's 64-byte form (seed || public key) in both implementations;
    it never leaves the browser and is never stored.
    """
    public, secret = nacl.bindings.crypto_sign_seed_keypair(_signing_seed(secret_key))
    return secret, public


def signing_public_key_from_secret(secret_key: bytes) -> bytes:
    return signing_keys_from_secret(secret_key)[1]


def identity_fingerprint_digits(box_public_key: bytes, signing_public_key: bytes) -> str:
    """60 decimal digits over both public keys: the security number people compare in person
    for an account that has a signing key (format_fingerprint groups them)."""
    keys = _bytes("box public key", box_public_key, KEY_BYTES) + _bytes(
        "signing public key", signing_public_key, KEY_BYTES
    )
    return _digits(_h(_IDENTITY_FINGERPRINT, keys))


def _sign(signing_secret: bytes, message: bytes) -> bytes:
    _bytes("signing secret", signing_secret, SIGNING_SECRET_BYTES)
    # libsodium signs with the public half stored in the secret key; a mismatched one would
    # give signatures nobody can check (and can leak the key), so it is refused.
    public, _ = nacl.bindings.crypto_sign_seed_keypair(signing_secret[:32])
    if not hmac.compare_digest(public, signing_secret[32:]):
        _fail(MalformedInput, "signing secret is not a seed followed by its public key")
    return nacl.bindings.crypto_sign(message, signing_secret)[:SIGNATURE_BYTES]


def _verify(signing_public_key: bytes, message: bytes, signature: bytes) -> None:
    try:
        nacl.bindings.crypto_sign_open(signature + message, signing_public_key)
    except nacl.exceptions.CryptoError:
        raise DecryptionFailed("signature does not verify with this key") from None


# Field checkers: (field name, value) -> None, raising MalformedInput.
_FieldCheck = Callable[[str, object], None]


def _check_uuid(name: str, value: object) -> None:
    _id(name, value)


def _check_uuid_or_null(name: str, value: object) -> None:
    if value is not None:
        _id(name, value)


def _check_key(name: str, value: object) -> None:
    if not isinstance(value, str) or len(b64decode(value)) != KEY_BYTES:
        _fail(MalformedInput, f"{name} must be base64url of 32 bytes")


def _check_timestamp(name: str, value: object) -> None:
    """ISO 8601 UTC to the second, "YYYY-MM-DDTHH:MM:SSZ", a real date and time (years 0001
    to 9999, no leap second): one spelling per instant, so strings compare like times."""
    match = _TIMESTAMP_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        _fail(MalformedInput, f"{name} must be a UTC time written YYYY-MM-DDTHH:MM:SSZ")
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not (
        year >= 1
        and 1 <= month <= 12
        and 1 <= day <= days[month - 1]
        and hour <= 23
        and minute <= 59
        and second <= 59
    ):
        _fail(MalformedInput, f"{name} is not a real date and time")


def _one_of(*allowed: str) -> _FieldCheck:
    def check(name: str, value: object) -> None:
        if not isinstance(value, str) or value not in allowed:
            _fail(MalformedInput, f"{name} must be one of {', '.join(allowed)}")

    return check


def _check_epoch(name: str, value: object) -> None:
    if _uint(name, value, 32) < 1:
        _fail(MalformedInput, f"{name} must be at least 1")


_STAFF_ROLES: Final = ("service_manager", "facilitator")
_INVITATION_ROLES: Final = ("service_manager", "facilitator", "participant", "supporter")
_STATEMENT_KINDS: Final[dict[str, dict[str, _FieldCheck]]] = {
    "staff-cert": {
        "account_id": _check_uuid,
        "role": _one_of(*_STAFF_ROLES),
        "box_public_key": _check_key,
        "signing_public_key": _check_key,
        "issued_at": _check_timestamp,
        "issuer_account_id": _check_uuid,
    },
    "case-key": {
        "case_id": _check_uuid,
        "epoch": _check_epoch,
        "case_public_key": _check_key,
        "issued_at": _check_timestamp,
        "issuer_account_id": _check_uuid,
    },
    "revocation": {
        "account_id": _check_uuid,
        "revoked_at": _check_timestamp,
        "issuer_account_id": _check_uuid,
        "reason": _one_of("disabled", "key-lost", "left"),
    },
    "referral-key": {
        "key_id": _check_uuid,
        "referral_public_key": _check_key,
        "issued_at": _check_timestamp,
        "issuer_account_id": _check_uuid,
    },
    "root-handover": {
        "new_root_account_id": _check_uuid,
        "new_root_signing_public_key": _check_key,
        "issued_at": _check_timestamp,
        "issuer_account_id": _check_uuid,
    },
}
# What the hash-chained trust log holds: certificates, revocations and hand-overs of the root.
_TRUST_LOG_KINDS: Final = ("staff-cert", "revocation", "root-handover")
_INVITATION_FIELDS: Final[dict[str, _FieldCheck]] = {
    "invitation_id": _check_uuid,
    "account_id": _check_uuid,
    "role": _one_of(*_INVITATION_ROLES),
    "case_id": _check_uuid_or_null,
    "participant_id": _check_uuid_or_null,
    "inviter_account_id": _check_uuid,
    "inviter_box_public_key": _check_key,
    "inviter_signing_public_key": _check_key,
    "root_account_id": _check_uuid,
    "root_signing_public_key": _check_key,
    "expires_at": _check_timestamp,
}


def _check_fields(what: str, schema: dict[str, _FieldCheck], fields: object) -> dict[str, object]:
    """Exactly the schema's field names, each value of its type; a copy of the fields."""
    if not isinstance(fields, dict):
        _fail(MalformedInput, f"{what} fields must be a dict")
    if set(fields) != set(schema):
        _fail(MalformedInput, f"{what} needs exactly the fields {', '.join(sorted(schema))}")
    for name, check in schema.items():
        check(name, fields[name])
    return dict(fields)


def _statement_schema(kind: object) -> dict[str, _FieldCheck]:
    if not isinstance(kind, str) or kind not in _STATEMENT_KINDS:
        _fail(MalformedInput, "unknown kind of statement")
    return _STATEMENT_KINDS[kind]


def sign_statement(
    signing_secret: bytes, kind: str, fields: dict[str, object]
) -> tuple[bytes, bytes]:
    """(statement, signature): canonical JSON of ``fields`` plus "context": "portal/v1/<kind>",
    and a detached Ed25519 signature over "portal/v1/statement" 0x00 || statement."""
    schema = _statement_schema(kind)
    if isinstance(fields, dict) and "context" in fields:
        _fail(MalformedInput, "the context is added by sign_statement, not given")
    checked = _check_fields(kind, schema, fields)
    statement = _canonical_json({**checked, "context": _CONTEXT_PREFIX + kind})
    return statement, _sign(signing_secret, _STATEMENT + statement)


def _verified_statement(
    signing_public_key: bytes, statement: bytes, signature: bytes
) -> dict[str, object]:
    """The statement's JSON object, once its signature verifies and its bytes are canonical."""
    _bytes("signing public key", signing_public_key, KEY_BYTES)
    _bytes("signature", signature, SIGNATURE_BYTES)
    if len(_bytes("statement", statement)) > MAX_STATEMENT_BYTES:
        _fail(MalformedInput, "statement is too long")
    _verify(signing_public_key, _STATEMENT + statement, signature)
    data = _parse_json_object(statement)
    # Exactly one encoding: whatever the signer wrote must be what canonical JSON writes.
    if _canonical_json(data) != statement:
        _fail(MalformedInput, "statement is not canonical JSON")
    return data


def _statement_context(data: dict[str, object]) -> str:
    context = data.get("context")
    if not isinstance(context, str):
        _fail(MalformedInput, "statement has no context")
    return context


def open_statement(
    signing_public_key: bytes, kind: str, statement: bytes, signature: bytes
) -> dict[str, object]:
    """The statement's fields (without "context"), if ``signing_public_key`` signed exactly
    these bytes, they are canonical JSON, of this kind, with the kind's fields."""
    schema = _statement_schema(kind)
    data = _verified_statement(signing_public_key, statement, signature)
    if _statement_context(data) != _CONTEXT_PREFIX + kind:
        _fail(WrongContext, "statement is of another kind")
    fields = {name: value for name, value in data.items() if name != "context"}
    return _check_fields(kind, schema, fields)


def sign_staff_cert(signing_secret: bytes, fields: dict[str, object]) -> tuple[bytes, bytes]:
    """{account_id, role, box_public_key, signing_public_key, issued_at, issuer_account_id}."""
    return sign_statement(signing_secret, "staff-cert", fields)


def open_staff_cert(
    signing_public_key: bytes, statement: bytes, signature: bytes
) -> dict[str, object]:
    return open_statement(signing_public_key, "staff-cert", statement, signature)


def sign_case_key_epoch(signing_secret: bytes, fields: dict[str, object]) -> tuple[bytes, bytes]:
    """{case_id, epoch, case_public_key, issued_at, issuer_account_id}."""
    return sign_statement(signing_secret, "case-key", fields)


def open_case_key_epoch(
    signing_public_key: bytes, statement: bytes, signature: bytes
) -> dict[str, object]:
    return open_statement(signing_public_key, "case-key", statement, signature)


def sign_revocation(signing_secret: bytes, fields: dict[str, object]) -> tuple[bytes, bytes]:
    """{account_id, revoked_at, issuer_account_id, reason}."""
    return sign_statement(signing_secret, "revocation", fields)


def open_revocation(
    signing_public_key: bytes, statement: bytes, signature: bytes
) -> dict[str, object]:
    return open_statement(signing_public_key, "revocation", statement, signature)


def sign_root_handover(signing_secret: bytes, fields: dict[str, object]) -> tuple[bytes, bytes]:
    """{new_root_account_id, new_root_signing_public_key, issued_at, issuer_account_id}."""
    return sign_statement(signing_secret, "root-handover", fields)


def open_root_handover(
    signing_public_key: bytes, statement: bytes, signature: bytes
) -> dict[str, object]:
    return open_statement(signing_public_key, "root-handover", statement, signature)


def sign_referral_key(signing_secret: bytes, fields: dict[str, object]) -> tuple[bytes, bytes]:
    """{key_id, referral_public_key, issued_at, issuer_account_id}: the service's referral key,
    published by a certified service manager (not a trust log entry: it names no account)."""
    return sign_statement(signing_secret, "referral-key", fields)


def open_referral_key(
    signing_public_key: bytes, statement: bytes, signature: bytes
) -> dict[str, object]:
    return open_statement(signing_public_key, "referral-key", statement, signature)


# A trust log entry: (signer_signing_public_key, statement, signature).
TrustLogEntry = tuple[bytes, bytes, bytes]


def _trust_log_hashes(entries: Sequence[TrustLogEntry]) -> list[bytes]:
    """h_0 .. h_{n-1}, after checking that every entry is a signed log statement."""
    if not isinstance(entries, list | tuple) or len(entries) >= 2**32:
        _fail(MalformedInput, "trust log entries must be a list")
    hashes: list[bytes] = []
    previous = bytes(HASH_BYTES)
    for index, entry in enumerate(entries):
        if not isinstance(entry, tuple | list) or len(entry) != 3:
            _fail(MalformedInput, "a trust log entry is (signer key, statement, signature)")
        signer, statement, signature = entry
        data = _verified_statement(signer, statement, signature)
        context = _statement_context(data)
        kind = context.removeprefix(_CONTEXT_PREFIX)
        if not context.startswith(_CONTEXT_PREFIX) or kind not in _TRUST_LOG_KINDS:
            _fail(WrongContext, "trust log entry is not a certificate, revocation or hand-over")
        fields = {name: value for name, value in data.items() if name != "context"}
        _check_fields(kind, _STATEMENT_KINDS[kind], fields)
        previous = _h(
            _TRUST_LOG,
            previous
            + _u32("index", index)
            + signer
            + _u32("statement length", len(statement))
            + statement
            + signature,
        )
        hashes.append(previous)
    return hashes


def trust_log_head(entries: Sequence[TrustLogEntry]) -> tuple[int, bytes]:
    """(count, head hash) of a whole log; an empty log's head is 32 zero bytes."""
    hashes = _trust_log_hashes(entries)
    return len(hashes), hashes[-1] if hashes else bytes(HASH_BYTES)


def verify_trust_log_extends(
    old_count: int, old_head: bytes, entries: Sequence[TrustLogEntry]
) -> bytes:
    """The new head, if the whole log ``entries`` begins with the log this browser saw
    (``old_count`` entries ending in ``old_head``); WrongContext otherwise."""
    _uint("old count", old_count, 32)
    _bytes("old head", old_head, HASH_BYTES)
    hashes = _trust_log_hashes(entries)
    if len(hashes) < old_count:
        _fail(WrongContext, "trust log is shorter than the one seen before")
    seen = hashes[old_count - 1] if old_count else bytes(HASH_BYTES)
    if not hmac.compare_digest(seen, old_head):
        _fail(WrongContext, "trust log does not extend the one seen before")
    return hashes[-1] if hashes else bytes(HASH_BYTES)


@dataclass(frozen=True)
class InvitationSecrets:
    """What the inviter's and the joiner's browsers derive from an invitation code."""

    lookup_id: str  # 32 hex characters: the server finds the invitation by it
    redeem_proof: bytes = field(repr=False)  # sent only to redeem; the server keeps a hash
    mac_key: bytes = field(repr=False)  # never leaves the browser


def generate_invitation_code() -> tuple[bytes, str]:
    """(code_bytes, code_text): 80 random bits, shown as 16 Crockford symbols."""
    code = nacl.utils.random(INVITATION_CODE_BYTES)
    return code, encode_invitation_code(code)


def encode_invitation_code(code: bytes) -> str:
    """Crockford base32 of the 10 bytes, 4 groups of 4 symbols joined by '-'."""
    number = int.from_bytes(_bytes("invitation code", code, INVITATION_CODE_BYTES), "big")
    return _crockford_symbols(number, _INVITATION_SYMBOLS)


def decode_invitation_code(code: str) -> bytes:
    """Forgiving about case, spaces, '-' and O/I/L; strict about everything else."""
    number = _crockford_number(code, _INVITATION_SYMBOLS, "invitation code")
    return number.to_bytes(INVITATION_CODE_BYTES, "big")


def invitation_secrets(code: bytes) -> InvitationSecrets:
    code = _bytes("invitation code", code, INVITATION_CODE_BYTES)
    return InvitationSecrets(
        lookup_id=_h(_INVITE_LOOKUP, code)[:LOOKUP_ID_BYTES].hex(),
        redeem_proof=_h(_INVITE_REDEEM, code),
        mac_key=_h(_INVITE_MAC_KEY, code),
    )


def invitation_redeem_hash(redeem_proof: bytes) -> bytes:
    """H(key="portal/v1/invite/redeem-hash", msg=redeem_proof): what the server keeps to check
    a redemption. A copy of the database cannot redeem with it (the proof is a hash preimage)."""
    return _h(_INVITE_REDEEM_HASH, _bytes("redeem proof", redeem_proof, HASH_BYTES))


# A code for a new key pair (re-keying) adds "purpose": "rekey"; an invitation to join has no
# purpose field (so every code made before re-keying existed still checks). Present or absent,
# the field is under the MAC: a join code cannot be served as a re-key, nor the reverse.
_REKEY_FIELDS: Final[dict[str, _FieldCheck]] = {**_INVITATION_FIELDS, "purpose": _one_of("rekey")}
_REKEY_ROLES: Final = ("participant", "supporter")


def _invitation_fields(fields: object) -> dict[str, object]:
    rekey = isinstance(fields, dict) and "purpose" in fields
    checked = _check_fields("invitation", _REKEY_FIELDS if rekey else _INVITATION_FIELDS, fields)
    if rekey and checked["role"] not in _REKEY_ROLES:
        _fail(MalformedInput, "a code for a new key is for a participant or a supporter")
    staff = checked["role"] in _STAFF_ROLES
    if staff and (checked["case_id"] is not None or checked["participant_id"] is not None):
        _fail(MalformedInput, "a staff invitation names no case and no participant")
    if checked["role"] == "participant" and (
        checked["case_id"] is None or checked["participant_id"] is None
    ):
        _fail(MalformedInput, "a participant invitation names its case and participant")
    if checked["participant_id"] is not None and checked["case_id"] is None:
        _fail(MalformedInput, "an invitation that names a participant names its case")
    return checked


def invitation_mac(mac_key: bytes, fields: dict[str, object]) -> bytes:
    """H(key=mac_key, msg="portal/v1/invite" 0x00 || canonical JSON of the fields)."""
    _bytes("MAC key", mac_key, KEY_BYTES)
    return _h(mac_key, _INVITE_MAC + _canonical_json(_invitation_fields(fields)))


def check_invitation_mac(mac_key: bytes, fields: dict[str, object], mac: bytes) -> None:
    """Refuse (DecryptionFailed) unless the inviter who made the code sent these fields."""
    _bytes("invitation MAC", mac, HASH_BYTES)
    if not hmac.compare_digest(invitation_mac(mac_key, fields), mac):
        _fail(DecryptionFailed, "invitation does not match its code")


# --- server-side helpers ---------------------------------------------------------------------


def _server_secret(secret: bytes) -> bytes:
    if not _SERVER_SECRET_MIN <= len(_bytes("server secret", secret)) <= _SERVER_SECRET_MAX:
        _fail(MalformedInput, "server secret must be 16 to 64 bytes")
    return secret


def fake_salt(server_secret: bytes, name: str) -> bytes:
    """A stable salt for a sign-in name that has no account, so names cannot be enumerated."""
    if not isinstance(name, str):
        _fail(MalformedInput, "name must be a str")
    normalised = _utf8(unicodedata.normalize("NFKC", name.casefold()))
    return _h(_server_secret(server_secret), _FAKE_SALT + normalised)[:SALT_BYTES]


def token_hash(server_secret: bytes, token: str) -> bytes:
    """What the database stores for a session or invitation token."""
    if not isinstance(token, str):
        _fail(MalformedInput, "token must be a str")
    # The same keyed BLAKE2b-256 as _h (RFC 7693; test_protocol checks they agree), from the
    # standard library: every request hashes its session cookie (and its CSRF token) this way,
    # and PyNaCl's argument checks cost ten times the hash of a few dozen bytes.
    key = _server_secret(server_secret)
    return hashlib.blake2b(_TOKEN + _utf8(token), digest_size=HASH_BYTES, key=key).digest()
