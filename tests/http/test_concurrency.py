"""Requests that overlap, as a browser sends them (a page loading while another is clicked)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx

from portal.accounts.models import Role
from portal.db import make_engine
from portal.settings import Settings
from tests.factories import Portal
from tests.support.live_server import LiveServer


def test_overlapping_requests_of_one_session_all_succeed(live_server: LiveServer) -> None:
    settings = Settings.from_env(live_server.env)
    engine = make_engine(live_server.database_url)
    try:
        with httpx.Client(base_url=live_server.base_url) as http:
            person = Portal(http, settings, engine).person(Role.FACILITATOR)
            cookies = dict(person.jar.items())
        paths = ["/home", "/api/session", "/account", "/api/session/keepalive", "/queue"] * 8

        def fetch(path: str) -> int:
            with httpx.Client(base_url=live_server.base_url, cookies=cookies) as client:
                if path.endswith("keepalive"):
                    token = cookies["portal_csrf"]
                    return client.post(path, json={}, headers={"X-CSRF-Token": token}).status_code
                return client.get(path).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(fetch, paths))
        assert statuses == [200] * len(paths)
    finally:
        engine.dispose()
