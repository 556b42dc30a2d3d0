"""Several chunks in one PUT (docs/api-media.md, "Several chunks in one PUT").

A PUT to ``/api/uploads/{object}/{version}/{part}/{index}`` may carry N consecutive chunks of
one part, ``index`` to ``index + N - 1``, joined in order, with the header

    X-Chunks: <size>:<hash>,<size>:<hash>,...

naming each chunk's size in bytes and its hash (``protocol.chunk_hash``, base64url). One
request then costs one authorisation and one record for N chunks instead of N of each. This
module reads that header and splits the body at those sizes as it streams (never holding
more than one piece the server received).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from portal import protocol
from portal.content.uploads import AEAD_OVERHEAD, LAST_INDEX, MAX_CHUNK_BYTES
from portal.errors import BadInput

HEADER = "x-chunks"
# Enough to make the per-request cost small against the chunks' bytes (bench/ingest.py), few
# enough that a browser holds little and a dropped batch costs a short resend.
MAX_BATCH_CHUNKS = 16
MAX_BATCH_BYTES = MAX_BATCH_CHUNKS * MAX_CHUNK_BYTES
_ENTRY = re.compile(r"([0-9]{1,8}):([A-Za-z0-9_-]{43})")
UNREADABLE = "The list of pieces sent with this upload could not be read. Nothing of it was kept."


@dataclass(frozen=True)
class Expected:
    """One chunk of a batch as the browser announced it."""

    index: int
    size: int
    hash: bytes


def parse_header(value: str, first_index: int) -> list[Expected]:
    """The announced chunks, or BadInput: 1 to MAX_BATCH_CHUNKS entries, each a possible
    chunk's size (nonce and tag included) and a 32-byte hash, all within the part."""
    entries = [entry.strip() for entry in value.split(",")]
    if not 1 <= len(entries) <= MAX_BATCH_CHUNKS or first_index + len(entries) - 1 > LAST_INDEX:
        raise BadInput(UNREADABLE)
    expected = []
    for offset, entry in enumerate(entries):
        match = _ENTRY.fullmatch(entry)
        if match is None:
            raise BadInput(UNREADABLE)
        size = int(match.group(1))
        if not AEAD_OVERHEAD <= size <= MAX_CHUNK_BYTES:
            raise BadInput(UNREADABLE)
        try:
            digest = protocol.b64decode(match.group(2))
        except protocol.ProtocolError:
            raise BadInput(UNREADABLE) from None
        if len(digest) != 32:
            raise BadInput(UNREADABLE)
        expected.append(Expected(first_index + offset, size, digest))
    return expected


class BodySplitter:
    """Hands out a streamed body in consecutive pieces of given sizes.

    ``take(n)`` yields the next ``n`` bytes as they arrive (fewer if the body ends first);
    ``rest()`` whatever follows. Only the piece that straddles a boundary is ever cut.
    """

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._pieces: AsyncIterator[bytes] = aiter(stream)
        self._left_over = b""
        self._ended = False

    async def _next(self) -> bytes | None:
        if self._left_over:
            piece, self._left_over = self._left_over, b""
            return piece
        while not self._ended:
            try:
                piece = await anext(self._pieces)
            except StopAsyncIteration:
                self._ended = True
                return None
            if piece:
                return piece
        return None

    async def take(self, size: int) -> AsyncIterator[bytes]:
        wanted = size
        while wanted > 0:
            piece = await self._next()
            if piece is None:
                return
            if len(piece) > wanted:
                piece, self._left_over = piece[:wanted], piece[wanted:]
            wanted -= len(piece)
            yield piece

    async def rest(self) -> AsyncIterator[bytes]:
        while (piece := await self._next()) is not None:
            yield piece

    async def at_end(self) -> bool:
        """Whether the body has nothing more (reads ahead one piece to know)."""
        piece = await self._next()
        if piece is None:
            return True
        self._left_over = piece
        return False
