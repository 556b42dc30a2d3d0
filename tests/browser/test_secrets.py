"""The password, the recovery code and the secret key stay in the browser.

Everything the browser sent is recorded; then the secret key is taken from the tab (as the
portal's own pages unwrap it) and every form of every secret is looked for in what was sent,
in the database and in every file the server wrote. The public key, which the server does
store, is looked for the same way, to show that the search finds what is there.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Request

from portal import protocol
from tests.browser.pages import SetupPage, SignInPage
from tests.browser.support.backstage import Backstage
from tests.browser.support.storage import PORTAL_KEY
from tests.support.live_server import LiveServer


def forms_of_key(key: bytes) -> dict[str, bytes]:
    """The ways a key could be written down: raw, base64url, base64, hex."""
    return {
        "raw": key,
        "base64url": protocol.b64encode(key).encode(),
        "base64": base64.b64encode(key),
        "base64 unpadded": base64.b64encode(key).rstrip(b"="),
        "hex": key.hex().encode(),
        "HEX": key.hex().upper().encode(),
    }


def record_requests(context: BrowserContext) -> list[bytes]:
    """Everything the browser sends from now on: addresses, headers and bodies."""
    sent: list[bytes] = []

    def record(request: Request) -> None:
        sent.append(request.url.encode())
        sent.extend(f"{name}: {value}".encode() for name, value in request.headers.items())
        body = request.post_data_buffer
        if body:
            sent.append(body)

    context.on("request", record)
    return sent


def secret_key_held_by(page: Page) -> tuple[str, bytes]:
    """(account id, secret key) as this tab holds them: its stored blob, opened with the session
    key the server gives this session (what static/js/crypto/keys.js does)."""
    session = page.evaluate(
        "async () => (await fetch('/api/session', {headers: {Accept: 'application/json'}})).json()"
    )
    blob = page.evaluate(f"() => sessionStorage.getItem({PORTAL_KEY!r})")
    account_id = session["account_id"]
    secret_key = protocol.session_unwrap(
        protocol.b64decode(session["session_key"]), account_id, protocol.b64decode(blob)
    )
    return account_id, secret_key


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


@pytest.mark.browser
def test_password_recovery_code_and_secret_key_never_reach_the_server(
    page: Page, browser_context: BrowserContext, live_server: LiveServer, backstage: Backstage
) -> None:
    sent = record_requests(browser_context)
    password = secrets.token_urlsafe(18)
    assert len(password) == 24

    setup_link = live_server.setup_link()
    setup = SetupPage.open(page, setup_link)
    joined = setup.joins("Kit Marlowe", password)
    setup.continues().signs_out()
    SignInPage(page).signs_in("Kit Marlowe", password)
    account_id, secret_key = secret_key_held_by(page)

    public_key = protocol.public_key_from_secret(secret_key)
    assert public_key == backstage.account_named("Kit Marlowe").public_key
    recovery_key = protocol.decode_recovery_code(joined.recovery_code)
    needles = {
        "password": password.encode(),
        "recovery code": joined.recovery_code.encode(),
        "recovery code without dashes": joined.recovery_code.replace("-", "").encode(),
        **{f"secret key ({form})": value for form, value in forms_of_key(secret_key).items()},
        **{f"recovery key ({form})": value for form, value in forms_of_key(recovery_key).items()},
    }
    log_files = [live_server.log_path, live_server.stdout_path, live_server.stderr_path]
    server_files = files_under(live_server.data_dir)
    assert set(log_files) <= set(server_files)
    haystacks = {
        "requests": sent,
        "database": backstage.database_contents(),
        **{f"file {path.name}": [path.read_bytes()] for path in server_files},
    }

    found = [
        f"{needle_name} in {place}"
        for needle_name, needle in needles.items()
        for place, contents in haystacks.items()
        if any(needle in content for content in contents)
    ]
    assert found == []

    # The search finds what is there: the public key was sent and is stored, and the server
    # printed the setup link.
    assert any(setup_link.encode() in content for content in haystacks["file serve-1.stdout.log"])
    assert any(protocol.b64encode(public_key).encode() in item for item in sent)
    assert any(public_key in content for content in haystacks["database"])
    assert any(account_id.encode() in content for content in haystacks["database"])
