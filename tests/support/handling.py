"""Where the app handled each request: the event loop's thread or another (web.endpoint)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from portal import web


@dataclass
class HandlingThreads:
    """The loop's thread of a running TestClient, and the thread each path was handled in."""

    loop: str
    by_path: dict[str, set[str]] = field(default_factory=dict)


def note_handling_threads(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> HandlingThreads:
    """From now on, note the thread ``client``'s app handles each request in (around the real
    handling, web._run, which the test's monkeypatch puts back)."""
    assert client.portal is not None, "the TestClient must be running (inside its with block)"
    noted = HandlingThreads(loop=client.portal.call(lambda: threading.current_thread().name))
    handle = web._run

    def noting(handler: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        threads = noted.by_path.setdefault(request.url.path, set())
        threads.add(threading.current_thread().name)
        return handle(handler, request, *args, **kwargs)

    monkeypatch.setattr(web, "_run", noting)
    return noted
