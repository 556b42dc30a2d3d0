"""portal/protocol.py against static/js/crypto/protocol.js, and on its own.

Every output in tests/vectors/js.json is recomputed here byte for byte and everything in it is
opened; python.json is checked the same way by tests/js/protocol.test.mjs (and here only for the
Python-only server helpers). Then the tamper cases that must fail, and round-trip properties.
The vector files are generated (tests/vectors/make_vectors.py, tests/js/make_vectors.mjs) and
never rewritten by a test.
"""

import json
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import nacl.hash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.encoding import RawEncoder

from portal import protocol as p

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
JS: dict[str, Any] = json.loads((VECTORS / "js.json").read_text(encoding="utf-8"))
PY: dict[str, Any] = json.loads((VECTORS / "python.json").read_text(encoding="utf-8"))

OTHER_ID = "11111111-2222-4333-8444-555555555555"
FLIP_POSITIONS = (0, 30, -1)  # a bit in the nonce, in the body and in the tag
d = p.b64decode
e = p.b64encode

# No example database: nothing is written into the work tree.
quick = settings(database=None, deadline=None, max_examples=50)


def sk(name: str) -> bytes:
    return d(JS["identities"][name]["secret_key"])


def pk(name: str) -> bytes:
    return d(JS["identities"][name]["public_key"])


