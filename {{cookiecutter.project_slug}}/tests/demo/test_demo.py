{%- set rows = cookiecutter.__rows -%}
{%- set sections = (["events"] if cookiecutter.format_sse else []) + (["exports"] if rows else []) + (["downloads"] if cookiecutter.format_file else []) + (["relay"] if cookiecutter.format_relay else []) -%}
"""The demo page at `/`: served as it is, and working in a real browser.

The browser tests drive headless Chromium against uvicorn on loopback and read
what the page shows from the `data-*` attributes it sets beside the text a
person reads. They are marked `services`: they need a browser beyond the app.
"""

{% if rows -%}
import sqlite3
{% endif -%}
from collections.abc import Iterator
{%- if rows %}
from contextlib import closing
{%- endif %}
from html.parser import HTMLParser
{%- if rows or cookiecutter.format_file %}
from pathlib import Path
{%- endif %}

import httpx
import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect
{%- if cookiecutter.format_sse %}
from pydantic import SecretStr
{%- endif %}

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.demo.router import HEADERS, STATIC
{%- if rows %}
from {{ cookiecutter.package_name }}.rows.datasets import Dataset
from {{ cookiecutter.package_name }}.rows.feature import FORMATS
{%- endif %}

from tests.support.browser import chromium
{% if rows -%}
from tests.support.databases import sqlite_url
from tests.support.row_fixtures import served
{% endif -%}
from tests.support.servers import serve
from tests.support.settings import {% if cookiecutter.format_sse %}PUBLISH_TOKEN, {% endif %}make_settings

SECTIONS = {{ sections | tojson }}
# Generous: a bound on how long the page may take, never a measurement.
WAIT_MS = 30_000
{%- if cookiecutter.format_file %}
# A name the page must percent-encode, in a folder of its own.
FILE_NAME = "notes/größe 1.txt"
FILE_BODY = "a line of text\n" * 20_000
{%- endif %}


