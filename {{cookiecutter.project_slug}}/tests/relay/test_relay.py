"""The relay against a real upstream: a small Starlette app under uvicorn on loopback."""

import asyncio
import gzip
import logging
import socket
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.relay.upstream import pick, request_headers
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.servers import long_lived_client, serve

PLAIN = b"relayed, never decoded on the way " * 2000
GZIPPED = gzip.compress(PLAIN, mtime=0)
SIZED = bytes(range(256)) * 400
# Short for the relay that tests timeouts; the others wait far longer, so a
# loaded machine cannot turn a slow answer into a failure.
SHORT_READ_TIMEOUT = 0.3


class Upstream:
    """A real upstream whose behaviour each path picks, and what it went through."""

    def __init__(self) -> None:
        self.gates: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self.arrived: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self.ended: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self.paths: list[str] = []
        self.app = Starlette(
            routes=[
                Route("/echo/{rest:path}", self.echo),
                Route("/login", self.login),
                Route("/page/{kind:path}", self.page),
                Route("/status/{code:int}", self.status),
                Route("/sized", self.sized),
                Route("/gzip", self.gzipped),
                Route("/gated/{name}", self.gated),
                Route("/endless/{name}", self.endless),
                Route("/broken", self.broken),
                Route("/silent", self.silent),
                Route("/hang/{name}", self.hang),
                Route("/stall/{name}", self.stall),
            ]
        )

    async def echo(self, request: Request) -> Response:
        self.paths.append(request.url.path)
        client = request.client
        return JSONResponse(
            {
                "path": request.url.path,
                "query": request.scope["query_string"].decode(),
                "headers": dict(request.headers),
                "port": client.port if client else None,
            },
            headers={
                "ETag": '"v1"',
                "Cache-Control": "max-age=60",
                "Set-Cookie": "upstream=1",
                "X-Internal": "upstream detail",
                "Keep-Alive": "timeout=5",
            },
        )

    async def page(self, request: Request) -> Response:
        # A document that would run a script as a page of the relay's origin.
        return Response(
            b"<script>alert(document.cookie)</script>",
            media_type=request.path_params["kind"],
        )

    async def login(self, _: Request) -> Response:
        # A session for whoever asked: a cookie for every path of the upstream.
        return Response(b"welcome", headers={"Set-Cookie": "session=alice; Path=/"})

    async def status(self, request: Request) -> Response:
        return Response(b"gone", status_code=request.path_params["code"], media_type="text/plain")

    async def sized(self, _: Request) -> Response:
        return Response(SIZED, media_type="application/octet-stream")

    async def gzipped(self, _: Request) -> Response:
        return Response(GZIPPED, media_type="text/plain", headers={"Content-Encoding": "gzip"})

    async def gated(self, request: Request) -> Response:
        gate = self.gates[request.path_params["name"]]

        async def pieces() -> AsyncIterator[bytes]:
            yield b"first"
            await asyncio.to_thread(gate.wait, 5)
            yield b"second"

        return StreamingResponse(pieces())

    async def endless(self, request: Request) -> Response:
        ended = self.ended[request.path_params["name"]]

        async def pieces() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"tick\n"
                    await asyncio.sleep(0.02)
            finally:
                ended.set()

        return StreamingResponse(pieces())

    async def broken(self, _: Request) -> Response:
        async def pieces() -> AsyncIterator[bytes]:
            yield b"partial"
            await asyncio.sleep(0.05)
            msg = "the upstream breaks mid-stream"
            raise RuntimeError(msg)

        return StreamingResponse(pieces(), media_type="text/plain")

    async def stall(self, request: Request) -> Response:
        ended = self.ended[request.path_params["name"]]

        async def pieces() -> AsyncIterator[bytes]:
            try:
                yield b"first"
                await asyncio.sleep(30)
                yield b"too late"
            finally:
                ended.set()

        return StreamingResponse(pieces(), media_type="text/plain")

    async def silent(self, request: Request) -> Response:
        # No headers until the relay gives up and hangs up.
        while not await request.is_disconnected():
            await asyncio.sleep(0.02)
        return Response(b"too late")

    async def hang(self, request: Request) -> Response:
        # No headers until the relay hangs up; says when the request came and when it left.
        self.arrived[request.path_params["name"]].set()
        while not await request.is_disconnected():
            await asyncio.sleep(0.02)
        self.ended[request.path_params["name"]].set()
        return Response(b"too late")


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound and never listening.

    Held bound, the port cannot be taken by another test's server meanwhile.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Upstream, str]]:
    upstream = Upstream()
    with serve(upstream.app) as url:
        yield upstream, url


