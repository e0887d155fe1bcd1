{%- set rows = cookiecutter.format_csv or cookiecutter.format_jsonl or cookiecutter.format_json -%}
"""Shared fixtures: a seeded database, the app, and a real uvicorn server on loopback."""

import asyncio
{%- if rows %}
import os
{%- endif %}
{%- if cookiecutter.format_sse %}
import secrets
{%- endif %}
{%- if cookiecutter.format_file %}
import shutil
import tempfile
{%- endif %}
import threading
import time
{%- if rows %}
import uuid
{%- endif %}
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
{%- if rows %}
from urllib.parse import urlsplit, urlunsplit
{%- endif %}

import httpx
{%- if rows %}
import psycopg
{%- endif %}
import pytest
import uvicorn
{%- if cookiecutter.format_sse %}
from fastapi import FastAPI
{%- endif %}
{%- if rows %}
from psycopg import sql
{%- endif %}
{%- if cookiecutter.format_sse %}
from pydantic import SecretStr
{%- endif %}
{%- if rows %}
from starlette.applications import Starlette
{%- endif %}
from starlette.types import ASGIApp, Message

from {{ cookiecutter.package_name }}.app import create_app
{%- if rows %}
from {{ cookiecutter.package_name }}.database import row_source
from {{ cookiecutter.package_name }}.seed import create_sample_database
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings

{% if cookiecutter.format_sse -%}
from brokers import shared_redis_url, stream_keys
{% endif -%}
from localservers import {% if rows %}missing_service, {% endif %}not_run
from nginxproxy import nginx
{%- if rows %}

ROWS = 3_000
# The row tests run on each: the same assertions for every back-end.
BACKENDS = ("sqlite", pytest.param("postgres", marks=pytest.mark.services))
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
{%- set service_fixtures = (["postgres_server"] if rows else []) + (["redis_url"] if cookiecutter.format_sse else []) %}
{%- if service_fixtures %}

# Fixtures that reach a server beyond the app itself.
SERVICE_FIXTURES = frozenset({{ "{" }}{{ service_fixtures | map("tojson") | join(", ") }}{{ "}" }})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `services` every test that needs such a server, even through another fixture."""
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)
{%- endif %}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What did not run, in one line (unless -rs lists every skipped test)."""
    line = not_run(terminalreporter.stats.get("skipped", []))
    if line and not terminalreporter.hasopt("s"):
        terminalreporter.write_line(line, yellow=True)


class _Server(uvicorn.Server):
    """uvicorn that begins to stop as soon as it is asked, not at its next tick.

    uvicorn looks at `should_exit` every 0.1 s; the suites start and stop
    servers by the dozen, and those ticks added up to seconds.
    """

    _asked: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def ask_to_stop(self) -> None:
        """Stop now (from any thread); before the loop runs, the first tick sees it."""
        self.should_exit = True
        if self._loop is not None and self._asked is not None:
            self._loop.call_soon_threadsafe(self._asked.set)

    async def main_loop(self) -> None:
        """uvicorn's loop, woken by `ask_to_stop` as well as by the tick."""
        self._asked = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        ticks = 0
        while not await self.on_tick(ticks):
            ticks += 1
            with suppress(TimeoutError):
                await asyncio.wait_for(self._asked.wait(), 0.1)


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port; yield its base URL."""
    server = _Server(
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
        server.ask_to_stop()
        thread.join(timeout=10)


@dataclass(frozen=True)
class Proxied:
    """nginx's URL, and the URLs of the two replicas behind it."""

    url: str
    replicas: tuple[str, str]


@contextmanager
def replicas_behind_nginx(apps: Sequence[ASGIApp], folder: Path) -> Iterator[Proxied]:
    """Serve two apps, then nginx in front of them with the project's config."""
    first, second = apps
    with serve(first) as one, serve(second) as two:
        addresses = [url.removeprefix("http://") for url in (one, two)]
        with nginx(addresses, folder) as url:
            yield Proxied(url, (one, two))


{% if rows -%}
def asgi_messages(
    app: ASGIApp,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    lifespan: bool = False,
) -> list[Message]:
    """Every message `app` sends for GET `path`: shows exactly how the body was cut.

    With `lifespan`, inside the app's lifespan, as a server runs it: a
    PostgreSQL pool is open only then.
    """
{%- else -%}
def asgi_messages(app: ASGIApp, path: str, headers: dict[str, str] | None = None) -> list[Message]:
    """Every message `app` sends for GET `path`: shows exactly how the body was cut."""
{%- endif %}
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
{%- if rows %}
        if lifespan:
            assert isinstance(app, Starlette)
            async with app.router.lifespan_context(app):
                await app(scope, receive, send)
            return
{%- endif %}
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


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """TEST_POSTGRES_URL: a PostgreSQL server where the tests may create and drop databases."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        missing_service("set TEST_POSTGRES_URL to a PostgreSQL URL whose role may create databases")
    return url


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A new, empty database of its own on `server`, dropped afterwards; yields its URL.

    A unique name, so that many test sessions can share one server.
    """
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """This session's PostgreSQL database, holding the same rows as `database`."""
    with postgres_database(postgres_server) as url:
        asyncio.run(row_source(make_settings(database_url=url)).seed(ROWS))
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each back-end in turn: a test that takes it, or a fixture below, runs on each."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The back-end's database, seeded with the sample's first ROWS rows."""
    if backend == "sqlite":
        return sqlite_url(request.getfixturevalue("database"))
    url: str = request.getfixturevalue("postgres_url")
    return url
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


@pytest.fixture
def behind_nginx(
    settings: Settings, tmp_path: Path
) -> Callable[..., AbstractContextManager[Proxied]]:
    """Start two replicas behind nginx, with the test settings changed by keyword.

    For what the replicas must share, e.g. `behind_nginx(broker_url=...)`.
    """

    def start(**changes: object) -> AbstractContextManager[Proxied]:
        changed = make_settings(**(settings.model_dump() | changes))
        return replicas_behind_nginx([create_app(changed), create_app(changed)], tmp_path)

    return start


@pytest.fixture(scope="session")
def client(base_url: str) -> Iterator[httpx.Client]:
    # One client for the session: each new one loads the CA bundle (~20 ms).
    with httpx.Client(base_url=base_url, timeout=30) as http:
        yield http
{%- if rows %}


@pytest.fixture(scope="session")
def postgres_client(postgres_url: str) -> Iterator[httpx.Client]:
    """A client of the service reading the session's PostgreSQL database."""
    app = create_app(make_settings(database_url=postgres_url))
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def rows_client(backend: str, request: pytest.FixtureRequest) -> httpx.Client:
    """A client of the service on each back-end in turn (SQLite's is `client`)."""
    rows: httpx.Client = request.getfixturevalue(
        "client" if backend == "sqlite" else "postgres_client"
    )
    return rows
{%- endif %}
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


@pytest.fixture(
    scope="session", params=["memory", pytest.param("redis", marks=pytest.mark.services)]
)
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
