"""The wire format and the hubs, without a server: each hub test runs on both hubs."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TypeVar

import pytest
import redis.asyncio
from redis.typing import EncodableT, FieldT

from {{ cookiecutter.package_name }}.events.hub import (
    RESET_EVENT,
    SEND_BYTES,
    WAKE_BATCH,
    EventHub,
    MemoryHub,
    Subscription,
)
from {{ cookiecutter.package_name }}.events.redis_hub import open_redis_hub, parse_id
from {{ cookiecutter.package_name }}.events.sse import KEEPALIVE, encode_event, encode_retry
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.settings import BROKER_TIMINGS, make_settings
from tests.support.ssewire import Event, EventStreamParser

T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await awaitable

    return asyncio.run(wrapper())


OpenHub = Callable[[int, int], AbstractAsyncContextManager[EventHub]]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
def open_hub(request: pytest.FixtureRequest) -> OpenHub:
    """Opens a hub with a given history and queue size; a Redis one on a fresh stream."""
    if request.param == "memory":
        return lambda history, queue_size: nullcontext(MemoryHub(history, queue_size))
    stream: tuple[str, str] = request.getfixturevalue("stream")
    return lambda history, queue_size: open_redis_hub(redis_settings(stream, history, queue_size))


@pytest.fixture
def stream(redis_url: str, new_stream_key: Callable[[], str]) -> tuple[str, str]:
    """The shared Redis, and a stream of this test's own in it."""
    return redis_url, new_stream_key()


def redis_settings(stream: tuple[str, str], history: int, queue_size: int) -> Settings:
    url, key = stream
    return make_settings(
        broker_url=url,
        sse_stream=key,
        sse_history=history,
        sse_queue_size=queue_size,
        **BROKER_TIMINGS,
    )


def zero_id(some_id: str) -> str:
    """The id before any event, written as the hub writes ids."""
    return "0-0" if "-" in some_id else "0"


def next_id(some_id: str) -> str:
    """An id just after `some_id`: one the hub has not issued yet."""
    head, dash, tail = some_id.rpartition("-")
    return f"{head}{dash}{int(tail) + 1}"


async def receive(subscription: Subscription) -> bytes | None:
    """The next frame, which must come soon: a Redis hub delivers from its reader task."""
    return await asyncio.wait_for(subscription.receive(), 5)


async def publish_each(hub: EventHub, count: int) -> list[str]:
    """Publish `count` events, each delivered before the next goes out; their ids.

    With a small history, a burst could overtake a Redis hub's reader, which
    then ends its streams (see the last test).
    """
    watching = await hub.subscribe(None)
    ids = []
    for n in range(count):
        ids.append(await hub.publish("tick", str(n)))
        assert await receive(watching) is not None
    watching.close()
    return ids


async def received_events(subscription: Subscription, count: int) -> list[Event]:
    """The next `count` events, however many frames each receive hands over."""
    parser, events = EventStreamParser(), list[Event]()
    while len(events) < count:
        frames = await receive(subscription)
        assert frames is not None, "the stream ended early"
        events += parser.feed(frames)
    assert not parser.pending, "frames must be handed over whole"
    return events


async def received_data(subscription: Subscription, count: int) -> list[str]:
    return [event.data for event in await received_events(subscription, count)]


def parse(*frames: bytes) -> tuple[EventStreamParser, list[Event]]:
    parser = EventStreamParser()
    events = [event for frame in frames for event in parser.feed(frame)]
    assert not parser.pending, "a frame must end with its blank line"
    return parser, events


def test_multi_line_data_is_split_into_data_lines_and_rejoined_by_clients() -> None:
    frame = encode_event("7", "note", "one\ntwo\r\nthree\rfour")
    assert frame == b"id: 7\nevent: note\ndata: one\ndata: two\ndata: three\ndata: four\n\n"
    _, events = parse(frame)
    assert events == [Event(type="note", data="one\ntwo\nthree\nfour", last_event_id="7")]


def test_empty_lines_and_empty_data_survive_the_round_trip() -> None:
    texts = ["", "x\n", "x\n\ny", "\n"]
    _, events = parse(*(encode_event(str(n), "a", text) for n, text in enumerate(texts)))
    assert [event.data for event in events] == texts


@pytest.mark.parametrize(
    ("event_id", "name"), [("1\n", "a"), ("1\r", "a"), ("1\0", "a"), ("1", "a\nid: 9")]
)
def test_line_breaks_cannot_reach_the_id_or_name(event_id: str, name: str) -> None:
    with pytest.raises(ValueError, match="one line"):
        encode_event(event_id, name, "{}")


