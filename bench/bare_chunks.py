"""The bare chunk endpoint bench/browser_playback.py compares the player's GETs with.

A minimal Starlette app, served like ``portal serve`` (uvicorn, one process, uvloop and
httptools): ``GET /bare/{index}`` answers the bytes of ``{index}.chunk`` in ``BARE_CHUNKS_DIR``
(one part of a stored message version, the very files the portal serves), read whole in one
call off the event loop. No session, database or authorisation: what any Python endpoint must
do to hand the same bytes to the same page. Pages of ``BARE_CHUNKS_ORIGIN`` (the portal's) may
read the answers (CORS; a plain GET needs no preflight).

    uvicorn --factory bench.bare_chunks:app
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def app() -> Starlette:
    folder = Path(os.environ["BARE_CHUNKS_DIR"])

    async def chunk(request: Request) -> Response:
        path = folder / f"{int(request.path_params['index'])}.chunk"
        data = await run_in_threadpool(path.read_bytes)
        return Response(data, media_type="application/octet-stream")

    cors = Middleware(
        CORSMiddleware, allow_origins=[os.environ["BARE_CHUNKS_ORIGIN"]], allow_methods=["GET"]
    )
    return Starlette(routes=[Route("/bare/{index:int}", chunk)], middleware=[cors])
