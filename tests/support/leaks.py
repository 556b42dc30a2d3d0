"""Look for secrets where the server keeps things: the database, the data folder, the logs.

A "canary" is a unique string a test puts into a letter, a name or feedback. If the server ever
held it in clear, it would turn up in one of these places. Each needle is searched as UTF-8 and,
for bytes, as raw bytes, base64url (no padding), standard base64 and hex.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.postgres import find_bin_dir


def encodings(value: bytes) -> list[bytes]:
    forms = [
        value,
        base64.urlsafe_b64encode(value).rstrip(b"="),
        base64.b64encode(value),
        value.hex().encode(),
    ]
    return [form for form in forms if len(form) >= 8]


def database_bytes(database_url: str) -> bytes:
    """Everything the database holds, as bytes: the SQLite files, or a PostgreSQL dump."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    conninfo = f"postgresql://{url.username}@{url.host}:{url.port}/{url.database}"
    dump = subprocess.run(
        [str(find_bin_dir() / "pg_dump"), "--data-only", "--inserts", conninfo],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return dump.stdout


def files_bytes(folders: Iterable[Path]) -> dict[Path, bytes]:
    found = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                found[path] = path.read_bytes()
    return found


def find(
    needles: dict[str, bytes],
    database_url: str,
    folders: Iterable[Path],
    extra: dict[str, bytes] | None = None,
) -> list[str]:
    """Where any needle appears, as "<needle name> in <place>" lines (empty: nowhere)."""
    places: dict[str, bytes] = {"the database": database_bytes(database_url)}
    places.update({str(path): data for path, data in files_bytes(folders).items()})
    places.update(extra or {})
    hits = []
    for name, needle in needles.items():
        for form in encodings(needle):
            for place, data in places.items():
                if form in data:
                    hits.append(f"{name} in {place}")
    return sorted(set(hits))
