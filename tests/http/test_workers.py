"""`portal serve --workers N`: several server processes, each with the same settings."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx

from tests.support.live_server import start_live_server


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
