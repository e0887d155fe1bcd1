import asyncio
import contextlib
import gc
import json
import logging
import shutil
import socket
import sqlite3
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from starlette.types import Message

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.rows import seed
from {{ cookiecutter.package_name }}.rows.datasets import ITEMS
from {{ cookiecutter.package_name }}.rows.feature import FORMATS
from {{ cookiecutter.package_name }}.rows.formats.base import RowFormat
from {{ cookiecutter.package_name }}.rows.router import body
from {{ cookiecutter.package_name }}.rows.seed import create_sample_database
from {{ cookiecutter.package_name }}.rows.sources import postgres as postgres_source
from {{ cookiecutter.package_name }}.rows.sources.base import Row, open_cursors
from {{ cookiecutter.package_name }}.rows.sources.factory import row_source

from tests.support.databases import postgres_database, sqlite_url
from tests.support.servers import serve
from tests.support.settings import make_settings
from tests.support.wire import database_rows

# The streaming machinery, on databases that hold the sample table alone.
pytestmark = pytest.mark.usefixtures("sample_only")
PATH = f"/items.{FORMATS[0].suffix}"
BIG = 20_000


def eventually(condition: Callable[[], bool], seconds: float = 5) -> bool:
    """Poll `condition` until it holds or `seconds` pass: the server runs in another thread."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def drain(response: httpx.Response, into: bytearray) -> None:
    for piece in response.iter_bytes():
        into += piece


def busy_connections(url: str) -> list[str]:
    """States of the other connections to this PostgreSQL database that are not idle."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND state <> 'idle'"
        ).fetchall()
    return [str(state) for (state,) in rows]


@pytest.mark.parametrize("row_format", FORMATS, ids=lambda row_format: row_format.suffix)
def test_head_gives_the_headers_of_get_and_reads_no_row(
    rows_client: httpx.Client, row_format: RowFormat
) -> None:
    path = f"/items.{row_format.suffix}?limit=5"
    headers = {"Accept-Encoding": "identity"}
    head = rows_client.head(path, headers=headers)
    get = rows_client.get(path, headers=headers)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-disposition"):
        assert head.headers.get(name) == get.headers.get(name)
    assert eventually(lambda: open_cursors() == 0)


def seed_rows(url: str, rows: int) -> None:
    asyncio.run(row_source(make_settings(database_url=url)).seed(rows))


@pytest.fixture(scope="module")
def big_postgres_url(postgres_server: str) -> Iterator[str]:
    with postgres_database(postgres_server) as url:
        seed_rows(url, BIG)
        yield url


@pytest.fixture(scope="module")
def big_database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    """An export of megabytes, on each back-end: more than loopback's socket buffers swallow."""
    if backend == "postgres":
        url: str = request.getfixturevalue("big_postgres_url")
        return url
    path = tmp_path_factory.mktemp("big") / "items.db"
    create_sample_database(path, BIG)
    return sqlite_url(path)


