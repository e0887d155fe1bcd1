"""The HTTP protocol's bounds, on a real uvicorn: request heads, slow requests, stalled readers.

Raw sockets play the hostile clients, since an HTTP client library would
neither send an unfinished head nor stop reading on purpose.
"""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import httpx
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.core.http_protocol import ConnectionState, connection_state
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.servers import serve

PIECE = b"x" * 65536


def limits(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update=changes)


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


@contextmanager
def connected(url: str, receive_buffer: int | None = None) -> Iterator[socket.socket]:
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect(address(url))
    try:
        yield sock
    finally:
        sock.close()


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    try:
        while piece := sock.recv(65536):
            received += piece
    except ConnectionResetError:
        pass
    return received


def request(path: str = "/healthz", extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: test\r\n" + extra + b"\r\n"


def test_an_oversized_request_head_is_refused_with_431(settings: Settings) -> None:
    with serve(create_app(settings), settings) as url, connected(url) as sock:
        # An unfinished header ten times the bound: the server answers before it ends.
        # (The server may close while it is still being sent.)
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 655_360)
        reply = read_all(sock)
    assert reply.startswith(b"HTTP/1.1 431 ")
    assert reply.endswith(b"request line and headers too large")


def test_a_head_within_the_bound_is_served_and_the_next_request_too(settings: Settings) -> None:
    small = limits(settings, request_head_max_bytes=4096)
    head = request(extra=b"X-Fill: " + b"a" * 3000 + b"\r\n")
    assert len(head) < 4096
    with serve(create_app(small), small) as url, connected(url) as sock:
        # Two requests in one write (pipelined): each head is counted on its own.
        sock.sendall(head + request(extra=b"Connection: close\r\n"))
        replies = read_all(sock)
    assert replies.count(b"HTTP/1.1 200 OK") == 2


def test_a_request_that_trickles_in_gets_a_408(settings: Settings) -> None:
    quick = limits(settings, request_timeout=0.5)
    with serve(create_app(quick), quick) as url:
        started = time.monotonic()  # before connecting: the server's clock starts then
        with connected(url) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
            sock.settimeout(0.1)
            reply = b""
            # One byte of a header every 0.1 s: each arrives, the head never ends.
            while time.monotonic() - started < 10 and not reply:
                try:
                    sock.sendall(b"X")
                    reply = sock.recv(65536)
                except TimeoutError:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    break
        elapsed = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 ")
    # Not at once, nor never; event loops round their timers to the millisecond.
    assert 0.45 <= elapsed < 5


def test_a_connection_that_sends_nothing_is_closed(settings: Settings) -> None:
    quick = limits(settings, request_timeout=0.5)
    with serve(create_app(quick), quick) as url:
        started = time.monotonic()  # before connecting: the server's clock starts then
        with connected(url) as sock:
            reply = read_all(sock)
        elapsed = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 ")
    # Not at once, nor never; event loops round their timers to the millisecond.
    assert 0.45 <= elapsed < 5


def test_each_request_on_a_kept_alive_connection_has_its_own_time(settings: Settings) -> None:
    quick = limits(settings, request_timeout=0.5)
    with serve(create_app(quick), quick) as url, httpx.Client(base_url=url) as client:
        ports = set()
        for _ in range(4):
            response = client.get("/healthz")
            assert response.status_code == 200
            ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
            time.sleep(0.3)  # 1.2 s in all on one connection: more than the timeout
    assert len(ports) == 1


class Endless:
    """An app that streams pieces for as long as they are taken, and says how it ended."""

    def __init__(self) -> None:
        self.ended = threading.Event()
        self.state: ConnectionState | None = None
        self.sent = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.state = connection_state(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while not self.ended.is_set():
                await send({"type": "http.response.body", "body": PIECE, "more_body": True})
                self.sent += len(PIECE)
                await asyncio.sleep(0)
                if self.state is not None and self.state.ended_by:
                    break
        finally:
            self.ended.set()


class ResetAfterTheClientLeft:
    """An app that resets its connection once the client has left, and says what that raised."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        state = connection_state(scope)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass
        try:
            assert state is not None
            state.reset()
        except Exception as error:  # the test reports whatever it was
            self.outcome = repr(error)
        else:
            self.outcome = "no error"
        finally:
            self.done.set()


def test_a_connection_its_client_has_left_can_still_be_reset(settings: Settings) -> None:
    # The hub may drop a stream whose client left a moment ago, before the
    # stream saw it go: resetting the connection then does nothing, and raises
    # nothing into the publish that dropped it (under uvloop it raised).
    app = ResetAfterTheClientLeft()
    with serve(app, settings) as url:
        with connected(url) as sock:
            sock.sendall(request("/"))
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        assert app.done.wait(10)
    assert app.outcome == "no error"


def test_a_client_that_stops_reading_is_cut_off_after_the_send_timeout(
    settings: Settings,
) -> None:
    app = Endless()
    quick = limits(settings, send_timeout=0.5)
    with serve(app, quick) as url, connected(url, receive_buffer=65536) as sock:
        sock.sendall(request("/"))
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        # Read nothing more: the buffers fill, then the server may wait 0.5 s.
        assert app.ended.wait(10), "the server kept a response whose client stopped reading"
        elapsed = time.monotonic() - started
    assert app.state is not None
    assert app.state.ended_by == "timeout"
    assert elapsed < 8
    # What the server wrote for it before waiting: the client's receive buffer,
    # what the kernel may hold unsent (SEND_BUFFER_BYTES), the transport's buffer
    # and a piece; never the megabytes a kernel's own buffer grows to.
    assert app.sent <= 2 * 65536 + quick.send_buffer_bytes + 4 * len(PIECE)


def test_a_client_that_reads_slowly_but_steadily_is_not_cut_off(settings: Settings) -> None:
    app = Endless()
    quick = limits(settings, send_timeout=0.5)
    with serve(app, quick) as url, connected(url, receive_buffer=65536) as sock:
        sock.sendall(request("/"))
        received = 0
        deadline = time.monotonic() + 2  # four send timeouts
        while time.monotonic() < deadline:
            received += len(sock.recv(16384))
            time.sleep(0.05)
        app.ended.set()
    assert app.state is not None
    assert app.state.ended_by is None
    assert received > 16384 * 10


def test_many_oversized_heads_at_once_leave_the_server_answering(settings: Settings) -> None:
    with serve(create_app(settings), settings) as url:
        socks = []
        try:
            for _ in range(20):
                sock = socket.create_connection(address(url), timeout=5)
                socks.append(sock)
                with suppress(BrokenPipeError, ConnectionResetError):
                    sock.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 1024 * 1024)
            assert httpx.get(url + "/healthz", timeout=5).status_code == 200
            replies = [read_all(sock) for sock in socks]
        finally:
            for sock in socks:
                sock.close()
    assert all(reply.startswith(b"HTTP/1.1 431 ") for reply in replies)
