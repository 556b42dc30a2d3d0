"""Write tests/vectors/python.json: deterministic protocol vectors made by portal/protocol.py.

Run from the repository root after a deliberate protocol change, then commit the result:

    .venv/bin/python tests/vectors/make_vectors.py

tests/js/protocol.test.mjs recomputes every output here with static/js/crypto/protocol.js and must
agree byte for byte; tests/js/make_vectors.mjs writes the mirror file js.json. The tests never
regenerate either file. Inputs differ from js.json's (another seed) so each direction checks
different bytes.
"""

import json
import unicodedata
from pathlib import Path

import nacl.hash
from nacl.encoding import RawEncoder

from portal import protocol as p

OUT = Path(__file__).with_name("python.json")
SEED = "python"
CHEAP_OPS = p.MIN_KDF_OPS
CHEAP_MEM = p.MIN_KDF_MEM

ACCOUNT_ID = "3f1c2a9e-7b4d-4c2e-9a61-0d5b8e7f4a10"
CASE_ID = "9a4e6c1b-2d3f-4e5a-8b7c-6d5e4f3a2b10"
OBJECT_ID = "5c7d9e1f-3a2b-4c4d-8e6f-7a8b9c0d1e2f"
AUTHOR_ID = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"
LETTER_ID = "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e"
DRAFT_IDS = ("d4e5f6a7-b8c9-4dae-8f00-112233445566", "e5f6a7b8-c9d0-4eb1-9a22-33445566778a")
PASSWORD = "correct horse battery staple"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def fixed(label: str, size: int = 32) -> bytes:
    """Stable pseudo-random test input: BLAKE2b of a label, never a real secret."""
    message = f"portal/v1/test-vectors/{SEED}/{label}".encode()
    return nacl.hash.blake2b(message, digest_size=size, encoder=RawEncoder)


def pattern(length: int) -> bytes:
    """Large part data both generators and both tests rebuild instead of storing."""
    return bytes(i % 251 for i in range(length))


def e(data: bytes) -> str:
    return p.b64encode(data)


def kdf_vector(password: str, salt: bytes, ops: int, mem: int) -> dict[str, object]:
    keys = p.derive_account_keys(password, salt, ops, mem)
    return {
        "password": password,
        "salt": e(salt),
        "ops": ops,
        "mem": mem,
        "master": e(keys.master),
        "auth_key": e(keys.auth_key),
        "wrap_key": e(keys.wrap_key),
    }


def fingerprint_vector(public_key: bytes) -> dict[str, object]:
    digits = p.fingerprint_digits(public_key)
    return {
        "public_key": e(public_key),
        "digits": digits,
        "formatted": p.format_fingerprint(digits),
    }


def chunk_vector(
    key: bytes, part: int, index: int, final: bool, plaintext: bytes, label: str
) -> dict[str, object]:
    nonce = fixed(label, p.NONCE_BYTES)
    chunk = p.encrypt_chunk(key, OBJECT_ID, 7, part, index, final, plaintext, nonce=nonce)
    return {
        "key": e(key),
        "object_id": OBJECT_ID,
        "version": 7,
        "part": part,
        "index": index,
        "final": final,
        "plaintext": e(plaintext),
        "nonce": e(nonce),
        "chunk": e(chunk),
        "chunk_hash": e(p.chunk_hash(chunk)),
    }


def case_data_vector(
    case_secret: bytes, purpose: str, data: bytes, label: str
) -> dict[str, object]:
    nonce = fixed(label, p.NONCE_BYTES)
    blob = p.seal_case_data(case_secret, CASE_ID, purpose, data, nonce=nonce)
    return {"purpose": purpose, "data": e(data), "nonce": e(nonce), "blob": e(blob)}


def case_text_vector(case_secret: bytes, purpose: str, text: str, label: str) -> dict[str, object]:
    nonce = fixed(label, p.NONCE_BYTES)
    blob = p.seal_case_text(case_secret, CASE_ID, purpose, text, nonce=nonce)
    return {"purpose": purpose, "text": text, "nonce": e(nonce), "blob": e(blob)}


