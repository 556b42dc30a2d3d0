"""The baseline of bench/throughput.py: a bare Starlette app that answers "hello".

A module of its own, importing nothing but Starlette, so that its worker processes start as
fast as they can (bench/throughput.py itself imports the portal and the test factories).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _hello(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


app = Starlette(routes=[Route("/", _hello)])
