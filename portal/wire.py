"""Sizes of protocol objects as the server receives them (docs/protocol-v1.md).

The server cannot open grants or bundles, but it can refuse anything of the wrong size before
storing it. ``tests/unit/test_wire.py`` checks every number against the protocol itself.
"""

KEY = 32
SALT = 16
NONCE = 24
TAG = 16
BOX = 16  # crypto_box_easy's MAC
KEY_BUNDLE = NONCE + KEY + TAG
CASE_GRANT = NONCE + BOX + len(b"portal/v1/grant/case\x00") + 2 * KEY + 36 + KEY
CASE_PUBLIC_GRANT = NONCE + BOX + len(b"portal/v1/grant/case-public\x00") + 2 * KEY + 36 + KEY
CONTENT_GRANT = NONCE + BOX + len(b"portal/v1/grant/content\x00") + 2 * KEY + 36 + 4 + KEY + 32