def draft_vector(secret_key: bytes, draft_id: str, data: bytes, label: str) -> dict[str, object]:
    nonce = fixed(label, p.NONCE_BYTES)
    return {
        "secret_key": e(secret_key),
        "draft_key": e(p.draft_key(secret_key)),
        "account_id": ACCOUNT_ID,
        "draft_id": draft_id,
        "data": e(data),
        "nonce": e(nonce),
        "blob": e(p.seal_draft(secret_key, ACCOUNT_ID, draft_id, data, nonce=nonce)),
    }


def letter_vector(
    author_sk: bytes,
    case_secret: bytes,
    version: int,
    text: str,
    label: str,
    recipe: tuple[str, str, int] | None = None,
) -> dict[str, object]:
    """seal_letter by carol to the case key. A long letter is stored as its ``recipe``
    (head + repeat * times) and its chunk hashes; a short one keeps its text and chunks."""
    if recipe is not None:
        head, repeat, times = recipe
        assert head + repeat * times == text
    author_pk = p.public_key_from_secret(author_sk)
    case_public = p.public_key_from_secret(case_secret)
    created_at = f"2025-03-0{version}T08:15:00Z"
    count = max(1, -(-len(text.encode()) // p.CHUNK_SIZE))
    content_key = fixed(f"{label}/key")
    nonces = [fixed(f"{label}/nonce/{i}", p.NONCE_BYTES) for i in range(count + 3)]
    sealed = p.seal_letter(
        author_sk,
        author_pk,
        case_public,
        LETTER_ID,
        version,
        text,
        created_at,
        AUTHOR_ID,
        content_key=content_key,
        nonces=nonces,
    )
    vector: dict[str, object] = {
        "author": "carol",
        "author_id": AUTHOR_ID,
        "case_secret_key": e(case_secret),
        "case_public_key": e(case_public),
        "object_id": LETTER_ID,
        "version": version,
        "created_at": created_at,
        **(
            {"text": text}
            if recipe is None
            else {"text_pattern": {"head": head, "repeat": repeat, "times": times}}
        ),
        "content_key": e(content_key),
        "nonces": [e(n) for n in nonces],
        "manifest": e(sealed.manifest),
        "manifest_hash": e(sealed.manifest_hash),
        "chunk_hashes": [e(p.chunk_hash(chunk)) for chunk in sealed.chunks],
        "grant_to_case": e(sealed.grant_to_case),
        "grant_to_author": e(sealed.grant_to_author),
    }
    if recipe is None:
        vector["chunks"] = [e(chunk) for chunk in sealed.chunks]
    return vector


def build() -> dict[str, object]:
    identities = {name: fixed(f"identity/{name}") for name in ("alice", "bob", "carol")}
    public = {name: p.public_key_from_secret(sk) for name, sk in identities.items()}
    secret_key = identities["alice"]

    # Passwords: plain, one that NFKC changes (full-width letters, a ligature, a combining
    # ring) and its NFKC form, which must give the same keys, and the empty password.
    salt = fixed("kdf/salt", p.SALT_BYTES)
    odd = "\uff30\uff41\uff53\uff53 \ufb01 A\u030a"
    kdf = [
        kdf_vector(PASSWORD, salt, CHEAP_OPS, CHEAP_MEM),
        kdf_vector(odd, salt, CHEAP_OPS, CHEAP_MEM),
        kdf_vector(unicodedata.normalize("NFKC", odd), salt, CHEAP_OPS, CHEAP_MEM),
        kdf_vector("", fixed("kdf/salt-2", p.SALT_BYTES), CHEAP_OPS, CHEAP_MEM),
        # The one vector with the production defaults (slow on purpose: keep it the only one).
        kdf_vector("the default parameters", salt, p.DEFAULT_KDF_OPS, p.DEFAULT_KDF_MEM),
    ]
    wrap_key = p.derive_account_keys(PASSWORD, salt, CHEAP_OPS, CHEAP_MEM).wrap_key

    bundle_nonce = fixed("bundle/nonce", p.NONCE_BYTES)
    bundle = p.wrap_secret_key(wrap_key, ACCOUNT_ID, secret_key, nonce=bundle_nonce)

    # A public key whose fingerprint starts with zeros pins the zero padding.
    counter = 0
    while not p.fingerprint_digits(fixed(f"fingerprint/{counter}")).startswith("0"):
        counter += 1
    fingerprints = [
        fingerprint_vector(public["alice"]),
        fingerprint_vector(public["bob"]),
        fingerprint_vector(fixed(f"fingerprint/{counter}")),
    ]

    recovery_key = fixed("recovery/key")
    code = p.encode_recovery_code(recovery_key)
    recovery_nonce = fixed("recovery/nonce", p.NONCE_BYTES)
    sloppy = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    recovery = {
        "recovery_key": e(recovery_key),
        "code": code,
        "code_variants": [sloppy, code.replace("-", ""), "  " + code.replace("1", "I") + "\n"],
        "recovery_auth": e(p.recovery_auth_key(recovery_key)),
        "account_id": ACCOUNT_ID,
        "secret_key": e(secret_key),
        "nonce": e(recovery_nonce),
        "bundle": e(
            p.wrap_with_recovery(recovery_key, ACCOUNT_ID, secret_key, nonce=recovery_nonce)
        ),
    }
    last = code[-1]
    padded_wrong = code[:-1] + CROCKFORD[CROCKFORD.index(last) ^ 1]
    recovery_code_invalid = [
        code[:-2],  # too short
        code + "0",  # too long
        code[:-1] + "U",  # U is not in the alphabet
        padded_wrong,  # non-zero padding bits in the last symbol
        code.replace("-", "_"),  # unknown separator
        code[:-1] + "\u0660",  # a non-ASCII digit
    ]

    session_key = fixed("session/key")
    session_nonce = fixed("session/nonce", p.NONCE_BYTES)
    session = {
        "session_key": e(session_key),
        "account_id": ACCOUNT_ID,
        "secret_key": e(secret_key),
        "nonce": e(session_nonce),
        "blob": e(p.session_wrap(session_key, ACCOUNT_ID, secret_key, nonce=session_nonce)),
    }

    case_secret = fixed("case/secret")
    case_nonce = fixed("case/nonce", p.NONCE_BYTES)
    case_grant = {
        "sender": "alice",
        "recipient": "bob",
        "case_id": CASE_ID,
        "case_secret_key": e(case_secret),
        "nonce": e(case_nonce),
        "grant": e(
            p.make_case_grant(
                identities["alice"], public["bob"], CASE_ID, case_secret, nonce=case_nonce
            )
        ),
    }

    content_key = fixed("content/key")
    granted_hash = fixed("content/manifest-hash")
    content_nonce = fixed("content/nonce", p.NONCE_BYTES)
    content_grant = {
        "sender": "bob",
        "recipient": "carol",
        "object_id": OBJECT_ID,
        "version": 7,
        "content_key": e(content_key),
        "manifest_hash": e(granted_hash),
        "nonce": e(content_nonce),
        "grant": e(
            p.make_content_grant(
                identities["bob"],
                public["carol"],
                OBJECT_ID,
                7,
                content_key,
                granted_hash,
                nonce=content_nonce,
            )
        ),
    }

    chunks = [
        chunk_vector(content_key, 0, 0, False, b"Dear Sam, this is not the last chunk.", "c/0"),
        chunk_vector(content_key, 1, 3, True, "\u2026the last one. \u2013 J.".encode(), "c/1"),
        chunk_vector(content_key, 2, 0, True, b"", "c/2"),
    ]

    # Keys out of order, non-ASCII text, control characters, an astral character (UTF-16 code
    # unit order puts U+1F600 before U+FF61), nesting, negative and large safe integers.
    manifest_data: dict[str, object] = {
        "version": 7,
        "v": 1,
        "parts": [
            {
                "name": "Brief an Jürgen ✉.txt",
                "mime": "text/plain; charset=utf-8",
                "kind": "letter",
                "size": 0,
                "hashes": [],
                "chunks": 0,
            }
        ],
        "object_id": OBJECT_ID,
        "created_at": "2025-03-01T09:30:00Z",
        "author": AUTHOR_ID,
        "\uff61": "half-width",
        "\U0001f600": "astral",
        "extra": {"z": None, "a": [True, False, -12, 9007199254740991], "\t": 'quote " \\ \x01'},
    }
    manifest_nonce = fixed("manifest/nonce", p.NONCE_BYTES)
    manifest_blob = p.encrypt_manifest(
        content_key, OBJECT_ID, 7, manifest_data, nonce=manifest_nonce
    )
    manifest = {
        "key": e(content_key),
        "object_id": OBJECT_ID,
        "version": 7,
        "manifest": manifest_data,
        "nonce": e(manifest_nonce),
        "blob": e(manifest_blob),
        "manifest_hash": e(p.manifest_hash(manifest_blob)),
    }

    # A whole object: a letter, an empty part and a part of two chunks (1 MiB + 10 bytes).
    object_key = fixed("object/key")
    letter = "Dear Sam,\nI am sorry.\n— Jo".encode()
    parts = [
        p.Part(kind="letter", mime="text/plain; charset=utf-8", name="letter.txt", data=letter),
        p.Part(kind="note", mime="text/plain", name="", data=b""),
        p.Part(kind="audio", mime="audio/ogg", name="voice.ogg", data=pattern(p.CHUNK_SIZE + 10)),
    ]
    object_nonces = [fixed(f"object/nonce/{i}", p.NONCE_BYTES) for i in range(5)]
    encrypted = p.encrypt_content(
        object_key,
        OBJECT_ID,
        2,
        parts,
        "2025-03-02T10:00:00Z",
        AUTHOR_ID,
        nonces=object_nonces,
    )
    content = {
        "key": e(object_key),
        "object_id": OBJECT_ID,
        "version": 2,
        "created_at": "2025-03-02T10:00:00Z",
        "author": AUTHOR_ID,
        "parts": [
            {"kind": "letter", "mime": parts[0].mime, "name": "letter.txt", "data": e(letter)},
            {"kind": "note", "mime": "text/plain", "name": "", "data": ""},
            {
                "kind": "audio",
                "mime": "audio/ogg",
                "name": "voice.ogg",
                "pattern": len(parts[2].data),
            },
        ],
        "nonces": [e(n) for n in object_nonces],
        "manifest_blob": e(encrypted.manifest_blob),
        "manifest_hash": e(encrypted.manifest_hash),
        "chunk_hashes": [[e(p.chunk_hash(c)) for c in part] for part in encrypted.chunks],
    }

    vault_data: dict[str, object] = {
        "pins": {AUTHOR_ID: fingerprints[1]["digits"]},
        "drafts": [],
        "prefs": {"text_size": 2, "quick_exit": True, "greeting": "Grüß dich 😀"},
    }
    vault_nonce = fixed("vault/nonce", p.NONCE_BYTES)
    vault = {
        "secret_key": e(secret_key),
        "vault_key": e(p.vault_key(secret_key)),
        "account_id": ACCOUNT_ID,
        "data": vault_data,
        "nonce": e(vault_nonce),
        "blob": e(p.seal_vault(secret_key, ACCOUNT_ID, vault_data, nonce=vault_nonce)),
    }

    case_public = p.public_key_from_secret(case_secret)
    case_public_nonce = fixed("case-public/nonce", p.NONCE_BYTES)
    case_public_grant = {
        "sender": "alice",
        "recipient": "carol",
        "case_id": CASE_ID,
        "case_public_key": e(case_public),
        "nonce": e(case_public_nonce),
        "grant": e(
            p.make_case_public_grant(
                identities["alice"], public["carol"], CASE_ID, case_public, nonce=case_public_nonce
            )
        ),
    }

    # The longest purpose (100 visible ASCII characters, both ends of the range), empty data,
    # binary data; texts with non-ASCII, an astral character and a leading U+FEFF, which both
    # sides must keep (TextDecoder drops it unless told not to).
    longest_purpose = "!" + "x" * 98 + "~"
    case_data = {
        "case_secret_key": e(case_secret),
        "case_data_key": e(p.case_data_key(case_secret)),
        "case_id": CASE_ID,
        "items": [
            case_data_vector(
                case_secret, f"participant-name:{AUTHOR_ID}", b"Jo Bloggs", "case-data/0"
            ),
            case_data_vector(case_secret, longest_purpose, b"", "case-data/1"),
            case_data_vector(
                case_secret, f"facilitator-note:{LETTER_ID}", fixed("case-data/raw", 40), "cd/2"
            ),
        ],
        "texts": [
            case_text_vector(
                case_secret,
                f"participant-name:{ACCOUNT_ID}",
                "J\u00fcrgen \u00d8. \U0001f600",
                "ct/0",
            ),
            case_text_vector(
                case_secret,
                f"facilitator-note:{ACCOUNT_ID}",
                "\ufeffStarts with U+FEFF.\nSecond line \u2013 calm.",
                "ct/1",
            ),
        ],
    }
    case_data_purposes_invalid = [
        "",  # empty
        "x" * 101,  # one too long
        "participant name",  # space
        "tab\there",
        "caf\u00e9",  # not ASCII
        "line\n",
        "nul\x00",
        "del\x7f",
    ]

    drafts = [
        draft_vector(secret_key, DRAFT_IDS[0], "Dear Sam,\nI keep \u2026".encode(), "draft/0"),
        draft_vector(secret_key, DRAFT_IDS[1], b"", "draft/1"),
    ]

    # A short letter keeps its chunk; a long one (1 MiB + 1 byte of UTF-8) has two chunks and a
    # two-byte character split across them, rebuilt from its recipe by the tests.
    letters = [
        letter_vector(
            identities["carol"],
            case_secret,
            1,
            "Dear Sam,\n\nI am sorry for what I did.\n\u2014 Jo \U0001f64f",
            "letter/0",
        ),
        letter_vector(
            identities["carol"],
            case_secret,
            2,
            "a" + "\u00e9" * (p.CHUNK_SIZE // 2),
            "letter/1",
            recipe=("a", "\u00e9", p.CHUNK_SIZE // 2),
        ),
    ]

    b64_inputs = [b""] + [fixed(f"b64/{n}", n) for n in range(1, 7)] + [b"\xfb\xff\xbf"]
    return {
        "about": "Generated by tests/vectors/make_vectors.py from portal/protocol.py; do not edit.",
        "generator": SEED,
        "b64": [{"hex": data.hex(), "text": e(data)} for data in b64_inputs],
        "b64_invalid": ["A", "AB", "AAB", "AA==", "AA=", "a+b/", "ab c", "ab\n", "é"],
        "ids_invalid": [
            ACCOUNT_ID.upper(),
            ACCOUNT_ID.replace("-", ""),
            ACCOUNT_ID + "\n",
            "{" + ACCOUNT_ID + "}",
            ACCOUNT_ID[:-1] + "g",
        ],
        "kdf": kdf,
        "identities": {
            name: {"secret_key": e(sk), "public_key": e(public[name])}
            for name, sk in identities.items()
        },
        "bundle": {
            "wrap_key": e(wrap_key),
            "account_id": ACCOUNT_ID,
            "secret_key": e(secret_key),
            "nonce": e(bundle_nonce),
            "bundle": e(bundle),
        },
        "fingerprints": fingerprints,
        "recovery": recovery,
        "recovery_code_invalid": recovery_code_invalid,
        "session": session,
        "case_grant": case_grant,
        "content_grant": content_grant,
        "chunks": chunks,
        "manifest": manifest,
        "content": content,
        "vault": vault,
        "case_public_grant": case_public_grant,
        "case_data": case_data,
        "case_data_purposes_invalid": case_data_purposes_invalid,
        "drafts": drafts,
        "letters": letters,
        # Server-side helpers exist in Python only; js.json has no such section.
        "server": {
            "server_secret": e(fixed("server/secret")),
            "fake_salts": [
                {"name": name, "salt": e(p.fake_salt(fixed("server/secret"), name))}
                for name in ("sam", "SAM", "\uff33\uff41\uff4d", "Straße", "STRASSE")
            ],
            "token_hashes": [
                {"token": token, "hash": e(p.token_hash(fixed("server/secret"), token))}
                for token in ("", "Zm9vYmFy-invitation-token", "ß")
            ],
        },
    }


def main() -> None:
    text = json.dumps(build(), indent=2, ensure_ascii=True)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