def pattern(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


def part_data(part: dict[str, Any]) -> bytes:
    return pattern(part["pattern"]) if "pattern" in part else d(part["data"])


def flipped(data: bytes, position: int) -> bytes:
    copy = bytearray(data)
    copy[position] ^= 0x01
    return bytes(copy)


def js_parts() -> list[p.Part]:
    return [
        p.Part(kind=part["kind"], mime=part["mime"], name=part["name"], data=part_data(part))
        for part in JS["content"]["parts"]
    ]


def js_object() -> p.EncryptedObject:
    v = JS["content"]
    nonces = [d(n) for n in v["nonces"]]
    parts = js_parts()
    return p.encrypt_content(
        d(v["key"]),
        v["object_id"],
        v["version"],
        parts,
        v["created_at"],
        v["author"],
        nonces=nonces,
    )


def fetch_from(obj: p.EncryptedObject) -> Callable[[int, int], bytes]:
    return lambda part, index: obj.chunks[part][index]


def letter_text(v: dict[str, Any]) -> str:
    """A letter vector's text; a long one is stored as head + repeat * times."""
    if "text" in v:
        return str(v["text"])
    recipe = v["text_pattern"]
    return str(recipe["head"]) + str(recipe["repeat"]) * int(recipe["times"])


def seal_js_letter(v: dict[str, Any]) -> p.SealedLetter:
    return p.seal_letter(
        sk(v["author"]),
        pk(v["author"]),
        d(v["case_public_key"]),
        v["object_id"],
        v["version"],
        letter_text(v),
        v["created_at"],
        v["author_id"],
        content_key=d(v["content_key"]),
        nonces=[d(n) for n in v["nonces"]],
    )


SHORT_LETTER = JS["letters"][0]


# --- js.json recomputed by protocol.py ---------------------------------------------------------


@pytest.mark.parametrize("vector", JS["b64"], ids=lambda v: v["text"] or "empty")
def test_js_b64_vectors_encode_and_decode_identically(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    assert p.b64encode(data) == vector["text"]
    assert p.b64decode(vector["text"]) == data


@pytest.mark.parametrize("text", JS["b64_invalid"])
def test_invalid_b64_raises_malformed(text: str) -> None:
    with pytest.raises(p.MalformedInput):
        p.b64decode(text)


@pytest.mark.parametrize("account_id", JS["ids_invalid"])
def test_non_canonical_id_raises_malformed(account_id: str) -> None:
    v = JS["bundle"]
    with pytest.raises(p.MalformedInput):
        p.wrap_secret_key(d(v["wrap_key"]), account_id, d(v["secret_key"]))
    with pytest.raises(p.MalformedInput):
        p.unwrap_secret_key(d(v["wrap_key"]), account_id, d(v["bundle"]))


@pytest.mark.parametrize("vector", JS["kdf"], ids=lambda v: f"ops{v['ops']}-{v['password']!a}")
def test_js_kdf_vectors_derive_identical_keys(vector: dict[str, Any]) -> None:
    keys = p.derive_account_keys(
        vector["password"], d(vector["salt"]), vector["ops"], vector["mem"]
    )
    assert e(keys.master) == vector["master"]
    assert e(keys.auth_key) == vector["auth_key"]
    assert e(keys.wrap_key) == vector["wrap_key"]


def test_js_kdf_vectors_hold_one_default_and_an_nfkc_pair() -> None:
    defaults = [v for v in JS["kdf"] if (v["ops"], v["mem"]) == (3, 64 * 1024 * 1024)]
    assert len(defaults) == 1
    odd, normal = JS["kdf"][1], JS["kdf"][2]
    assert odd["password"] != normal["password"]
    assert unicodedata.normalize("NFKC", odd["password"]) == normal["password"]
    assert odd["master"] == normal["master"]


def test_js_identities_give_identical_public_keys() -> None:
    for v in JS["identities"].values():
        assert e(p.public_key_from_secret(d(v["secret_key"]))) == v["public_key"]


def test_js_bundle_recomputes_identically_and_unwraps() -> None:
    v = JS["bundle"]
    made = p.wrap_secret_key(
        d(v["wrap_key"]), v["account_id"], d(v["secret_key"]), nonce=d(v["nonce"])
    )
    assert e(made) == v["bundle"]
    assert (
        e(p.unwrap_secret_key(d(v["wrap_key"]), v["account_id"], d(v["bundle"]))) == v["secret_key"]
    )


def test_js_fingerprints_recompute_identically() -> None:
    assert any(v["digits"].startswith("0") for v in JS["fingerprints"])
    for v in JS["fingerprints"]:
        assert p.fingerprint_digits(d(v["public_key"])) == v["digits"]
        assert p.format_fingerprint(v["digits"]) == v["formatted"]


def test_js_recovery_vectors_recompute_identically_and_unwrap() -> None:
    v = JS["recovery"]
    key = d(v["recovery_key"])
    assert p.encode_recovery_code(key) == v["code"]
    for code in [v["code"], *v["code_variants"]]:
        assert p.decode_recovery_code(code) == key
    assert e(p.recovery_auth_key(key)) == v["recovery_auth"]
    made = p.wrap_with_recovery(key, v["account_id"], d(v["secret_key"]), nonce=d(v["nonce"]))
    assert e(made) == v["bundle"]
    assert e(p.unwrap_with_recovery(key, v["account_id"], d(v["bundle"]))) == v["secret_key"]


@pytest.mark.parametrize("code", JS["recovery_code_invalid"])
def test_invalid_recovery_code_raises_malformed(code: str) -> None:
    with pytest.raises(p.MalformedInput):
        p.decode_recovery_code(code)


def test_js_session_blob_recomputes_identically_and_unwraps() -> None:
    v = JS["session"]
    key = d(v["session_key"])
    made = p.session_wrap(key, v["account_id"], d(v["secret_key"]), nonce=d(v["nonce"]))
    assert e(made) == v["blob"]
    assert e(p.session_unwrap(key, v["account_id"], d(v["blob"]))) == v["secret_key"]


def test_js_case_grant_recomputes_identically_and_opens() -> None:
    v = JS["case_grant"]
    made = p.make_case_grant(
        sk(v["sender"]),
        pk(v["recipient"]),
        v["case_id"],
        d(v["case_secret_key"]),
        nonce=d(v["nonce"]),
    )
    assert e(made) == v["grant"]
    opened = p.open_case_grant(sk(v["recipient"]), pk(v["sender"]), v["case_id"], d(v["grant"]))
    assert e(opened) == v["case_secret_key"]


def test_js_content_grant_recomputes_identically_and_opens() -> None:
    v = JS["content_grant"]
    made = p.make_content_grant(
        sk(v["sender"]),
        pk(v["recipient"]),
        v["object_id"],
        v["version"],
        d(v["content_key"]),
        d(v["manifest_hash"]),
        nonce=d(v["nonce"]),
    )
    assert e(made) == v["grant"]
    key, granted_hash = p.open_content_grant(
        sk(v["recipient"]), pk(v["sender"]), v["object_id"], v["version"], d(v["grant"])
    )
    assert (e(key), e(granted_hash)) == (v["content_key"], v["manifest_hash"])


def test_js_chunks_cover_final_non_final_and_empty() -> None:
    finals = {v["final"] for v in JS["chunks"]}
    assert finals == {True, False}
    assert any(v["plaintext"] == "" for v in JS["chunks"])


@pytest.mark.parametrize("vector", JS["chunks"], ids=lambda v: f"part{v['part']}-{v['index']}")
def test_js_chunk_recomputes_identically_and_decrypts(vector: dict[str, Any]) -> None:
    v = vector
    place = (d(v["key"]), v["object_id"], v["version"], v["part"], v["index"], v["final"])
    assert e(p.encrypt_chunk(*place, d(v["plaintext"]), nonce=d(v["nonce"]))) == v["chunk"]
    assert e(p.chunk_hash(d(v["chunk"]))) == v["chunk_hash"]
    assert e(p.decrypt_chunk(*place, d(v["chunk"]))) == v["plaintext"]


def test_js_manifest_recomputes_identically_and_decrypts() -> None:
    v = JS["manifest"]
    key = d(v["key"])
    blob = p.encrypt_manifest(key, v["object_id"], v["version"], v["manifest"], nonce=d(v["nonce"]))
    assert e(blob) == v["blob"]
    assert e(p.manifest_hash(d(v["blob"]))) == v["manifest_hash"]
    assert p.decrypt_manifest(key, v["object_id"], v["version"], d(v["blob"])) == v["manifest"]


def test_js_content_object_recomputes_identically_and_opens() -> None:
    v = JS["content"]
    made = js_object()
    assert e(made.manifest_blob) == v["manifest_blob"]
    assert e(made.manifest_hash) == v["manifest_hash"]
    assert [[e(p.chunk_hash(c)) for c in part] for part in made.chunks] == v["chunk_hashes"]
    assert [len(part) for part in made.chunks] == [1, 1, 2]
    # Equal hashes mean equal bytes, so these are the JS side's chunks.
    opened = p.open_content(
        d(v["key"]),
        v["object_id"],
        v["version"],
        d(v["manifest_blob"]),
        d(v["manifest_hash"]),
        fetch_from(made),
    )
    assert opened == js_parts()


def test_js_vault_recomputes_identically_and_opens() -> None:
    v = JS["vault"]
    secret = d(v["secret_key"])
    assert e(p.vault_key(secret)) == v["vault_key"]
    blob = p.seal_vault(secret, v["account_id"], v["data"], nonce=d(v["nonce"]))
    assert e(blob) == v["blob"]
    assert p.open_vault(secret, v["account_id"], d(v["blob"])) == v["data"]


def test_js_case_public_grant_recomputes_identically_and_opens() -> None:
    v = JS["case_public_grant"]
    # The key a participant learns is the public half of the key facilitators are granted.
    case_secret = d(JS["case_grant"]["case_secret_key"])
    assert e(p.public_key_from_secret(case_secret)) == v["case_public_key"]
    made = p.make_case_public_grant(
        sk(v["sender"]),
        pk(v["recipient"]),
        v["case_id"],
        d(v["case_public_key"]),
        nonce=d(v["nonce"]),
    )
    assert e(made) == v["grant"]
    opened = p.open_case_public_grant(
        sk(v["recipient"]), pk(v["sender"]), v["case_id"], d(v["grant"])
    )
    assert e(opened) == v["case_public_key"]


def test_js_case_data_recomputes_identically_and_opens() -> None:
    v = JS["case_data"]
    key, case_id = d(v["case_secret_key"]), v["case_id"]
    assert e(p.case_data_key(key)) == v["case_data_key"]
    assert {len(item["purpose"]) for item in v["items"]} >= {100}
    assert any(item["data"] == "" for item in v["items"])
    for item in v["items"]:
        made = p.seal_case_data(
            key, case_id, item["purpose"], d(item["data"]), nonce=d(item["nonce"])
        )
        assert e(made) == item["blob"]
        assert e(p.open_case_data(key, case_id, item["purpose"], d(item["blob"]))) == item["data"]
    assert any(item["text"].startswith("\ufeff") for item in v["texts"])
    for item in v["texts"]:
        made = p.seal_case_text(key, case_id, item["purpose"], item["text"], nonce=d(item["nonce"]))
        assert e(made) == item["blob"]
        assert p.open_case_text(key, case_id, item["purpose"], d(item["blob"])) == item["text"]


@pytest.mark.parametrize("purpose", JS["case_data_purposes_invalid"], ids=ascii)
def test_invalid_case_data_purpose_raises_malformed(purpose: str) -> None:
    v = JS["case_data"]
    key, blob = d(v["case_secret_key"]), d(v["items"][0]["blob"])
    with pytest.raises(p.MalformedInput):
        p.seal_case_data(key, v["case_id"], purpose, b"data")
    with pytest.raises(p.MalformedInput):
        p.open_case_data(key, v["case_id"], purpose, blob)


@pytest.mark.parametrize("vector", JS["drafts"], ids=lambda v: v["draft_id"])
def test_js_draft_recomputes_identically_and_opens(vector: dict[str, Any]) -> None:
    v = vector
    secret = d(v["secret_key"])
    assert e(p.draft_key(secret)) == v["draft_key"]
    made = p.seal_draft(secret, v["account_id"], v["draft_id"], d(v["data"]), nonce=d(v["nonce"]))
    assert e(made) == v["blob"]
    assert e(p.open_draft(secret, v["account_id"], v["draft_id"], d(v["blob"]))) == v["data"]


@pytest.mark.parametrize("vector", JS["letters"], ids=lambda v: f"v{v['version']}")
def test_js_letter_recomputes_identically_and_opens(vector: dict[str, Any]) -> None:
    v = vector
    made = seal_js_letter(v)
    assert e(made.manifest) == v["manifest"]
    assert e(made.manifest_hash) == v["manifest_hash"]
    assert [e(p.chunk_hash(chunk)) for chunk in made.chunks] == v["chunk_hashes"]
    if "chunks" in v:
        assert [e(chunk) for chunk in made.chunks] == v["chunks"]
    assert e(made.grant_to_case) == v["grant_to_case"]
    assert e(made.grant_to_author) == v["grant_to_author"]
    assert e(made.content_key) == v["content_key"]
    # The manifest is the one already specified: one part, kind "letter", no file name.
    size = len(letter_text(v).encode())
    assert p.decrypt_manifest(
        d(v["content_key"]), v["object_id"], v["version"], d(v["manifest"])
    ) == {
        "v": 1,
        "object_id": v["object_id"],
        "version": v["version"],
        "created_at": v["created_at"],
        "author": v["author_id"],
        "parts": [
            {
                "kind": "letter",
                "mime": "text/plain; charset=utf-8",
                "name": "",
                "size": size,
                "chunks": len(v["chunk_hashes"]),
                "hashes": v["chunk_hashes"],
            }
        ],
    }
    # Equal hashes mean equal bytes, so these are the JS side's chunks.
    case_sk = d(v["case_secret_key"])
    opened_by_case = p.open_letter(
        case_sk,
        pk(v["author"]),
        v["object_id"],
        v["version"],
        d(v["grant_to_case"]),
        d(v["manifest"]),
        made.chunks,
    )
    opened_by_author = p.open_letter(
        sk(v["author"]),
        pk(v["author"]),
        v["object_id"],
        v["version"],
        d(v["grant_to_author"]),
        d(v["manifest"]),
        made.chunks,
    )
    assert opened_by_case == opened_by_author == letter_text(v)


def test_js_letters_cover_one_and_two_chunks_and_a_split_character() -> None:
    assert [len(v["chunk_hashes"]) for v in JS["letters"]] == [1, 2]
    long_text = letter_text(JS["letters"][1]).encode()
    # The first chunk ends inside a two-byte character: text is decoded only after joining.
    assert long_text[p.CHUNK_SIZE - 1 : p.CHUNK_SIZE + 1] == "\u00e9".encode()
    assert len(long_text) == p.CHUNK_SIZE + 1


def test_python_server_helpers_match_committed_vectors() -> None:
    # Python-only helpers: pinned against python.json so their bytes cannot drift either.
    v = PY["server"]
    secret = d(v["server_secret"])
    for item in v["fake_salts"]:
        assert e(p.fake_salt(secret, item["name"])) == item["salt"]
    for item in v["token_hashes"]:
        assert e(p.token_hash(secret, item["token"])) == item["hash"]
    salts = {item["name"]: item["salt"] for item in v["fake_salts"]}
    assert salts["sam"] == salts["SAM"] == salts["\uff33\uff41\uff4d"]
    assert salts["Stra\u00dfe"] == salts["STRASSE"]
    assert all(len(d(salt)) == p.SALT_BYTES for salt in salts.values())


def test_token_hash_is_the_spec_keyed_hash() -> None:
    # token_hash computes H with the standard library (it runs on every request): the same
    # bytes as the PyNaCl H every other helper uses, for any secret length and token.
    for secret_length, token in [(16, ""), (32, "a" * 43), (64, "\u00e9t\u00e9")]:
        secret = bytes(range(secret_length))
        assert p.token_hash(secret, token) == p._h(secret, b"portal/v1/token" + token.encode())


def test_the_keyed_hash_is_libsodiums_generichash() -> None:
    # H is computed with the standard library's BLAKE2b: the same bytes as libsodium's keyed
    # crypto_generichash (PyNaCl), for every key length H is used with and any message.
    for key_length, message in [(0, b""), (16, b"x"), (32, bytes(range(200))), (64, b"a" * 1000)]:
        key = bytes(range(255, 255 - key_length, -1))
        expected = nacl.hash.blake2b(message, digest_size=32, key=key, encoder=RawEncoder)
        assert p._h(key, message) == expected


def test_short_server_secret_raises_malformed() -> None:
    with pytest.raises(p.MalformedInput):
        p.token_hash(b"short", "token")


# --- tampering fails in protocol.py ------------------------------------------------------------


@pytest.mark.parametrize("position", FLIP_POSITIONS)
@pytest.mark.parametrize("index", range(len(JS["chunks"])))
def test_flipped_bit_in_chunk_raises_decryption_failed(index: int, position: int) -> None:
    v = JS["chunks"][index]
    place = (d(v["key"]), v["object_id"], v["version"], v["part"], v["index"], v["final"])
    with pytest.raises(p.DecryptionFailed):
        p.decrypt_chunk(*place, flipped(d(v["chunk"]), position))


@pytest.mark.parametrize("position", FLIP_POSITIONS)
def test_flipped_bit_in_manifest_raises_decryption_failed(position: int) -> None:
    v = JS["manifest"]
    with pytest.raises(p.DecryptionFailed):
        p.decrypt_manifest(
            d(v["key"]), v["object_id"], v["version"], flipped(d(v["blob"]), position)
        )


@pytest.mark.parametrize("position", FLIP_POSITIONS)
def test_flipped_bit_in_bundles_raises_decryption_failed(position: int) -> None:
    b, r, s, vault = JS["bundle"], JS["recovery"], JS["session"], JS["vault"]
    with pytest.raises(p.DecryptionFailed):
        p.unwrap_secret_key(d(b["wrap_key"]), b["account_id"], flipped(d(b["bundle"]), position))
    with pytest.raises(p.DecryptionFailed):
        p.unwrap_with_recovery(
            d(r["recovery_key"]), r["account_id"], flipped(d(r["bundle"]), position)
        )
    with pytest.raises(p.DecryptionFailed):
        p.session_unwrap(d(s["session_key"]), s["account_id"], flipped(d(s["blob"]), position))
    with pytest.raises(p.DecryptionFailed):
        p.open_vault(
            d(vault["secret_key"]), vault["account_id"], flipped(d(vault["blob"]), position)
        )


@pytest.mark.parametrize("position", FLIP_POSITIONS)
def test_flipped_bit_in_grant_raises_decryption_failed(position: int) -> None:
    c, g = JS["case_grant"], JS["content_grant"]
    with pytest.raises(p.DecryptionFailed):
        p.open_case_grant(
            sk(c["recipient"]), pk(c["sender"]), c["case_id"], flipped(d(c["grant"]), position)
        )
    with pytest.raises(p.DecryptionFailed):
        p.open_content_grant(
            sk(g["recipient"]),
            pk(g["sender"]),
            g["object_id"],
            g["version"],
            flipped(d(g["grant"]), position),
        )


_CHUNK = JS["chunks"][0]


@pytest.mark.parametrize(
    ("object_id", "version", "part", "index", "final"),
    [
        pytest.param(OTHER_ID, 7, 0, 0, False, id="other-object"),
        pytest.param(_CHUNK["object_id"], 8, 0, 0, False, id="other-version"),
        pytest.param(_CHUNK["object_id"], 7, 1, 0, False, id="other-part"),
        pytest.param(_CHUNK["object_id"], 7, 0, 1, False, id="other-index"),
        pytest.param(_CHUNK["object_id"], 7, 0, 0, True, id="final-flag"),
    ],
)
def test_chunk_with_wrong_associated_data_raises_decryption_failed(
    object_id: str, version: int, part: int, index: int, final: bool
) -> None:
    assert (_CHUNK["version"], _CHUNK["part"], _CHUNK["index"], _CHUNK["final"]) == (7, 0, 0, False)
    with pytest.raises(p.DecryptionFailed):
        p.decrypt_chunk(
            d(_CHUNK["key"]), object_id, version, part, index, final, d(_CHUNK["chunk"])
        )


def test_manifest_with_wrong_associated_data_raises_decryption_failed() -> None:
    v = JS["manifest"]
    with pytest.raises(p.DecryptionFailed):
        p.decrypt_manifest(d(v["key"]), OTHER_ID, v["version"], d(v["blob"]))
    with pytest.raises(p.DecryptionFailed):
        p.decrypt_manifest(d(v["key"]), v["object_id"], v["version"] + 1, d(v["blob"]))


def test_bundles_for_another_account_raise_decryption_failed() -> None:
    b, r, s, vault = JS["bundle"], JS["recovery"], JS["session"], JS["vault"]
    with pytest.raises(p.DecryptionFailed):
        p.unwrap_secret_key(d(b["wrap_key"]), OTHER_ID, d(b["bundle"]))
    with pytest.raises(p.DecryptionFailed):
        p.unwrap_with_recovery(d(r["recovery_key"]), OTHER_ID, d(r["bundle"]))
    with pytest.raises(p.DecryptionFailed):
        p.session_unwrap(d(s["session_key"]), OTHER_ID, d(s["blob"]))
    with pytest.raises(p.DecryptionFailed):
        p.open_vault(d(vault["secret_key"]), OTHER_ID, d(vault["blob"]))
    with pytest.raises(p.DecryptionFailed):  # a password bundle is not a recovery bundle
        p.unwrap_with_recovery(d(r["recovery_key"]), r["account_id"], d(b["bundle"]))


def test_chunk_from_another_object_raises_decryption_failed() -> None:
    v = JS["content"]
    key = d(v["key"])
    made = js_object()
    same_key = p.encrypt_chunk(key, OTHER_ID, v["version"], 0, 0, True, js_parts()[0].data)
    with pytest.raises(p.DecryptionFailed):  # same K, other object: the AD refuses it
        p.decrypt_chunk(key, v["object_id"], v["version"], 0, 0, True, same_key)
    for intruder in (d(JS["chunks"][0]["chunk"]), same_key, made.chunks[2][0]):

        def fetch(part: int, index: int, intruder: bytes = intruder) -> bytes:
            return intruder if part == 0 else made.chunks[part][index]

        with pytest.raises(p.DecryptionFailed):
            p.open_content(
                key, v["object_id"], v["version"], made.manifest_blob, made.manifest_hash, fetch
            )


def test_truncated_part_raises_decryption_failed() -> None:
    v = JS["content"]
    made = js_object()

    def first_chunk_again(part: int, index: int) -> bytes:
        return made.chunks[part][0 if part == 2 else index]

    with pytest.raises(p.DecryptionFailed):
        p.open_content(
            d(v["key"]),
            v["object_id"],
            v["version"],
            made.manifest_blob,
            made.manifest_hash,
            first_chunk_again,
        )


def test_manifest_not_matching_granted_hash_raises_decryption_failed() -> None:
    v = JS["content"]

    def no_fetch(part: int, index: int) -> bytes:
        raise AssertionError("no chunk may be fetched before the manifest checks out")

    with pytest.raises(p.DecryptionFailed):
        p.open_content(
            d(v["key"]),
            v["object_id"],
            v["version"],
            d(v["manifest_blob"]),
            d(JS["manifest"]["manifest_hash"]),
            no_fetch,
        )


def test_manifest_naming_another_object_raises_wrong_context() -> None:
    v = JS["content"]
    key = d(v["key"])
    manifest: dict[str, object] = {
        "v": 1,
        "object_id": OTHER_ID,
        "version": v["version"],
        "created_at": v["created_at"],
        "author": v["author"],
        "parts": [],
    }
    forged = p.encrypt_manifest(key, v["object_id"], v["version"], manifest)
    with pytest.raises(p.WrongContext):
        p.open_content(
            key, v["object_id"], v["version"], forged, p.manifest_hash(forged), lambda _p, _i: b""
        )


def test_grant_from_another_sender_raises_decryption_failed() -> None:
    c, g = JS["case_grant"], JS["content_grant"]
    assert (c["sender"], c["recipient"], g["sender"], g["recipient"]) == (
        "alice",
        "bob",
        "bob",
        "carol",
    )
    with pytest.raises(p.DecryptionFailed):
        p.open_case_grant(sk("bob"), pk("carol"), c["case_id"], d(c["grant"]))
    with pytest.raises(p.DecryptionFailed):  # another recipient
        p.open_case_grant(sk("carol"), pk("alice"), c["case_id"], d(c["grant"]))
    with pytest.raises(p.DecryptionFailed):
        p.open_content_grant(sk("carol"), pk("alice"), g["object_id"], g["version"], d(g["grant"]))


def test_grant_with_swapped_sender_and_recipient_raises_wrong_context() -> None:
    # crypto_box's key is symmetric, so these decrypt; the keys inside the payload refuse them.
    c, g = JS["case_grant"], JS["content_grant"]
    with pytest.raises(p.WrongContext):
        p.open_case_grant(sk("alice"), pk("bob"), c["case_id"], d(c["grant"]))
    with pytest.raises(p.WrongContext):
        p.open_content_grant(sk("bob"), pk("carol"), g["object_id"], g["version"], d(g["grant"]))


def test_grant_of_other_kind_raises_wrong_context() -> None:
    c, g = JS["case_grant"], JS["content_grant"]
    with pytest.raises(p.WrongContext):  # a content grant opened as a case grant
        p.open_case_grant(sk(g["recipient"]), pk(g["sender"]), c["case_id"], d(g["grant"]))
    with pytest.raises(p.WrongContext):  # and the other way round
        p.open_content_grant(
            sk(c["recipient"]), pk(c["sender"]), g["object_id"], g["version"], d(c["grant"])
        )


def test_grant_for_other_case_object_or_version_raises_wrong_context() -> None:
    c, g = JS["case_grant"], JS["content_grant"]
    with pytest.raises(p.WrongContext):
        p.open_case_grant(sk(c["recipient"]), pk(c["sender"]), OTHER_ID, d(c["grant"]))
    with pytest.raises(p.WrongContext):
        p.open_content_grant(sk(g["recipient"]), pk(g["sender"]), OTHER_ID, 7, d(g["grant"]))
    with pytest.raises(p.WrongContext):
        p.open_content_grant(sk(g["recipient"]), pk(g["sender"]), g["object_id"], 8, d(g["grant"]))


def test_truncated_or_unusable_inputs_raise_malformed() -> None:
    b, c = JS["bundle"], JS["case_grant"]
    with pytest.raises(p.MalformedInput):
        p.unwrap_secret_key(d(b["wrap_key"]), b["account_id"], d(b["bundle"])[:39])
    with pytest.raises(p.MalformedInput):
        p.open_case_grant(sk(c["recipient"]), pk(c["sender"]), c["case_id"], d(c["grant"])[:20])
    with pytest.raises(p.MalformedInput):
        p.wrap_secret_key(d(b["wrap_key"])[1:], b["account_id"], d(b["secret_key"]))
    with pytest.raises(p.MalformedInput):  # a low-order public key
        p.open_case_grant(sk(c["recipient"]), bytes(32), c["case_id"], d(c["grant"]))


@pytest.mark.parametrize(
    ("salt_size", "ops", "mem"),
    [
        pytest.param(16, 0, p.MIN_KDF_MEM, id="ops-below-minimum"),
        pytest.param(16, 1, p.MIN_KDF_MEM - 1024, id="mem-below-minimum"),
        pytest.param(16, 1, p.MIN_KDF_MEM + 1, id="mem-not-whole-kib"),
        pytest.param(15, 1, p.MIN_KDF_MEM, id="short-salt"),
    ],
)
def test_weak_kdf_parameters_raise_malformed(salt_size: int, ops: int, mem: int) -> None:
    with pytest.raises(p.MalformedInput):
        p.derive_account_keys("pw", bytes(salt_size), ops, mem)


def test_password_with_lone_surrogate_raises_malformed() -> None:
    with pytest.raises(p.MalformedInput):
        p.derive_account_keys("\ud800", bytes(16), p.MIN_KDF_OPS, p.MIN_KDF_MEM)


@pytest.mark.parametrize(
    "data",
    [{"x": 1.5}, {"x": 2**53}, {"x": "\udc00"}, {"x": b"bytes"}, {1: "int key"}],
    ids=["float", "unsafe-int", "lone-surrogate", "bytes", "int-key"],
)
def test_protocol_json_outside_the_subset_raises_malformed(data: dict[Any, Any]) -> None:
    v = JS["vault"]
    with pytest.raises(p.MalformedInput):
        p.seal_vault(d(v["secret_key"]), v["account_id"], data)


_CASE_PUBLIC = JS["case_public_grant"]


def _open_case(v: dict[str, Any], grant: bytes) -> object:
    return p.open_case_grant(
        sk(v["recipient"]), pk(v["sender"]), JS["case_grant"]["case_id"], grant
    )


def _open_case_public(v: dict[str, Any], grant: bytes) -> object:
    return p.open_case_public_grant(
        sk(v["recipient"]), pk(v["sender"]), _CASE_PUBLIC["case_id"], grant
    )


def _open_content(v: dict[str, Any], grant: bytes) -> object:
    g = JS["content_grant"]
    return p.open_content_grant(
        sk(v["recipient"]), pk(v["sender"]), g["object_id"], g["version"], grant
    )


_OPEN_AS: dict[str, Callable[[dict[str, Any], bytes], object]] = {
    "case": _open_case,
    "case_public": _open_case_public,
    "content": _open_content,
}


@pytest.mark.parametrize(
    ("kind", "opened_as"),
    [(kind, other) for kind in _OPEN_AS for other in _OPEN_AS if kind != other],
)
def test_grant_opened_as_another_kind_raises_wrong_context(kind: str, opened_as: str) -> None:
    # Right keys, right ids: only the kind is wrong. A case grant and a case-public grant have
    # bodies of the same length, so the context string is all that tells them apart.
    v = JS[f"{kind}_grant"]
    with pytest.raises(p.WrongContext):
        _OPEN_AS[opened_as](v, d(v["grant"]))


def test_letter_grant_to_case_opened_as_case_or_case_public_grant_raises_wrong_context() -> None:
    v = SHORT_LETTER
    case_sk, grant = d(v["case_secret_key"]), d(v["grant_to_case"])
    with pytest.raises(p.WrongContext):
        p.open_case_grant(case_sk, pk(v["author"]), v["object_id"], grant)
    with pytest.raises(p.WrongContext):
        p.open_case_public_grant(case_sk, pk(v["author"]), v["object_id"], grant)


@pytest.mark.parametrize("position", FLIP_POSITIONS)
def test_flipped_bit_in_case_public_grant_raises_decryption_failed(position: int) -> None:
    v = _CASE_PUBLIC
    with pytest.raises(p.DecryptionFailed):
        p.open_case_public_grant(
            sk(v["recipient"]), pk(v["sender"]), v["case_id"], flipped(d(v["grant"]), position)
        )


def test_case_public_grant_from_other_keys_raises_decryption_failed() -> None:
    v = _CASE_PUBLIC
    assert (v["sender"], v["recipient"]) == ("alice", "carol")
    with pytest.raises(p.DecryptionFailed):  # alice's grant passed off as bob's
        p.open_case_public_grant(sk("carol"), pk("bob"), v["case_id"], d(v["grant"]))
    with pytest.raises(p.DecryptionFailed):
        p.open_case_public_grant(sk("bob"), pk("alice"), v["case_id"], d(v["grant"]))


def test_case_public_grant_swapped_or_for_another_case_raises_wrong_context() -> None:
    v = _CASE_PUBLIC
    with pytest.raises(p.WrongContext):  # the facilitator opening it as if carol had sent it
        p.open_case_public_grant(sk("alice"), pk("carol"), v["case_id"], d(v["grant"]))
    with pytest.raises(p.WrongContext):
        p.open_case_public_grant(sk("carol"), pk("alice"), OTHER_ID, d(v["grant"]))


@pytest.mark.parametrize("position", FLIP_POSITIONS)
def test_flipped_bit_in_case_data_or_draft_raises_decryption_failed(position: int) -> None:
    c, t, dr = JS["case_data"], JS["case_data"]["texts"][0], JS["drafts"][0]
    for item in c["items"]:
        with pytest.raises(p.DecryptionFailed):
            p.open_case_data(
                d(c["case_secret_key"]),
                c["case_id"],
                item["purpose"],
                flipped(d(item["blob"]), position),
            )
    with pytest.raises(p.DecryptionFailed):
        p.open_case_text(
            d(c["case_secret_key"]), c["case_id"], t["purpose"], flipped(d(t["blob"]), position)
        )
    with pytest.raises(p.DecryptionFailed):
        p.open_draft(
            d(dr["secret_key"]), dr["account_id"], dr["draft_id"], flipped(d(dr["blob"]), position)
        )


def test_case_data_with_wrong_purpose_case_or_key_raises_decryption_failed() -> None:
    c = JS["case_data"]
    key, case_id = d(c["case_secret_key"]), c["case_id"]
    name, note = c["texts"]  # participant-name:<id> and facilitator-note:<same id>
    assert name["purpose"].split(":")[1] == note["purpose"].split(":")[1]
    with pytest.raises(p.DecryptionFailed):  # a note shown as a name
        p.open_case_text(key, case_id, name["purpose"], d(note["blob"]))
    with pytest.raises(p.DecryptionFailed):  # one participant's name shown as another's
        p.open_case_text(key, case_id, f"participant-name:{OTHER_ID}", d(name["blob"]))
    with pytest.raises(p.DecryptionFailed):
        p.open_case_text(key, OTHER_ID, name["purpose"], d(name["blob"]))
    with pytest.raises(p.DecryptionFailed):  # a participant's own key, not the case key
        p.open_case_text(sk("carol"), case_id, name["purpose"], d(name["blob"]))
    with pytest.raises(p.DecryptionFailed):  # the derived key is not the case key either
        p.open_case_text(d(c["case_data_key"]), case_id, name["purpose"], d(name["blob"]))


def test_draft_for_another_id_account_or_key_raises_decryption_failed() -> None:
    first, second = JS["drafts"]
    secret, account = d(first["secret_key"]), first["account_id"]
    with pytest.raises(p.DecryptionFailed):
        p.open_draft(secret, account, second["draft_id"], d(first["blob"]))
    with pytest.raises(p.DecryptionFailed):
        p.open_draft(secret, OTHER_ID, first["draft_id"], d(first["blob"]))
    with pytest.raises(p.DecryptionFailed):
        p.open_draft(sk("bob"), account, first["draft_id"], d(first["blob"]))


def test_draft_vault_and_case_data_do_not_open_as_each_other() -> None:
    dr, vault, c = JS["drafts"][0], JS["vault"], JS["case_data"]
    secret, account = d(dr["secret_key"]), dr["account_id"]
    assert d(vault["secret_key"]) == secret
    with pytest.raises(p.DecryptionFailed):
        p.open_vault(secret, account, d(dr["blob"]))
    with pytest.raises(p.DecryptionFailed):
        p.open_draft(secret, account, dr["draft_id"], d(vault["blob"]))
    item = c["items"][0]
    with pytest.raises(p.DecryptionFailed):  # same key bytes, other derivation and AD
        p.open_draft(d(c["case_secret_key"]), account, dr["draft_id"], d(item["blob"]))


@pytest.mark.parametrize("position", FLIP_POSITIONS)
@pytest.mark.parametrize("where", ["grant", "manifest", "chunk"])
def test_flipped_bit_in_letter_raises_decryption_failed(where: str, position: int) -> None:
    v = SHORT_LETTER
    grant, manifest = d(v["grant_to_case"]), d(v["manifest"])
    chunks = [d(c) for c in v["chunks"]]
    if where == "grant":
        grant = flipped(grant, position)
    elif where == "manifest":
        manifest = flipped(manifest, position)
    else:
        chunks[0] = flipped(chunks[0], position)
    with pytest.raises(p.DecryptionFailed):
        p.open_letter(
            d(v["case_secret_key"]),
            pk(v["author"]),
            v["object_id"],
            v["version"],
            grant,
            manifest,
            chunks,
        )


def _open_short_letter(**changes: Any) -> str:
    v = SHORT_LETTER
    args: dict[str, Any] = {
        "recipient_sk": d(v["case_secret_key"]),
        "sender_pk": pk(v["author"]),
        "object_id": v["object_id"],
        "version": v["version"],
        "grant": d(v["grant_to_case"]),
        "manifest": d(v["manifest"]),
        "chunks": [d(c) for c in v["chunks"]],
    }
    args.update(changes)
    return p.open_letter(**args)


def test_letter_opened_for_another_version_or_object_raises_wrong_context() -> None:
    with pytest.raises(p.WrongContext):
        _open_short_letter(version=SHORT_LETTER["version"] + 1)
    with pytest.raises(p.WrongContext):
        _open_short_letter(object_id=OTHER_ID)


def test_letter_grant_with_swapped_sender_raises_wrong_context() -> None:
    # The author opening the grant they made to the case, as if the case key had sent it.
    v = SHORT_LETTER
    with pytest.raises(p.WrongContext):
        _open_short_letter(recipient_sk=sk(v["author"]), sender_pk=d(v["case_public_key"]))


def test_letter_grant_for_someone_else_raises_decryption_failed() -> None:
    v = SHORT_LETTER
    with pytest.raises(p.DecryptionFailed):  # the recipient before any approval
        _open_short_letter(recipient_sk=sk("bob"))
    with pytest.raises(p.DecryptionFailed):  # the case key opening the author's own copy
        _open_short_letter(grant=d(v["grant_to_author"]))
    with pytest.raises(p.DecryptionFailed):  # the grant names another sender
        _open_short_letter(sender_pk=pk("alice"))


def test_letter_with_another_letters_manifest_or_chunks_raises_decryption_failed() -> None:
    long_letter = seal_js_letter(JS["letters"][1])
    with pytest.raises(p.DecryptionFailed):  # the granted hash pins the manifest
        _open_short_letter(manifest=long_letter.manifest)
    with pytest.raises(p.DecryptionFailed):
        _open_short_letter(chunks=long_letter.chunks[:1])
    v = JS["letters"][1]
    with pytest.raises(p.DecryptionFailed):  # the long letter's chunks in the wrong order
        p.open_letter(
            d(v["case_secret_key"]),
            pk(v["author"]),
            v["object_id"],
            v["version"],
            d(v["grant_to_case"]),
            d(v["manifest"]),
            long_letter.chunks[::-1],
        )


def test_letter_with_missing_or_extra_chunks_raises_malformed() -> None:
    chunks = [d(c) for c in SHORT_LETTER["chunks"]]
    with pytest.raises(p.MalformedInput):
        _open_short_letter(chunks=[])
    with pytest.raises(p.MalformedInput):
        _open_short_letter(chunks=[*chunks, chunks[0]])


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param(js_parts(), id="three-parts"),
        pytest.param(
            [p.Part(kind="audio", mime="audio/ogg", name="a.ogg", data=b"ogg")], id="audio"
        ),
        pytest.param([p.Part(kind="letter", mime="text/html", name="", data=b"<p>")], id="html"),
    ],
)
def test_content_object_that_is_not_a_text_letter_raises_wrong_context(parts: list[p.Part]) -> None:
    author_sk, author_pk = sk("carol"), pk("carol")
    key = p.generate_content_key()
    made = p.encrypt_content(key, OTHER_ID, 1, parts, "2025-01-01T00:00:00Z", OTHER_ID)
    grant = p.make_content_grant(author_sk, author_pk, OTHER_ID, 1, key, made.manifest_hash)
    with pytest.raises(p.WrongContext):
        p.open_letter(
            author_sk,
            author_pk,
            OTHER_ID,
            1,
            grant,
            made.manifest_blob,
            [c for part in made.chunks for c in part],
        )


