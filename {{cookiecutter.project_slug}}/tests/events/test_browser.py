"""A browser's EventSource reads events written together exactly as it reads them one by one.

The service writes a stream's waiting events in one send (see `events/hub.py`):
the wire format is the same, the events simply follow each other in one chunk.
Here Chromium, driven by Playwright, reads a stream that gets events alone,
two written together, and, after the hub dropped it and the browser came back
with Last-Event-ID, a replay of three written together: every event arrives
once, in order, with its id. The browser is the system's Chromium, as for
the demo page (`tests/support/browser.py`).
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import BrowserContext, Page
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.events.hub import EventHub
from {{ cookiecutter.package_name }}.events.router import to_json
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.browser import chromium
from tests.support.servers import serve
from tests.support.settings import PUBLISH_TOKEN, make_settings
from tests.support.ssewire import EventStreamParser, raw_stream

pytestmark = pytest.mark.services

# Generous: nothing is timed, a missing event fails the wait.
WAIT_MS = 15_000
LISTEN = """() => {
    window.received = [];
    window.opened = 0;
    const source = new EventSource("/events");
    source.onopen = () => { window.opened += 1; };
    source.addEventListener("tick", (message) => {
        window.received.push([message.type, message.data, message.lastEventId]);
    });
}"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


def with_burst(app: FastAPI) -> FastAPI:
    """`POST /burst?count=N`: N events published in one turn of the server's event loop.

    As a Redis hub's reader hands over a batch: every stream then has them
    all waiting when it is woken, and writes them together.
    """

    @app.post("/burst")
    async def burst(count: int) -> list[str]:
        hub: EventHub = app.state.hub
        return [await hub.publish("tick", sample(n)) for n in range(count)]

    return app


def sample(n: int) -> str:
    """An event's data: JSON, with what a parser could get wrong."""
    return to_json({"n": n, "text": 'Ünïcødé — 東京 \u2028 "quoted" : colon', "empty": ""})


def received(page: Page, count: int) -> list[list[str]]:
    page.wait_for_function(f"window.received.length >= {count}", timeout=WAIT_MS)
    events: list[list[str]] = page.evaluate("window.received")
    return events


def test_a_browser_reads_events_written_together_like_events_written_alone(
    settings: Settings, browser: BrowserContext
) -> None:
    changes: dict[str, Any] = {
        "publish_token": SecretStr(PUBLISH_TOKEN),
        # Two events may wait for a stream: a burst of three drops it.
        "sse_queue_size": 2,
        "sse_history": 100,
        "sse_retry_ms": 200,
    }
    app = with_burst(create_app(make_settings(**(settings.model_dump() | changes))))
    page = browser.new_page()
    with serve(app) as url:
        try:
            expected = read_in_the_browser(app, url, page)
        finally:
            # Before the server stops, which waits for open streams to end.
            page.close()
    assert [event_id for _, _, event_id in expected] == [str(n) for n in range(1, 7)]


def read_in_the_browser(app: FastAPI, url: str, page: Page) -> list[list[str]]:
    """Events alone, two together, three replayed together: what the browser must have read."""
    hub: EventHub = app.state.hub
    expected: list[list[str]] = []
    # Same origin as the stream: the page is the service's own /healthz.
    page.goto(f"{url}/healthz")
    with raw_stream(url) as watching:
        page.evaluate(LISTEN)
        page.wait_for_function("window.opened === 1", timeout=WAIT_MS)
        auth = {"Authorization": f"Bearer {PUBLISH_TOKEN}"}
        body = {"event": "tick", "data": json.loads(sample(0))}
        alone = page.request.post(f"{url}/events", data=body, headers=auth)
        assert alone.status == 202
        expected.append(["tick", sample(0), alone.json()["id"]])
        assert received(page, 1) == expected

        together = page.request.post(f"{url}/burst?count=2").json()
        expected += [["tick", sample(n), event_id] for n, event_id in enumerate(together)]
        assert received(page, 3) == expected
        # A stream beside the browser's shows how they were written: alone, then two in a chunk.
        watching.read_until(lambda: len(watching.events) == 3)
        per_chunk = [len(EventStreamParser().feed(chunk)) for chunk in watching.chunks]
        assert per_chunk == [0, 1, 2]

    # Three at once for a stream that may hold two: the hub drops it and resets its
    # connection; the browser comes back with Last-Event-ID and gets the three replayed.
    dropped = page.request.post(f"{url}/burst?count=3").json()
    expected += [["tick", sample(n), event_id] for n, event_id in enumerate(dropped)]
    assert received(page, 6) == expected
    assert page.evaluate("window.opened") == 2
    assert hub.subscribers == 1
    return expected
