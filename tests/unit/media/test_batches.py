"""Several chunks in one PUT: reading the X-Chunks header and splitting the streamed body."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import protocol
from portal.content.uploads import LAST_INDEX, MAX_CHUNK_BYTES
from portal.errors import BadInput
from portal.media.batches import MAX_BATCH_CHUNKS, BodySplitter, Expected, parse_header


def _entry(size: int, digest: bytes) -> str:
    return f"{size}:{protocol.b64encode(digest)}"


def test_a_header_names_consecutive_chunks_from_the_first_index() -> None:
    one, two = secrets.token_bytes(32), secrets.token_bytes(32)
    header = f"{_entry(MAX_CHUNK_BYTES, one)}, {_entry(40, two)}"
    assert parse_header(header, 7) == [
        Expected(7, MAX_CHUNK_BYTES, one),
        Expected(8, 40, two),
    ]


@pytest.mark.parametrize(
    ("header", "first"),
    [
        ("", 0),
        (",", 0),
        ("40:" + "A" * 43 + ",", 0),  # an empty entry
        ("39:" + "A" * 43, 0),  # smaller than a nonce and a tag
        (f"{MAX_CHUNK_BYTES + 1}:" + "A" * 43, 0),
        ("40:" + "A" * 44, 0),
        ("40:" + "B" * 43, 0),  # stray low bits: not strict base64url
        ("+40:" + "A" * 43, 0),
        (",".join(["40:" + "A" * 43] * (MAX_BATCH_CHUNKS + 1)), 0),
        (",".join(["40:" + "A" * 43] * 2), LAST_INDEX),  # past the part's last index
    ],
)
def test_anything_else_is_bad_input(header: str, first: int) -> None:
    with pytest.raises(BadInput):
        parse_header(header, first)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.integers(min_value=0, max_value=LAST_INDEX))
def test_any_header_is_read_or_refused_as_bad_input(header: str, first: int) -> None:
    try:
        chunks = parse_header(header, first)
    except BadInput:
        return
    assert 1 <= len(chunks) <= MAX_BATCH_CHUNKS
    assert [c.index for c in chunks] == list(range(first, first + len(chunks)))


def _split(pieces: list[bytes], sizes: list[int]) -> tuple[list[bytes], bytes, bool]:
    """Each size's bytes, what follows them, and whether the body ended exactly there."""

    async def stream() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    async def run() -> tuple[list[bytes], bytes, bool]:
        body = BodySplitter(stream())
        taken = [b"".join([p async for p in body.take(size)]) for size in sizes]
        at_end = await body.at_end()
        rest = b"".join([p async for p in body.rest()])
        return taken, rest, at_end

    with start_blocking_portal() as portal:
        return portal.call(run)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=3000),
    st.lists(st.integers(min_value=1, max_value=700), max_size=6),
    st.lists(st.integers(min_value=0, max_value=900), max_size=8),
)
def test_the_body_is_cut_exactly_at_the_sizes(
    data: bytes, cuts: list[int], sizes: list[int]
) -> None:
    # Any way the server receives the body (pieces of any size, empty ones too)...
    pieces, offset = [], 0
    for cut in cuts:
        pieces.append(data[offset : offset + cut])
        offset += cut
    pieces.append(data[offset:])
    pieces.insert(len(pieces) // 2, b"")
    taken, rest, at_end = _split(pieces, sizes)
    # ...is handed out in exactly the sizes asked for, fewer bytes only once it has ended.
    offset = 0
    for size, got in zip(sizes, taken, strict=True):
        assert got == data[offset : offset + size]
        offset += len(got)
    assert rest == data[offset:]
    assert at_end == (offset >= len(data))