def test_seal_letter_with_bad_arguments_raises_malformed() -> None:
    v = SHORT_LETTER
    args: dict[str, Any] = {
        "author_sk": sk("carol"),
        "author_pk": pk("carol"),
        "case_pk": d(v["case_public_key"]),
        "object_id": OTHER_ID,
        "version": 1,
        "text": "hello",
        "created_at": "2025-01-01T00:00:00Z",
        "author_id": OTHER_ID,
    }
    p.seal_letter(**args)
    for change in (
        {"author_pk": pk("bob")},  # the author's own copy would go to someone else
        {"text": "\ud800"},
        {"text": b"bytes"},
        {"nonces": [bytes(24)] * 3},  # one chunk needs four nonces
        {"content_key": bytes(31)},
        {"case_pk": bytes(32)},  # a low-order key
        {"author_id": "not-a-uuid"},
    ):
        with pytest.raises(p.MalformedInput):
            p.seal_letter(**{**args, **change})


def test_case_text_that_is_not_utf8_raises_malformed() -> None:
    c = JS["case_data"]
    key = d(c["case_secret_key"])
    blob = p.seal_case_data(key, c["case_id"], "note", b"\xff\xfe")
    with pytest.raises(p.MalformedInput):
        p.open_case_text(key, c["case_id"], "note", blob)
    with pytest.raises(p.MalformedInput):
        p.seal_case_text(key, c["case_id"], "note", "\udc00")
    with pytest.raises(p.MalformedInput):
        p.seal_case_data(key, c["case_id"], b"note", b"")  # type: ignore[arg-type]  # the check under test