class _References(HTMLParser):
    """The `src` and `href` of every element, and the id of every section."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.sections: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.links += [value for key, value in attrs if key in {"src", "href"} and value]
        if tag == "section" and found.get("id"):
            self.sections.append(str(found["id"]))


def references(page: str) -> _References:
    parsed = _References()
    parsed.feed(page)
    return parsed


def test_the_page_and_its_files_are_served(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == HEADERS["Content-Security-Policy"]
    files = [link for link in references(page.text).links if link.startswith("demo/")]
    assert "demo/demo.css" in files
    for link in files:
        served = client.get(f"/{link}")
        assert served.status_code == 200, link
        assert served.content == (STATIC / link.removeprefix("demo/")).read_bytes()
    # The scripts the page loads import the shared one.
    assert client.get("/demo/demo.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/demo/missing.js").status_code == 404
    assert client.get("/demo/..%2Frouter.py").status_code == 404


def test_the_page_shows_the_features_of_this_service_alone(client: httpx.Client) -> None:
    assert references(client.get("/").text).sections == SECTIONS


def test_the_page_stays_out_of_the_openapi_document(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [path for path in paths if path.startswith("/demo")]
{%- if cookiecutter.format_file %}


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = tmp_path_factory.mktemp("demo-files")
    (files / FILE_NAME).parent.mkdir()
    (files / FILE_NAME).write_text(FILE_BODY, encoding="utf-8")
    return files
{%- endif %}
{%- set params = (["database: Path"] if rows else []) + (["demo_files: Path"] if cookiecutter.format_file else []) + (["base_url: str"] if cookiecutter.format_relay else []) %}


@pytest.fixture(scope="module")
def demo_url({{ params | join(", ") }}) -> Iterator[str]:
    """The service with every part of the page usable{% if cookiecutter.format_relay %}; its relay points at `base_url`{% endif %}."""
{%- set changes = (["database_url=sqlite_url(database)"] if rows else []) + (["publish_token=SecretStr(PUBLISH_TOKEN)"] if cookiecutter.format_sse else []) + (["files_dir=demo_files"] if cookiecutter.format_file else []) + (["upstream_url=base_url"] if cookiecutter.format_relay else []) %}
{%- if (changes | join(", ") | length) <= 70 %}
    settings = make_settings({{ changes | join(", ") }})
{%- else %}
    settings = make_settings(
{%- for change in changes %}
        {{ change }},
{%- endfor %}
    )
{%- endif %}
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def console_errors() -> list[str]:
    """What the page wrote to the console as errors, and what it threw."""
    return []


@pytest.fixture
def page(browser: BrowserContext, console_errors: list[str]) -> Iterator[Page]:
    opened = browser.new_page()
    opened.set_default_timeout(WAIT_MS)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"{message.text} ({message.location['url']})")

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    try:
        yield opened
    finally:
        opened.close()


def ready(page: Page, url: str) -> None:
    """Open the page and wait until each part of it has done what it does on load."""
    page.goto(url)
{%- if cookiecutter.format_sse %}
    expect(page.locator("#feed-state")).to_have_attribute("data-state", "open", timeout=WAIT_MS)
{%- endif %}
{%- if rows %}
    expect(page.locator("#exports-state")).to_have_attribute("data-state", "ready", timeout=WAIT_MS)
{%- endif %}


@pytest.mark.services
def test_the_page_loads_without_console_errors(
    page: Page, demo_url: str, console_errors: list[str]
) -> None:
    ready(page, demo_url)
    assert page.locator("section").evaluate_all("nodes => nodes.map(node => node.id)") == SECTIONS
{%- if rows %}
    assert page.locator("#export-list tr").evaluate_all(
        "rows => rows.map(row => row.dataset.path)"
    ) == [path for path, _ in exports()]
{%- endif %}
    docs = page.locator("#docs")
    assert docs.evaluate("link => link.href") == f"{demo_url}/docs"
    assert httpx.get(f"{demo_url}/docs").status_code == 200
    assert console_errors == []
{%- if cookiecutter.format_sse %}


@pytest.mark.services
def test_a_published_event_appears_in_the_feed(
    page: Page, demo_url: str, console_errors: list[str]
) -> None:
    ready(page, demo_url)
    page.fill("#token", PUBLISH_TOKEN)
    page.fill("#event-name", "demo.check")
    page.fill("#event-data", '{"n": 7, "text": "grüße, \\"quoted\\""}')
    page.click("#publish button[type=submit]")
    published = page.locator("#published")
    expect(published).to_have_attribute("data-state", "published", timeout=WAIT_MS)
    event_id = published.get_attribute("data-id")
    assert event_id
    item = page.locator(f'#feed li[data-id="{event_id}"]')
    expect(item).to_have_attribute("data-event", "demo.check", timeout=WAIT_MS)
    assert item.locator("code").text_content() == '{"n":7,"text":"grüße, \\"quoted\\""}'
    assert console_errors == []


@pytest.mark.services
def test_a_wrong_token_is_refused_in_the_servers_words(page: Page, demo_url: str) -> None:
    ready(page, demo_url)
    page.fill("#token", "not-the-publish-token")
    page.click("#publish button[type=submit]")
    published = page.locator("#published")
    expect(published).to_have_attribute("data-state", "refused", timeout=WAIT_MS)
    assert published.text_content() == "403 Forbidden: the bearer token is not the publish token"
    assert page.locator("#feed li").count() == 0
{%- endif %}
{%- if rows %}


def exports() -> list[tuple[str, Dataset]]:
    """Each export the page lists, by path, with its dataset: every dataset the app serves."""
    return [
        (f"{dataset.name}.{row_format.suffix}", dataset)
        for dataset in served()
        for row_format in FORMATS
    ]


def row_count(database: Path, dataset: Dataset) -> int:
    with closing(sqlite3.connect(database)) as connection:
        query = f"SELECT count(*) FROM {dataset.table}"  # noqa: S608 - names from code
        (count,) = connection.execute(query).fetchone()
    assert isinstance(count, int)
    return count


def export(page: Page, path: str) -> dict[str, int]:
    """Run one export on the page; what its row shows when the body has ended."""
    row = page.locator(f'#export-list tr[data-path="{path}"]')
    row.locator("button").click()
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "done", timeout=WAIT_MS)
    cells = row.locator("td")
    return {
        "bytes": int(cells.nth(2).get_attribute("data-bytes") or -1),
        "rows": int(cells.nth(3).get_attribute("data-rows") or -1),
    }


@pytest.mark.services
def test_each_export_counts_every_row_as_it_arrives(
    page: Page, demo_url: str, database: Path, console_errors: list[str]
) -> None:
    ready(page, demo_url)
    for path, dataset in exports():
        shown = export(page, path)
        assert shown["rows"] == row_count(database, dataset), path
        assert shown["bytes"] == len(httpx.get(f"{demo_url}/{path}").content), path
    assert console_errors == []


@pytest.mark.services
def test_an_export_stops_at_the_limit(page: Page, demo_url: str, database: Path) -> None:
    path, dataset = exports()[0]
    limit = row_count(database, dataset) // 2
    ready(page, demo_url)
    page.fill("#limit", str(limit))
    assert export(page, path)["rows"] == limit
{%- endif %}
{%- if cookiecutter.format_file %}


@pytest.mark.services
def test_a_file_is_fetched_to_its_full_length(
    page: Page, demo_url: str, console_errors: list[str]
) -> None:
    ready(page, demo_url)
    page.fill("#file-name", FILE_NAME)
    page.click("#download button[type=submit]")
    state = page.locator("#file-state")
    expect(state).to_have_attribute("data-state", "done", timeout=WAIT_MS)
    size = len(FILE_BODY.encode())
    assert state.get_attribute("data-bytes") == str(size)
    assert page.locator("#file-progress").evaluate("bar => [bar.value, bar.max]") == [size, size]
    link = page.locator("#file-link").evaluate("link => link.href")
    assert httpx.get(link).content == FILE_BODY.encode()
    assert console_errors == []


@pytest.mark.services
def test_a_missing_file_is_named_so(page: Page, demo_url: str) -> None:
    ready(page, demo_url)
    page.fill("#file-name", "no/such.txt")
    page.click("#download button[type=submit]")
    state = page.locator("#file-state")
    expect(state).to_have_attribute("data-state", "failed", timeout=WAIT_MS)
    assert state.text_content() == "404 Not Found: no such file"
{%- endif %}
{%- if cookiecutter.format_relay %}


@pytest.mark.services
def test_the_relay_passes_an_upstream_answer_through(
    page: Page, demo_url: str, base_url: str, console_errors: list[str]
) -> None:
    ready(page, demo_url)
    page.fill("#relay-path", "healthz")
    page.click("#relayed button[type=submit]")
    state = page.locator("#relay-state")
    expect(state).to_have_attribute("data-state", "done", timeout=WAIT_MS)
    upstream = httpx.get(f"{base_url}/healthz").content
    assert state.get_attribute("data-bytes") == str(len(upstream))
    assert page.locator("#relay-body").text_content() == upstream.decode()
    assert console_errors == []
{%- endif %}
