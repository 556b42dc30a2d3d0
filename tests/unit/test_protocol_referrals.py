"""Referrals in portal/protocol.py against static/js/crypto/protocol.js: every deterministic output
in tests/vectors/referrals-js.json recomputed byte for byte, every sealed referral in it opened,
and the refusals both implementations share. tests/js/protocol-referrals.test.mjs checks
referrals-python.json the same way."""

import json
from pathlib import Path
from typing import Any

import nacl.hash
import pytest
from nacl.encoding import RawEncoder

from portal import protocol as p

JS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "vectors" / "referrals-js.json").read_text(encoding="utf-8")
)
d = p.b64decode


def _form(spec: dict[str, Any]) -> dict[str, object]:
    form = spec.get("form")
    return form if isinstance(form, dict) else {"padding": "x" * spec["padding"]}


def _digest(data: bytes) -> str:
    return p.b64encode(nacl.hash.blake2b(data, digest_size=32, encoder=RawEncoder))


def test_the_referral_key_statement_is_signed_alike_in_both_implementations() -> None:
    signing_secret, signing_public = p.signing_keys_from_secret(d(JS["manager_secret_key"]))
    assert p.b64encode(signing_public) == JS["manager_signing_public_key"]
    statement, signature = p.sign_referral_key(signing_secret, JS["statement"]["fields"])
    assert p.b64encode(statement) == JS["statement"]["statement"]
    assert p.b64encode(signature) == JS["statement"]["signature"]
    opened = p.open_referral_key(signing_public, statement, signature)
    assert opened == JS["statement"]["fields"]


def test_a_referral_key_statement_is_not_another_kind_of_statement() -> None:
    signing_public = d(JS["manager_signing_public_key"])
    statement, signature = d(JS["statement"]["statement"]), d(JS["statement"]["signature"])
    with pytest.raises(p.WrongContext):
        p.open_case_key_epoch(signing_public, statement, signature)


def test_the_referral_key_grant_is_made_and_opened_alike() -> None:
    manager_sk, facilitator_sk = d(JS["manager_secret_key"]), d(JS["facilitator_secret_key"])
    referral_sk = d(JS["referral_secret_key"])
    grant = p.make_referral_key_grant(
        manager_sk,
        p.public_key_from_secret(facilitator_sk),
        JS["key_id"],
        referral_sk,
        nonce=d(JS["grant"]["nonce"]),
    )
    assert p.b64encode(grant) == JS["grant"]["grant"]
    manager_pk = p.public_key_from_secret(manager_sk)
    assert p.open_referral_key_grant(facilitator_sk, manager_pk, JS["key_id"], grant) == (
        referral_sk
    )


def test_a_referral_key_grant_for_another_key_or_of_another_kind_is_refused() -> None:
    manager_pk = p.public_key_from_secret(d(JS["manager_secret_key"]))
    facilitator_sk, grant = d(JS["facilitator_secret_key"]), d(JS["grant"]["grant"])
    with pytest.raises(p.WrongContext):
        p.open_referral_key_grant(facilitator_sk, manager_pk, JS["other_key_id"], grant)
    with pytest.raises(p.WrongContext):  # same length as a case grant; the context differs
        p.open_case_grant(facilitator_sk, manager_pk, JS["key_id"], grant)


def test_what_is_sealed_is_padded_alike_to_the_same_buckets() -> None:
    assert list(p.referral_sealed_sizes()) == JS["sealed_sizes"]
    for spec in JS["plaintexts"]:
        plaintext = p.referral_plaintext(JS["key_id"], _form(spec))
        assert len(plaintext) == spec["length"]
        assert _digest(plaintext) == spec["digest"]


def test_referrals_sealed_in_javascript_open_in_python() -> None:
    referral_sk = d(JS["referral_secret_key"])
    for spec in JS["sealed"]:
        sealed = d(spec["sealed"])
        assert len(sealed) in p.referral_sealed_sizes()
        assert p.open_referral(referral_sk, JS["key_id"], sealed) == _form(spec)


def test_a_referral_sealed_for_another_key_id_tampered_or_too_long_is_refused() -> None:
    referral_sk = d(JS["referral_secret_key"])
    sealed = d(JS["sealed"][0]["sealed"])
    with pytest.raises(p.WrongContext):
        p.open_referral(referral_sk, JS["other_key_id"], sealed)
    with pytest.raises(p.DecryptionFailed):
        p.open_referral(referral_sk, JS["key_id"], d(JS["sealed_tampered"]))
    with pytest.raises(p.DecryptionFailed):
        p.open_referral(p.generate_identity()[0], JS["key_id"], sealed)
    with pytest.raises(p.MalformedInput):
        p.referral_plaintext(JS["key_id"], {"padding": "x" * JS["too_long_padding"]})


def test_a_round_trip_with_fresh_keys_opens_only_with_the_referral_key() -> None:
    secret, public = p.generate_identity()
    form: dict[str, object] = {"channel": "self", "name": "Ana", "agreed": True}
    sealed = p.seal_referral(public, JS["key_id"], form)
    assert len(sealed) == p.referral_sealed_sizes()[0]
    assert b"Ana" not in sealed
    assert p.open_referral(secret, JS["key_id"], sealed) == form


def test_a_referral_share_is_made_and_opened_alike() -> None:
    manager_sk, facilitator_sk = d(JS["manager_secret_key"]), d(JS["facilitator_secret_key"])
    share = JS["share"]
    made = p.make_referral_share(
        manager_sk,
        p.public_key_from_secret(facilitator_sk),
        share["referral_id"],
        share["form"],
        nonce=d(share["nonce"]),
    )
    assert p.b64encode(made) == share["share"]
    assert list(p.referral_share_sizes()) == share["sizes"]
    manager_pk = p.public_key_from_secret(manager_sk)
    assert (
        p.open_referral_share(facilitator_sk, manager_pk, share["referral_id"], made)
        == (share["form"])
    )


def test_a_referral_share_of_another_referral_or_kind_or_sender_is_refused() -> None:
    manager_sk, facilitator_sk = d(JS["manager_secret_key"]), d(JS["facilitator_secret_key"])
    manager_pk = p.public_key_from_secret(manager_sk)
    made = d(JS["share"]["share"])
    with pytest.raises(p.WrongContext):
        p.open_referral_share(facilitator_sk, manager_pk, JS["key_id"], made)
    with pytest.raises(p.DecryptionFailed):
        p.open_referral_share(facilitator_sk, p.generate_identity()[1], JS["key_id"], made)
    with pytest.raises(p.MalformedInput):
        # A referral key grant is not a share (and has another length).
        p.open_referral_share(facilitator_sk, manager_pk, JS["key_id"], d(JS["grant"]["grant"]))
