"""Cut a stream of encoded batches into pieces of one size.

One ASGI message per piece keeps the per-message cost (a few microseconds in
the server) off the per-row path. A piece also leaves when its oldest byte has
waited `flush_interval`, so a slow query, a trickle of small batches or a large
`chunk_size` never holds back bytes that are ready.
"""

import asyncio
from collections.abc import AsyncGenerator


async def rechunk(
    source: AsyncGenerator[bytes, None], size: int, flush_interval: float
) -> AsyncGenerator[bytes, None]:
    """Yield `size`-byte pieces of `source`; the first bytes and late bytes leave early."""
    loop = asyncio.get_running_loop()
    buffer = bytearray()
    deadline = 0.0  # when the oldest buffered byte has waited long enough
    pending: asyncio.Future[bytes] | None = None
    first = True
    try:
        while True:
            # The next batch is awaited as a task so that a timeout can ship the
            # buffer without cancelling the read that is under way.
            if pending is None:
                pending = asyncio.ensure_future(anext(source))
            timeout = max(0.0, deadline - loop.time()) if buffer else None
            done, _ = await asyncio.wait((pending,), timeout=timeout)
            if not done:
                yield bytes(buffer)
                buffer.clear()
                continue
            try:
                data = pending.result()
            except StopAsyncIteration:
                pending = None
                break
            pending = None
            if not buffer:
                deadline = loop.time() + flush_interval
            buffer += data
            del data  # the buffer has the bytes: hold them once while pieces wait to be sent
            while len(buffer) >= size:
                yield bytes(memoryview(buffer)[:size])
                del buffer[:size]
                deadline = loop.time() + flush_interval
                first = False
            if first and buffer:
                yield bytes(buffer)
                buffer.clear()
                first = False
        if buffer:
            yield bytes(buffer)
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        await source.aclose()