# --- round trips -------------------------------------------------------------------------------


def test_random_nonces_round_trip_and_differ() -> None:
    secret, public = p.generate_identity()
    other, other_public = p.generate_identity()
    assert p.public_key_from_secret(secret) == public
    wrap_key = p.generate_content_key()
    first = p.wrap_secret_key(wrap_key, OTHER_ID, secret)
    assert first != p.wrap_secret_key(wrap_key, OTHER_ID, secret)
    assert p.unwrap_secret_key(wrap_key, OTHER_ID, first) == secret
    case_key = p.generate_content_key()
    grant = p.make_case_grant(secret, other_public, OTHER_ID, case_key)
    assert p.open_case_grant(other, public, OTHER_ID, grant) == case_key
    # An author granting to their own key (sender == recipient) works too.
    own = p.make_content_grant(secret, public, OTHER_ID, 1, case_key, bytes(32))
    assert p.open_content_grant(secret, public, OTHER_ID, 1, own) == (case_key, bytes(32))


def test_account_keys_repr_hides_secrets() -> None:
    keys = p.AccountKeys(master=b"m" * 32, auth_key=b"a" * 32, wrap_key=b"w" * 32)
    assert "mmmm" not in repr(keys)
    assert "aaaa" not in repr(keys)
    assert "wwww" not in repr(keys)


