"""Several service instances on one Redis: one feed, resumable anywhere, through restarts."""

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.brokers import RedisServer
from tests.support.servers import serve
from tests.support.settings import BROKER_TIMINGS, EVENT_SETTINGS, PUBLISH_TOKEN, make_settings
from tests.support.ssewire import Event, EventStreamParser

pytestmark = pytest.mark.services

AUTH = {"Authorization": f"Bearer {PUBLISH_TOKEN}"}


def event_settings(settings: Settings, url: str, key: str, **changes: object) -> Settings:
    values = {
        "publish_token": SecretStr(PUBLISH_TOKEN),
        **EVENT_SETTINGS,
        **BROKER_TIMINGS,
        "broker_url": url,
        "sse_stream": key,
        **changes,
    }
    return make_settings(**(settings.model_dump() | values))


@contextmanager
def instances(count: int, settings: Settings) -> Iterator[list[httpx.Client]]:
    """`count` servers of the same service, each with a client of its own."""
    with ExitStack() as stack:
        clients = []
        for _ in range(count):
            url = stack.enter_context(serve(create_app(settings)))
            clients.append(stack.enter_context(httpx.Client(base_url=url, timeout=5)))
        yield clients


class Stream:
    """An open `GET /events`, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self.parser = EventStreamParser()
        self._chunks = response.iter_bytes()
        self.events: list[Event] = []

    def read_until(self, done: Callable[[], bool]) -> None:
        while not done():
            self.events.extend(self.parser.feed(next(self._chunks)))

    def data(self, count: int) -> list[str]:
        """The data of the next `count` events."""
        self.read_until(lambda: len(self.events) >= count)
        taken, self.events = self.events[:count], self.events[count:]
        return [event.data for event in taken]


@contextmanager
def open_stream(client: httpx.Client, last_event_id: str | None = None) -> Iterator[Stream]:
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    with client.stream("GET", "/events", headers=headers) as response:
        assert response.status_code == 200
        stream = Stream(response)
        stream.read_until(lambda: stream.parser.retry is not None)
        yield stream


def publish(client: httpx.Client, data: str) -> str:
    response = client.post("/events", json={"event": "tick", "data": data}, headers=AUTH)
    assert response.status_code == 202, response.text
    event_id: str = response.json()["id"]
    return event_id


def eventually(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_publish_to_one_instance_reaches_the_streams_of_both(
    settings: Settings, redis_url: str, new_stream_key: Callable[[], str]
) -> None:
    with (
        instances(2, event_settings(settings, redis_url, new_stream_key())) as (one, other),
        open_stream(one) as on_one,
        open_stream(other) as on_other,
    ):
        publish(one, "from one")
        publish(other, "from other")
        assert on_one.data(2) == on_other.data(2) == ['"from one"', '"from other"']


def test_a_client_resuming_at_the_other_instance_gets_exactly_what_it_missed(
    settings: Settings, redis_url: str, new_stream_key: Callable[[], str]
) -> None:
    with instances(2, event_settings(settings, redis_url, new_stream_key())) as (one, other):
        with open_stream(one) as first:
            publish(one, "seen")
            first.data(1)
            last_seen = first.parser.last_event_id
        missed = [publish(one, "missed 1"), publish(other, "missed 2")]
        with open_stream(other, last_event_id=last_seen) as resumed:
            assert resumed.data(2) == ['"missed 1"', '"missed 2"']
            assert resumed.parser.last_event_id == missed[-1]
            publish(one, "live")
            assert resumed.data(1) == ['"live"']


def test_delivery_survives_a_redis_restart_without_gap_or_duplicate(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis stops mid-stream: publishing fails, open streams wait, then all catch up."""
    password = secrets.token_hex(12)
    server = RedisServer(tmp_path, password)
    server.start()
    # Keep-alives show that the open stream lives on while Redis is away.
    service = event_settings(settings, server.url, "events", sse_keepalive_seconds=0.2)
    caplog.set_level(logging.INFO)
    try:
        with instances(2, service) as (one, other), open_stream(one) as watching:
            assert one.get("/healthz").json() == {"status": "ok", "broker": "ok"}
            before = publish(one, "before")
            assert watching.data(1) == ['"before"']

            server.stop()
            eventually(lambda: one.get("/healthz").json()["status"] == "degraded")
            health = one.get("/healthz")
            assert health.status_code == 200
            assert health.json() == {"status": "degraded", "broker": "unavailable"}
            refused = one.post("/events", json={"event": "tick", "data": 1}, headers=AUTH)
            assert refused.status_code == 503
            assert refused.json()["detail"].startswith("the event broker is unavailable")
            kept_alive = len(watching.parser.comments)
            watching.read_until(lambda: len(watching.parser.comments) > kept_alive)

            server.start()
            # Published through the other instance before this one's reader is back.
            after = [publish(other, "after 1"), publish(one, "after 2")]
            assert watching.data(2) == ['"after 1"', '"after 2"']
            assert watching.parser.last_event_id == after[-1]
            eventually(lambda: one.get("/healthz").json() == {"status": "ok", "broker": "ok"})
            # The stream outlived the restart: a client can still resume from before it.
            with open_stream(other, last_event_id=before) as resumed:
                assert resumed.data(2) == ['"after 1"', '"after 2"']
            texts = [one.get("/healthz").text, health.text, refused.text]
    finally:
        server.stop()
    assert "the event broker is unavailable" in caplog.text
    assert "the event broker answers" in caplog.text
    for text in [caplog.text, *texts]:
        assert password not in text
