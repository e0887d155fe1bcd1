"""One feed for every process, through a Redis stream (needs Redis 7 or later).

    POST /events -> XADD, trimmed to exactly SSE_HISTORY + 1 entries -> the stream's id
    one reader task per process: XREAD BLOCK after the last id it delivered
        -> each event encoded once -> the same `Fanout` a `MemoryHub` uses
    GET /events with Last-Event-ID -> XRANGE of the stream, then live

Ids are the stream's (`<milliseconds>-<sequence>`), increasing across every
process and kept across restarts of the service, so a client may come back to
any process and resume. The stream keeps one entry more than SSE_HISTORY: once
trimming has begun, its oldest entry is only the boundary that tells which ids
can still be resumed (the one before it is gone, so events after it may be
too), the way a `MemoryHub` resumes from `oldest - 1`.

redis-py brings the protocol, the pool and the commands; what it lacks is the
part that makes a stream an event feed: one blocking reader per process that
reconnects and catches up by itself, and the replay/live seam.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from .hub import BrokerState, BrokerUnavailableError, Fanout, Subscription, reset_notice
from .settings import EventsSettings
from .sse import encode_event

logger = logging.getLogger(__name__)

StreamId = tuple[int, int]
Entry = tuple[bytes, dict[bytes, bytes]]

ZERO: Final[StreamId] = (0, 0)
_PART_MAX: Final = 2**64 - 1
# Entries per XREAD; a reader this far behind also checks that it missed nothing.
READ_COUNT: Final = 1000
# Connections per process: the reader's, plus publishes and replays in flight,
# which wait for a free one rather than open one per stream.
POOL_SIZE: Final = 16
BACKOFF_FIRST_SECONDS: Final = 0.05


def parse_id(text: str) -> StreamId | None:
    """`text` as a stream id (`<ms>-<seq>`), or None."""
    milliseconds, dash, sequence = text.partition("-")
    parts = (milliseconds, sequence)
    if not dash or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    value = int(milliseconds), int(sequence)
    return value if max(value) <= _PART_MAX else None


def format_id(value: StreamId) -> str:
    """The id as Redis writes it."""
    return f"{value[0]}-{value[1]}"


@dataclass(frozen=True)
class Window:
    """Which ids the stream can resume from: `floor` to `last`, inclusive."""

    floor: StreamId
    last: StreamId
    oldest: StreamId | None

    @classmethod
    def of(cls, info: dict[str, Any] | None, head: Sequence[Entry], maxlen: int) -> "Window":
        """From XINFO STREAM (None: no stream yet) and the stream's first two entries."""
        if info is None:
            return cls(ZERO, ZERO, None)
        last = _stream_id(info["last-generated-id"])
        if not head:
            return cls(last, last, None)
        first = _stream_id(head[0][0])
        if info["entries-added"] > info["length"] or info["length"] >= maxlen:
            # Full, or trimmed: the first entry is the boundary, the second the oldest event.
            return cls(first, last, _stream_id(head[1][0]) if len(head) > 1 else None)
        return cls(_before(first), last, first)