def test_empty_and_multi_chunk_parts_round_trip() -> None:
    key = p.generate_content_key()
    parts = [
        p.Part(kind="note", mime="text/plain", name="empty", data=b""),
        p.Part(kind="video", mime="video/webm", name="v", data=pattern(2 * p.CHUNK_SIZE)),
    ]
    made = p.encrypt_content(key, OTHER_ID, 3, parts, "2025-01-01T00:00:00Z", OTHER_ID)
    assert [len(chunks) for chunks in made.chunks] == [1, 2]
    opened = p.open_content(
        key, OTHER_ID, 3, made.manifest_blob, made.manifest_hash, fetch_from(made)
    )
    assert opened == parts


@quick
@given(
    plaintext=st.binary(max_size=4096),
    version=st.integers(0, 2**32 - 1),
    part=st.integers(0, 2**16 - 1),
    index=st.integers(0, 2**32 - 1),
    final=st.booleans(),
)
def test_any_chunk_round_trips(
    plaintext: bytes, version: int, part: int, index: int, final: bool
) -> None:
    key = bytes(range(32))
    chunk = p.encrypt_chunk(key, OTHER_ID, version, part, index, final, plaintext)
    assert len(chunk) == p.NONCE_BYTES + len(plaintext) + p.TAG_BYTES
    assert p.decrypt_chunk(key, OTHER_ID, version, part, index, final, chunk) == plaintext


