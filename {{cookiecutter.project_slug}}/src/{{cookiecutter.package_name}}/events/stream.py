"""One subscriber's response: the retry hint, the replay, then live events.

A plain ASGI response rather than Starlette's StreamingResponse, for what a
stream costs once thousands are open. The writes run in a task of their own:
woken for every event, it resumes its own two frames, where the request's task
would resume some twenty of middleware and routing each time (measured: half
the cost of a wake-up). A second small task waits for the client to leave, so
that a disconnect frees the subscription at once, as Starlette's does; the
request's task only waits for the writer. Keep-alives come from the hub's one
ticker (see `feature.open_hub`), not from a timer per stream.

A stream the hub drops for falling behind has a client that does not read:
its write in progress waits for that client (up to SEND_TIMEOUT), and the
connection holds its buffers (megabytes in the kernel) for as long. The
connection is reset instead, through the service's HTTP protocol
(`core/http_protocol.py`), which ends the write, frees the buffers at once and
makes the client reconnect and resume with Last-Event-ID. Under another
server a dropped stream ends once its pending write completes.

The stream counts the events it writes in its request's record (the stream
log, /metrics). The hub ends a stream only when the server stops or when the
subscriber fell too far behind; a stream the client leaves ends before that.
"""

import asyncio
from typing import Final

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..core.http_protocol import connection_state
from ..core.observe import StreamRecord, stream_record
from .hub import EventHub, Subscription
from .metrics import EventMetrics
from .sse import MEDIA_TYPE, encode_retry, events_in

# No caching, and no buffering in nginx (which honours this header and drops it).
STREAM_HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class EventStreamResponse(Response):
    """The stream of one subscriber to `hub`, resuming after `last_event_id` if given."""

    media_type = MEDIA_TYPE

    def __init__(
        self, hub: EventHub, last_event_id: str | None, retry_ms: int, metrics: EventMetrics
    ) -> None:
        # No body, so no Content-Length: as StreamingResponse sets itself up.
        self.status_code = 200
        self.background = None
        self.init_headers(STREAM_HEADERS)
        self._hub = hub
        self._last_event_id = last_event_id
        self._retry = encode_retry(retry_ms)
        self._metrics = metrics
        self._dropped = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the stream until the hub ends it or the client leaves."""
        start = {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
        await send(start)
        subscription = await self._hub.subscribe(self._last_event_id)
        subscription.when_dropped(lambda: self._drop(scope))
        record = stream_record(scope)
        writer = asyncio.ensure_future(_write(subscription, send, self._retry, record))
        leaving = asyncio.ensure_future(_until_disconnect(receive))
        leaving.add_done_callback(lambda _: subscription.close())
        try:
            await writer
        finally:
            leaving.cancel()
            writer.cancel()
            subscription.close()
        if leaving.done() and not self._dropped:
            return  # the client left
        dropped = self._dropped or not self._metrics.closing
        if dropped:
            self._metrics.dropped += 1
        if record is not None:
            record.reason = "dropped" if dropped else "shutdown"
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _drop(self, scope: Scope) -> None:
        """The hub dropped the stream for falling behind: reset its connection, if it can."""
        self._dropped = True
        state = connection_state(scope)
        if state is not None:
            state.reset()


async def _write(
    subscription: Subscription, send: Send, retry: bytes, record: StreamRecord | None
) -> None:
    """The retry hint, then whatever the subscription hands over, until it ends."""
    await _body(send, retry)
    while (frames := await subscription.receive()) is not None:
        if record is not None and (events := events_in(frames)):
            record.count("event", events)
        await _body(send, frames)


async def _body(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
