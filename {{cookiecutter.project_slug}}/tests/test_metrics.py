{%- set rows = cookiecutter.__rows -%}
"""/metrics and the stream log, scraped and read after real streams on a real server.

The scrape is parsed with prometheus-client's own parser of the text format.
"""

import json
import logging
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
{%- if cookiecutter.format_sse %}
from pydantic import SecretStr
{%- endif %}

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.servers import serve
{%- if cookiecutter.format_sse %}
from tests.support.settings import PUBLISH_TOKEN
from tests.support.ssewire import raw_stream
{%- endif %}

STREAM_LOG = "{{ cookiecutter.package_name }}.core.stream_log"
{%- if rows %}
ROW_PATH = "/items.{{ 'csv' if cookiecutter.format_csv else ('jsonl' if cookiecutter.format_jsonl else 'json') }}"
{%- endif %}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: httpx.Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape_until(client: httpx.Client, done: Callable[[Samples], bool]) -> Samples:
    """Scrape until `done` holds: a response is recorded just after its last byte left."""
    deadline = time.monotonic() + 5
    samples = scrape(client)
    while not done(samples) and time.monotonic() < deadline:
        time.sleep(0.02)
        samples = scrape(client)
    return samples


@pytest.fixture(scope="module")
def observed(settings: Settings) -> Iterator[httpx.Client]:
    """A server of its own, so that its metrics count this module's requests alone."""
{%- if cookiecutter.format_sse %}
    changed = settings.model_copy(update={"publish_token": SecretStr(PUBLISH_TOKEN)})
{%- else %}
    changed = settings
{%- endif %}
    with serve(create_app(changed)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def test_the_scrape_counts_each_response_by_endpoint_and_outcome(observed: httpx.Client) -> None:
    before = scrape(observed)
    assert observed.get("/healthz").status_code == 200
    ended = ("http_streams_ended_total", {"endpoint": "/healthz", "outcome": "complete"})
    expected = value(before, ended[0], **ended[1]) + 1
    after = scrape_until(observed, lambda now: value(now, ended[0], **ended[1]) >= expected)
    assert value(after, ended[0], **ended[1]) == expected
    durations = "http_stream_duration_seconds_count"
    assert value(after, durations, endpoint="/healthz") == (
        value(before, durations, endpoint="/healthz") + 1
    )
    assert value(after, "http_response_bytes_total", endpoint="/healthz", stage="wire") > 0
{%- if rows %}


def test_rows_bytes_and_timings_of_an_export(
    observed: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=STREAM_LOG)
    before = scrape(observed)
    response = observed.get(f"{ROW_PATH}?limit=37")
    assert response.status_code == 200
    endpoint = ROW_PATH
    ended = {"endpoint": endpoint, "outcome": "complete"}
    expected = value(before, "http_streams_ended_total", **ended) + 1
    after = scrape_until(
        observed, lambda now: value(now, "http_streams_ended_total", **ended) >= expected
    )

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("http_stream_items_total", endpoint=endpoint, item="row") == 37
    assert grew("http_response_bytes_total", endpoint=endpoint, stage="wire") == (
        response.num_bytes_downloaded
    )
    assert grew("http_response_bytes_total", endpoint=endpoint, stage="payload") == len(
        response.content
    )
    assert grew("http_streams_ended_total", endpoint=endpoint, outcome="complete") == 1
    assert grew("http_time_to_first_byte_seconds_count", endpoint=endpoint) == 1
    assert value(after, "http_streams_active", endpoint=endpoint) == 0
    (line,) = [r.getMessage() for r in caplog.records if endpoint in r.getMessage()]
    assert f" 200 complete {response.num_bytes_downloaded} B 37 rows " in line

{%- endif %}


def test_a_finished_response_is_one_log_line_with_secrets_masked(
    observed: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=STREAM_LOG)  # probes are logged at DEBUG
    response = observed.get(
        "/healthz?limit=3&token=hunter2&Api-Key=x%20y", headers={"X-Request-ID": "req-42"}
    )
    assert response.headers["x-request-id"] == "req-42"
    (line,) = [r.getMessage() for r in caplog.records if r.name == STREAM_LOG]
    assert '"GET /healthz?limit=3&token=***&Api-Key=***" 200 complete' in line
    assert f" {response.num_bytes_downloaded} B " in line
    assert line.startswith("127.0.0.1:")
    assert line.endswith("id req-42")
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123.X:9", True), ("", False), ("has space", False), ("x" * 129, False)],
    ids=["plain", "none", "space", "too-long"],
)
def test_the_request_id_is_the_clients_when_plain_else_new(
    observed: httpx.Client, given: str, kept: bool
) -> None:
    headers = {"X-Request-ID": given} if given else {}
    returned = observed.get("/healthz", headers=headers).headers["x-request-id"]
    if kept:
        assert returned == given
    else:
        assert len(returned) == 32
        assert int(returned, 16) >= 0


def test_json_lines_carry_the_fields_as_keys(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    json_settings = settings.model_copy(update={"log_format": "json", "log_level": "debug"})
    try:
        with serve(create_app(json_settings)) as url:
            httpx.get(f"{url}/healthz?api_key=s3cret", headers={"X-Request-ID": "json-1"})
        lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if "{" in line]
    finally:
        create_app(settings)  # back to text lines for the tests after this one
    (line,) = [line for line in lines if line.get("request_id") == "json-1"]
    assert line["logger"] == STREAM_LOG
    assert line["method"] == "GET"
    assert line["path"] == "/healthz?api_key=***"
    assert line["status"] == 200
    assert line["outcome"] == "complete"
    assert line["bytes"] > 0
    assert line["duration_s"] >= 0
{%- if cookiecutter.format_sse %}


def test_event_metrics_and_a_stream_the_client_left(observed: httpx.Client) -> None:
    before = scrape(observed)
    url = str(observed.base_url).rstrip("/")
    with raw_stream(url) as stream:
        assert value(scrape(observed), "sse_subscribers") == value(before, "sse_subscribers") + 1
        published = observed.post(
            "/events",
            json={"event": "tick", "data": 1},
            headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
        )
        assert published.status_code == 202
        stream.read_until(lambda: bool(stream.events))
    # The client has gone; the server notices, and the stream's record ends.
    left = {"endpoint": "/events", "outcome": "client_left"}
    expected = value(before, "http_streams_ended_total", **left) + 1
    after = scrape_until(
        observed, lambda now: value(now, "http_streams_ended_total", **left) >= expected
    )
    assert value(after, "http_streams_ended_total", **left) == expected
    assert value(after, "sse_events_published_total") == (
        value(before, "sse_events_published_total") + 1
    )
    assert value(after, "http_stream_items_total", endpoint="/events", item="event") == (
        value(before, "http_stream_items_total", endpoint="/events", item="event") + 1
    )
    assert value(after, "sse_subscribers") == value(before, "sse_subscribers")
{%- endif %}