def relay_settings(settings: Settings, upstream_url: str, **changes: object) -> Settings:
    values = {"upstream_url": upstream_url, "upstream_read_timeout": 10}
    return Settings.model_validate(settings.model_dump() | values | changes)


@pytest.fixture(scope="module")
def relay(settings: Settings, upstream: tuple[Upstream, str]) -> Iterator[httpx.Client]:
    with (
        serve(create_app(relay_settings(settings, upstream[1]))) as url,
        long_lived_client(url, timeout=5) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def impatient(settings: Settings, upstream: tuple[Upstream, str]) -> Iterator[httpx.Client]:
    """A relay that gives up on a silent upstream after SHORT_READ_TIMEOUT."""
    quick = relay_settings(settings, upstream[1], upstream_read_timeout=SHORT_READ_TIMEOUT)
    with serve(create_app(quick)) as url, long_lived_client(url, timeout=5) as client:
        yield client


def test_openapi_documents_the_relay_and_its_failures(relay: httpx.Client) -> None:
    operations = relay.get("/openapi.json").json()["paths"]["/relay/{path}"]
    assert set(operations) == {"get"}
    assert {"200", "502", "503", "504"} <= set(operations["get"]["responses"])


def test_status_type_length_and_body_pass_through(relay: httpx.Client) -> None:
    missing = relay.get("/relay/status/404")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "text/plain; charset=utf-8"
    assert missing.content == b"gone"
    sized = relay.get("/relay/sized")
    assert sized.status_code == 200
    assert sized.headers["content-type"] == "application/octet-stream"
    assert sized.headers["content-length"] == str(len(SIZED))
    assert "transfer-encoding" not in sized.headers
    assert sized.content == SIZED


def test_path_and_query_string_arrive_as_sent(relay: httpx.Client) -> None:
    query = "x=1&y=%20z&x=2&e=%C3%A9&empty=&flag"
    response = relay.get(f"/relay/echo/a/caf%C3%A9?{query}")
    seen = response.json()
    assert seen["path"] == "/echo/a/café"
    assert seen["query"] == query


def test_only_the_listed_headers_go_either_way(relay: httpx.Client) -> None:
    response = relay.get(
        "/relay/echo/headers",
        headers={
            "Accept": "application/json",
            "Range": "bytes=0-3",
            "Authorization": "Bearer for-this-service",
            "Cookie": "session=mine",
            "X-Custom": "1",
            "Connection": "keep-alive, Range",
            "Accept-Encoding": "gzip",
        },
    )
    sent = response.json()["headers"]
    assert sent["accept"] == "application/json"
    assert sent["accept-encoding"] == "gzip"
    # Range is named by Connection, so it was for the first hop only.
    for header in ("range", "authorization", "cookie", "x-custom"):
        assert header not in sent
    assert response.headers["etag"] == '"v1"'
    assert response.headers["cache-control"] == "max-age=60"
    assert response.headers["x-accel-buffering"] == "no"
    for header in ("set-cookie", "x-internal", "keep-alive"):
        assert header not in response.headers
    ranged = relay.get("/relay/echo/range", headers={"Range": "bytes=0-3", "If-Range": '"v1"'})
    assert ranged.json()["headers"]["range"] == "bytes=0-3"
    assert ranged.json()["headers"]["if-range"] == '"v1"'


def test_an_upstream_cookie_is_never_sent_for_anyone_else(relay: httpx.Client) -> None:
    # One client logs in upstream; the relay must not keep that session for the next one.
    assert relay.get("/relay/login").status_code == 200
    later = relay.get("/relay/echo/after-login").json()["headers"]
    assert "cookie" not in later


@pytest.mark.parametrize(
    "kind", ["text/html", "image/svg+xml", "application/xhtml+xml", "application/rss+xml"]
)
def test_a_relayed_page_is_never_rendered_as_one_of_the_relays(
    relay: httpx.Client, kind: str
) -> None:
    response = relay.get(f"/relay/page/{kind}")
    assert response.headers["content-type"].partition(";")[0] == "text/plain"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == b"<script>alert(document.cookie)</script>"


def test_other_types_pass_through_sandboxed(relay: httpx.Client) -> None:
    response = relay.get("/relay/sized")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"


def test_header_policy_by_itself() -> None:
    assert request_headers([("Range", "bytes=1-"), ("Host", "here")]) == {
        "range": "bytes=1-",
        "accept-encoding": "identity",
    }
    picked = pick(
        [("Vary", "Accept"), ("vary", "Accept-Encoding"), ("Connection", "x-y"), ("X-Y", "1")],
        frozenset({"vary", "x-y"}),
    )
    assert picked == {"vary": "Accept, Accept-Encoding"}


def test_a_client_without_accept_encoding_gets_identity_from_upstream(
    relay: httpx.Client,
) -> None:
    request = relay.build_request("GET", "/relay/echo/plain")
    del request.headers["accept-encoding"]
    assert relay.send(request).json()["headers"]["accept-encoding"] == "identity"


def test_an_encoded_body_passes_through_undecoded(relay: httpx.Client) -> None:
    with relay.stream("GET", "/relay/gzip", headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-length"] == str(len(GZIPPED))
        assert b"".join(response.iter_raw()) == GZIPPED
    assert relay.get("/relay/gzip", headers={"Accept-Encoding": "gzip"}).content == PLAIN


def test_bytes_are_relayed_before_the_upstream_finished(
    relay: httpx.Client, upstream: tuple[Upstream, str]
) -> None:
    gate = upstream[0].gates["early"]
    with relay.stream("GET", "/relay/gated/early") as response:
        pieces = response.iter_raw()
        # The upstream is held at its gate: only a relay that streams can deliver this.
        assert next(pieces) == b"first"
        assert not gate.is_set()
        gate.set()
        assert b"".join(pieces) == b"second"


def assert_cut_off(client: httpx.Client, path: str, first: bytes) -> None:
    """The relayed body starts with `first`, then ends without completing."""
    with client.stream("GET", path) as response:
        assert response.status_code == 200
        pieces = response.iter_raw()
        assert next(pieces) == first
        with pytest.raises(httpx.RemoteProtocolError):
            next(pieces)


def test_an_upstream_failing_mid_stream_aborts_the_response(
    relay: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    assert_cut_off(relay, "/relay/broken", b"partial")
    assert "/broken: stream aborted by an error (RemoteProtocolError) after 7" in caplog.text


def test_an_upstream_silent_mid_stream_aborts_the_response(
    impatient: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    assert_cut_off(impatient, "/relay/stall/mid-stream", b"first")
    assert "/stall/mid-stream: stream aborted by an error (ReadTimeout) after 5" in caplog.text


@pytest.mark.parametrize("path", ["endless", "stall"], ids=["upstream-busy", "upstream-quiet"])
def test_a_client_that_leaves_closes_the_upstream_request(
    relay: httpx.Client, upstream: tuple[Upstream, str], path: str
) -> None:
    # The relay's read timeout is 10 s: only the client leaving can end a quiet stream sooner.
    ended = upstream[0].ended[f"left-{path}"]
    with relay.stream("GET", f"/relay/{path}/left-{path}") as response:
        # Hold the iterator: dropping it would close the connection at once.
        pieces = response.iter_raw()
        assert next(pieces)
        time.sleep(0.05)
        assert not ended.is_set()
    assert ended.wait(3), "the upstream kept streaming to a relay whose client had left"


def test_a_client_that_leaves_before_the_upstream_answers_frees_the_connection_at_once(
    settings: Settings, upstream: tuple[Upstream, str]
) -> None:
    # One upstream connection, a read timeout far beyond the test: only the
    # client leaving can free the connection the hanging request holds.
    single = relay_settings(
        settings, upstream[1], upstream_max_connections=1, upstream_connect_timeout=0.5
    )
    arrived, ended = upstream[0].arrived["departed"], upstream[0].ended["departed"]
    with serve(create_app(single)) as url, httpx.Client(base_url=url, timeout=5) as client:
        # A client that leaves once the upstream has its request (sooner, on a
        # loaded machine, it could leave before the relay had sent it on).
        host, port = client.base_url.host, client.base_url.port or 80
        with socket.create_connection((host, port)) as leaving:
            leaving.sendall(b"GET /relay/hang/departed HTTP/1.1\r\nHost: relay\r\n\r\n")
            assert arrived.wait(10), "the relay did not send the request on"
        assert ended.wait(5), "the upstream request outlived the client that made it"
        assert client.get("/relay/echo/next").status_code == 200


def test_requests_share_the_pooled_connection(relay: httpx.Client) -> None:
    ports = {relay.get("/relay/echo/pool").json()["port"] for _ in range(3)}
    assert len(ports) == 1


def test_an_idle_upstream_connection_is_dropped_after_the_keepalive(
    settings: Settings, upstream: tuple[Upstream, str]
) -> None:
    brief = relay_settings(settings, upstream[1], upstream_keepalive_seconds=0.2)
    with serve(create_app(brief)) as url, httpx.Client(base_url=url, timeout=5) as client:
        first = client.get("/relay/echo/idle").json()["port"]
        time.sleep(0.5)
        # Past UPSTREAM_KEEPALIVE_SECONDS the pooled connection is gone: a new one is opened.
        assert client.get("/relay/echo/idle").json()["port"] != first


def test_an_upstream_silent_past_the_read_timeout_is_a_504(impatient: httpx.Client) -> None:
    started = time.monotonic()
    response = impatient.get("/relay/silent")
    assert response.status_code == 504
    assert response.json() == {"detail": "the upstream did not answer in time"}
    assert SHORT_READ_TIMEOUT <= time.monotonic() - started < SHORT_READ_TIMEOUT + 3


def test_a_path_cannot_climb_out_of_the_upstream_base(
    relay: httpx.Client, upstream: tuple[Upstream, str]
) -> None:
    before = list(upstream[0].paths)
    for target in ("/relay/echo/%2e%2e/x", "/relay/echo/..%2fx", "/relay/echo%5c..%5cx"):
        assert relay.get(target).status_code == 404
    assert upstream[0].paths == before


def test_a_down_upstream_is_a_502_that_names_no_credentials(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with refused_port() as port:
        down = relay_settings(settings, f"http://relay-user:hunter2@127.0.0.1:{port}/base")
        with serve(create_app(down)) as url:
            response = httpx.get(f"{url}/relay/anything", timeout=5)
            metrics = httpx.get(f"{url}/metrics").text
    assert response.status_code == 502
    assert response.json() == {"detail": "the upstream is unreachable"}
    assert 'relay_upstream_errors_total{error="ConnectError",stage="before_headers"} 1.0' in metrics
    assert f"ConnectError from http://127.0.0.1:{port}/base" in caplog.text
    assert "hunter2" not in response.text
    assert "hunter2" not in caplog.text


def test_a_full_pool_is_a_503_after_the_connect_timeout(
    settings: Settings, upstream: tuple[Upstream, str]
) -> None:
    single = relay_settings(
        settings, upstream[1], upstream_max_connections=1, upstream_connect_timeout=0.1
    )
    gate = upstream[0].gates["pool"]
    with serve(create_app(single)) as url, httpx.Client(base_url=url, timeout=5) as client:
        with client.stream("GET", "/relay/gated/pool") as holder:
            held = holder.iter_raw()
            assert next(held) == b"first"
            busy = client.get("/relay/echo/busy")
            assert busy.status_code == 503
            assert busy.json() == {"detail": "too many relayed requests in flight, try again later"}
            gate.set()
            assert b"".join(held) == b"second"
        assert client.get("/relay/echo/free").status_code == 200
