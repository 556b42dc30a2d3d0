"""Several server processes: `portal serve --workers N` (each with the same settings), and
several `portal serve` on their own data folders sharing PostgreSQL, a bucket and the secret."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx2 as httpx

from portal import protocol
from portal.db import make_engine
from portal.settings import Settings
from tests.cases_world import CaseWorld
from tests.factories import Portal
from tests.support.blobs import StoredBlobs
from tests.support.databases import PostgresDatabases
from tests.support.live_server import LiveServer, start_live_server
from tests.support.s3 import S3Server

MIB = 1024 * 1024


def test_several_workers_serve_the_same_portal(database_url: str, tmp_path: Path) -> None:
    server = start_live_server(
        data_dir=tmp_path / "data",
        database_url=database_url,
        env_overrides={},
        label="workers",
        serve_args=["--workers", "2"],
    )
    try:
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        assert len(children.read_text().split()) >= 2  # the two workers (and their helper)
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for _ in range(6):
                page = client.get("/sign-in")
                assert page.status_code == 200
                assert "content-security-policy" in page.headers
    finally:
        server.stop()


def test_two_servers_sharing_postgresql_a_bucket_and_the_secret_act_as_one_service(
    postgresql_databases: PostgresDatabases, s3_server: S3Server, tmp_path: Path
) -> None:
    """Two `portal serve` processes, each with its own data folder, behind one name: a person
    starts an upload on one, carries on and sends it on the other (same session, no new
    sign-in), and the recipient reads it back through the first. What they share is what
    docs/operator.md lists: the database, the bucket and the secret key."""
    secret = tmp_path / "shared-secret.key"
    secret.write_text(secrets.token_hex(32))
    shared = {**s3_server.env(s3_server.new_bucket()), "PORTAL_SECRET_KEY_FILE": str(secret)}
    with postgresql_databases.database(tmp_path, migrated=True) as database_url:
        servers: list[LiveServer] = []
        engine = make_engine(database_url)
        try:
            for name in ("a", "b"):  # one after the other: each brings the schema up to date
                servers.append(
                    start_live_server(
                        data_dir=tmp_path / name,
                        database_url=database_url,
                        env_overrides=shared,
                        label=name,
                    )
                )
            settings = Settings.from_env(servers[0].env)
            with (
                httpx.Client(base_url=servers[0].base_url, timeout=60) as on_a,
                httpx.Client(base_url=servers[1].base_url, timeout=60) as on_b,
            ):
                world = CaseWorld.build(Portal(on_a, settings, engine))
                world.consent(world.responsible, ["letter", "video"])
                world.consent(world.harmed, ["letter", "video"])
                author = world.responsible
                recording = protocol.Part(
                    "recording", "video/webm", "", secrets.token_bytes(2 * MIB + 17)
                )
                sealed = world.seal_media(author, "Across two servers.", [recording])
                assert len(sealed.uploaded()) == 3
                started = author.start_upload(sealed.object_id, 1, sealed.uploaded_bytes)
                assert started.status_code == 200, started.text
                first = sealed.uploaded()[0]
                assert author.put_chunk(sealed.object_id, 1, *first).status_code == 200

                author.http = on_b  # the load balancer sends them elsewhere: same cookies
                status = author.get(f"/api/uploads/{sealed.object_id}/1")
                assert status.status_code == 200, status.text
                assert [(h["part"], h["index"]) for h in status.json()["held"]] == [first[:2]]
                author.upload(sealed)  # resumes on B: the two chunks A does not have
                submitted = world.submit_media(author, sealed, length={"seconds": 9})
                assert submitted.status_code == 200, submitted.text
                message_id = submitted.json()["message_id"]

                assert world.approve(message_id).status_code == 200  # the facilitator, on A
                _released, parts = world.open_media(world.harmed, message_id)  # on A
                assert [p.data for p in parts] == [b"Across two servers.", recording.data]
            # The chunks are in the bucket, and in neither server's data folder.
            assert len(StoredBlobs(settings).chunks()) == 3
            for server in servers:
                assert list(server.data_dir.rglob("*.chunk")) == []
        finally:
            engine.dispose()
            for server in servers:
                server.stop()
