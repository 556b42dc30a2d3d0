"""The second factor as the tests' people use it: an authenticator app's codes, made with pyotp
from the secret their account was given, each 30-second step used at most once (the server
refuses a code it took before, as an app's owner would find).

``APPS`` remembers each sign-in name's secret, so that page objects signing someone in through
the browser can type their code (tests/browser/pages/sign_in.py).
"""

from __future__ import annotations

import time

import pyotp

# Sign-in name (as stored: case-folded) -> the TOTP secret of its authenticator app.
APPS: dict[str, str] = {}
_last_step: dict[str, int] = {}


def remember(name: str, secret: str) -> None:
    APPS[" ".join(name.casefold().split())] = secret


def secret_for(name: str) -> str | None:
    return APPS.get(" ".join(name.casefold().split()))


def next_code(secret: str, *, at: float | None = None) -> str:
    """A code the server takes now: this step's, or the next one's if this step was used (it
    accepts one step either side); if both were, wait for the next step. The time is passed in
    to pyotp (never patched)."""
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    step = max(int(now // 30), _last_step.get(secret, -1) + 1)
    while step > int(now // 30) + 1:
        time.sleep(max(0.05, (step - 1) * 30 - now + 0.2))
        now = time.time()
    _last_step[secret] = step
    return totp.generate_otp(step)


def used_now(secret: str, *, at: float | None = None) -> str:
    """The code for this step, marked used (confirming a new app)."""
    now = time.time() if at is None else at
    step = int(now // 30)
    _last_step[secret] = max(step, _last_step.get(secret, -1))
    return pyotp.TOTP(secret).generate_otp(step)
