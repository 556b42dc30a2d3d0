"""The bare chunk endpoint bench/browser_playback.py compares the player's GETs with.

A minimal Starlette app, served like ``portal serve`` (uvicorn, one process, uvloop and
httptools): ``GET /bare/{index}`` answers the bytes of ``{index}.chunk`` in ``BARE_CHUNKS_DIR``
(one part of a stored message version, the very files the portal serves), read whole in one
call off the event loop; ``GET /bare/{index}?count=n`` the n files from ``index`` on, joined,
with their sizes in ``X-Chunks``, each read whole in its own trip off the event loop and sent
as it is read (as the portal answers several chunks in one GET). No session, database or
authorisation: what any Python endpoint must do to hand the same bytes to the same page. Pages
of ``BARE_CHUNKS_ORIGIN`` (the portal's) may read the answers (CORS; a plain GET needs no
preflight).

    uvicorn --factory bench.bare_chunks:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def app() -> Starlette:
    folder = Path(os.environ["BARE_CHUNKS_DIR"])

    async def chunk(request: Request) -> Response:
        first = int(request.path_params["index"])
        if "count" not in request.query_params:
            data = await run_in_threadpool((folder / f"{first}.chunk").read_bytes)
            return Response(data, media_type="application/octet-stream")
        paths = [folder / f"{first + n}.chunk" for n in range(int(request.query_params["count"]))]
        sizes = [path.stat().st_size for path in paths]

        async def joined() -> AsyncIterator[bytes]:
            for path in paths:
                yield await run_in_threadpool(path.read_bytes)

        headers = {"Content-Length": str(sum(sizes)), "X-Chunks": ",".join(map(str, sizes))}
        return StreamingResponse(joined(), media_type="application/octet-stream", headers=headers)

    cors = Middleware(
        CORSMiddleware,
        allow_origins=[os.environ["BARE_CHUNKS_ORIGIN"]],
        allow_methods=["GET"],
        expose_headers=["X-Chunks"],
    )
    return Starlette(routes=[Route("/bare/{index:int}", chunk)], middleware=[cors])
