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
import nacl.signing
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


# --- trust anchors -----------------------------------------------------------------------------

STAFF_IDS = {
    "alice": "a11ce000-0000-4000-8000-00000000a11c",
    "bob": "b0b00000-0000-4000-8000-000000000b0b",
    "carol": "ca201000-0000-4000-8000-0000000ca201",
}
INVITATION_IDS = ("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e")
JOINER_IDS = ("3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f", "4d5e6f7a-8b9c-4dae-9f10-3b4c5d6e7f80")
PARTICIPANT_ID = "5e6f7a8b-9cad-4ebf-a021-4c5d6e7f8091"
STATEMENT_PREFIX = b"portal/v1/statement\x00"


def flip(data: bytes, position: int) -> bytes:
    copy = bytearray(data)
    copy[position] ^= 0x01
    return bytes(copy)


def canonical(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def trust_anchors(identities: dict[str, bytes], public: dict[str, bytes]) -> dict[str, object]:
    """Signing keys, security numbers over both keys, signed statements, the trust log and
    invitation codes, with the refusals both sides must agree on."""
    signing = {name: p.signing_keys_from_secret(sk) for name, sk in identities.items()}
    spk = {name: pair[1] for name, pair in signing.items()}

    def raw_signature(name: str, raw: bytes) -> bytes:
        """Sign any bytes as a statement, to make statements sign_statement would refuse."""
        return nacl.signing.SigningKey(signing[name][0][:32]).sign(STATEMENT_PREFIX + raw).signature

    def statement(name: str, kind: str, fields: dict[str, object]) -> dict[str, object]:
        made, signature = p.sign_statement(signing[name][0], kind, fields)
        return {
            "kind": kind,
            "signer": name,
            "fields": fields,
            "statement_text": made.decode(),
            "statement": e(made),
            "signature": e(signature),
        }

    def cert(issuer: str, subject: str, role: str, issued_at: str) -> dict[str, object]:
        return {
            "account_id": STAFF_IDS[subject],
            "role": role,
            "box_public_key": e(public[subject]),
            "signing_public_key": e(spk[subject]),
            "issued_at": issued_at,
            "issuer_account_id": STAFF_IDS[issuer],
        }

    case_public = p.public_key_from_secret(fixed("case/secret"))
    # One statement of each kind (the first of each is the base for the refusals below).
    base: dict[str, dict[str, object]] = {
        "staff-cert": cert("alice", "bob", "facilitator", "2025-03-01T09:00:00Z"),
        "case-key": {
            "case_id": CASE_ID,
            "epoch": 2,
            "case_public_key": e(case_public),
            "issued_at": "2025-03-02T10:30:00Z",
            "issuer_account_id": STAFF_IDS["bob"],
        },
        "revocation": {
            "account_id": STAFF_IDS["bob"],
            "revoked_at": "2028-02-29T23:59:59Z",  # a leap day
            "issuer_account_id": STAFF_IDS["carol"],
            "reason": "left",
        },
        "root-handover": {
            "new_root_account_id": STAFF_IDS["carol"],
            "new_root_signing_public_key": e(spk["carol"]),
            "issued_at": "2028-03-01T00:00:00Z",
            "issuer_account_id": STAFF_IDS["alice"],
        },
    }
    statements = [
        statement("alice", "staff-cert", base["staff-cert"]),
        statement(
            "alice", "staff-cert", cert("alice", "carol", "service_manager", "2025-03-01T09:05:00Z")
        ),
        statement("bob", "case-key", base["case-key"]),
        statement("carol", "revocation", base["revocation"]),
        statement("alice", "root-handover", base["root-handover"]),
    ]
    by_kind = {str(s["kind"]): s for s in reversed(statements)}

    def changed(kind: str, why: str, **changes: object) -> tuple[str, str, dict[str, object]]:
        return why, kind, {**base[kind], **changes}

    def without(kind: str, why: str, name: str) -> tuple[str, str, dict[str, object]]:
        return why, kind, {key: value for key, value in base[kind].items() if key != name}

    fields_invalid = [
        changed("staff-cert", "role that is not staff", role="participant"),
        changed("staff-cert", "unknown role", role="admin"),
        changed("staff-cert", "upper-case account id", account_id=STAFF_IDS["bob"].upper()),
        changed("staff-cert", "null account id", account_id=None),
        changed("staff-cert", "key of 31 bytes", box_public_key=e(public["bob"][:31])),
        changed("staff-cert", "padded key", signing_public_key=e(spk["bob"]) + "="),
        changed("staff-cert", "key as a list", signing_public_key=[1, 2]),
        changed("staff-cert", "30 February", issued_at="2025-02-30T09:00:00Z"),
        changed("staff-cert", "29 February 1900", issued_at="1900-02-29T09:00:00Z"),
        changed("staff-cert", "offset instead of Z", issued_at="2025-03-01T09:00:00+00:00"),
        changed("staff-cert", "fractional seconds", issued_at="2025-03-01T09:00:00.000Z"),
        changed("staff-cert", "space instead of T", issued_at="2025-03-01 09:00:00Z"),
        changed("staff-cert", "lower-case z", issued_at="2025-03-01T09:00:00z"),
        changed("staff-cert", "an extra field", note="hello"),
        without("staff-cert", "a missing field", "issuer_account_id"),
        changed("case-key", "epoch 0", epoch=0),
        changed("case-key", "negative epoch", epoch=-1),
        changed("case-key", "epoch as a string", epoch="2"),
        changed("case-key", "epoch true", epoch=True),
        changed("case-key", "epoch 2**32", epoch=2**32),
        changed("case-key", "null case id", case_id=None),
        changed("revocation", "unknown reason", reason="fired"),
        changed("revocation", "month 13", revoked_at="2028-13-01T00:00:00Z"),
        changed("revocation", "hour 24", revoked_at="2028-02-01T24:00:00Z"),
        changed("root-handover", "key of 33 bytes", new_root_signing_public_key=e(bytes(33))),
        changed("root-handover", "year 0", issued_at="0000-01-01T00:00:00Z"),
        changed("root-handover", "a leap second", issued_at="2016-12-31T23:59:60Z"),
    ]
    # Only for signing: the context is added by sign_statement.
    sign_only = [changed("staff-cert", "a context field", context="portal/v1/staff-cert")]

    cert0 = by_kind["staff-cert"]
    st0, sig0 = p.b64decode(str(cert0["statement"])), p.b64decode(str(cert0["signature"]))
    text0 = st0.decode()
    case_key = by_kind["case-key"]
    case_text = str(case_key["statement_text"])

    def refusal(
        why: str, kind: str, signer_pk: bytes, raw: bytes, signature: bytes, error: str
    ) -> dict[str, object]:
        return {
            "why": why,
            "kind": kind,
            "signer_public_key": e(signer_pk),
            "statement": e(raw),
            "signature": e(signature),
            "error": error,
        }

    def signed(why: str, kind: str, name: str, raw: bytes, error: str) -> dict[str, object]:
        return refusal(why, kind, spk[name], raw, raw_signature(name, raw), error)

    promoted = st0.replace(b'"role":"facilitator"', b'"role":"service_manager"')
    unsorted = json.dumps(
        {"context": "portal/v1/staff-cert", **base["staff-cert"]}, separators=(",", ":")
    ).encode()
    staff_fields = base["staff-cert"]
    statements_invalid = [
        refusal(
            "signature with a bit flipped",
            "staff-cert",
            spk["alice"],
            st0,
            flip(sig0, 10),
            "DecryptionFailed",
        ),
        refusal(
            "facilitator promoted in the bytes",
            "staff-cert",
            spk["alice"],
            promoted,
            sig0,
            "DecryptionFailed",
        ),
        refusal("another signer's key", "staff-cert", spk["bob"], st0, sig0, "DecryptionFailed"),
        refusal("a small-order public key", "staff-cert", bytes(32), st0, sig0, "DecryptionFailed"),
        refusal(
            "staff certificate opened as a revocation",
            "revocation",
            spk["alice"],
            st0,
            sig0,
            "WrongContext",
        ),
        refusal(
            "case key epoch opened as a staff certificate",
            "staff-cert",
            spk["bob"],
            p.b64decode(str(case_key["statement"])),
            p.b64decode(str(case_key["signature"])),
            "WrongContext",
        ),
        signed(
            "context of a grant",
            "staff-cert",
            "alice",
            canonical({**staff_fields, "context": "portal/v1/grant/case"}),
            "WrongContext",
        ),
        signed(
            "context without portal/v1/",
            "staff-cert",
            "alice",
            canonical({**staff_fields, "context": "staff-cert"}),
            "WrongContext",
        ),
        signed("no context", "staff-cert", "alice", canonical(staff_fields), "MalformedInput"),
        signed(
            "context not a string",
            "staff-cert",
            "alice",
            canonical({**staff_fields, "context": 1}),
            "MalformedInput",
        ),
        signed(
            "a space after a colon",
            "staff-cert",
            "alice",
            text0.replace('":', '": ', 1).encode(),
            "MalformedInput",
        ),
        signed("keys not sorted", "staff-cert", "alice", unsorted, "MalformedInput"),
        signed(
            "an escaped letter",
            "staff-cert",
            "alice",
            text0.replace('"facilitator"', '"f\\u0061cilitator"').encode(),
            "MalformedInput",
        ),
        signed(
            "escaped slashes",
            "staff-cert",
            "alice",
            text0.replace("portal/v1/staff-cert", "portal\\/v1\\/staff-cert").encode(),
            "MalformedInput",
        ),
        signed("a trailing newline", "staff-cert", "alice", st0 + b"\n", "MalformedInput"),
        signed("a byte order mark", "staff-cert", "alice", b"\xef\xbb\xbf" + st0, "MalformedInput"),
        signed(
            "a duplicate key",
            "staff-cert",
            "alice",
            text0.replace('"role":', '"role":"facilitator","role":').encode(),
            "MalformedInput",
        ),
        signed(
            "epoch written 2.0",
            "case-key",
            "bob",
            case_text.replace('"epoch":2', '"epoch":2.0').encode(),
            "MalformedInput",
        ),
        signed(
            "epoch written 2e0",
            "case-key",
            "bob",
            case_text.replace('"epoch":2', '"epoch":2e0').encode(),
            "MalformedInput",
        ),
        signed("an array", "staff-cert", "alice", b"[]", "MalformedInput"),
        signed("not JSON", "staff-cert", "alice", b"{", "MalformedInput"),
        signed("not UTF-8", "staff-cert", "alice", b'{"context":"\xff"}', "MalformedInput"),
        signed(
            "longer than 4096 bytes",
            "staff-cert",
            "alice",
            b"{" + b" " * p.MAX_STATEMENT_BYTES + b"}",
            "MalformedInput",
        ),
        refusal(
            "signature of 63 bytes", "staff-cert", spk["alice"], st0, sig0[:63], "MalformedInput"
        ),
        refusal(
            "public key of 31 bytes", "staff-cert", spk["alice"][:31], st0, sig0, "MalformedInput"
        ),
    ]
    for why, kind, fields in fields_invalid:
        raw = canonical({**fields, "context": f"portal/v1/{kind}"})
        statements_invalid.append(signed(f"bad field: {why}", kind, "alice", raw, "MalformedInput"))

    # The trust log: alice (the root) certifies herself, bob and carol; carol revokes bob;
    # alice hands the root over to carol.
    self_cert = statement(
        "alice", "staff-cert", cert("alice", "alice", "service_manager", "2025-03-01T08:00:00Z")
    )
    log_statements = [self_cert, statements[0], statements[1], statements[3], statements[4]]

    def entry(s: dict[str, object]) -> dict[str, object]:
        return {
            "signer_public_key": e(spk[str(s["signer"])]),
            "statement": s["statement"],
            "signature": s["signature"],
        }

    def raw_entries(items: list[dict[str, object]]) -> list[tuple[bytes, bytes, bytes]]:
        return [
            (
                p.b64decode(str(i["signer_public_key"])),
                p.b64decode(str(i["statement"])),
                p.b64decode(str(i["signature"])),
            )
            for i in items
        ]

    entries = [entry(s) for s in log_statements]
    heads = []
    for count in range(len(entries) + 1):
        n, head = p.trust_log_head(raw_entries(entries[:count]))
        heads.append({"count": n, "head": e(head)})
    head_of = {h["count"]: p.b64decode(str(h["head"])) for h in heads}

    bob_promoted = entry(
        statement(
            "alice", "staff-cert", cert("alice", "bob", "service_manager", "2025-03-01T09:00:00Z")
        )
    )
    flipped_signature = {
        **entries[2],
        "signature": e(flip(p.b64decode(str(entries[2]["signature"])), 5)),
    }
    wrong_signer = {**entries[1], "signer_public_key": e(spk["bob"])}
    newline = st0 + b"\n"
    non_canonical: dict[str, object] = {
        "signer_public_key": e(spk["alice"]),
        "statement": e(newline),
        "signature": e(raw_signature("alice", newline)),
    }
    bad_role = canonical({**staff_fields, "role": "admin", "context": "portal/v1/staff-cert"})
    bad_field: dict[str, object] = {
        "signer_public_key": e(spk["alice"]),
        "statement": e(bad_role),
        "signature": e(raw_signature("alice", bad_role)),
    }

    def log_refusal(
        why: str, old_count: int, old_head: bytes, items: list[dict[str, object]], error: str
    ) -> dict[str, object]:
        return {
            "why": why,
            "old_count": old_count,
            "old_head": e(old_head),
            "entries": items,
            "error": error,
        }

    zero = bytes(32)
    trust_log_invalid = [
        log_refusal("shorter than the log seen", 5, head_of[5], entries[:4], "WrongContext"),
        log_refusal(
            "an earlier entry replaced",
            5,
            head_of[5],
            [entries[0], bob_promoted, *entries[2:]],
            "WrongContext",
        ),
        log_refusal(
            "two entries swapped",
            3,
            head_of[3],
            [entries[0], entries[2], entries[1], *entries[3:]],
            "WrongContext",
        ),
        log_refusal(
            "a head from another log", 2, fixed("trust-log/other-head"), entries, "WrongContext"
        ),
        log_refusal("a head given for an empty log", 0, head_of[1], entries, "WrongContext"),
        log_refusal("a count off by one", 2, head_of[3], entries, "WrongContext"),
        log_refusal(
            "a case key epoch in the log", 0, zero, [*entries, entry(case_key)], "WrongContext"
        ),
        log_refusal(
            "a signature flipped",
            0,
            zero,
            [*entries[:2], flipped_signature, *entries[3:]],
            "DecryptionFailed",
        ),
        log_refusal(
            "an entry naming another signer",
            0,
            zero,
            [entries[0], wrong_signer, *entries[2:]],
            "DecryptionFailed",
        ),
        log_refusal("a non-canonical entry", 0, zero, [*entries, non_canonical], "MalformedInput"),
        log_refusal("an entry with a bad field", 0, zero, [*entries, bad_field], "MalformedInput"),
        log_refusal("an old head of 31 bytes", 1, head_of[1][:31], entries, "MalformedInput"),
    ]

    # Invitations: a staff invitation from the root, and a participant's from a facilitator whose
    # code starts with zero symbols (so the O/I/L spellings matter).
    def invitation(code: bytes, fields: dict[str, object]) -> dict[str, object]:
        text = p.encode_invitation_code(code)
        secrets = p.invitation_secrets(code)
        sloppy = text.lower().replace("-", " ").replace("0", "o").replace("1", "l")
        return {
            "code_bytes": e(code),
            "code": text,
            "code_variants": [
                sloppy,
                text.replace("-", ""),
                "  " + text.replace("1", "I").replace("-", "\t") + "\n",
                text.replace("0", "O").replace("-", " - "),
            ],
            "lookup_id": secrets.lookup_id,
            "redeem_proof": e(secrets.redeem_proof),
            "redeem_hash": e(p.invitation_redeem_hash(secrets.redeem_proof)),
            "mac_key": e(secrets.mac_key),
            "fields": fields,
            "mac": e(p.invitation_mac(secrets.mac_key, fields)),
        }

    def inviter(name: str) -> dict[str, object]:
        return {
            "inviter_account_id": STAFF_IDS[name],
            "inviter_box_public_key": e(public[name]),
            "inviter_signing_public_key": e(spk[name]),
            "root_account_id": STAFF_IDS["alice"],
            "root_signing_public_key": e(spk["alice"]),
        }

    staff_invite = {
        "invitation_id": INVITATION_IDS[0],
        "account_id": JOINER_IDS[0],
        "role": "facilitator",
        "case_id": None,
        "participant_id": None,
        **inviter("alice"),
        "expires_at": "2025-03-08T09:00:00Z",
    }
    participant_invite = {
        "invitation_id": INVITATION_IDS[1],
        "account_id": JOINER_IDS[1],
        "role": "participant",
        "case_id": CASE_ID,
        "participant_id": PARTICIPANT_ID,
        **inviter("bob"),
        "expires_at": "2025-03-16T18:30:00Z",
    }
    # A code for a new key for a participant who has joined: their own account, and the
    # purpose under the MAC.
    rekey_invite = {**participant_invite, "invitation_id": INVITATION_IDS[0], "purpose": "rekey"}
    invitations = [
        invitation(fixed("invite/0", p.INVITATION_CODE_BYTES), staff_invite),
        invitation(b"\x00\x00" + fixed("invite/1", 8), participant_invite),
        invitation(fixed("invite/2", p.INVITATION_CODE_BYTES), rekey_invite),
    ]
    code = str(invitations[0]["code"])
    invitation_codes_invalid = [
        code[:-1],  # 15 symbols
        code + "0",  # 17 symbols
        code[:-1] + "U",  # U is not in the alphabet
        code.replace("-", "_"),  # unknown separator
        code[:-1] + "\u0660",  # a non-ASCII digit
        code[:-1] + "*",  # Crockford's check symbol is not used
        "",
    ]
    mac_key0 = p.b64decode(str(invitations[0]["mac_key"]))
    mac0 = p.b64decode(str(invitations[0]["mac"]))

    def mac_refusal(
        why: str,
        fields: dict[str, object],
        error: str,
        *,
        mac_key: bytes = mac_key0,
        mac: bytes = mac0,
    ) -> dict[str, object]:
        return {"why": why, "mac_key": e(mac_key), "fields": fields, "mac": e(mac), "error": error}

    def swapped(**changes: object) -> dict[str, object]:
        return {**staff_invite, **changes}

    invitation_macs_invalid = [
        mac_refusal(
            "inviter box key swapped",
            swapped(inviter_box_public_key=e(public["bob"])),
            "DecryptionFailed",
        ),
        mac_refusal(
            "inviter signing key swapped",
            swapped(inviter_signing_public_key=e(spk["bob"])),
            "DecryptionFailed",
        ),
        mac_refusal(
            "root key swapped", swapped(root_signing_public_key=e(spk["carol"])), "DecryptionFailed"
        ),
        mac_refusal("role raised", swapped(role="service_manager"), "DecryptionFailed"),
        mac_refusal("expiry moved", swapped(expires_at="2026-03-08T09:00:00Z"), "DecryptionFailed"),
        mac_refusal(
            "joiner's account id changed", swapped(account_id=JOINER_IDS[1]), "DecryptionFailed"
        ),
        mac_refusal("MAC with a bit flipped", staff_invite, "DecryptionFailed", mac=flip(mac0, 0)),
        mac_refusal(
            "another code's MAC key",
            staff_invite,
            "DecryptionFailed",
            mac_key=p.b64decode(str(invitations[1]["mac_key"])),
        ),
        mac_refusal("MAC of 31 bytes", staff_invite, "MalformedInput", mac=mac0[:31]),
        mac_refusal("MAC key of 31 bytes", staff_invite, "MalformedInput", mac_key=mac_key0[:31]),
        mac_refusal("an extra field", swapped(note="hi"), "MalformedInput"),
        mac_refusal(
            "a missing field",
            {k: v for k, v in staff_invite.items() if k != "expires_at"},
            "MalformedInput",
        ),
        mac_refusal("staff invitation naming a case", swapped(case_id=CASE_ID), "MalformedInput"),
        mac_refusal(
            "participant invitation without a participant",
            {**participant_invite, "participant_id": None},
            "MalformedInput",
        ),
        mac_refusal(
            "a participant without a case",
            {**participant_invite, "role": "supporter", "case_id": None},
            "MalformedInput",
        ),
        mac_refusal("unknown role", swapped(role="admin"), "MalformedInput"),
        mac_refusal(
            "key of 31 bytes",
            swapped(root_signing_public_key=e(spk["alice"][:31])),
            "MalformedInput",
        ),
        mac_refusal(
            "expiry without Z", swapped(expires_at="2025-03-08T09:00:00"), "MalformedInput"
        ),
        mac_refusal(
            "a join code served as a re-key",
            participant_invite | {"purpose": "rekey"},
            "DecryptionFailed",
            mac_key=p.b64decode(str(invitations[1]["mac_key"])),
            mac=p.b64decode(str(invitations[1]["mac"])),
        ),
        mac_refusal(
            "a re-key served as a join code",
            participant_invite | {"invitation_id": INVITATION_IDS[0]},
            "DecryptionFailed",
            mac_key=p.b64decode(str(invitations[2]["mac_key"])),
            mac=p.b64decode(str(invitations[2]["mac"])),
        ),
        mac_refusal("a purpose other than rekey", swapped(purpose="invite"), "MalformedInput"),
        mac_refusal("a re-key for staff", swapped(purpose="rekey"), "MalformedInput"),
    ]

    # A pair of keys whose security number starts with zeros pins the zero padding.
    counter = 0
    while not p.identity_fingerprint_digits(
        fixed(f"identity-fingerprint/{counter}/box"), fixed(f"identity-fingerprint/{counter}/sign")
    ).startswith("0"):
        counter += 1
    pairs = [
        (public["alice"], spk["alice"]),
        (public["bob"], spk["bob"]),
        (
            fixed(f"identity-fingerprint/{counter}/box"),
            fixed(f"identity-fingerprint/{counter}/sign"),
        ),
    ]
    identity_fingerprints = []
    for box_pk, sign_pk in pairs:
        digits = p.identity_fingerprint_digits(box_pk, sign_pk)
        identity_fingerprints.append(
            {
                "box_public_key": e(box_pk),
                "signing_public_key": e(sign_pk),
                "digits": digits,
                "formatted": p.format_fingerprint(digits),
            }
        )

    return {
        "signing": {
            name: {
                "secret_key": e(identities[name]),
                "signing_secret": e(pair[0]),
                "signing_public_key": e(pair[1]),
            }
            for name, pair in signing.items()
        },
        "identity_fingerprints": identity_fingerprints,
        "staff_ids": STAFF_IDS,
        "statements": statements,
        "statement_fields_invalid": [
            {"why": why, "kind": kind, "fields": fields}
            for why, kind, fields in [*fields_invalid, *sign_only]
        ],
        "statements_invalid": statements_invalid,
        "trust_log": {"entries": entries, "heads": heads},
        "trust_log_invalid": trust_log_invalid,
        "invitations": invitations,
        "invitation_codes_invalid": invitation_codes_invalid,
        "invitation_macs_invalid": invitation_macs_invalid,
    }


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
        **trust_anchors(identities, public),
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
