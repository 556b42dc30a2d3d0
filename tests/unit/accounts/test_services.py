"""Account rules, and how an account's keys are shown, that need no database."""

from __future__ import annotations

import nacl.public
import nacl.signing
import pytest

from portal import protocol
from portal.accounts.models import Account
from portal.accounts.services import (
    normalize_name,
    security_digits,
    security_number,
    shown_keys,
    validate_name,
)
from portal.errors import BadInput


@pytest.mark.parametrize("name", ["अनिता", "தமிழ்", "José María", "o'neill", "kim-2026", "Zoë"])
def test_names_in_any_script_are_accepted(name: str) -> None:
    assert validate_name(name) == normalize_name(name)


@pytest.mark.parametrize(
    "name", ["ab", "a" * 65, "semi;colon", "back\\slash", "<script>", "at@sign"]
)
def test_odd_names_are_refused_at_the_field(name: str) -> None:
    with pytest.raises(BadInput) as refused:
        validate_name(name)
    assert refused.value.field == "sign_in_name"


def test_names_compare_without_case_width_or_extra_spaces() -> None:
    full_width_s = "\uff33"
    assert normalize_name(f"  {full_width_s}am   SMITH ") == "sam smith"


def test_an_accounts_keys_are_shown_as_the_protocol_says_before_and_after_its_signing_key() -> None:
    """The security number over the box key alone until a signing key is registered, then over
    both (docs/protocol-v1.md); the keys in base64. Shown again (kept per pair of keys) the
    same; a new signing key gives a new number at once."""
    box = nacl.public.PrivateKey.generate().public_key.encode()
    signing = nacl.signing.SigningKey.generate().verify_key.encode()
    account = Account(public_key=box, signing_public_key=None)
    before = shown_keys(account)
    assert before.digits == protocol.fingerprint_digits(box) == security_digits(account)
    assert before.number == protocol.format_fingerprint(before.digits) == security_number(account)
    assert before.box_public_key == protocol.b64encode(box)
    assert before.signing_public_key is None
    account.signing_public_key = signing
    after = shown_keys(account)
    assert after.digits == protocol.identity_fingerprint_digits(box, signing)
    assert after.number == protocol.format_fingerprint(after.digits)
    assert after.signing_public_key == protocol.b64encode(signing)
    assert after.digits != before.digits
    assert shown_keys(Account(public_key=box, signing_public_key=signing)) == after
