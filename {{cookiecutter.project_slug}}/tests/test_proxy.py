{%- set rows = cookiecutter.__rows -%}
{%- set paths = [
    "/items.csv?limit=25" if cookiecutter.format_csv else "",
    "/items.jsonl?limit=14" if cookiecutter.format_jsonl else "",
    "/items.json?limit=14" if cookiecutter.format_json else "",
    "/files/big.bin" if cookiecutter.format_file else "",
] | select | list -%}
"""The service behind nginx, run with deploy/nginx.conf.template: streams pass through as sent.

Two replicas on loopback behind the real nginx (skipped when nginx is absent;
a failure under REQUIRE_SERVICES=1). A "slow source" is the real app whose body
messages after the first are held back by the seconds an `X-Test-Pause` header
asks for: a buffering proxy would hold its small pieces back until the end.
"""

import asyncio
{%- if cookiecutter.format_file %}
import email.policy
{%- endif %}
import logging
{%- if cookiecutter.format_file %}
import os
{%- endif %}
import re
import socket
import time
from collections.abc import {% if cookiecutter.format_sse %}Callable, {% endif %}Iterator
{%- if cookiecutter.format_sse %}
from contextlib import AbstractContextManager, ExitStack, suppress
from functools import partial
{%- else %}
from contextlib import suppress
{%- endif %}

import httpx
import pytest
{%- if cookiecutter.format_sse %}
from pydantic import SecretStr
{%- endif %}
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

{% if paths -%}
from tests.support.asgi import asgi_messages
{% endif -%}
from tests.support.nginxproxy import TEMPLATE
from tests.support.servers import Proxied, long_lived_client, replicas_behind_nginx
{%- if cookiecutter.format_sse %}
from tests.support.settings import BROKER_TIMINGS, PUBLISH_TOKEN
{%- endif %}
{%- if cookiecutter.format_sse %}
from tests.support.ssewire import raw_stream
{%- endif %}

pytestmark = pytest.mark.services

STREAM_LOG = "{{ cookiecutter.package_name }}.core.stream_log"

PAUSE = 0.15  # seconds between the pieces of a slow source
{%- if paths %}
STREAMED = [
{%- for path in paths %}
    "{{ path }}",
{%- endfor %}
]
{%- endif %}
{%- if cookiecutter.format_file %}
DATA = os.urandom(2048)
{%- endif %}


