"""The row tests run on each back-end: the same assertions for SQLite and PostgreSQL."""

from collections.abc import Iterator

import httpx
import pytest

from {{ cookiecutter.package_name }}.app import create_app

from ..support.databases import postgres_database, sqlite_url
from ..support.servers import long_lived_client, serve
from ..support.settings import make_settings

BACKENDS = ("sqlite", pytest.param("postgres", marks=pytest.mark.services))


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


@pytest.fixture
def fresh_postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test's own."""
    with postgres_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_client(postgres_url: str) -> Iterator[httpx.Client]:
    """A client of the service reading the session's PostgreSQL database."""
    app = create_app(make_settings(database_url=postgres_url))
    with serve(app) as url, long_lived_client(url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def rows_client(backend: str, request: pytest.FixtureRequest) -> httpx.Client:
    """A client of the service on each back-end in turn (SQLite's is `client`)."""
    rows: httpx.Client = request.getfixturevalue(
        "client" if backend == "sqlite" else "postgres_client"
    )
    return rows
