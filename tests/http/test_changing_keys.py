"""Password change and recovery re-wrap the same secret key in the browser."""

from __future__ import annotations

import secrets
from datetime import datetime

from portal import protocol
from portal.accounts.models import Account, Role
from tests.factories import Person, Portal


def _new_password_body(person: Person, password: str, ops: int, mem: int) -> dict[str, str | int]:
    salt = secrets.token_bytes(16)
    keys = protocol.derive_account_keys(password, salt, ops, mem)
    return {
        "salt": protocol.b64encode(salt),
        "ops": ops,
        "mem": mem,
        "auth_key": protocol.b64encode(keys.auth_key),
        "bundle": protocol.b64encode(
            protocol.wrap_secret_key(keys.wrap_key, person.account_id, person.secret_key)
        ),
    }


def keys_changed_at(portal: Portal, person: Person) -> datetime:
    with portal.db() as db:
        account = db.get(Account, person.account_id)
        assert account is not None
        return account.keys_changed_at


def test_password_change_rewraps_and_signs_out_elsewhere(portal: Portal) -> None:
    person = portal.person(Role.FACILITATOR)
    key_changed = keys_changed_at(portal, person)
    laptop = portal.visitor()
    laptop.name, laptop.password = person.name, person.password
    laptop.sign_in()
    kdf = person.get("/api/account/kdf").json()
    current = protocol.derive_account_keys(
        person.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    body = {
        "current_auth_key": protocol.b64encode(current.auth_key),
        **_new_password_body(person, "a brand new passphrase", kdf["new_ops"], kdf["new_mem"]),
    }
    changed = person.post_json("/api/account/password", body)
    assert changed.status_code == 200, changed.text
    assert changed.json()["next"] == "/account?changed=password"
    assert person.get("/home").status_code == 200
    assert laptop.get("/home").status_code == 303
    person.forget_cookies()
    assert person.try_sign_in().status_code == 401
    person.password = "a brand new passphrase"
    signed_in = person.sign_in()
    assert signed_in["public_key"] == protocol.b64encode(person.public_key)
    # The same key pair, re-wrapped: "key changed on" (the review page) does not move.
    assert keys_changed_at(portal, person) == key_changed


def test_wrong_current_password_changes_nothing(portal: Portal) -> None:
    person = portal.person(Role.FACILITATOR)
    kdf = person.get("/api/account/kdf").json()
    wrong = protocol.derive_account_keys(
        "wrong", protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    body = {
        "current_auth_key": protocol.b64encode(wrong.auth_key),
        **_new_password_body(person, "another one entirely", kdf["new_ops"], kdf["new_mem"]),
    }
    response = person.post_json("/api/account/password", body)
    assert response.status_code == 401
    assert response.json()["field"] == "current_password"
    person.forget_cookies()
    assert person.try_sign_in().status_code == 200


def test_downgraded_kdf_parameters_are_refused(portal: Portal) -> None:
    person = portal.person(Role.FACILITATOR)
    kdf = person.get("/api/account/kdf").json()
    current = protocol.derive_account_keys(
        person.password, protocol.b64decode(kdf["salt"]), kdf["ops"], kdf["mem"]
    )
    body = {
        "current_auth_key": protocol.b64encode(current.auth_key),
        **_new_password_body(person, "weaker parameters", kdf["new_ops"], kdf["new_mem"]),
    }
    body["mem"] = 8 * 1024 * 1024 + 1024
    assert person.post_json("/api/account/password", body).status_code == 400


def test_recovery_code_restores_access_and_is_replaced(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    key_changed = keys_changed_at(portal, person)
    person.forget_cookies()
    code = protocol.encode_recovery_code(person.recovery_key)
    recovery_key = protocol.decode_recovery_code(code)
    recovery_auth = protocol.b64encode(protocol.recovery_auth_key(recovery_key))
    started = person.post_json(
        "/api/recovery/start", {"sign_in_name": person.name, "recovery_auth": recovery_auth}
    )
    assert started.status_code == 200, started.text
    found = started.json()
    secret_key = protocol.unwrap_with_recovery(
        recovery_key, found["account_id"], protocol.b64decode(found["recovery_bundle"])
    )
    assert secret_key == person.secret_key
    new_recovery = protocol.generate_recovery_key()
    body = {
        "sign_in_name": person.name,
        "recovery_auth": recovery_auth,
        **_new_password_body(
            person, "recovered passphrase", found["kdf"]["ops"], found["kdf"]["mem"]
        ),
        "new_recovery_auth": protocol.b64encode(protocol.recovery_auth_key(new_recovery)),
        "new_recovery_bundle": protocol.b64encode(
            protocol.wrap_with_recovery(new_recovery, person.account_id, secret_key)
        ),
    }
    completed = person.post_json("/api/recovery/complete", body)
    assert completed.status_code == 200, completed.text
    assert person.get("/home").status_code == 200
    # The old code no longer works; the new password does.
    person.forget_cookies()
    old = person.post_json(
        "/api/recovery/start", {"sign_in_name": person.name, "recovery_auth": recovery_auth}
    )
    assert old.status_code == 401
    person.password = "recovered passphrase"
    assert person.try_sign_in().status_code == 200
    assert keys_changed_at(portal, person) == key_changed  # the same key pair


def test_wrong_recovery_code_is_refused_and_counted(portal: Portal) -> None:
    person = portal.person(Role.PARTICIPANT)
    wrong = protocol.b64encode(protocol.recovery_auth_key(protocol.generate_recovery_key()))
    for _ in range(5):
        response = person.post_json(
            "/api/recovery/start", {"sign_in_name": person.name, "recovery_auth": wrong}
        )
        assert response.status_code == 401
        assert "recovery code" in response.json()["error"]
    response = person.post_json(
        "/api/recovery/start", {"sign_in_name": person.name, "recovery_auth": wrong}
    )
    assert response.status_code == 429