def open_slow_client(url: str) -> socket.socket:
    """A raw HTTP/1.1 GET of PATH whose small receive window makes the server wait on it."""
    address = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    sock.sendall(f"GET {PATH} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    return sock


def test_a_client_that_leaves_mid_stream_releases_the_cursor(
    big_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with serve(create_app(make_settings(database_url=big_database_url))) as url:
        with open_slow_client(url) as sock:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            assert open_cursors() == 1
        assert eventually(lambda: open_cursors() == 0)
        assert eventually(lambda: "client went away" in caplog.text)
        # It stopped early: the log names how much was sent, less than the whole export.
        sent = int(caplog.text.split("client went away after ")[1].split()[0])
        assert sent < len(httpx.get(url + PATH).content)
        if big_database_url.startswith("postgresql"):
            # The cursor's transaction ended and its connection is back in the pool, idle.
            assert eventually(lambda: busy_connections(big_database_url) == [])


@pytest.mark.parametrize("row_format", FORMATS, ids=lambda one: one.suffix)
def test_a_stream_holds_one_batch_of_bytes_while_its_pieces_wait(
    big_database_url: str, row_format: RowFormat
) -> None:
    # No early pieces: on a loaded machine the flush timer would send what is
    # buffered while the next batch is already read, which is a timing, not a holding.
    settings = make_settings(database_url=big_database_url, flush_interval=10)
    source = row_source(settings)

    async def export(bound: float | None) -> tuple[int, list[int]]:
        """The export's size, and the memory its pieces held, traced when there is a `bound`."""
        async with source.running():
            rows = await source.open_rows(ITEMS, after_id=0, limit=None, batch_size=BIG // 2)
            sizes, held = [], []
            # What the bytes of the pieces that wait cost in Python's memory,
            # each measured while its stream waits to send it.
            if bound is not None:
                tracemalloc.start()
            try:
                async for piece in body(rows, ITEMS, row_format, settings):
                    sizes.append(len(piece))
                    if bound is None:
                        continue
                    used = tracemalloc.get_traced_memory()[0]
                    if used >= bound:
                        # Garbage in a reference cycle (asyncio's tasks make some) is held
                        # by nothing: count what is reachable. A collection per piece
                        # would be slow under tracemalloc, so only when it matters.
                        gc.collect()
                        used = tracemalloc.get_traced_memory()[0]
                    held.append(used)
            finally:
                tracemalloc.stop()
                await rows.aclose()
            return sum(sizes), held

    total, _ = asyncio.run(export(None))
    # Two batches of half the rows each: one batch of bytes (half the export)
    # and the piece that leaves, never a second copy of a batch.
    bound = 0.75 * total
    _, held = asyncio.run(export(bound))
    assert len(held) > 4
    assert max(held) < bound


def test_a_client_that_leaves_before_the_first_piece_releases_the_cursor(
    database_url: str,
) -> None:
    app = create_app(make_settings(database_url=database_url))
    messages: Iterator[Message] = iter(
        [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]
    )

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        await asyncio.sleep(0.01)  # a slow network: the disconnect is noticed first

    async def run() -> None:
        scope = {"type": "http", "method": "GET", "path": PATH, "query_string": b"", "headers": []}
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)
            assert open_cursors() == 0
            if database_url.startswith("postgresql"):
                assert await asyncio.to_thread(busy_connections, database_url) == []

    asyncio.run(run())


def test_a_database_error_mid_stream_aborts_the_body(
    database: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.db"
    shutil.copy(database, broken)
    with broken.open("r+b") as file:
        # Zero the second half of the file: the first batch still reads, a later one fails.
        size = file.seek(0, 2)
        file.seek(size // 2)
        file.write(bytes(size - size // 2))
    app = create_app(make_settings(database_url=sqlite_url(broken), batch_size=100))
    received = bytearray()
    with serve(app) as url, httpx.stream("GET", url + PATH) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            drain(response, into=received)
    assert received
    assert b"rror" not in received
    assert eventually(lambda: "stream aborted by an error" in caplog.text)
    assert eventually(lambda: open_cursors() == 0)


def test_a_postgres_connection_ended_mid_stream_aborts_the_body(
    big_postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(database_url=big_postgres_url, batch_size=100))
    with serve(app) as url, open_slow_client(url) as sock:
        received = sock.recv(4096)
        assert received.startswith(b"HTTP/1.1 200")
        assert open_cursors() == 1
        # The server ends the export's connection while it waits on this client.
        with psycopg.connect(big_postgres_url) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend' AND state <> 'idle'"
            ).fetchall()
        assert ended == [(True,)]
        sock.settimeout(10)
        while piece := sock.recv(65536):
            received += piece
    # Chunked, and cut short: no last chunk, and no error text in the body.
    assert not received.endswith(b"0\r\n\r\n")
    assert b"rror" not in received.partition(b"\r\n\r\n")[2]
    # AdminShutdown, or OperationalError when the socket closes before the message is read.
    assert eventually(lambda: "stream aborted by an error" in caplog.text)
    assert eventually(lambda: open_cursors() == 0)


def test_a_missing_database_is_a_503_not_an_empty_200(database: Path, tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    shutil.copy(database, path)
    with serve(create_app(make_settings(database_url=sqlite_url(path)))) as url:
        path.unlink()
        response = httpx.get(url + PATH)
    assert response.status_code == 503
    assert response.json() == {"detail": "the database could not be read"}


def test_a_fresh_checkout_gets_a_sample_database_at_the_default_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with serve(create_app(make_settings(sample_rows=25))) as url:  # DATABASE_URL unset
        response = httpx.get(url + PATH)
    assert response.status_code == 200
    assert (tmp_path / "data" / "items.db").exists()


def test_a_database_url_naming_no_file_stops_the_service(tmp_path: Path) -> None:
    mistyped = tmp_path / "itmes.db"
    with pytest.raises(SystemExit) as stopped:
        create_app(make_settings(database_url=sqlite_url(mistyped)))
    message = str(stopped.value)
    assert message.startswith(f"cannot serve rows: DATABASE_URL names {mistyped}, which does not")
    assert "\n" not in message
    assert not mistyped.exists()


def test_a_dataset_whose_column_is_missing_stops_the_service(tmp_path: Path) -> None:
    path = tmp_path / "items.db"
    with closing(sqlite3.connect(path)) as connection:
        columns = ", ".join(name for name in ITEMS.columns if name != "note")
        connection.execute(f"CREATE TABLE items ({columns})")
    with pytest.raises(SystemExit) as stopped:
        create_app(make_settings(database_url=sqlite_url(path)))
    assert str(stopped.value) == (
        f"cannot serve rows: dataset items: table items has no column note in {path}"
    )


def test_a_postgres_database_without_the_table_stops_the_service_until_seeded(
    fresh_postgres_url: str,
) -> None:
    with pytest.raises(SystemExit) as stopped:
        create_app(make_settings(database_url=fresh_postgres_url))
    message = str(stopped.value)
    assert message.startswith("cannot serve rows: dataset items: no table items in postgresql://")
    assert "seed` makes it" in message
    seed_rows(fresh_postgres_url, 25)
    with serve(create_app(make_settings(database_url=fresh_postgres_url))) as url:
        assert len(httpx.get(url + PATH).content) > 0
        with psycopg.connect(fresh_postgres_url) as connection:
            connection.execute("DROP TABLE items")
        response = httpx.get(url + PATH)
    assert response.status_code == 503
    assert response.json() == {"detail": "the database could not be read"}


def test_a_postgres_database_that_does_not_exist_stops_the_service(postgres_server: str) -> None:
    url = urlunsplit(urlsplit(postgres_server)._replace(path="/no_such_database_here"))
    with pytest.raises(SystemExit) as stopped:
        create_app(make_settings(database_url=url))
    assert str(stopped.value).startswith("cannot serve rows: DATABASE_URL=postgresql://")
    assert str(stopped.value).endswith("/no_such_database_here: the server has no such database")


def test_seed_replaces_the_sample_table_and_leaves_the_others(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = sqlite_url(tmp_path / "shop.db")
        with closing(sqlite3.connect(tmp_path / "shop.db")) as lite, lite:
            lite.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT)")
            lite.execute("INSERT INTO orders VALUES (1, '9.99')")
    else:
        url = request.getfixturevalue("fresh_postgres_url")
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE orders (id bigint PRIMARY KEY, total text)")
            connection.execute("INSERT INTO orders VALUES (1, '9.99')")
    seed_rows(url, 10)
    seed_rows(url, 20)
    assert [row[0] for row in database_rows(url, ITEMS)] == list(range(1, 21))
    assert query(url, "SELECT id, total FROM orders") == [(1, "9.99")]


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    """All rows of `sql`, read straight from the database at `url`."""
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            return connection.execute(sql).fetchall()
    with psycopg.connect(url) as connection:
        return connection.execute(sql).fetchall()


def test_a_postgres_that_does_not_answer_is_a_503_and_no_password_is_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # a port nobody listens on
        port = unused.getsockname()[1]
    password = "pw-7f3e-do-not-print"  # noqa: S105 - a test value
    database_url = f"postgresql://app:{password}@127.0.0.1:{port}/items"
    app = create_app(make_settings(database_url=database_url, database_pool_timeout=0.1))
    with serve(app) as url:
        response = httpx.get(url + PATH)
        health = httpx.get(url + "/healthz")
    assert response.status_code == 503
    assert response.json() == {"detail": "the database could not be read"}
    assert health.json() == {"status": "ok"}
    assert "cannot read items from postgresql://app:***@127.0.0.1" in caplog.text
    for text in (caplog.text, response.text, health.text):
        assert password not in text


def test_every_pooled_connection_busy_is_a_503_after_the_pool_timeout(postgres_url: str) -> None:
    settings = make_settings(
        database_url=postgres_url, database_pool_max=1, database_pool_timeout=0.3
    )
    app = create_app(settings)
    started = asyncio.Event()

    def requested() -> Callable[[], Awaitable[Message]]:
        messages: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> Message:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client never leaves
            raise AssertionError

        return receive

    async def stuck(message: Message) -> None:
        # A client that takes the headers, then nothing: the export keeps its connection.
        if message["type"] == "http.response.start":
            started.set()
        await asyncio.Event().wait()

    async def run() -> list[Message]:
        scope = {"type": "http", "method": "GET", "path": PATH, "query_string": b"", "headers": []}
        async with app.router.lifespan_context(app):
            holding = asyncio.create_task(app(scope, requested(), stuck))
            await started.wait()
            sent: list[Message] = []

            async def send(message: Message) -> None:
                sent.append(message)

            waited = time.monotonic()
            await app(scope, requested(), send)
            assert 0.3 <= time.monotonic() - waited < 5
            holding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await holding
            return sent

    sent = asyncio.run(run())
    assert sent[0]["status"] == 503
    assert json.loads(sent[1]["body"]) == {"detail": "the database could not be read"}


def test_an_interrupted_seed_leaves_the_old_table_whole(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    rows = seed.sample_rows

    def failing(count: int) -> Iterator[Row]:
        yield from rows(count // 2)
        raise OSError("disk full")

    if backend == "sqlite":
        path = tmp_path / "items.db"
        create_sample_database(path, 10)
        monkeypatch.setattr(seed, "sample_rows", failing)
        with pytest.raises(OSError, match="disk full"):
            create_sample_database(path, 100)
        assert [row[0] for row in database_rows(sqlite_url(path), ITEMS)] == list(range(1, 11))
        assert query(sqlite_url(path), "SELECT name FROM sqlite_master") == [("items",)]
        assert [p.name for p in tmp_path.iterdir()] == ["items.db"]
        return
    url = request.getfixturevalue("fresh_postgres_url")
    seed_postgres = row_source(make_settings(database_url=url)).seed
    asyncio.run(seed_postgres(10))
    monkeypatch.setattr(postgres_source, "sample_rows", failing)
    with pytest.raises(OSError, match="disk full"):
        asyncio.run(seed_postgres(100))
    assert [row[0] for row in database_rows(url, ITEMS)] == list(range(1, 11))
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    assert tables == [("items",)]
