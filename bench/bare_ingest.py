"""The bare streaming endpoint bench/ingest.py compares the portal's uploads with.

A minimal Starlette app, served by the same server with the same settings as ``portal serve``
(bench/ingest.py starts it): ``PUT /bare/{name}`` streams the request body to files in
``BARE_INGEST_DIR``, one file per chunk, each ``write`` + ``fsync`` + ``close`` like the disk
baseline. The body is split at the chunk sizes of the ``X-Chunks`` header (``size:hash,...``,
the portal's batch PUT; the hashes are not checked here), or is one chunk without it. No
database, no session, no hashing: what any Python endpoint must do to receive the same PUTs.

    uvicorn --factory bench.bare_ingest:app

``browser_app`` is the same endpoint for bench/browser_upload.py, whose PUTs come from a page on
the portal's origin (see there).
"""

from __future__ import annotations

import os
from itertools import count
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def _sizes(request: Request) -> list[int] | None:
    header = request.headers.get("x-chunks")
    if not header:
        return None
    return [int(item.split(":", 1)[0]) for item in header.split(",")]


def _open(folder: Path, name: str, index: int) -> int:
    return os.open(folder / f"{name}.{index}.chunk", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def put(request: Request) -> JSONResponse:
    return await _receive(request, request.path_params["name"])


async def _receive(request: Request, name: str) -> JSONResponse:
    folder = Path(os.environ["BARE_INGEST_DIR"])
    sizes = _sizes(request)
    left = sizes[0] if sizes else -1  # -1: one chunk, as long as the body
    index = 0
    fd = _open(folder, name, index)
    total = 0
    async for piece in request.stream():
        view = memoryview(piece)
        while view:
            if left == 0 and sizes is not None:
                _close(fd)
                index += 1
                left = sizes[index]
                fd = _open(folder, name, index)
            take = len(view) if left < 0 else min(left, len(view))
            _write_all(fd, view[:take])
            view = view[take:]
            total += take
            if left > 0:
                left -= take
    _close(fd)
    return JSONResponse({"size": total, "chunks": index + 1})


def app() -> Starlette:
    return Starlette(routes=[Route("/bare/{name}", put, methods=["PUT"])])


def browser_app() -> Starlette:
    """``PUT /bare`` from a page of another origin (``BARE_INGEST_ORIGIN``, the portal's): the
    browser asks CORS permission once for the one address (a preflight per distinct URL would
    add a round trip the portal's same-origin PUTs do not pay), and each PUT's files are named
    by a counter instead of by the address."""
    numbers = count()

    async def put_numbered(request: Request) -> JSONResponse:
        return await _receive(request, f"put{next(numbers)}")

    cors = Middleware(
        CORSMiddleware,
        allow_origins=[os.environ["BARE_INGEST_ORIGIN"]],
        allow_methods=["PUT"],
        allow_headers=["content-type", "x-chunks"],
        max_age=3600,
    )
    return Starlette(routes=[Route("/bare", put_numbered, methods=["PUT"])], middleware=[cors])