def paced(app: ASGIApp) -> ASGIApp:
    """`app`, holding back each body message after the first by `X-Test-Pause` seconds."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        pause = float(Headers(scope=scope).get("x-test-pause", 0)) if scope["type"] == "http" else 0
        started = False

        async def paced_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.body":
                if started and pause:
                    await asyncio.sleep(pause)
                started = True
            await send(message)

        await app(scope, receive, paced_send)

    return wrapper
{%- if rows or cookiecutter.format_file %}


@pytest.fixture(scope="module")
def replica_settings(settings: Settings{% if cookiecutter.format_file %}, tmp_path_factory: pytest.TempPathFactory{% endif %}) -> Settings:
    """Small pieces (smaller than nginx's buffers), so buffering would show."""
{%- if cookiecutter.format_file %}
    root = tmp_path_factory.mktemp("proxied-files")
    (root / "big.bin").write_bytes(DATA)
    return settings.model_copy(update={"chunk_size": 512, "files_dir": root})
{%- else %}
    return settings.model_copy(update={"chunk_size": 512})
{%- endif %}


@pytest.fixture(scope="module")
def proxied(
    replica_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Proxied]:
    apps = [paced(create_app(replica_settings)) for _ in range(2)]
{%- else %}


@pytest.fixture(scope="module")
def proxied(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    apps = [paced(create_app(settings)) for _ in range(2)]
{%- endif %}
    with replicas_behind_nginx(apps, tmp_path_factory.mktemp("nginx")) as proxied:
        yield proxied


@pytest.fixture(scope="module")
def http(proxied: Proxied) -> Iterator[httpx.Client]:
    with long_lived_client(proxied.url) as client:
        yield client


def nginx_setting(name: str) -> str:
    """The value of a directive in the shipped config."""
    found = re.search(rf"^\s*{name}\s+([^;]+);", TEMPLATE.read_text(), re.MULTILINE)
    assert found, f"{name} is not set in {TEMPLATE.name}"
    return found.group(1)


def seconds(value: str) -> float:
    assert value.endswith("s"), value
    return float(value.removesuffix("s"))


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    with suppress(ConnectionResetError):
        while piece := sock.recv(65536):
            received += piece
    return received


def test_nginx_refuses_an_oversized_header_line(proxied: Proxied) -> None:
    _, size = nginx_setting("large_client_header_buffers").split()
    limit = int(size.removesuffix("k")) * 1024
    host, port = proxied.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4 * limit)
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert b"Request Header Or Cookie Too Large" in reply


def test_nginx_closes_connections_that_trickle_their_headers(
    proxied: Proxied, http: httpx.Client
) -> None:
    timeout = seconds(nginx_setting("client_header_timeout"))
    host, port = proxied.url.removeprefix("http://").split(":")
    socks = [socket.create_connection((host, int(port)), timeout=10) for _ in range(50)]
    try:
        for sock in socks:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            sock.setblocking(False)
        started = time.monotonic()
        open_socks = set(socks)
        # One header byte from each every 0.5 s, until nginx has closed them all.
        while open_socks and time.monotonic() - started < timeout + 10:
            for sock in list(open_socks):
                try:
                    sock.send(b"X")
                    if sock.recv(65536) == b"":
                        open_socks.discard(sock)
                except BlockingIOError:
                    continue
                except OSError:
                    open_socks.discard(sock)
            assert http.get("/healthz").status_code == 200
            time.sleep(0.5)
        elapsed = time.monotonic() - started
    finally:
        for sock in socks:
            sock.close()
    assert not open_socks, f"{len(open_socks)} slow-header connections outlived the timeout"
    assert timeout - 1 <= elapsed < timeout + 10


def test_a_forged_x_forwarded_for_is_not_taken_for_the_client(
    http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=STREAM_LOG)
    headers = {"X-Forwarded-For": "203.0.113.66", "X-Request-ID": "forged-xff"}
    assert http.get("/healthz", headers=headers).status_code == 200
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().endswith("id forged-xff")]
    # The replica logs the address nginx saw (this test, on loopback), not the forged one.
    assert line.startswith("127.0.0.1:")
    assert "203.0.113.66" not in line


def test_requests_reach_the_replicas_through_nginx(http: httpx.Client) -> None:
    for _ in range(4):
        response = http.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert response.headers["server"].startswith("nginx")
{%- if paths %}


@pytest.mark.parametrize("path", STREAMED)
def test_pieces_pass_through_nginx_as_the_service_sends_them(
    http: httpx.Client, replica_settings: Settings, path: str
) -> None:
    messages = asgi_messages(create_app(replica_settings), path, {"Accept-Encoding": "identity"})
    pieces = [m["body"] for m in messages if m["type"] == "http.response.body" and m["body"]]
    assert len(pieces) >= 4, "the source must be slow for long enough to tell"
    headers = {"Accept-Encoding": "identity", "X-Test-Pause": str(PAUSE)}
    started = time.monotonic()
    with http.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200
        chunks = response.iter_raw()
        first = next(chunks)
        first_byte = time.monotonic() - started
        body = first + b"".join(chunks)
        finished = time.monotonic() - started
    assert body == b"".join(pieces)
    # The slow source takes (pieces - 1) pauses; the first piece must not wait for them.
    assert finished >= (len(pieces) - 1) * PAUSE
    # Well before the end, however loaded the machine: not after the pauses.
    assert first_byte < finished - 2 * PAUSE
{%- endif %}
{%- if cookiecutter.format_file %}