def test_retry_hint_sets_the_reconnection_time() -> None:
    parser, events = parse(encode_retry(2500))
    assert parser.retry == 2500
    assert events == []


def test_every_subscriber_gets_the_same_bytes_object_encoded_once(open_hub: OpenHub) -> None:
    async def scenario() -> list[bytes | None]:
        async with open_hub(10, 10) as hub:
            subscriptions = [await hub.subscribe(None) for _ in range(3)]
            await hub.publish("tick", '{"n":1}')
            return [await receive(subscription) for subscription in subscriptions]

    first, *others = run(scenario())
    assert first is not None
    assert all(frame is first for frame in others)


async def published_and_waiting(hub: EventHub, data: list[str]) -> tuple[Subscription, list[str]]:
    """A subscription with an event of each of `data` waiting in it, and their ids.

    A second subscription is read until it has them all: by then the hub has
    handed every one to both (a Redis hub's reader delivers them on its own time).
    """
    waiting, watching = await hub.subscribe(None), await hub.subscribe(None)
    ids = [await hub.publish("tick", text) for text in data]
    await received_events(watching, len(data))
    watching.close()
    return waiting, ids


def test_events_that_waited_are_handed_over_together_whole_and_in_order(
    open_hub: OpenHub,
) -> None:
    texts = [json.dumps({"n": n}) for n in range(10)]

    async def scenario() -> tuple[bytes | None, list[str]]:
        async with open_hub(100, 100) as hub:
            subscription, ids = await published_and_waiting(hub, texts)
            return await receive(subscription), ids

    frames, ids = run(scenario())
    # The frames one after the other, byte for byte: the wire format is unchanged.
    assert frames == b"".join(
        encode_event(event_id, "tick", text) for event_id, text in zip(ids, texts, strict=True)
    )
    _, events = parse(frames)
    expected = list(zip(ids, texts, strict=True))
    assert [(event.last_event_id, event.data) for event in events] == expected


