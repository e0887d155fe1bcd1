import asyncio
import tracemalloc
from collections.abc import AsyncGenerator

import pytest

from {{ cookiecutter.package_name }}.rows.chunking import rechunk


async def source(
    *pieces: bytes, pause: float = 0, log: list[str] | None = None
) -> AsyncGenerator[bytes, None]:
    try:
        for piece in pieces:
            yield piece
            await asyncio.sleep(pause)
    finally:
        if log is not None:
            log.append("closed")


async def collect(
    pieces: AsyncGenerator[bytes, None], size: int, interval: float = 10
) -> list[bytes]:
    return [piece async for piece in rechunk(pieces, size, interval)]


def test_pieces_have_the_size_except_the_first_and_last() -> None:
    out = asyncio.run(collect(source(b"ab", b"cdefg", b"hijklmnop", b"q"), size=4))
    assert out == [b"ab", b"cdef", b"ghij", b"klmn", b"opq"]


def test_a_large_first_batch_is_cut_like_the_rest() -> None:
    out = asyncio.run(collect(source(b"abcdefghij"), size=4))
    assert out == [b"abcd", b"efgh", b"ij"]


def test_pieces_cross_the_boundaries_of_batches_of_any_size() -> None:
    sizes = [n * 7 % 19 for n in range(200)]  # 0 to 18 bytes, in no simple order
    batches = [bytes([65 + n % 26]) * size for n, size in enumerate(sizes)]
    out = asyncio.run(collect(source(b"ab", *batches, b"", b"xyz"), size=4))
    assert b"".join(out) == b"ab" + b"".join(batches) + b"xyz"
    assert out[0] == b"ab"
    assert {len(piece) for piece in out[1:-1]} == {4}
    assert 0 < len(out[-1]) <= 4


def test_a_batch_is_held_once_while_its_pieces_wait() -> None:
    batch_size, piece = 4 * 1024 * 1024, 64 * 1024

    async def batches() -> AsyncGenerator[bytes, None]:
        # Held here while the pieces leave, as an encoder's caller holds its bytes.
        batch = b"a" * (batch_size + 10)
        yield batch
        batch = b"b" * batch_size
        yield batch

    async def scenario() -> list[int]:
        held = []
        pieces = rechunk(batches(), piece, 10)
        tracemalloc.start()
        try:
            async for _ in pieces:
                held.append(tracemalloc.get_traced_memory()[0])
        finally:
            tracemalloc.stop()
        return held

    held = asyncio.run(scenario())
    # One batch and a piece at any time: never a copy of a batch, nor the
    # first batch still held once the second one's pieces leave.
    assert len(held) == 2 * batch_size // piece + 1
    assert max(held) < batch_size + 4 * piece


def test_nothing_in_nothing_out() -> None:
    assert asyncio.run(collect(source(), size=4)) == []


def test_bytes_that_wait_longer_than_the_interval_leave_anyway() -> None:
    async def scenario() -> list[bytes]:
        b_arrived = asyncio.Event()

        async def slow() -> AsyncGenerator[bytes, None]:
            yield b"a"
            yield b"b"
            # Only a timely flush of "b" lets this source finish.
            await asyncio.wait_for(b_arrived.wait(), 5)

        out = []
        async for piece in rechunk(slow(), 1024, 0.05):
            out.append(piece)
            if piece == b"b":
                b_arrived.set()
        return out

    assert asyncio.run(scenario()) == [b"a", b"b"]


def test_a_trickle_of_small_batches_does_not_postpone_the_flush() -> None:
    async def scenario() -> bool:
        b_arrived = asyncio.Event()
        stopped_early = False

        async def trickle() -> AsyncGenerator[bytes, None]:
            nonlocal stopped_early
            yield b"a"
            yield b"b"
            # A byte every 20 ms, well inside the interval, for up to ~5 s.
            for _ in range(250):
                if b_arrived.is_set():
                    stopped_early = True
                    return
                await asyncio.sleep(0.02)
                yield b"."

        async for piece in rechunk(trickle(), 1024, 0.05):
            if b"b" in piece:
                b_arrived.set()
        return stopped_early

    assert asyncio.run(scenario())


@pytest.mark.parametrize("consumed", [0, 1])
def test_closing_early_closes_the_source(consumed: int) -> None:
    log: list[str] = []

    async def partial() -> None:
        pieces = rechunk(source(b"abcd" * 10, b"x", pause=5, log=log), 4, 10)
        for _ in range(consumed + 1):
            await anext(pieces)
        await pieces.aclose()

    asyncio.run(asyncio.wait_for(partial(), 2))
    assert log == ["closed"]
