"""The steps a new session may still owe after the password (``SignInSession.second_factor_due``),
and which of them an endpoint lets such a session take (``web.endpoint(before_second_factor=...)``).

Only the names live here, with the session that keeps them: the second factor (portal/factors)
sits above accounts. It decides the step when a session starts (factors/gate.due_after_password,
given to accounts as ``AppState.second_factor_due``), clears it, and enforces it for every
request (factors/gate.check, called by web.py); accounts' own endpoints (signing in and out,
the session's status, the vault) name the steps they allow.
"""

from __future__ import annotations

# The account holds a second factor: it must be passed.
VERIFY = "verify"
# Staff who hold none must add one first.
ENROL = "enrol"

NOTHING_DUE: frozenset[str] = frozenset()
WHILE_VERIFYING = frozenset({VERIFY})
WHILE_ENROLLING = frozenset({ENROL})
WHILE_EITHER = frozenset({VERIFY, ENROL})
