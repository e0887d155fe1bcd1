"""The event hub: publish once, deliver to every open stream, replay on reconnect.

`EventHub` is what the routes rely on. `MemoryHub` keeps everything in this
process; `RedisHub` (in `redis_hub.py`) shares one feed between processes
through a Redis stream. Both hand events to their streams through a `Fanout`.

Memory stays bounded: the history is a ring of `history` events, and each
subscriber holds at most `queue_size` undelivered events. A subscriber that
falls that far behind is dropped rather than allowed to grow or to hold up the
others; its connection is closed, the client reconnects with `Last-Event-ID`
and the history fills in what it missed.

The cost that grows with the subscribers is one write per stream per event.
A stream that has several events waiting gets them in one write (up to
SEND_BYTES), so a burst or a slow moment drains instead of compounding; one
keep-alive tick serves every stream instead of a timer each.
"""

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from typing import Final, Literal, Protocol

from .sse import KEEPALIVE, encode_event

logger = logging.getLogger(__name__)

# Sent first when a client's Last-Event-ID cannot be resumed from the history.
RESET_EVENT: Final = "reset"
# Bytes of waiting frames written to a stream at once; a larger frame goes alone.
SEND_BYTES: Final = 64 * 1024
# Streams woken per turn of the event loop, which reads new requests between turns.
WAKE_BATCH: Final = 256

BrokerState = Literal["ok", "unavailable"]


class BrokerUnavailableError(Exception):
    """The broker behind the hub cannot be reached: nothing was published."""


class Subscription(Protocol):
    """One open stream's view of the hub."""

    async def receive(self) -> bytes | None:
        """The next frames to write, whole and in order (several at once when they waited).

        A keep-alive comment when the stream has been silent; None once the
        stream is over (shutdown or dropped).
        """
        ...

    def when_dropped(self, callback: Callable[[], None]) -> None:
        """Call `callback` if the hub drops this stream for falling behind."""
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

    def keep_alive(self) -> None:
        """Have each stream that sent nothing since the last call send a keep-alive."""
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
    """One stream's place in a `Fanout`: a replay backlog, then at most `queue_size` live events.

    Both wait in one list, the replay first; `receive` hands over as many as
    fit in SEND_BYTES at once, so a stream that fell behind catches up in a
    few writes instead of one per event. Nothing here runs on a timer: the
    fan-out's `keep_alive` marks the streams that have been silent.
    """

    __slots__ = (
        "_ended",
        "_fanout",
        "_frames",
        "_limit",
        "_on_drop",
        "_ping",
        "_queued",
        "_replay",
        "_sent",
        "_waiter",
    )

    def __init__(self, fanout: "Fanout", backlog: list[bytes], queue_size: int) -> None:
        self._fanout = fanout
        self._frames = backlog
        # How many of the first frames are replay, which the limit does not count.
        self._replay = len(backlog)
        self._limit = queue_size
        self._waiter: asyncio.Future[None] | None = None
        # Whether the fan-out will wake it: it may take more frames until then.
        self._queued = False
        self._ended = False
        # Whether anything went out since the last keep-alive tick, and whether one is due.
        self._sent = False
        self._ping = False
        self._on_drop: Callable[[], None] | None = None

    def offer(self, frame: bytes) -> bool:
        """Queue `frame`; False when the subscriber is already `queue_size` behind."""
        if len(self._frames) - self._replay >= self._limit:
            return False
        self._frames.append(frame)
        self._notify()
        return True

    def replay(self, frames: list[bytes]) -> None:
        """Put `frames` before every live event queued so far."""
        if not self._ended:
            self._frames[self._replay : self._replay] = frames
            self._replay += len(frames)
            self.wake()

    def tick(self) -> None:
        """A keep-alive tick: one is due if nothing went out since the previous tick."""
        if self._sent:
            self._sent = False
        else:
            self._ping = True
            self._notify()

    def end(self) -> None:
        """Drop what is queued and wake the stream so that it finishes."""
        if self._ended:
            return
        self._ended = True
        self._frames = []
        self._replay = 0
        self.wake()

    def when_dropped(self, callback: Callable[[], None]) -> None:
        """Call `callback` if the fan-out drops this subscriber for falling behind."""
        self._on_drop = callback

    def drop(self) -> None:
        """Leave the fan-out for falling behind, and tell the stream's owner."""
        self.close()
        callback, self._on_drop = self._on_drop, None
        if callback is not None:
            callback()

    async def receive(self) -> bytes | None:
        """What to send next: queued frames written together, a keep-alive, or None once over."""
        while not self._frames:
            if self._ended:
                return None
            if self._ping:
                self._ping = False
                self._sent = True
                return KEEPALIVE
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        frames = self._frames
        taken, size = 1, len(frames[0])
        while taken < len(frames) and size + len(frames[taken]) <= SEND_BYTES:
            size += len(frames[taken])
            taken += 1
        # One frame is sent as it is: the same bytes object for every stream.
        message = frames[0] if taken == 1 else b"".join(frames[:taken])
        del frames[:taken]
        self._replay = max(0, self._replay - taken)
        self._ping = False
        self._sent = True
        return message

    def close(self) -> None:
        """Leave the fan-out."""
        self.end()
        self._fanout.discard(self)

    def _notify(self) -> None:
        """Have the fan-out wake the stream, if it waits and is not to be woken already."""
        if self._waiter is not None and not self._queued:
            self._queued = True
            self._fanout.wake_soon(self)

    def wake(self) -> None:
        """Let the stream take what waits for it."""
        self._queued = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class Fanout:
    """The streams open on this process, and the one way an event reaches them.

    Every hub hands each event's frame, encoded once, to `deliver`: the same
    bytes object is queued for every subscriber, and one that is `queue_size`
    behind is dropped rather than allowed to grow or to hold up the others.

    The streams an event wakes are woken WAKE_BATCH at a time, one batch per
    turn of the event loop: between turns the loop reads what arrived, so an
    event published while thousands of streams are being written joins the
    frames of those not yet written, instead of waiting behind all of them.
    """

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._subscribers: set[_Subscriber] = set()
        self._waking: deque[_Subscriber] = deque()
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
            subscriber.drop()
        if dropped:
            logger.warning(
                "dropped %d subscriber(s) more than %d events behind; they may reconnect",
                len(dropped),
                self._queue_size,
            )

    def keep_alive(self) -> None:
        """Have every stream that sent nothing since the last call send a keep-alive."""
        for subscriber in self._subscribers:
            subscriber.tick()

    def wake_soon(self, subscriber: _Subscriber) -> None:
        """Wake `subscriber` in a later turn of the event loop, after those queued before it."""
        self._waking.append(subscriber)
        if len(self._waking) == 1:
            asyncio.get_running_loop().call_soon(self._wake_batch)

    def _wake_batch(self) -> None:
        for _ in range(min(WAKE_BATCH, len(self._waking))):
            self._waking.popleft().wake()
        if self._waking:
            asyncio.get_running_loop().call_soon(self._wake_batch)

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

    def keep_alive(self) -> None:
        """Have each stream that sent nothing since the last call send a keep-alive."""
        self._fanout.keep_alive()

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
