"""Cut a stream of encoded batches into pieces of one size.

One ASGI message per piece keeps the per-message cost (a few microseconds in
the server) off the per-row path. A piece also leaves when its oldest byte has
waited `flush_interval`, so a slow query, a trickle of small batches or a large
`chunk_size` never holds back bytes that are ready.

While a piece waits for a slow client, a stream holds its batch's bytes once:
pieces are cut from views of the batches as the source made them, and only
the piece that leaves is a copy.
"""

import asyncio
from collections import deque
from collections.abc import AsyncGenerator


class _Pending:
    """Bytes received and not yet sent, oldest first: whole batches, and the rest of one."""

    def __init__(self) -> None:
        # bytes: a batch as the source made it; memoryview: what is left of one.
        self._parts: deque[bytes | memoryview] = deque()
        self.size = 0

    def add(self, data: bytes) -> None:
        if data:
            self._parts.append(data)
            self.size += len(data)

    def take(self, count: int) -> bytes:
        """The oldest `count` bytes (at most `size`), as bytes of their own."""
        self.size -= count
        head = self._parts[0]
        if len(head) > count:
            view = memoryview(head)
            self._parts[0] = view[count:]
            return bytes(view[:count])
        if len(head) == count:
            self._parts.popleft()
            # A batch that is one piece leaves as it came, without a copy.
            return head if isinstance(head, bytes) else bytes(head)
        pieces = []
        while count:
            view = memoryview(self._parts.popleft())
            pieces.append(view[:count])
            if len(view) > count:
                self._parts.appendleft(view[count:])
            count -= len(pieces[-1])
        return b"".join(pieces)


async def rechunk(
    source: AsyncGenerator[bytes, None], size: int, flush_interval: float
) -> AsyncGenerator[bytes, None]:
    """Yield `size`-byte pieces of `source`; the first bytes and late bytes leave early."""
    loop = asyncio.get_running_loop()
    buffer = _Pending()
    deadline = 0.0  # when the oldest buffered byte has waited long enough
    pending: asyncio.Future[bytes] | None = None
    first = True
    try:
        while True:
            # The next batch is awaited as a task so that a timeout can ship the
            # buffer without cancelling the read that is under way.
            if pending is None:
                pending = asyncio.ensure_future(anext(source))
            timeout = max(0.0, deadline - loop.time()) if buffer.size else None
            done, _ = await asyncio.wait((pending,), timeout=timeout)
            if not done:
                yield buffer.take(buffer.size)
                continue
            try:
                data = pending.result()
            except StopAsyncIteration:
                pending = None
                break
            pending = None
            if not buffer.size:
                deadline = loop.time() + flush_interval
            buffer.add(data)
            del data  # the buffer holds the batch: nothing else here does
            while buffer.size >= size:
                yield buffer.take(size)
                deadline = loop.time() + flush_interval
                first = False
            if first and buffer.size:
                yield buffer.take(buffer.size)
                first = False
        if buffer.size:
            yield buffer.take(buffer.size)
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        await source.aclose()
