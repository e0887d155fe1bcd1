"""One subscriber's response: the retry hint, the replay, then live events.

What the libraries do well is kept or matched: Starlette's StreamingResponse
notices a disconnect while the stream waits (and cancels it), and, as in
`fastapi.sse`, a keep-alive comment goes out after `keepalive` seconds without
an event, so that proxies see a live connection. The response leaves the hub
as soon as the client goes, the hub ends it, or sending fails.
"""

import asyncio
from collections.abc import AsyncGenerator
from typing import Final

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from .hub import EventHub, Subscription
from .sse import KEEPALIVE, MEDIA_TYPE, encode_retry

# No caching, and no buffering in nginx (which honours this header and drops it).
STREAM_HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class EventStreamResponse(StreamingResponse):
    """Stream `frames`, and close them however the stream ends.

    Starlette cancels the stream when the client disconnects, but a generator
    paused at a `yield` stays open until it is closed or collected; closing it
    here releases the subscription at once.
    """

    def __init__(self, frames: AsyncGenerator[bytes, None]) -> None:
        super().__init__(frames, media_type=MEDIA_TYPE, headers=STREAM_HEADERS)
        self._frames = frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the stream, then close its source."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._frames.aclose()


async def event_frames(
    hub: EventHub, last_event_id: str | None, retry_ms: int, keepalive: float
) -> AsyncGenerator[bytes, None]:
    """The frames of one stream, each a message of its own, until the hub ends it."""
    subscription = await hub.subscribe(last_event_id)
    try:
        yield encode_retry(retry_ms)
        while (frame := await _next_frame(subscription, keepalive)) is not None:
            yield frame
    finally:
        subscription.close()


async def _next_frame(subscription: Subscription, keepalive: float) -> bytes | None:
    try:
        async with asyncio.timeout(keepalive):
            return await subscription.receive()
    except TimeoutError:
        return KEEPALIVE