def test_a_range_passes_through_nginx_as_a_206(http: httpx.Client) -> None:
    response = http.get("/files/big.bin", headers={"Range": "bytes=100-1099"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-1099/{len(DATA)}"
    assert response.content == DATA[100:1100]


def test_several_ranges_pass_through_nginx_as_multipart_byteranges(http: httpx.Client) -> None:
    response = http.get("/files/big.bin", headers={"Range": "bytes=0-9, 1500-1799, -7"})
    assert response.status_code == 206
    head = f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode()
    message = email.message_from_bytes(head + response.content, policy=email.policy.default)
    assert message.get_content_type() == "multipart/byteranges"
    parts = [(part["Content-Range"], part.get_content()) for part in message.iter_parts()]
    size = len(DATA)
    assert parts == [
        (f"bytes 0-9/{size}", DATA[:10]),
        (f"bytes 1500-1799/{size}", DATA[1500:1800]),
        (f"bytes {size - 7}-{size - 1}/{size}", DATA[-7:]),
    ]
{%- endif %}
{%- if rows %}


def test_compression_happens_once_in_the_service(http: httpx.Client, proxied: Proxied) -> None:
    path = STREAMED[0]
    with httpx.Client(base_url=proxied.replicas[0], timeout=10) as direct:
        plain = direct.get(path, headers={"Accept-Encoding": "identity"})
    response = http.get(path, headers={"Accept-Encoding": "{{ 'gzip' if cookiecutter.compression == 'none' else cookiecutter.compression }}"})
    assert response.status_code == 200
{%- if cookiecutter.compression == "none" %}
    # The service does not compress; nginx must not either.
    assert "content-encoding" not in response.headers
{%- else %}
    assert response.headers["content-encoding"] == "{{ cookiecutter.compression }}"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.num_bytes_downloaded < len(plain.content)
{%- endif %}
    assert response.content == plain.content
{%- endif %}
{%- if cookiecutter.format_sse %}


def test_events_arrive_through_nginx_as_they_are_published(
    behind_nginx: Callable[..., AbstractContextManager[Proxied]],
) -> None:
    with (
        behind_nginx(publish_token=SecretStr(PUBLISH_TOKEN)) as proxied,
        raw_stream(proxied.url) as stream,
    ):
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        # The stream landed on one replica; publish on both, so one reaches it.
        started = time.monotonic()
        for number, replica in enumerate(proxied.replicas):
            response = httpx.post(
                replica + "/events",
                json={"event": "tick", "data": {"replica": number}},
                headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
            )
            assert response.status_code == 202
        stream.read_until(lambda: bool(stream.events))
        first_event = time.monotonic() - started
    assert stream.events[0].type == "tick"
    assert stream.events[0].data in {'{"replica":0}', '{"replica":1}'}
    # Buffered, a small event would wait for more (for ever here); generous for a loaded machine.
    assert first_event < 3.0


def test_a_publish_on_one_replica_reaches_the_streams_of_both_through_nginx(
    behind_nginx: Callable[..., AbstractContextManager[Proxied]],
    redis_url: str,
    new_stream_key: Callable[[], str],
) -> None:
    shared = {"broker_url": redis_url, "sse_stream": new_stream_key(), **BROKER_TIMINGS}
    with (
        behind_nginx(publish_token=SecretStr(PUBLISH_TOKEN), **shared) as proxied,
        ExitStack() as stack,
    ):
        # nginx takes turns between the replicas: four streams land on both.
        streams = [stack.enter_context(raw_stream(proxied.url)) for _ in range(4)]
        response = httpx.post(
            proxied.replicas[0] + "/events",
            json={"event": "tick", "data": "once"},
            headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
        )
        assert response.status_code == 202
        published = response.json()
        for stream in streams:
            stream.read_until(partial(bool, stream.events))
    # The replica that took the publish holds only some of the streams itself.
    assert 0 < published["subscribers"] < len(streams)
    assert {(event.last_event_id, event.data) for stream in streams for event in stream.events} == {
        (published["id"], '"once"')
    }
{%- endif %}
