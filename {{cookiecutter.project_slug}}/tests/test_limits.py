"""MAX_STREAMS: a process serves at most that many streams; one more is a 503 at once."""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence

import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.core.limits import RETRY_AFTER, StreamSlots, stream_slot
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.servers import serve

# Routes that answer at once and hold nothing: they take no slot.
NOT_STREAMS = {
    ("GET", "/healthz"),
    ("HEAD", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/"),
    ("GET", "/demo/{name}"),
{%- if cookiecutter.format_sse %}
    ("POST", "/events"),
    ("POST", "/events/token"),
{%- endif %}
}


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every route of the app, in the routers it includes too (FastAPI keeps those apart)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def test_every_streaming_route_takes_a_slot(settings: Settings) -> None:
    routes = list(api_routes(create_app(settings).routes))
    assert len(routes) > len(NOT_STREAMS)
    for route in routes:
        for method in route.methods or ():
            takes = stream_slot in [dependency.call for dependency in route.dependant.dependencies]
            assert takes != ((method, route.path) in NOT_STREAMS), (method, route.path)


def held_open(limit: int) -> tuple[FastAPI, threading.Event]:
    """An app whose one route streams, holding a slot, until the event is set."""
    release = threading.Event()
    app = FastAPI()
    app.state.stream_slots = StreamSlots(limit)

    @app.get("/stream", dependencies=[Depends(stream_slot)])
    async def stream() -> StreamingResponse:
        async def pieces() -> AsyncIterator[bytes]:
            yield b"first\n"
            while not release.is_set():
                await asyncio.sleep(0.01)

        return StreamingResponse(pieces())

    return app, release


def test_a_stream_beyond_the_limit_is_refused_at_once_with_retry_after() -> None:
    app, release = held_open(limit=2)
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        with client.stream("GET", "/stream") as one, client.stream("GET", "/stream") as two:
            # Hold the iterators: dropping one would close its connection.
            pieces = [one.iter_raw(), two.iter_raw()]
            assert [next(piece) for piece in pieces] == [b"first\n", b"first\n"]
            started = time.monotonic()
            refused = httpx.get(f"{url}/stream", timeout=10)
            assert time.monotonic() - started < 1
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == str(RETRY_AFTER)
            assert "limit of 2 streams" in refused.json()["detail"]
            release.set()
        # Both end, and give their slots back.
        deadline = time.monotonic() + 5
        while app.state.stream_slots.active and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.state.stream_slots.active == 0
        release.clear()
        with client.stream("GET", "/stream") as again:
            assert again.status_code == 200
            release.set()
    assert app.state.stream_slots.active == 0
{%- if cookiecutter.format_sse %}


def test_the_event_stream_counts_against_the_limit(settings: Settings) -> None:
    one = settings.model_copy(update={"max_streams": 1})
    with (
        serve(create_app(one)) as url,
        httpx.Client(base_url=url, timeout=10) as client,
        client.stream("GET", "/events") as first,
    ):
        assert first.status_code == 200
        refused = httpx.get(f"{url}/events", timeout=10)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(RETRY_AFTER)
{%- endif %}
