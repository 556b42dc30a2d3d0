from __future__ import annotations

import uuid

from portal import protocol, wire


def test_sizes_match_the_protocol() -> None:
    sk, pk = protocol.generate_identity()
    case_id, object_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert len(protocol.make_case_grant(sk, pk, case_id, sk)) == wire.CASE_GRANT
    assert len(protocol.make_case_public_grant(sk, pk, case_id, pk)) == wire.CASE_PUBLIC_GRANT
    grant = protocol.make_content_grant(sk, pk, object_id, 1, bytes(32), bytes(32))
    assert len(grant) == wire.CONTENT_GRANT
    keys = protocol.derive_account_keys("x", bytes(16), 1, 8 * 1024 * 1024)
    assert len(protocol.wrap_secret_key(keys.wrap_key, object_id, sk)) == wire.KEY_BUNDLE
