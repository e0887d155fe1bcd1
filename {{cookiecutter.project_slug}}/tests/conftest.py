{%- set plugins = (["tests.support.row_fixtures"] if cookiecutter.__rows else []) + (["tests.support.event_fixtures"] if cookiecutter.format_sse else []) -%}
"""What every test needs: the settings, the app on a real server, a client; feature fixtures."""

{% if cookiecutter.format_file -%}
import shutil
{% endif -%}
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

{% if cookiecutter.__rows -%}
from .support.databases import sqlite_url
{% endif -%}
from .support.localservers import not_run
from .support.servers import Proxied, long_lived_client, replicas_behind_nginx, serve
from .support.settings import {% if cookiecutter.format_file %}FILES_DIR, {% endif %}make_settings
{%- if plugins %}

# Fixtures of the features, for their own tests and for the tests that cross them.
{%- if plugins | length == 1 %}
pytest_plugins = [{{ plugins[0] | tojson }}]
{%- else %}
pytest_plugins = [
{%- for plugin in plugins %}
    {{ plugin | tojson }},
{%- endfor %}
]
{%- endif %}
{%- endif %}
{%- set service_fixtures = (["postgres_server"] if cookiecutter.__rows else []) + (["redis_url"] if cookiecutter.format_sse else []) %}
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


@pytest.fixture(scope="session")
def settings({% if cookiecutter.__rows %}database: Path{% endif %}) -> Settings:
    return make_settings({% if cookiecutter.__rows %}database_url=sqlite_url(database){% endif %})


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
    with long_lived_client(base_url, timeout=30) as http:
        yield http