@quick
@given(key=st.binary(min_size=32, max_size=32), sloppy=st.booleans())
def test_any_recovery_key_round_trips_through_its_code(key: bytes, sloppy: bool) -> None:
    code = p.encode_recovery_code(key)
    assert len(code) == 64
    assert code.count("-") == 12
    if sloppy:  # what a person typing it back might do
        code = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert p.decode_recovery_code(code) == key


@quick
@given(data=st.binary(max_size=64))
def test_any_bytes_round_trip_through_b64(data: bytes) -> None:
    assert p.b64decode(p.b64encode(data)) == data


def test_new_kinds_round_trip_with_random_nonces() -> None:
    facilitator, facilitator_pk = p.generate_identity()
    participant, participant_pk = p.generate_identity()
    case_sk, case_pk = p.generate_identity()
    grant = p.make_case_public_grant(facilitator, participant_pk, OTHER_ID, case_pk)
    assert grant != p.make_case_public_grant(facilitator, participant_pk, OTHER_ID, case_pk)
    assert p.open_case_public_grant(participant, facilitator_pk, OTHER_ID, grant) == case_pk

    name = p.seal_case_text(case_sk, OTHER_ID, f"participant-name:{OTHER_ID}", "Sam")
    assert p.open_case_text(case_sk, OTHER_ID, f"participant-name:{OTHER_ID}", name) == "Sam"
    draft = p.seal_draft(participant, OTHER_ID, OTHER_ID, b"Dear")
    assert p.open_draft(participant, OTHER_ID, OTHER_ID, draft) == b"Dear"

    letter = p.seal_letter(
        participant, participant_pk, case_pk, OTHER_ID, 1, "Dear Sam", "2025-01-01", OTHER_ID
    )
    again = p.seal_letter(
        participant, participant_pk, case_pk, OTHER_ID, 1, "Dear Sam", "2025-01-01", OTHER_ID
    )
    assert letter.content_key != again.content_key
    args = (OTHER_ID, 1, letter.grant_to_case, letter.manifest, letter.chunks)
    assert p.open_letter(case_sk, participant_pk, *args) == "Dear Sam"
    own = (OTHER_ID, 1, letter.grant_to_author, letter.manifest, letter.chunks)
    assert p.open_letter(participant, participant_pk, *own) == "Dear Sam"


def test_sealed_letter_repr_hides_content_key() -> None:
    v = SHORT_LETTER
    assert v["content_key"] not in repr(seal_js_letter(v))
    assert repr(d(v["content_key"])) not in repr(seal_js_letter(v))


@quick
@given(text=st.text(max_size=300))
def test_any_text_round_trips_through_a_letter_and_case_text(text: str) -> None:
    author, author_pk = sk("carol"), pk("carol")
    case_sk = d(SHORT_LETTER["case_secret_key"])
    case_pk = d(SHORT_LETTER["case_public_key"])
    letter = p.seal_letter(author, author_pk, case_pk, OTHER_ID, 9, text, "t", OTHER_ID)
    opened = p.open_letter(
        case_sk, author_pk, OTHER_ID, 9, letter.grant_to_case, letter.manifest, letter.chunks
    )
    assert opened == text
    blob = p.seal_case_text(case_sk, OTHER_ID, "note", text)
    assert p.open_case_text(case_sk, OTHER_ID, "note", blob) == text


# --- trust anchors: js.json recomputed by protocol.py --------------------------------------------

ERRORS: dict[str, type[p.ProtocolError]] = {
    "DecryptionFailed": p.DecryptionFailed,
    "MalformedInput": p.MalformedInput,
    "WrongContext": p.WrongContext,
}
TYPED: dict[str, tuple[Callable[..., tuple[bytes, bytes]], Callable[..., dict[str, object]]]] = {
    "staff-cert": (p.sign_staff_cert, p.open_staff_cert),
    "case-key": (p.sign_case_key_epoch, p.open_case_key_epoch),
    "revocation": (p.sign_revocation, p.open_revocation),
    "root-handover": (p.sign_root_handover, p.open_root_handover),
}


def signing_secret(name: str) -> bytes:
    return d(JS["signing"][name]["signing_secret"])


def signing_pk(name: str) -> bytes:
    return d(JS["signing"][name]["signing_public_key"])


def log_entries(items: list[dict[str, Any]]) -> list[tuple[bytes, bytes, bytes]]:
    return [(d(i["signer_public_key"]), d(i["statement"]), d(i["signature"])) for i in items]


def why(vector: dict[str, Any]) -> str:
    return ascii(vector["why"])


