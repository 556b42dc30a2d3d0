"""Write tests/vectors/referrals-python.json: referral vectors made by portal/protocol.py.

Run from the repository root after a deliberate change to referrals in the protocol, then commit:

    .venv/bin/python tests/vectors/make_referral_vectors.py

tests/js/protocol-referrals.test.mjs recomputes every deterministic output here with
static/js/crypto/protocol.js and opens every sealed referral; tests/js/make_referral_vectors.mjs
writes the mirror file referrals-js.json, which tests/unit/test_protocol_referrals.py checks the
same way. A sealed box takes a fresh ephemeral key, so sealed referrals are checked by opening
them; what is sealed (the padded plaintext) is compared byte for byte. Kept apart from
python.json so that referrals change without touching the other vectors.
"""

import json
from pathlib import Path

import nacl.hash
from nacl.encoding import RawEncoder

from portal import protocol as p

OUT = Path(__file__).with_name("referrals-python.json")
SEED = "python"
MANAGER_ID = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
KEY_ID = "c4d5e6f7-0819-4a2b-9c3d-4e5f60718293"
OTHER_KEY_ID = "d5e6f708-192a-4b3c-8d4e-5f6071829304"
REFERRAL_ID = "e6f70819-2a3b-4c4d-9e5f-607182930415"


def fixed(label: str, size: int = 32) -> bytes:
    """Stable pseudo-random test input: BLAKE2b of a label, never a real secret."""
    message = f"portal/v1/test-vectors/{SEED}/referrals/{label}".encode()
    return nacl.hash.blake2b(message, digest_size=size, encoder=RawEncoder)


def digest(data: bytes) -> str:
    return p.b64encode(nacl.hash.blake2b(data, digest_size=32, encoder=RawEncoder))


def e(data: bytes) -> str:
    return p.b64encode(data)


SMALL: dict[str, object] = {
    "channel": "agency",
    "what_happened": "Ein Brief über ein Fahrrad; «it was taken» \u2014 😊",
    "agreed": True,
    "risks": None,
}
# Forms at the first bucket's edge: {"padding":"..."} is 14 bytes and the x's, so these bodies
# are 2047 bytes (fills 2048 with the marker) and 2048 bytes (the next bucket). Stored as the
# count of x's; both tests rebuild them.
PADDINGS = (2047 - 14, 2048 - 14)
TOO_LONG = 32768 - 14


def padded_form(count: int) -> dict[str, object]:
    return {"padding": "x" * count}


def vector_form(spec: dict[str, object]) -> dict[str, object]:
    form = spec.get("form")
    if isinstance(form, dict):
        return form
    count = spec["padding"]
    assert isinstance(count, int)
    return padded_form(count)


def form_specs() -> list[dict[str, object]]:
    specs: list[dict[str, object]] = [{"form": SMALL}]
    specs.extend({"padding": count} for count in PADDINGS)
    return specs


def build() -> dict[str, object]:
    manager_sk = fixed("manager")
    facilitator_sk = fixed("facilitator")
    referral_sk = fixed("referral")
    signing_secret, signing_public = p.signing_keys_from_secret(manager_sk)
    fields: dict[str, object] = {
        "key_id": KEY_ID,
        "referral_public_key": e(p.public_key_from_secret(referral_sk)),
        "issued_at": "2026-12-02T04:10:00Z",
        "issuer_account_id": MANAGER_ID,
    }
    statement, signature = p.sign_referral_key(signing_secret, fields)
    nonce = fixed("grant-nonce", 24)
    grant = p.make_referral_key_grant(
        manager_sk, p.public_key_from_secret(facilitator_sk), KEY_ID, referral_sk, nonce=nonce
    )
    plaintexts = []
    for spec in form_specs():
        plaintext = p.referral_plaintext(KEY_ID, vector_form(spec))
        plaintexts.append({**spec, "length": len(plaintext), "digest": digest(plaintext)})
    referral_pk = p.public_key_from_secret(referral_sk)
    sealed = [
        {**spec, "sealed": e(p.seal_referral(referral_pk, KEY_ID, vector_form(spec)))}
        for spec in form_specs()[:2]
    ]
    share_nonce = fixed("share-nonce", 24)
    share = p.make_referral_share(
        manager_sk, p.public_key_from_secret(facilitator_sk), REFERRAL_ID, SMALL, nonce=share_nonce
    )
    tampered = bytearray(p.b64decode(str(sealed[0]["sealed"])))
    tampered[60] ^= 1
    return {
        "about": "Referral vectors (docs/protocol-v1.md, Referrals) made by portal/protocol.py.",
        "generator": "tests/vectors/make_referral_vectors.py",
        "key_id": KEY_ID,
        "other_key_id": OTHER_KEY_ID,
        "manager_secret_key": e(manager_sk),
        "manager_signing_public_key": e(signing_public),
        "facilitator_secret_key": e(facilitator_sk),
        "referral_secret_key": e(referral_sk),
        "statement": {"fields": fields, "statement": e(statement), "signature": e(signature)},
        "grant": {"nonce": e(nonce), "grant": e(grant)},
        "plaintexts": plaintexts,
        "sealed_sizes": list(p.referral_sealed_sizes()),
        "sealed": sealed,
        "sealed_tampered": e(bytes(tampered)),
        "too_long_padding": TOO_LONG,
        "share": {
            "referral_id": REFERRAL_ID,
            "form": SMALL,
            "nonce": e(share_nonce),
            "share": e(share),
            "sizes": list(p.referral_share_sizes()),
        },
    }


def main() -> None:
    OUT.write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