class RedisHub:
    """An `EventHub` whose events go through the Redis stream `key`."""

    def __init__(self, redis: Redis, reading: Redis, key: str, settings: EventsSettings) -> None:
        self._redis = redis
        self._reading = reading
        self._key = key
        self._maxlen = settings.sse_history + 1
        self._timeout = settings.broker_timeout_seconds
        self._backoff_max = settings.broker_backoff_max_seconds
        self._fanout = Fanout(settings.sse_queue_size)
        # The last id the reader delivered (None until it first reaches Redis),
        # and how many entries the stream had taken in up to it.
        self._position: StreamId | None = None
        self._count = 0
        self._advanced = asyncio.Event()
        self._state: BrokerState = "unavailable"
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def subscribers(self) -> int:
        """Streams open on this process."""
        return len(self._fanout)

    @property
    def broker(self) -> BrokerState:
        """Whether the reader is connected to Redis."""
        return self._state

    async def start(self) -> None:
        """Find where the stream ends, then read on from there in the background.

        The reader's connection is made here, so that it reads from the start:
        publishing while it still connected could put it behind at once.
        """
        try:
            await self._reading.ping()
            await self._resync()
        except RedisError as error:
            self._lost(error)
        self._reader = asyncio.create_task(self._read(), name="redis-hub-reader")

    async def publish(self, event: str, data: str) -> str:
        """XADD the event; every process's reader delivers it, this one's too.

        Not retried: an XADD whose answer was lost may have been applied, and
        sending it again would publish the event twice.
        """
        try:
            entry_id = await self._redis.xadd(
                self._key,
                {"event": event, "data": data},
                maxlen=self._maxlen,
                approximate=False,
            )
        except RedisError as error:
            logger.warning("publish failed, the event broker is unavailable: %s", _told(error))
            raise BrokerUnavailableError from error
        return entry_id.decode() if isinstance(entry_id, bytes) else entry_id

    async def subscribe(self, last_event_id: str | None) -> Subscription:
        """Join the fan-out at the reader's position, then fetch the replay up to it.

        Joining and reading the position happen with no await in between, so
        the reader's next event goes to the new subscriber and the replay ends
        just before it: nothing is missed or sent twice at the seam. Without
        Redis the stream ends at once, and the client comes back after its
        retry delay.
        """
        if self._fanout.closed or (last_event_id is None and self._position is not None):
            return self._fanout.join([])
        wanted = parse_id(last_event_id) if last_event_id is not None else None
        try:
            if wanted is not None:
                await self._reach(wanted)
        except (RedisError, TimeoutError) as error:
            return self._ended(error)
        subscriber = self._fanout.join([])
        position = self._position
        if position is None:
            subscriber.close()
            return subscriber
        if last_event_id is None:
            return subscriber
        try:
            subscriber.replay(await self._backlog(last_event_id, wanted, position))
        except (RedisError, BrokerUnavailableError) as error:
            subscriber.close()
            logger.warning("could not replay to a new stream, ended it: %s", _told(error))
        except BaseException:
            subscriber.close()
            raise
        return subscriber

    def keep_alive(self) -> None:
        """Have each stream that sent nothing since the last call send a keep-alive."""
        self._fanout.keep_alive()

    async def close(self) -> None:
        """End every stream, and stop reading."""
        self._fanout.close()
        self._stopping = True
        # A cancellation that lands while redis-py cleans up a connection can be
        # lost (seen with Python 3.11): ask again until the reader has ended.
        while self._reader is not None and not self._reader.done():
            self._reader.cancel()
            await asyncio.wait({self._reader}, timeout=0.1)

    async def _reach(self, wanted: StreamId) -> None:
        """Wait until the reader has delivered `wanted`, if the stream has it.

        A client that saw an event through another process may be ahead of this
        one's reader; joining now would send it that event a second time.
        """
        if self._position is not None and wanted <= self._position:
            return
        info: dict[str, Any] | None
        try:
            info = await self._redis.xinfo_stream(self._key)
        except ResponseError as error:
            info = _info(error)  # None: no stream yet
        if info is None or wanted > _stream_id(info["last-generated-id"]):
            return  # never issued: the replay starts with a reset
        async with asyncio.timeout(self._timeout):
            while self._position is None or self._position < wanted:
                await self._advanced.wait()

    async def _backlog(
        self, last_event_id: str, wanted: StreamId | None, position: StreamId
    ) -> list[bytes]:
        """The frames after `wanted` up to `position`; a reset first if it cannot resume."""
        start = "(" + format_id(wanted) if wanted is not None and wanted <= position else "-"
        async with self._redis.pipeline(transaction=True) as pipe:
            # One MULTI: the window and the entries are read at the same moment.
            pipe.xinfo_stream(self._key)
            pipe.xrange(self._key, "-", "+", count=2)
            pipe.xrange(self._key, start, format_id(position))
            raw_info, raw_head, raw_entries = await pipe.execute(raise_on_error=False)
        window = Window.of(_info(raw_info), _entries(raw_head), self._maxlen)
        entries = _entries(raw_entries)
        if wanted is not None and window.floor <= wanted <= window.last:
            if wanted > position:
                msg = "this process has not read that far yet"
                raise BrokerUnavailableError(msg)
            return _frames(entries)
        oldest = format_id(window.oldest) if window.oldest else None
        notice = reset_notice(last_event_id, format_id(window.floor), oldest)
        kept = [entry for entry in entries if _stream_id(entry[0]) > window.floor]
        return [notice, *_frames(kept)]

    async def _read(self) -> None:
        """Read the stream for ever, reconnecting with backoff; cancel to stop."""
        delay = BACKOFF_FIRST_SECONDS
        while not self._stopping:
            try:
                if self._state != "ok":
                    await self._resync()
                    delay = BACKOFF_FIRST_SECONDS
                await self._read_once()
            except RedisError as error:
                self._lost(error)
            except Exception:
                logger.exception("the event reader failed; starting again")
                self._state = "unavailable"
            else:
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_max)

    async def _read_once(self) -> None:
        position = self._position or ZERO
        # Shorter than the socket timeout, so that a silent stream is not a dead one.
        reply = await self._reading.xread(
            {self._key: format_id(position)}, count=READ_COUNT, block=int(self._timeout * 500)
        )
        # RESP2 (see open_redis_hub): [[key, [(id, {field: value}), ...]]], or nothing.
        entries = cast("list[list[Any]]", reply)[0][1] if reply else []
        if not entries:
            return
        # Only a reader as far behind as the stream is long can have lost events
        # to trimming: then everything the stream keeps comes back at once.
        if len(entries) >= min(READ_COUNT, self._maxlen) and await self._resync():
            return
        for frame in _frames(entries):
            self._fanout.deliver(frame)
        self._moved(_stream_id(entries[-1][0]), self._count + len(entries))

    async def _resync(self) -> bool:
        """Find the reader's place; True if events it had not read were trimmed.

        Then its streams are ended, for their clients to resume from the stream
        itself (exactly, or after a reset), and it reads on from the newest event.
        """
        position = self._position
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xinfo_stream(self._key)
            pipe.xrange(self._key, "(" + format_id(position or ZERO), "+", count=1)
            raw_info, following = await pipe.execute(raise_on_error=False)
        info = _info(raw_info)
        if self._state != "ok":
            self._state = "ok"
            logger.info("the event broker answers; reading on from the last event delivered")
        if position is not None and not _trimmed(info, _entries(following), self._count):
            return False
        if position is not None:
            logger.warning(
                "events were trimmed before this process read them: ending %d stream(s) "
                "to resume from the stream",
                len(self._fanout),
            )
            self._fanout.end_all()
        if info is None:
            self._moved(ZERO, 0)
        else:
            self._moved(_stream_id(info["last-generated-id"]), info["entries-added"])
        return position is not None

    def _moved(self, position: StreamId, count: int) -> None:
        """The reader is at `position` now; wake the replays waiting for it."""
        self._position = position
        self._count = count
        self._advanced.set()
        self._advanced = asyncio.Event()

    def _lost(self, error: RedisError) -> None:
        if self._state == "ok":
            logger.warning("the event broker is unavailable, reconnecting: %s", _told(error))
        self._state = "unavailable"

    def _ended(self, error: BaseException) -> Subscription:
        logger.warning("could not start a stream's replay, ended it: %s", _told(error))
        subscriber = self._fanout.join([])
        subscriber.close()
        return subscriber