def test_js_signing_keys_are_derived_from_the_identity_key() -> None:
    assert set(JS["signing"]) == set(JS["identities"])
    for name, v in JS["signing"].items():
        secret = d(v["secret_key"])
        assert v["secret_key"] == JS["identities"][name]["secret_key"]
        made_secret, made_public = p.signing_keys_from_secret(secret)
        assert (e(made_secret), e(made_public)) == (v["signing_secret"], v["signing_public_key"])
        assert e(p.signing_public_key_from_secret(secret)) == v["signing_public_key"]
        # libsodium's form: the seed H(key=secret_key, msg="portal/v1/signing-seed"), then the
        # public key.
        seed = p._h(secret, b"portal/v1/signing-seed")
        assert made_secret == seed + made_public


def test_js_identity_fingerprints_recompute_identically() -> None:
    vectors = JS["identity_fingerprints"]
    assert any(v["digits"].startswith("0") for v in vectors)
    for v in vectors:
        digits = p.identity_fingerprint_digits(d(v["box_public_key"]), d(v["signing_public_key"]))
        assert digits == v["digits"]
        assert p.format_fingerprint(digits) == v["formatted"]
        # Another number than the box-only one: nobody can mistake one for the other.
        assert digits != p.fingerprint_digits(d(v["box_public_key"]))
    first = vectors[0]
    swapped = p.identity_fingerprint_digits(
        d(first["signing_public_key"]), d(first["box_public_key"])
    )
    assert swapped != first["digits"]


def test_js_statements_cover_every_kind() -> None:
    assert {v["kind"] for v in JS["statements"]} == set(TYPED)


@pytest.mark.parametrize("vector", JS["statements"], ids=lambda v: v["kind"])
def test_js_statement_recomputes_identically_and_opens(vector: dict[str, Any]) -> None:
    v = vector
    kind, fields = v["kind"], v["fields"]
    made, signature = p.sign_statement(signing_secret(v["signer"]), kind, fields)
    assert (e(made), e(signature)) == (v["statement"], v["signature"])
    assert made.decode() == v["statement_text"]
    assert json.loads(made)["context"] == f"portal/v1/{kind}"
    sign, open_ = TYPED[kind]
    assert sign(signing_secret(v["signer"]), fields) == (made, signature)
    opened = p.open_statement(signing_pk(v["signer"]), kind, d(v["statement"]), d(v["signature"]))
    assert opened == fields
    assert open_(signing_pk(v["signer"]), d(v["statement"]), d(v["signature"])) == fields


@pytest.mark.parametrize("vector", JS["statement_fields_invalid"], ids=why)
def test_statement_with_bad_fields_is_refused_by_the_signer(vector: dict[str, Any]) -> None:
    kind, fields = vector["kind"], vector["fields"]
    with pytest.raises(p.MalformedInput):
        p.sign_statement(signing_secret("alice"), kind, fields)
    with pytest.raises(p.MalformedInput):
        TYPED[kind][0](signing_secret("alice"), fields)


def test_js_statement_refusals_cover_every_class() -> None:
    assert {v["error"] for v in JS["statements_invalid"]} == set(ERRORS)
    bad_fields = [v for v in JS["statements_invalid"] if v["why"].startswith("bad field")]
    assert len(bad_fields) == len(JS["statement_fields_invalid"]) - 1  # all but "context"


@pytest.mark.parametrize("vector", JS["statements_invalid"], ids=why)
def test_bad_statement_is_refused_by_its_class(vector: dict[str, Any]) -> None:
    v = vector
    args = (d(v["signer_public_key"]), d(v["statement"]), d(v["signature"]))
    with pytest.raises(ERRORS[v["error"]]):
        p.open_statement(args[0], v["kind"], *args[1:])
    with pytest.raises(ERRORS[v["error"]]):
        TYPED[v["kind"]][1](*args)


def test_js_trust_log_heads_recompute_identically_and_extend() -> None:
    entries = log_entries(JS["trust_log"]["entries"])
    heads = JS["trust_log"]["heads"]
    assert [h["count"] for h in heads] == list(range(len(entries) + 1))
    assert heads[0]["head"] == e(bytes(32))
    for h in heads:
        assert p.trust_log_head(entries[: h["count"]]) == (h["count"], d(h["head"]))
        # Every state a browser may have seen is extended by the whole log.
        newest = p.verify_trust_log_extends(h["count"], d(h["head"]), entries)
        assert e(newest) == heads[-1]["head"]
    kinds = [json.loads(statement)["context"] for _, statement, _ in entries]
    assert set(kinds) == {"portal/v1/staff-cert", "portal/v1/revocation", "portal/v1/root-handover"}


def test_js_trust_log_refusals_cover_every_class() -> None:
    assert {v["error"] for v in JS["trust_log_invalid"]} == set(ERRORS)


@pytest.mark.parametrize("vector", JS["trust_log_invalid"], ids=why)
def test_trust_log_that_does_not_extend_is_refused(vector: dict[str, Any]) -> None:
    v = vector
    with pytest.raises(ERRORS[v["error"]]):
        p.verify_trust_log_extends(v["old_count"], d(v["old_head"]), log_entries(v["entries"]))


@pytest.mark.parametrize("vector", JS["invitations"], ids=lambda v: v["code"])
def test_js_invitation_recomputes_identically(vector: dict[str, Any]) -> None:
    v = vector
    code = d(v["code_bytes"])
    assert p.encode_invitation_code(code) == v["code"]
    for text in [v["code"], *v["code_variants"]]:
        assert p.decode_invitation_code(text) == code, ascii(text)
    secrets = p.invitation_secrets(code)
    assert secrets.lookup_id == v["lookup_id"]
    assert len(secrets.lookup_id) == 32
    assert e(secrets.redeem_proof) == v["redeem_proof"]
    assert e(p.invitation_redeem_hash(secrets.redeem_proof)) == v["redeem_hash"]
    assert e(secrets.mac_key) == v["mac_key"]
    assert e(p.invitation_mac(secrets.mac_key, v["fields"])) == v["mac"]
    p.check_invitation_mac(secrets.mac_key, v["fields"], d(v["mac"]))
    assert v["redeem_proof"] not in repr(secrets)
    assert v["mac_key"] not in repr(secrets)


@pytest.mark.parametrize("code", JS["invitation_codes_invalid"], ids=ascii)
def test_invalid_invitation_code_raises_malformed(code: str) -> None:
    with pytest.raises(p.MalformedInput):
        p.decode_invitation_code(code)


def test_js_invitation_mac_refusals_cover_both_classes() -> None:
    assert {v["error"] for v in JS["invitation_macs_invalid"]} == {
        "DecryptionFailed",
        "MalformedInput",
    }


@pytest.mark.parametrize("vector", JS["invitation_macs_invalid"], ids=why)
def test_invitation_with_wrong_mac_or_fields_is_refused(vector: dict[str, Any]) -> None:
    v = vector
    with pytest.raises(ERRORS[v["error"]]):
        p.check_invitation_mac(d(v["mac_key"]), v["fields"], d(v["mac"]))


# --- trust anchors: refusals and round trips in protocol.py --------------------------------------


def test_signing_secret_with_a_foreign_public_half_raises_malformed() -> None:
    seed_only = signing_secret("alice")[:32]
    with pytest.raises(p.MalformedInput):
        p.sign_statement(seed_only + signing_pk("bob"), "case-key", JS["statements"][2]["fields"])
    with pytest.raises(p.MalformedInput):
        p.sign_statement(seed_only, "case-key", JS["statements"][2]["fields"])
    with pytest.raises(p.MalformedInput):  # the X25519 secret key itself is not a signing key
        p.sign_statement(sk("alice"), "case-key", JS["statements"][2]["fields"])


def test_unknown_kind_or_shape_of_statement_raises_malformed() -> None:
    v = JS["statements"][0]
    args = (d(v["statement"]), d(v["signature"]))
    for kind in ("grant/case", "staff_cert", "", None):
        with pytest.raises(p.MalformedInput):
            p.sign_statement(signing_secret("alice"), kind, v["fields"])  # type: ignore[arg-type]
        with pytest.raises(p.MalformedInput):
            p.open_statement(signing_pk("alice"), kind, *args)  # type: ignore[arg-type]
    for fields in (None, [], list(v["fields"].items())):
        with pytest.raises(p.MalformedInput):
            p.sign_statement(signing_secret("alice"), "staff-cert", fields)  # type: ignore[arg-type]
    with pytest.raises(p.MalformedInput):
        p.open_statement(signing_pk("alice"), "staff-cert", v["statement_text"], args[1])


