"""GET and POST /events over real HTTP, read as an EventSource reads them."""

import asyncio
import json
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.events.hub import RESET_EVENT, EventHub
from {{ cookiecutter.package_name }}.events.router import MAX_EVENT_BYTES
from {{ cookiecutter.package_name }}.settings import Settings

from tests.events.server_process import environment_without_settings, uvicorn_process
from tests.support.servers import serve
from tests.support.settings import BROKER_TIMINGS, EVENT_SETTINGS, PUBLISH_TOKEN, make_settings
from tests.support.ssewire import ChunkedResponse, Event, EventStreamParser, raw_stream

AUTH = {"Authorization": f"Bearer {PUBLISH_TOKEN}"}


class Stream:
    """An open `GET /events`, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.parser = EventStreamParser()
        self._chunks = response.iter_bytes()
        self._events: list[Event] = []

    def read_until(self, done: Callable[[], bool]) -> None:
        """Read until `done()`; the client's read timeout bounds the wait."""
        while not done():
            self._events.extend(self.parser.feed(next(self._chunks)))

    def next_event(self) -> Event:
        self.read_until(lambda: bool(self._events))
        return self._events.pop(0)

    def events(self, count: int) -> list[Event]:
        return [self.next_event() for _ in range(count)]

    def read_to_end(self) -> None:
        for chunk in self._chunks:
            self._events.extend(self.parser.feed(chunk))


@pytest.fixture(scope="module")
def http(events_url: str) -> Iterator[httpx.Client]:
    """One client for the module: making one costs more than most requests here.

    Uncompressed: compressed streams have their own test, in test_compression.py.
    """
    headers = {"Accept-Encoding": "identity"}
    with httpx.Client(base_url=events_url, headers=headers, timeout=5) as client:
        yield client


@contextmanager
def open_stream(http: httpx.Client, last_event_id: str | None = None) -> Iterator[Stream]:
    """A subscribed stream: its `retry:` hint, sent once subscribed, has arrived."""
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    with http.stream("GET", "/events", headers=headers) as response:
        assert response.status_code == 200
        stream = Stream(response)
        stream.read_until(lambda: stream.parser.retry is not None)
        yield stream


def publish(http: httpx.Client, event: str = "tick", data: Any = None) -> str:
    response = http.post("/events", json={"event": event, "data": data}, headers=AUTH)
    assert response.status_code == 202, response.text
    event_id: str = response.json()["id"]
    return event_id


def wait_for(condition: Callable[[], bool], seconds: float = 2) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


@pytest.fixture
def hub(events_app: FastAPI) -> EventHub:
    """The events app's hub, once the streams of earlier tests have left it."""
    hub: EventHub = events_app.state.hub
    wait_for(lambda: hub.subscribers == 0)
    return hub


def test_a_stream_is_an_uncached_unbuffered_event_stream_that_starts_with_retry(
    http: httpx.Client,
) -> None:
    with open_stream(http) as stream:
        headers = stream.response.headers
        assert headers["content-type"].startswith("text/event-stream")
        assert headers["cache-control"] == "no-cache"
        assert headers["x-accel-buffering"] == "no"
        assert stream.parser.retry == EVENT_SETTINGS["sse_retry_ms"]


def test_published_events_arrive_with_increasing_ids_their_name_and_json_data(
    http: httpx.Client,
) -> None:
    payloads = [{"price": 1.5, "note": "two\nlines, Ünïcødé — 東京"}, [1, None, True], "plain"]
    with open_stream(http) as stream:
        ids = [publish(http, f"kind.{n}", payload) for n, payload in enumerate(payloads)]
        events = stream.events(len(payloads))
    assert [event.type for event in events] == ["kind.0", "kind.1", "kind.2"]
    assert [json.loads(event.data) for event in events] == payloads
    assert [event.last_event_id for event in events] == ids
    # Integers in one process; `<ms>-<seq>` stream ids through Redis.
    keys = [tuple(int(part) for part in event_id.split("-")) for event_id in ids]
    assert keys == sorted(set(keys))