def test_a_hand_over_stays_within_the_byte_budget_and_a_larger_frame_goes_alone(
    open_hub: OpenHub,
) -> None:
    texts = ["a" * (SEND_BYTES // 4), "b" * (SEND_BYTES // 4), "c" * (SEND_BYTES // 4)]
    texts += ["d" * SEND_BYTES, "e", "f"]

    async def scenario() -> tuple[list[bytes], list[str]]:
        async with open_hub(100, 100) as hub:
            subscription, ids = await published_and_waiting(hub, texts)
            handed: list[bytes] = []
            while sum(len(parse(frames)[1]) for frames in handed) < len(texts):
                frames = await receive(subscription)
                assert frames is not None
                handed.append(frames)
            return handed, ids

    handed, ids = run(scenario())
    counts = [len(parse(frames)[1]) for frames in handed]
    # The three quarters together; the frame over the budget alone; the small ones after it.
    assert counts == [3, 1, 2]
    assert [len(frames) <= SEND_BYTES for frames in handed] == [True, False, True]
    _, events = parse(*handed)
    expected = list(zip(ids, texts, strict=True))
    assert [(event.last_event_id, event.data) for event in events] == expected


def test_a_keep_alive_goes_only_to_a_stream_silent_for_a_whole_tick(open_hub: OpenHub) -> None:
    async def scenario() -> list[bytes | None]:
        async with open_hub(10, 10) as hub:
            busy = await hub.subscribe(None)
            await hub.publish("tick", "1")
            handed = [await receive(busy)]
            idle = await hub.subscribe(None)
            # The first tick: the idle one is due, the busy one sent an event since.
            hub.keep_alive()
            handed.append(await receive(idle))
            # The second: now the busy one has been silent for a whole tick.
            hub.keep_alive()
            handed.append(await receive(busy))
            # The idle one sent its keep-alive since the first: what it gets next is the event.
            await hub.publish("tick", "2")
            handed.append(await receive(idle))
            return handed

    event, first, second, after = run(scenario())
    assert event is not None
    assert after is not None
    assert (first, second) == (KEEPALIVE, KEEPALIVE)
    assert parse(after)[1][0].data == "2"


def test_an_event_published_while_streams_are_woken_joins_those_not_woken_yet() -> None:
    """Streams are woken a batch per turn of the loop, and the publisher gets turns between."""
    count = 2 * WAKE_BATCH + 10

    async def scenario() -> list[list[int]]:
        hub = MemoryHub(history=10, queue_size=10)
        subscriptions = [await hub.subscribe(None) for _ in range(count)]

        async def stream(subscription: Subscription) -> list[int]:
            handed: list[int] = []
            while sum(handed) < 2:
                frames = await subscription.receive()
                assert frames is not None
                handed.append(len(parse(frames)[1]))
            return handed

        streams = [asyncio.ensure_future(stream(subscription)) for subscription in subscriptions]
        await asyncio.sleep(0)
        await hub.publish("tick", "1")
        # One turn wakes the first batch, the next runs it: then the second event comes.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await hub.publish("tick", "2")
        return await asyncio.gather(*streams)

    handed = run(scenario())
    assert handed.count([1, 1]) == WAKE_BATCH
    assert handed.count([2]) == count - WAKE_BATCH


def test_memory_ids_count_up_from_one() -> None:
    async def scenario() -> list[str]:
        hub = MemoryHub(history=10, queue_size=10)
        return [await hub.publish("tick", "1") for _ in range(3)]

    assert run(scenario()) == ["1", "2", "3"]


def test_a_subscriber_queue_size_behind_is_dropped_and_the_others_are_not(
    open_hub: OpenHub,
) -> None:
    async def scenario() -> None:
        async with open_hub(10, 3) as hub:
            slow, fast = await hub.subscribe(None), await hub.subscribe(None)
            for n in range(3):
                await hub.publish("tick", str(n))
                assert await receive(fast) is not None
            assert hub.subscribers == 2
            await hub.publish("tick", "3")
            # Delivered to both in one step: once the fast one has it, the slow one is gone.
            assert await receive(fast) is not None
            assert hub.subscribers == 1
            # Its queue was emptied at once: the stream ends with nothing more to send.
            assert await receive(slow) is None

    run(scenario())


def test_replay_then_live_with_nothing_missed_or_repeated_at_the_seam(open_hub: OpenHub) -> None:
    async def scenario() -> list[str]:
        async with open_hub(10, 10) as hub:
            first = await hub.publish("tick", "1")
            for n in (2, 3):
                await hub.publish("tick", str(n))
            subscription = await hub.subscribe(first)
            await hub.publish("tick", "4")
            return await received_data(subscription, 3)

    assert run(scenario()) == ["2", "3", "4"]


def test_streams_that_join_while_events_pour_in_get_each_event_after_their_id_once(
    open_hub: OpenHub,
) -> None:
    """Subscribers join, each after the newest id it knows, while a publisher runs."""
    total = 40

    async def scenario() -> list[tuple[int, list[str]]]:
        async with open_hub(100, 100) as hub:
            published = [await hub.publish("tick", "0")]

            async def publisher() -> None:
                for n in range(1, total):
                    published.append(await hub.publish("tick", str(n)))
                    await asyncio.sleep(0)

            task = asyncio.create_task(publisher())
            joined: list[tuple[int, Subscription]] = []
            while not task.done():
                seen = len(published)
                joined.append((seen, await hub.subscribe(published[seen - 1])))
                await asyncio.sleep(0)
            await task
            return [(seen, await received_data(sub, total - seen)) for seen, sub in joined]

    results = run(scenario())
    assert len(results) > 3
    for seen, data in results:
        assert data == [str(n) for n in range(seen, total)]


@pytest.mark.parametrize("case", ["oldest", "before-any", "unissued", "x", "", "²", "1-x"])
def test_an_id_that_cannot_be_resumed_gets_a_reset_then_the_history(
    open_hub: OpenHub, case: str
) -> None:
    async def scenario() -> tuple[list[str], str, list[Event]]:
        async with open_hub(2, 10) as hub:
            ids = await publish_each(hub, 4)
            named = {"oldest": ids[0], "before-any": zero_id(ids[0]), "unissued": next_id(ids[-1])}
            last_event_id = named.get(case, case)
            subscription = await hub.subscribe(last_event_id)
            return ids, last_event_id, await received_events(subscription, 3)

    ids, last_event_id, (reset, *replayed) = run(scenario())
    assert reset.type == RESET_EVENT
    assert json.loads(reset.data) == {"last_event_id": last_event_id, "oldest_id": ids[2]}
    assert reset.last_event_id == ids[1]
    assert [event.last_event_id for event in replayed] == ids[2:]


def test_the_id_of_a_reset_resumes_with_the_whole_history(open_hub: OpenHub) -> None:
    async def scenario() -> tuple[list[str], Event, list[str]]:
        async with open_hub(10, 10) as hub:
            ids = [await hub.publish("tick", str(n)) for n in range(3)]
            notice = await receive(await hub.subscribe("nonsense"))
            assert notice is not None
            reset = parse(notice)[1][0]
            resumed = await hub.subscribe(reset.last_event_id)
            return ids, reset, await received_data(resumed, 3)

    ids, reset, data = run(scenario())
    assert reset.type == RESET_EVENT
    assert json.loads(reset.data)["oldest_id"] == ids[0]
    assert data == ["0", "1", "2"]


def test_without_history_only_the_newest_id_resumes(open_hub: OpenHub) -> None:
    async def scenario() -> tuple[bytes | None, bytes | None, str]:
        async with open_hub(0, 10) as hub:
            (newest,) = await publish_each(hub, 1)
            current = await hub.subscribe(newest)
            behind = await hub.subscribe(zero_id(newest))
            await hub.publish("tick", "1")
            return await receive(current), await receive(behind), zero_id(newest)

    live, notice, zero = run(scenario())
    assert live is not None
    assert notice is not None
    assert parse(live)[1][0].data == "1"
    reset = parse(notice)[1][0]
    assert reset.type == RESET_EVENT
    assert json.loads(reset.data) == {"last_event_id": zero, "oldest_id": None}


def test_close_ends_every_stream_and_any_later_one(open_hub: OpenHub) -> None:
    async def scenario() -> None:
        async with open_hub(10, 10) as hub:
            (first,) = await publish_each(hub, 1)
            open_one = await hub.subscribe(None)
            waiting = asyncio.ensure_future(open_one.receive())
            await asyncio.sleep(0)
            await hub.close()
            assert await asyncio.wait_for(waiting, 1) is None
            assert hub.subscribers == 0
            late = await hub.subscribe(zero_id(first))
            assert await late.receive() is None
            assert hub.subscribers == 0

    run(scenario())


# --- Redis only ---------------------------------------------------------------


def test_processes_sharing_a_stream_share_one_feed_with_increasing_ids(
    stream: tuple[str, str],
) -> None:
    async def scenario() -> tuple[list[str], list[list[str]]]:
        settings = redis_settings(stream, 10, 10)
        async with open_redis_hub(settings) as one, open_redis_hub(settings) as other:
            watching = [await one.subscribe(None), await other.subscribe(None)]
            ids = [await hub.publish("tick", str(n)) for n, hub in enumerate([one, other, one])]
            return ids, [await received_data(subscription, 3) for subscription in watching]

    ids, received = run(scenario())
    assert received == [["0", "1", "2"], ["0", "1", "2"]]
    # Stream ids, strictly increasing whichever process published.
    keys = [key for key in map(parse_id, ids) if key is not None]
    assert len(keys) == 3
    assert keys == sorted(set(keys))


def test_a_hub_started_later_resumes_from_the_stream(stream: tuple[str, str]) -> None:
    async def scenario() -> list[str]:
        async with open_redis_hub(redis_settings(stream, 10, 10)) as before:
            ids = [await before.publish("tick", str(n)) for n in range(3)]
        async with open_redis_hub(redis_settings(stream, 10, 10)) as after:
            return await received_data(await after.subscribe(ids[0]), 2)

    assert run(scenario()) == ["1", "2"]


def test_a_reader_that_fell_out_of_the_stream_ends_its_streams(
    stream: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """More events than the stream keeps arrive at once: this process missed some."""
    url, key = stream
    history = 2

    async def scenario() -> tuple[bytes | None, list[str]]:
        async with open_redis_hub(redis_settings(stream, history, 100)) as hub:
            (before,) = await publish_each(hub, 1)
            watching = await hub.subscribe(None)
            client = redis.asyncio.Redis.from_url(url)
            async with client, client.pipeline(transaction=True) as burst:
                for n in range(history + 3):
                    fields: dict[FieldT, EncodableT] = {"event": "tick", "data": str(n)}
                    burst.xadd(key, fields, maxlen=history + 1, approximate=False)
                await burst.execute()
            ended = await receive(watching)
            told = await hub.subscribe(before)
            return ended, await received_data(told, 1 + history)

    with caplog.at_level(logging.WARNING):
        ended, (notice, *kept) = run(scenario())
    assert ended is None
    assert "trimmed before this process read them" in caplog.text
    assert json.loads(notice)["oldest_id"] is not None
    assert kept == [str(n) for n in range(3, history + 3)]