def test_trust_log_of_wrong_shape_raises_malformed() -> None:
    entries = log_entries(JS["trust_log"]["entries"])
    with pytest.raises(p.MalformedInput):
        p.trust_log_head([entries[0][:2]])  # type: ignore[list-item]
    with pytest.raises(p.MalformedInput):
        p.trust_log_head(iter(entries))  # type: ignore[arg-type]
    with pytest.raises(p.MalformedInput):
        p.verify_trust_log_extends(-1, bytes(32), entries)
    with pytest.raises(p.MalformedInput):
        p.verify_trust_log_extends(True, d(JS["trust_log"]["heads"][1]["head"]), entries)
    assert p.trust_log_head([]) == (0, bytes(32))
    assert p.verify_trust_log_extends(0, bytes(32), []) == bytes(32)


def test_invitation_redeem_hash_needs_a_whole_proof_and_is_not_the_proof() -> None:
    v = JS["invitations"][0]
    proof = d(v["redeem_proof"])
    for wrong in (proof[:31], proof + b"\x00", b""):
        with pytest.raises(p.MalformedInput):
            p.invitation_redeem_hash(wrong)
    with pytest.raises(p.MalformedInput):
        p.invitation_redeem_hash(v["redeem_proof"])
    # What the server keeps is neither the proof nor anything else derived from the code.
    secrets = p.invitation_secrets(d(v["code_bytes"]))
    kept = p.invitation_redeem_hash(proof)
    assert kept not in (proof, secrets.mac_key, d(v["mac"]))


def test_invitation_mac_needs_the_code() -> None:
    v = JS["invitations"][0]
    code = d(v["code_bytes"])
    with pytest.raises(p.MalformedInput):
        p.invitation_secrets(code[:9])
    with pytest.raises(p.MalformedInput):
        p.encode_invitation_code(code + b"\x00")
    # The lookup id and the redeem proof, which the server sees, are not the MAC key.
    secrets = p.invitation_secrets(code)
    for not_the_key in (secrets.redeem_proof, bytes.fromhex(secrets.lookup_id) * 2):
        with pytest.raises(p.DecryptionFailed):
            p.check_invitation_mac(not_the_key, v["fields"], d(v["mac"]))


@quick
@given(secret=st.binary(min_size=32, max_size=32), other=st.binary(min_size=32, max_size=32))
def test_any_identity_key_gives_one_signing_key_that_signs_statements(
    secret: bytes, other: bytes
) -> None:
    signing, public = p.signing_keys_from_secret(secret)
    assert p.signing_keys_from_secret(secret) == (signing, public)
    assert p.signing_public_key_from_secret(secret) == public
    assert signing[32:] == public
    box_public = p.public_key_from_secret(secret)
    digits = p.identity_fingerprint_digits(box_public, public)
    assert len(digits) == 60
    fields: dict[str, object] = {
        "case_id": OTHER_ID,
        "epoch": 1,
        "case_public_key": e(box_public),
        "issued_at": "2025-01-01T00:00:00Z",
        "issuer_account_id": OTHER_ID,
    }
    statement, signature = p.sign_case_key_epoch(signing, fields)
    assert p.open_case_key_epoch(public, statement, signature) == fields
    if other != secret:
        assert p.signing_public_key_from_secret(other) != public
        with pytest.raises(p.DecryptionFailed):
            p.open_case_key_epoch(p.signing_public_key_from_secret(other), statement, signature)


_HISTORY = JS["statements"][3]  # carol's revocation


@quick
@given(data=st.data())
def test_any_bit_flipped_in_a_statement_or_signature_is_refused(data: st.DataObject) -> None:
    statement, signature = d(_HISTORY["statement"]), d(_HISTORY["signature"])
    where = data.draw(st.sampled_from(["statement", "signature"]))
    target = statement if where == "statement" else signature
    bit = data.draw(st.integers(0, 8 * len(target) - 1))
    changed = bytearray(target)
    changed[bit // 8] ^= 1 << (bit % 8)
    if where == "statement":
        statement = bytes(changed)
    else:
        signature = bytes(changed)
    with pytest.raises(p.DecryptionFailed):
        p.open_revocation(signing_pk("carol"), statement, signature)


@quick
@given(
    year=st.integers(0, 9999),
    month=st.integers(0, 13),
    day=st.integers(0, 32),
    hour=st.integers(0, 25),
    minute=st.integers(0, 60),
    second=st.integers(0, 61),
)
def test_timestamps_are_accepted_exactly_when_they_are_real(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    try:
        real = datetime(year, month, day, hour, minute, second).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        real = None
    fields = {**JS["statements"][3]["fields"], "revoked_at": text}
    if real is not None:
        statement, signature = p.sign_revocation(signing_secret("carol"), fields)
        assert p.open_revocation(signing_pk("carol"), statement, signature)["revoked_at"] == text
    else:
        with pytest.raises(p.MalformedInput):
            p.sign_revocation(signing_secret("carol"), fields)


@quick
@given(when=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_timestamps_compare_like_the_times_they_name(when: datetime) -> None:
    text = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"{when.year:04d}{text[text.index('-') :]}"  # strftime may not pad years below 1000
    fields = {**JS["statements"][0]["fields"], "issued_at": text}
    made, _ = p.sign_staff_cert(signing_secret("alice"), fields)
    assert json.loads(made)["issued_at"] == text
    later = when.replace(microsecond=0) + timedelta(seconds=1)
    if later.year <= 9999:
        assert text < f"{later.year:04d}{later.strftime('-%m-%dT%H:%M:%SZ')}"


@quick
@given(code=st.binary(min_size=10, max_size=10), sloppy=st.booleans())
def test_any_invitation_code_round_trips_through_its_text(code: bytes, sloppy: bool) -> None:
    text = p.encode_invitation_code(code)
    assert len(text) == 19
    assert [len(group) for group in text.split("-")] == [4, 4, 4, 4]
    if sloppy:  # what a person typing it in might do
        text = text.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert p.decode_invitation_code(text) == code
    secrets = p.invitation_secrets(code)
    assert int(secrets.lookup_id, 16) >= 0
    assert len({secrets.lookup_id, secrets.redeem_proof.hex(), secrets.mac_key.hex()}) == 3


def test_generated_invitation_codes_differ_and_decode() -> None:
    first, second = p.generate_invitation_code(), p.generate_invitation_code()
    assert first[0] != second[0]
    for code, text in (first, second):
        assert p.decode_invitation_code(text) == code


_INVITE = JS["invitations"][1]


@quick
@given(data=st.data())
def test_any_changed_invitation_field_fails_the_mac(data: st.DataObject) -> None:
    fields = dict(_INVITE["fields"])
    name = data.draw(st.sampled_from(sorted(fields)))
    replacements: dict[str, object] = {
        "role": "supporter",
        "expires_at": "2030-01-01T00:00:00Z",
    }
    current = fields[name]
    if name in replacements:
        fields[name] = replacements[name]
    elif name.endswith("_id"):
        fields[name] = data.draw(st.uuids().map(str).filter(lambda u: u != current))
    else:
        fields[name] = e(data.draw(st.binary(min_size=32, max_size=32)))
    mac_key, mac = d(_INVITE["mac_key"]), d(_INVITE["mac"])
    with pytest.raises(p.DecryptionFailed):
        p.check_invitation_mac(mac_key, fields, mac)


def _log_of(count: int) -> list[tuple[bytes, bytes, bytes]]:
    entries = []
    for index in range(count):
        fields = {
            **JS["statements"][0]["fields"],
            "issued_at": f"2025-01-01T00:00:{index:02d}Z",
        }
        statement, signature = p.sign_staff_cert(signing_secret("alice"), fields)
        entries.append((signing_pk("alice"), statement, signature))
    return entries


_LOG = _log_of(8)


@quick
@given(data=st.data())
def test_a_log_extends_every_prefix_of_itself_and_nothing_else(data: st.DataObject) -> None:
    total = data.draw(st.integers(0, len(_LOG)))
    seen = data.draw(st.integers(0, total))
    entries = _LOG[:total]
    count, head = p.trust_log_head(entries[:seen])
    assert count == seen
    assert p.verify_trust_log_extends(count, head, entries) == p.trust_log_head(entries)[1]
    if seen > 0:
        # The same number of entries, but another history: one entry dropped from the middle.
        dropped = data.draw(st.integers(0, seen - 1))
        other = [*entries[:dropped], *_LOG[dropped + 1 : seen + 1]]
        with pytest.raises(p.WrongContext):
            p.verify_trust_log_extends(count, head, other)
        with pytest.raises(p.WrongContext):  # a shorter log
            p.verify_trust_log_extends(count, head, entries[: seen - 1])
