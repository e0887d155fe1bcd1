"""The event hub: publish once, deliver to every open stream, replay on reconnect.

`EventHub` is what the routes rely on. `MemoryHub` keeps everything in this
process; `RedisHub` (in `redis_hub.py`) shares one feed between processes
through a Redis stream. Both hand events to their streams through a `Fanout`.

Memory stays bounded: the history is a ring of `history` events, and each
subscriber holds at most `queue_size` undelivered events. A subscriber that
falls that far behind is dropped rather than allowed to grow or to hold up the
others; its stream ends, the client reconnects with `Last-Event-ID` and the
history fills in what it missed.
"""

import asyncio
import json
import logging
from collections import deque
from typing import Final, Literal, Protocol

from .sse import encode_event

logger = logging.getLogger(__name__)

# Sent first when a client's Last-Event-ID cannot be resumed from the history.
RESET_EVENT: Final = "reset"

BrokerState = Literal["ok", "unavailable"]


class BrokerUnavailableError(Exception):
    """The broker behind the hub cannot be reached: nothing was published."""


class Subscription(Protocol):
    """One open stream's view of the hub."""

    async def receive(self) -> bytes | None:
        """The next event frame; None once the stream is over (shutdown or dropped)."""
        ...

    def close(self) -> None:
        """Leave the hub; safe to call more than once."""
        ...


class EventHub(Protocol):
    """Publish and subscribe, as the event routes need it."""

    @property
    def subscribers(self) -> int:
        """Streams open on this process."""
        ...

    @property
    def broker(self) -> BrokerState | None:
        """Whether the broker answers; None for a hub without one."""
        ...

    async def publish(self, event: str, data: str) -> str:
        """Send `data` (one JSON text) as `event` to every subscriber; return its id.

        Raises BrokerUnavailableError when the event could not be handed to the broker.
        """
        ...

    async def subscribe(self, last_event_id: str | None) -> Subscription:
        """A new subscription, first replaying what came after `last_event_id`."""
        ...

    async def close(self) -> None:
        """End every stream and every later one at once: the server is stopping."""
        ...


def reset_notice(last_event_id: str, before_oldest: str, oldest_id: str | None) -> bytes:
    """The `reset` event: `last_event_id` cannot be resumed, replay starts at `oldest_id`.

    Its own id is the one just before the oldest event kept, so a client that
    reconnects right after it resumes with the whole history.
    """
    notice = json.dumps({"last_event_id": last_event_id, "oldest_id": oldest_id})
    return encode_event(before_oldest, RESET_EVENT, notice)


class _Subscriber:
    """One stream's place in a `Fanout`: a replay backlog, then a bounded queue."""

    def __init__(self, fanout: "Fanout", backlog: list[bytes], queue_size: int) -> None:
        self._fanout = fanout
        self._backlog = deque(backlog)
        # One slot more than the limit, so the end-of-stream marker always fits.
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(queue_size + 1)
        self._limit = queue_size
        self._ended = False

    def offer(self, frame: bytes) -> bool:
        """Queue `frame`; False when the subscriber is already `queue_size` behind."""
        if self._queue.qsize() >= self._limit:
            return False
        self._queue.put_nowait(frame)
        return True

    def replay(self, frames: list[bytes]) -> None:
        """Add to the backlog, which is sent before anything queued."""
        if not self._ended:
            self._backlog.extend(frames)

    def end(self) -> None:
        """Drop what is queued and wake the stream so that it finishes."""
        if self._ended:
            return
        self._ended = True
        self._backlog.clear()
        # asyncio.Queue has no clear() (nor, before Python 3.13, shutdown()).
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def receive(self) -> bytes | None:
        """The replay first, then live events; None once ended."""
        if self._backlog:
            return self._backlog.popleft()
        if self._ended:
            return None
        return await self._queue.get()

    def close(self) -> None:
        """Leave the fan-out."""
        self.end()
        self._fanout.discard(self)


class Fanout:
    """The streams open on this process, and the one way an event reaches them.

    Every hub hands each event's frame, encoded once, to `deliver`: the same
    bytes object is queued for every subscriber, and one that is `queue_size`
    behind is dropped rather than allowed to grow or to hold up the others.
    """

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subscribers: set[_Subscriber] = set()
        self.closed = False

    def __len__(self) -> int:
        return len(self._subscribers)

    def join(self, backlog: list[bytes]) -> _Subscriber:
        """A new subscriber that sends `backlog` first; ended at once after `close`."""
        subscriber = _Subscriber(self, backlog, self._queue_size)
        if self.closed:
            subscriber.end()
        else:
            self._subscribers.add(subscriber)
        return subscriber

    def deliver(self, frame: bytes) -> None:
        """Queue `frame` for every subscriber; drop those too far behind."""
        dropped = [subscriber for subscriber in self._subscribers if not subscriber.offer(frame)]
        for subscriber in dropped:
            subscriber.close()
        if dropped:
            logger.warning(
                "dropped %d subscriber(s) more than %d events behind; they may reconnect",
                len(dropped),
                self._queue_size,
            )

    def discard(self, subscriber: _Subscriber) -> None:
        """Forget `subscriber` (its stream has ended)."""
        self._subscribers.discard(subscriber)

    def end_all(self) -> None:
        """End every open stream, for its client to reconnect and resume."""
        for subscriber in list(self._subscribers):
            subscriber.close()

    def close(self) -> None:
        """End every stream; later subscribers end at once."""
        self.closed = True
        self.end_all()


class MemoryHub:
    """An `EventHub` within one process.

    Ids are consecutive integers starting at 1, so they restart with the
    process; a client returning with an id this process never issued gets a
    `reset` event, like one whose id has left the history.
    """

    def __init__(self, history: int, queue_size: int) -> None:
        self._history: deque[tuple[int, bytes]] = deque(maxlen=history)
        self._fanout = Fanout(queue_size)
        self._last_id = 0

    @property
    def subscribers(self) -> int:
        """Streams open on this process."""
        return len(self._fanout)

    @property
    def broker(self) -> BrokerState | None:
        """None: there is no broker to lose."""
        return None

    async def publish(self, event: str, data: str) -> str:
        """Encode the event once and queue the same bytes for every subscriber."""
        self._last_id += 1
        event_id = str(self._last_id)
        frame = encode_event(event_id, event, data)
        self._history.append((self._last_id, frame))
        self._fanout.deliver(frame)
        return event_id

    async def subscribe(self, last_event_id: str | None) -> Subscription:
        """Register a subscriber with the events after `last_event_id` as its backlog.

        The backlog is taken and the subscriber registered in one step, with no
        await in between, so no event is missed or sent twice at the seam.
        """
        return self._fanout.join(self._backlog(last_event_id))

    async def close(self) -> None:
        """End every stream; later subscribers end at once."""
        self._fanout.close()

    def _backlog(self, last_event_id: str | None) -> list[bytes]:
        if last_event_id is None:
            return []
        oldest = self._history[0][0] if self._history else self._last_id + 1
        requested = _parse_id(last_event_id)
        if requested is not None and oldest - 1 <= requested <= self._last_id:
            return [frame for event_id, frame in self._history if event_id > requested]
        oldest_id = str(oldest) if self._history else None
        notice = reset_notice(last_event_id, str(oldest - 1), oldest_id)
        return [notice, *(frame for _, frame in self._history)]


def _parse_id(text: str) -> int | None:
    """`text` as an id this hub could have issued, or None."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    return int(text)