def test_a_reply_says_which_id_and_how_many_streams(hub: EventHub, http: httpx.Client) -> None:
    with open_stream(http) as stream:
        response = http.post("/events", json={"event": "tick", "data": {}}, headers=AUTH)
        assert response.status_code == 202
        assert response.json() == {
            "id": stream.next_event().last_event_id,
            "subscribers": 1,
        }


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Basic dXNlcjpwYXNz", 401),
        ("Bearer", 401),
        ("Bearer not-the-token-at-all-0123", 403),
        pytest.param(f"Bearer {PUBLISH_TOKEN}x", 403, id="Bearer <the token>x-403"),
        pytest.param(f"bearer {PUBLISH_TOKEN}", 202, id="bearer <the token>-202"),
    ],
)
def test_publishing_needs_the_publish_token(
    http: httpx.Client, authorization: str | None, status: int
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    body = {"event": "tick", "data": 1}
    response = http.post("/events", json=body, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization", [None, "Bearer anything-at-all-0123456789"])
def test_without_a_configured_token_publishing_is_refused_and_says_why(
    client: httpx.Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post("/events", json={"event": "tick", "data": 1}, headers=headers)
    assert response.status_code == 403
    assert "PUBLISH_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"event": "tick"}',
        b'{"data": 1}',
        b'{"event": "tick\\nid: 99", "data": 1}',
        b'{"event": "tick\\r", "data": 1}',
        b'{"event": "a:b", "data": 1}',
        b'{"event": "", "data": 1}',
        b'{"event": "' + b"x" * 65 + b'", "data": 1}',
        b'{"event": "%s", "data": 1}' % RESET_EVENT.encode(),
        b'{"event": "tick", "data": 1, "extra": 2}',
        b'{"event": "tick", "data": NaN}',
        b'{"event": "tick", "data": [1e999]}',
        b'{"event": "tick", "data": "\\ud800"}',
    ],
    ids=lambda body: body.decode()[:40],
)
def test_a_bad_body_is_422_and_publishes_nothing(http: httpx.Client, body: bytes) -> None:
    headers = AUTH | {"Content-Type": "application/json"}
    with open_stream(http) as stream:
        response = http.post("/events", content=body, headers=headers)
        assert response.status_code == 422, response.text
        after = publish(http, data="after")
        assert stream.next_event().last_event_id == after


def test_credentials_are_checked_before_the_body(http: httpx.Client) -> None:
    response = http.post("/events", content=b"not json")
    assert response.status_code == 401


def test_an_oversized_event_is_413(http: httpx.Client) -> None:
    body = {"event": "tick", "data": "x" * MAX_EVENT_BYTES}
    response = http.post("/events", json=body, headers=AUTH)
    assert response.status_code == 413


def test_last_event_id_replays_what_was_missed_then_goes_live(http: httpx.Client) -> None:
    seen, *missed = (publish(http, data=n) for n in range(3))
    with open_stream(http, last_event_id=seen) as stream:
        replayed = stream.events(2)
        live = publish(http, data=3)
        after = stream.next_event()
    assert [event.last_event_id for event in [*replayed, after]] == [*missed, live]
    assert [event.data for event in [*replayed, after]] == ["1", "2", "3"]


def test_the_newest_id_replays_nothing(http: httpx.Client) -> None:
    newest = publish(http)
    with open_stream(http, last_event_id=newest) as stream:
        live = publish(http, data="live")
        assert stream.next_event().last_event_id == live


def test_an_id_older_than_the_history_is_told_with_a_reset_before_the_replay(
    http: httpx.Client,
) -> None:
    history = int(EVENT_SETTINGS["sse_history"])
    ids = [publish(http, data=n) for n in range(history + 2)]
    kept = ids[-history:]
    with open_stream(http, last_event_id=ids[0]) as stream:
        reset, *replayed = stream.events(1 + history)
    assert reset.type == RESET_EVENT
    assert json.loads(reset.data) == {"last_event_id": ids[0], "oldest_id": kept[0]}
    assert [event.last_event_id for event in replayed] == kept


@pytest.mark.parametrize(
    "last_event_id", ["not-a-number", "99999999999", "99999999999999-0", "-1", "1.0", "1-"]
)
def test_an_id_this_server_never_issued_is_told_with_a_reset(
    http: httpx.Client, last_event_id: str
) -> None:
    publish(http)
    with open_stream(http, last_event_id=last_event_id) as stream:
        reset = stream.next_event()
    assert reset.type == RESET_EVENT
    assert json.loads(reset.data)["last_event_id"] == last_event_id


def test_an_idle_stream_gets_keep_alive_comments(settings: Settings) -> None:
    keepalive = 0.05
    app = create_app(
        make_settings(**(settings.model_dump() | {"sse_keepalive_seconds": keepalive}))
    )
    # From before the stream opens: on a busy machine both comments may be
    # waiting by the time the stream is open, and the bound is a lower one.
    started = time.monotonic()
    with (
        serve(app) as url,
        httpx.Client(base_url=url, timeout=5) as client,
        open_stream(client) as stream,
    ):
        stream.read_until(lambda: len(stream.parser.comments) >= 2)
        elapsed = time.monotonic() - started
    assert stream.parser.comments[:2] == ["keep-alive", "keep-alive"]
    assert elapsed >= keepalive


def test_a_disconnect_frees_the_subscriber_at_once(hub: EventHub, http: httpx.Client) -> None:
    with open_stream(http):
        assert hub.subscribers == 1
    # Well within the keep-alive interval: noticed from the connection, not a failed write.
    wait_for(lambda: hub.subscribers == 0, seconds=EVENT_SETTINGS["sse_keepalive_seconds"] / 2)


def test_a_slow_subscriber_is_dropped_and_never_holds_up_the_others(
    hub: EventHub, events_url: str, http: httpx.Client
) -> None:
    payload = "x" * 60_000
    # A small receive buffer, and nothing read: the server's writes soon block.
    with raw_stream(events_url, receive_buffer=4096) as slow, open_stream(http) as fast:
        assert hub.subscribers == 2
        published: list[str] = []
        # Kernel buffers take some megabytes before the slow queue fills.
        while hub.subscribers == 2 and len(published) < 500:
            published.append(publish(http, data=payload))
            assert fast.next_event().last_event_id == published[-1]
        assert hub.subscribers == 1
        live = publish(http)
        assert fast.next_event().last_event_id == live
        # The slow one's connection was closed, for its client to reconnect and replay.
        slow.read_to_close()
    received = [event.last_event_id for event in slow.events]
    assert received == published[: len(received)]
    assert len(received) < len(published)


def scraped(client: httpx.Client, name: str, **labels: str) -> float:
    """A sample of the app's /metrics (0 while it has none)."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                return sample.value
    return 0.0


def server_end(sock: socket.socket) -> list[Any]:
    """The server's end of `sock`'s connection while it is open (the server is in this process)."""
    client = sock.getsockname()
    connections = psutil.Process().net_connections("tcp")
    return [c for c in connections if c.raddr == client and c.status == psutil.CONN_ESTABLISHED]


@pytest.mark.parametrize("hub_kind", ["memory", pytest.param("redis", marks=pytest.mark.services)])
def test_a_dropped_subscriber_is_disconnected_without_reading_and_resumes_exactly(
    settings: Settings, hub_kind: str, request: pytest.FixtureRequest
) -> None:
    """A client that stops reading: its connection is closed although it reads nothing more.

    Left open, the connection would hold megabytes of kernel buffers for as
    long as the client lives. Reading what reached it, then reconnecting with
    the last id it saw, it gets every event after that one, once.
    """
    changes: dict[str, object] = {
        "publish_token": SecretStr(PUBLISH_TOKEN),
        **EVENT_SETTINGS,
        "sse_history": 1000,
    }
    if hub_kind == "redis":
        new_key: Callable[[], str] = request.getfixturevalue("new_stream_key")
        url: str = request.getfixturevalue("redis_url")
        changes |= {"broker_url": url, "sse_stream": new_key(), **BROKER_TIMINGS}
    app = create_app(make_settings(**(settings.model_dump() | changes)))
    hub: EventHub
    payload = "x" * 60_000
    # Uncompressed, as the module's other streams (see `http`).
    identity = {"Accept-Encoding": "identity"}
    with serve(app) as url, httpx.Client(base_url=url, headers=identity, timeout=5) as client:
        hub = app.state.hub
        with raw_stream(url, receive_buffer=4096) as slow:
            published = [publish(client, data={"n": 0})]
            # It reads the first event, then nothing more.
            slow.read_until(lambda: bool(slow.events))
            while hub.subscribers and len(published) < 500:
                published.append(publish(client, data={"n": len(published), "pad": payload}))
            assert hub.subscribers == 0
            wait_for(lambda: not server_end(slow.sock), seconds=5)
            # What reached it before the reset, then the end: nothing was left open.
            slow.read_to_close()
            seen = [event.last_event_id for event in slow.events]
            assert seen == published[: len(seen)]
            assert seen[-1] == slow.parser.last_event_id
            # The drop is counted, and the stream's record ends as dropped.
            on_events = {"endpoint": "/events"}
            ended = {**on_events, "outcome": "dropped"}
            wait_for(lambda: scraped(client, "http_streams_ended_total", **ended) == 1, seconds=5)
            assert scraped(client, "sse_subscribers_dropped_total") == 1
            # Written, if not all read: what the reset discarded counts too.
            written = scraped(client, "http_stream_items_total", **on_events, item="event")
            assert len(seen) <= written <= len(published)
        with open_stream(client, last_event_id=seen[-1]) as again:
            replayed = again.events(len(published) - len(seen))
    assert [event.last_event_id for event in replayed] == published[len(seen) :]
    assert [json.loads(event.data)["n"] for event in [*slow.events, *replayed]] == list(
        range(len(published))
    )


def test_a_replay_comes_written_together_and_resumes_exactly(
    events_url: str, http: httpx.Client
) -> None:
    history = int(EVENT_SETTINGS["sse_history"])
    ids = [publish(http, data=n) for n in range(history)]
    with raw_stream(events_url) as first:
        # Nothing is replayed to a stream without Last-Event-ID: it reads live events.
        live = publish(http, data=history)
        first.read_until(lambda: bool(first.events))
    assert [event.last_event_id for event in first.events] == [live]
    resume_from = ids[2]
    with raw_stream(events_url, {"Last-Event-ID": resume_from}) as again:
        again.read_until(lambda: len(again.events) == history - 3 + 1)
    assert [event.last_event_id for event in again.events] == [*ids[3:], live]
    assert [event.data for event in again.events] == [str(n) for n in range(3, history + 1)]
    # The replay in one chunk after the retry hint: the frames were waiting, so they went together.
    per_chunk = [len(EventStreamParser().feed(chunk)) for chunk in again.chunks]
    assert per_chunk == [0, history - 3 + 1]


def test_hundreds_of_subscribers_all_receive_a_publish(
    hub: EventHub, events_url: str, http: httpx.Client
) -> None:
    count = 200
    address = httpx.URL(events_url)

    async def subscriber(subscribed: asyncio.Queue[None]) -> Event:
        # Raw sockets: an HTTP client costs several times more per stream.
        reader, writer = await asyncio.open_connection(address.host, address.port)
        writer.write(b"GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
        response, parser, events = ChunkedResponse(), EventStreamParser(), list[Event]()
        try:
            while not events:
                data = await reader.read(1 << 16)
                assert data, "the stream ended early"
                was_subscribed = parser.retry is not None
                for chunk in response.feed(data):
                    events += parser.feed(chunk)
                if parser.retry is not None and not was_subscribed:
                    subscribed.put_nowait(None)
            return events[0]
        finally:
            writer.close()

    async def scenario() -> list[Event]:
        async with asyncio.timeout(10):
            subscribed: asyncio.Queue[None] = asyncio.Queue()
            tasks = [asyncio.create_task(subscriber(subscribed)) for _ in range(count)]
            for _ in range(count):
                await subscribed.get()
            assert hub.subscribers == count
            # From this thread: the server runs its own loop in another one.
            reply = await asyncio.to_thread(publish, http, "fan-out", {"to": count})
            events = await asyncio.gather(*tasks)
            assert {event.last_event_id for event in events} == {reply}
            return events

    received = asyncio.run(scenario())
    assert len(received) == count
    assert {(event.type, event.data) for event in received} == {("fan-out", '{"to":200}')}
    wait_for(lambda: hub.subscribers == 0)


@pytest.mark.parametrize("hub_kind", ["memory", pytest.param("redis", marks=pytest.mark.services)])
def test_sigterm_ends_open_streams_and_the_server_exits_promptly(
    tmp_path: Path, hub_kind: str, request: pytest.FixtureRequest
) -> None:
    """A real uvicorn process: it would wait for the open stream without limit."""
    environment = environment_without_settings()
    if hub_kind == "redis":
        new_key: Callable[[], str] = request.getfixturevalue("new_stream_key")
        environment["BROKER_URL"] = request.getfixturevalue("redis_url")
        environment["SSE_STREAM"] = new_key()
    with uvicorn_process(tmp_path, environment) as server:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            wait_for(lambda: _answers(client), seconds=20)
            with open_stream(client) as stream:
                server.process.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                # Ends cleanly: httpx raises if the body is cut off mid-stream.
                stream.read_to_end()
                ended = time.monotonic() - signalled
        server.process.wait(timeout=10)
        exited = time.monotonic() - signalled
    assert ended < 10
    assert exited < 10
    assert server.process.returncode in {0, -signal.SIGTERM}
    assert "Application shutdown complete" in server.log
    # The reader task ended with the app: nothing was left pending or failed.
    assert "Task was destroyed" not in server.log
    assert "Traceback" not in server.log


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_openapi_documents_both_operations(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    stream = paths["/events"]["get"]
    assert list(stream["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {parameter["name"] for parameter in stream["parameters"]} == {"last-event-id"}
    publishing = paths["/events"]["post"]
    assert publishing["security"] == [{"HTTPBearer": []}]
    assert {"202", "401", "403", "413", "422", "503"} <= set(publishing["responses"])
