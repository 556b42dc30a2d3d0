from __future__ import annotations

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.factories import Portal


@pytest.fixture
def portal(client: TestClient, settings: Settings, db_engine: Engine) -> Portal:
    return Portal(client, settings, db_engine)
