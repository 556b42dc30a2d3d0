"""portal/protocol.py against static/js/protocol.js, and on its own.

Every output in tests/vectors/js.json is recomputed here byte for byte and everything in it is
opened; python.json is checked the same way by tests/js/protocol.test.mjs (and here only for the
Python-only server helpers). Then the tamper cases that must fail, and round-trip properties.
The vector files are generated (tests/vectors/make_vectors.py, tests/js/make_vectors.mjs) and
never rewritten by a test.
"""

import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