@asynccontextmanager
async def open_redis_hub(settings: EventsSettings) -> AsyncIterator[RedisHub]:
    """A `RedisHub` on BROKER_URL, and its connection pool, for as long as the app runs."""
    pool = BlockingConnectionPool.from_url(
        settings.broker_url.get_secret_value(),
        max_connections=POOL_SIZE,
        timeout=settings.broker_timeout_seconds,
        socket_timeout=settings.broker_timeout_seconds,
        socket_connect_timeout=settings.broker_timeout_seconds,
        # The reader reconnects with its own backoff; a publish is never resent.
        retry=Retry(NoBackoff(), 0),
        # The reply shapes this module reads; RESP3 would give maps instead.
        protocol=2,
    )
    redis = Redis.from_pool(pool)
    # The reader's own connection, taken from the pool and kept.
    reading = Redis(connection_pool=pool, single_connection_client=True)
    hub = RedisHub(redis, reading, settings.sse_stream, settings)
    try:
        await hub.start()
        yield hub
    finally:
        await hub.close()
        await reading.aclose()
        await redis.aclose()


def _stream_id(raw: bytes) -> StreamId:
    value = parse_id(raw.decode())
    if value is None:
        msg = f"not a stream id: {raw!r}"
        raise ValueError(msg)
    return value


def _before(value: StreamId) -> StreamId:
    """The greatest id below `value`."""
    milliseconds, sequence = value
    return (milliseconds, sequence - 1) if sequence else (milliseconds - 1, _PART_MAX)


def _info(result: object) -> dict[str, Any] | None:
    """XINFO STREAM's answer (or error): None for a stream not yet made; errors raised."""
    if isinstance(result, ResponseError) and "no such key" in str(result):
        return None
    if isinstance(result, Exception):
        raise result
    return cast("dict[str, Any]", result)


def _entries(result: object) -> list[Entry]:
    """XRANGE's answer within a pipeline; errors raised."""
    if isinstance(result, Exception):
        raise result
    return cast("list[Entry]", result)


def _trimmed(info: dict[str, Any] | None, following: Sequence[Entry], count: int) -> bool:
    """Whether entries after the reader's, the `count`-th entry added, were trimmed.

    `following` is the first entry after the reader's. Unless it is the oldest
    entry kept, the one before it is kept as well, so nothing between was lost.
    If it is, the entries trimmed so far (added, less kept) tell: those are the
    first ones ever added, and the reader has read `count` of them.
    """
    if info is None or not following or info["first-entry"] is None:
        return False
    if following[0][0] != info["first-entry"][0]:
        return False
    trimmed: int = info["entries-added"] - info["length"]
    return trimmed > count


def _frames(entries: Sequence[Entry]) -> list[bytes]:
    """Each entry as its event frame; an entry not written by a hub is skipped."""
    frames = []
    for entry_id, fields in entries:
        try:
            frames.append(
                encode_event(entry_id.decode(), fields[b"event"].decode(), fields[b"data"].decode())
            )
        except (KeyError, ValueError):
            logger.warning("skipped stream entry %r: not an event", entry_id)
    return frames


def _told(error: BaseException) -> str:
    """The error for a log line: redis-py's messages name the host, never the password."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
