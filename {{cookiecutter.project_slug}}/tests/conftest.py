{%- set rows = cookiecutter.format_csv or cookiecutter.format_jsonl or cookiecutter.format_json -%}
"""Shared fixtures: a seeded database, the app, and a real uvicorn server on loopback."""

import asyncio
{%- if cookiecutter.format_sse %}
import secrets
{%- endif %}
{%- if cookiecutter.format_file %}
import shutil
import tempfile
{%- endif %}
import threading
import time
from collections.abc import {% if cookiecutter.format_sse %}Callable, {% endif %}Iterator
from contextlib import contextmanager
{%- if rows or cookiecutter.format_file %}
from pathlib import Path
{%- endif %}

import httpx
import pytest
import uvicorn
{%- if cookiecutter.format_sse %}
from fastapi import FastAPI
from pydantic import SecretStr
{%- endif %}
from starlette.types import ASGIApp, Message

from {{ cookiecutter.package_name }}.app import create_app
{%- if rows %}
from {{ cookiecutter.package_name }}.seed import create_sample_database
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- if cookiecutter.format_sse %}

from brokers import shared_redis_url, stream_keys
{%- endif %}
{%- if rows %}

ROWS = 3_000
{%- endif %}
{%- if cookiecutter.format_sse %}

PUBLISH_TOKEN = secrets.token_urlsafe(24)
# Small, so that replay limits and dropped subscribers show within a test; the
# keep-alive is long, so that a disconnect seen within it was not seen by a write.
EVENT_SETTINGS = {
    "sse_history": 8,
    "sse_queue_size": 8,
    "sse_keepalive_seconds": 5.0,
    "sse_retry_ms": 1500,
}
# With Redis: give up on it, and try it again, quickly.
BROKER_TIMINGS = {"broker_timeout_seconds": 2.0, "broker_backoff_max_seconds": 0.1}
{%- endif %}
{%- if cookiecutter.format_file %}

# FILES_DIR for the apps tests build: an empty directory, so none of them writes
# a sample into the project. The file tests serve trees of their own.
FILES_DIR = Path(tempfile.mkdtemp(prefix="files-"))
{%- endif %}


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def asgi_messages(app: ASGIApp, path: str, headers: dict[str, str] | None = None) -> list[Message]:
    """Every message `app` sends for GET `path`: shows exactly how the body was cut."""
    target, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[Message] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    asyncio.run(run())
    return sent


def make_settings(**changes: object) -> Settings:
    """Settings for tests, whatever the environment says: values are given, not read."""
    values: dict[str, object] = {
        "log_level": "info",
{%- if rows %}
        "batch_size": 500,
        "chunk_size": 4096,
{%- endif %}
{%- if cookiecutter.format_file %}
        "files_dir": FILES_DIR,
{%- endif %}
    }
    return Settings.model_validate(values | changes)
{%- if rows %}


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "items.db"
    create_sample_database(path, ROWS)
    return path
{%- endif %}


@pytest.fixture(scope="session")
def settings({% if rows %}database: Path{% endif %}) -> Settings:
    return make_settings({% if rows %}database_url=sqlite_url(database){% endif %})


{%- if cookiecutter.format_file %}


@pytest.fixture(scope="session", autouse=True)
def remove_files_dir() -> Iterator[None]:
    yield
    shutil.rmtree(FILES_DIR, ignore_errors=True)
{%- endif %}


@pytest.fixture(scope="session")
def base_url(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
def client(base_url: str) -> Iterator[httpx.Client]:
    # One client for the session: each new one loads the CA bundle (~20 ms).
    with httpx.Client(base_url=base_url, timeout=30) as http:
        yield http
{%- if cookiecutter.format_sse %}


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis (TEST_REDIS_URL); skipped without it."""
    return shared_redis_url()


@pytest.fixture(scope="session")
def new_stream_key(redis_url: str) -> Iterator[Callable[[], str]]:
    """Stream keys of this session's own, deleted at its end."""
    with stream_keys(redis_url) as new_key:
        yield new_key


@pytest.fixture(scope="session", params=["memory", "redis"])
def broker(request: pytest.FixtureRequest) -> dict[str, object]:
    """The settings that pick the hub: in this process, or through the shared Redis."""
    if request.param == "memory":
        return {}
    new_key: Callable[[], str] = request.getfixturevalue("new_stream_key")
    url: str = request.getfixturevalue("redis_url")
    return {"broker_url": url, "sse_stream": new_key(), **BROKER_TIMINGS}


@pytest.fixture(scope="session")
def events_app(settings: Settings, broker: dict[str, object]) -> FastAPI:
    """The app with a publish token and the event settings above, on each hub."""
    changes = {"publish_token": SecretStr(PUBLISH_TOKEN), **EVENT_SETTINGS, **broker}
    return create_app(make_settings(**(settings.model_dump() | changes)))


@pytest.fixture(scope="session")
def events_url(events_app: FastAPI) -> Iterator[str]:
    with serve(events_app) as url:
        yield url
{%- endif %}
