{%- set rows = cookiecutter.__rows -%}
"""The benchmark's parts: each section run small, its report checked (nothing is timed).

Servers run in a thread of the tests' process and so do the clients: the whole
benchmark, with its servers and clients in processes of their own, runs in
`--quick` mode in the template's own test suite.
{%- if rows and cookiecutter.format_sse %} The parts measured against a
PostgreSQL or a Redis run where the tests have one (TEST_POSTGRES_URL,
TEST_REDIS_URL; see conftest.py).
{%- elif rows %} The part measured against a
PostgreSQL runs where the tests have one (TEST_POSTGRES_URL; see conftest.py).
{%- elif cookiecutter.format_sse %} The part measured against a
Redis runs where the tests have one (TEST_REDIS_URL; see conftest.py).
{%- endif %}
"""

{% if rows -%}
import asyncio
import csv
{% endif -%}
{% if cookiecutter.format_file -%}
import hashlib
{% endif -%}
{% if rows -%}
import io
{% endif -%}
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import{% if rows %} ExitStack,{% endif %} contextmanager
from pathlib import Path
from urllib.parse import urlsplit

{% if rows -%}
import httpx
{% endif -%}
import psutil
{% if rows -%}
import psycopg
{% endif -%}
import pytest
{%- if cookiecutter.format_sse %}
import redis
{%- endif %}
from fastapi import FastAPI
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.core.credentials import mask_text
{%- if rows %}
from {{ cookiecutter.package_name }}.rows.datasets import ITEMS
from {{ cookiecutter.package_name }}.rows.feature import FORMATS
from {{ cookiecutter.package_name }}.rows.formats.base import RowFormat
from {{ cookiecutter.package_name }}.rows.sources.factory import row_source
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}

{% for section in ["baseline" if rows else "", "cli", "events" if cookiecutter.format_sse else "", "events_baselines" if cookiecutter.format_sse else "", "files" if cookiecutter.format_file else "", "relay" if cookiecutter.format_relay else "", "rows" if rows else ""] | select -%}
from bench import {{ section }} as {{ "bench" if section == "cli" else "bench_" ~ section }}
{% endfor -%}
from bench import tools as bench_tools
{%- if rows %}
from bench.rows import {% if cookiecutter.compression != "none" %}compress_only, {% endif %}encode_only
{%- endif %}
{%- if rows %}
from tests.support.asgi import asgi_messages
from tests.support.databases import sqlite_url
{%- endif %}
from tests.support.servers import serve
{%- if rows %}
from tests.support.settings import make_settings
from tests.support.wire import database_rows, expected, from_json
{%- endif %}


@pytest.fixture
def setup(tmp_path: Path) -> bench_tools.Setup:
    """A run's setup as `bench` makes it, in a temporary directory."""
    return bench_tools.Setup(
        quick=True, repeat=1, workdir=tmp_path, log=print, env=bench.service_env(tmp_path)
    )


def in_thread(build: Callable[[Mapping[str, str]], ASGIApp]) -> bench_tools.Launcher:
    """uvicorn in a thread of this process, serving `build(env)`."""

    @contextmanager
    def launch(env: Mapping[str, str]) -> Iterator[bench_tools.Serving]:
        with serve(build(env)) as url:
            yield bench_tools.Serving(urlsplit(url).port or 0, [psutil.Process()])

    return launch


def service(env: Mapping[str, str]) -> FastAPI:
    """The service as `bench` starts it, from the environment `env` adds to."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            # Its logger is this process's: LOG_LEVEL would quieten the other tests.
            if name != "LOG_LEVEL":
                patch.setenv(name, value)
        return create_app()
{%- if rows %}


LIMIT = 300


def baseline_app(env: Mapping[str, str]) -> FastAPI:
    """The baseline app as `bench` starts it, reading the database `env` names."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", env["DATABASE_URL"])
        return bench_baseline.create_app()


@pytest.fixture
def kept_servers() -> Iterator[bench_rows.Launchers]:
    """The service and the baseline in threads, each started once per environment in a test.

    The rows section starts a server per format; stopping uvicorn takes 0.2 s.
    """
    with ExitStack() as stack:
        started: dict[tuple[str, frozenset[tuple[str, str]]], bench_tools.Serving] = {}

        def kept(build: Callable[[Mapping[str, str]], ASGIApp]) -> bench_tools.Launcher:
            @contextmanager
            def launch(env: Mapping[str, str]) -> Iterator[bench_tools.Serving]:
                key = (build.__name__, frozenset(env.items()))
                if key not in started:
                    url = stack.enter_context(serve(build(env)))
                    started[key] = bench_tools.Serving(urlsplit(url).port or 0, [psutil.Process()])
                yield started[key]

            return launch

        yield bench_rows.Launchers(service=kept(service), baseline=kept(baseline_app))


@pytest.fixture(scope="module")
def baseline(database: Path) -> FastAPI:
    return baseline_app({"DATABASE_URL": sqlite_url(database)})


def per_row_ids(suffix: str, body: bytes) -> list[int]:
    """The ids of the rows in a per-row body, read by the standard library's parsers."""
    if suffix == "csv":
        return [int(row[0]) for row in list(csv.reader(io.StringIO(body.decode(), newline="")))[1:]]
    if suffix == "jsonl":
        return [json.loads(line)["id"] for line in body.split(b"\n")[:-1]]
    return [record["id"] for record in json.loads(body)]


@pytest.mark.parametrize("row_format", FORMATS, ids=lambda row_format: row_format.suffix)
def test_the_per_row_pattern_sends_the_same_rows_one_row_at_a_time(
    baseline: FastAPI, row_format: RowFormat
) -> None:
    messages = asgi_messages(baseline, f"/per-row/items.{row_format.suffix}?limit={LIMIT}")
    pieces = [message["body"] for message in messages[1:] if message["body"]]
    # Its own per-row encoders: the same rows, not the same bytes, one message each.
    assert per_row_ids(row_format.suffix, b"".join(pieces)) == list(range(1, LIMIT + 1))
    assert len(pieces) >= LIMIT


def test_fastapi_native_json_lines_carry_the_same_rows(baseline: FastAPI, database: Path) -> None:
    messages = asgi_messages(baseline, f"/native/items?limit={LIMIT}")
    assert (b"content-type", b"application/jsonl") in messages[0]["headers"]
    body = b"".join(message.get("body", b"") for message in messages[1:])
    records = [json.loads(line) for line in body.split(b"\n")[:-1]]
    rows = [{c.name: from_json(c, record[c.name]) for c in ITEMS.fields} for record in records]
    assert rows == expected(ITEMS, database_rows(sqlite_url(database), ITEMS))[:LIMIT]


def test_the_client_counts_the_decoded_body(client: httpx.Client, base_url: str) -> None:
    path = f"/items.{FORMATS[0].suffix}?limit={LIMIT}"
    transfer = bench_tools.get(urlsplit(base_url).port or 0, path)
    assert transfer.status == 200
    assert transfer.body_bytes == len(client.get(path).content)
    assert 0 < transfer.first_byte <= transfer.seconds


def test_encode_only_produces_the_whole_body(client: httpx.Client, settings: Settings) -> None:
    # The pipeline is the same for every format; each format's bytes are tested on their own.
    row_format = FORMATS[0]
    measured = asyncio.run(encode_only(settings, row_format))
    assert measured.payload_bytes == len(client.get(f"/items.{row_format.suffix}").content)
    assert measured.seconds > 0
{%- if cookiecutter.compression != "none" %}


def test_the_compressor_alone_compresses_the_whole_body(settings: Settings) -> None:
    measured = asyncio.run(compress_only(settings, FORMATS[0], bench.CODECS[0]))
    assert 0 < measured.wire_bytes < measured.payload_bytes / 2
{%- endif %}
{%- endif %}
{%- if cookiecutter.format_sse %}


def library(factory: str) -> bench_tools.Launcher:
    """One of the apps the service is measured against, in a thread of this process."""
    build: Callable[[], FastAPI] = getattr(bench_events_baselines, factory)
    return in_thread(lambda _: build())


BASELINES_IN_THREADS = {
    name: library(factory) for name, factory in bench_events_baselines.FACTORIES.items()
}
THREADS = bench_events.Harness(
    launch=in_thread(service), baselines=BASELINES_IN_THREADS, client_processes=0
)


def test_every_subscriber_receives_every_event_from_the_service_and_the_libraries(
    setup: bench_tools.Setup,
) -> None:
    results = bench_events.measure(setup, subscribers=[20], events=2, harness=THREADS)
    lines = [
        (figure["server"], figure["broker"], figure["processes"], figure["subscribers_on"])
        for figure in results.figures
    ]
    assert lines == [
        ("service", "memory", 1, "all"),
        ("fastapi.sse", "memory", 1, "all"),
        ("sse-starlette", "memory", 1, "all"),
    ]
    for figure in results.figures:
        assert figure["subscribers_reached"] == figure["streams_complete"] == 20
        assert figure["deliveries"] == figure["deliveries_expected"] == 40
        assert 0 < figure["min_ms"] <= figure["p50_ms"] <= figure["p99_ms"] <= figure["max_ms"]
        assert figure["publish_p50_ms"] > 0
        assert figure["client_processes"] == 0
        # Two events to each stream, written one by one or together.
        assert 20 <= figure["writes"] <= 40
    assert [target.unit for target in results.targets] == ["x", "%", "KiB"]
    assert results.targets[1].met
    assert "40 / 40" in results.table
    assert "BENCH_REDIS_URL" in results.not_run["redis"]
    assert json.dumps(results.as_dict())


def test_the_libraries_are_left_out_above_their_limit_and_when_missing() -> None:
    above = bench_events.BASELINES_UP_TO + 1
    not_run = bench_events._not_run([10, above], THREADS, "redis://127.0.0.1:1/0")
    assert list(not_run) == [f"fastapi.sse and sse-starlette at {above:,}"]
    alone = bench_events.Harness(launch=THREADS.launch, baselines={})
    left_out = bench_events._not_run([10], alone, None)
    assert set(left_out) == {"redis", "fastapi.sse", "sse-starlette"}


@pytest.mark.services
def test_subscribers_on_two_processes_sharing_redis_receive_every_event(
    setup: bench_tools.Setup, redis_url: str
) -> None:
    service_alone = bench_events.Harness(launch=THREADS.launch, baselines={}, client_processes=0)
    results = bench_events.measure(
        setup, subscribers=[21], events=2, redis_url=redis_url, harness=service_alone
    )
    lines = {(figure["broker"], figure["subscribers_on"]): figure for figure in results.figures}
    assert list(lines) == [
        ("memory", "all"),
        ("redis", "all"),
        ("redis", "publishing process"),
        ("redis", "other process"),
    ]
    groups = ("all", "publishing process", "other process")
    assert [lines["redis", group]["subscribers"] for group in groups] == [21, 11, 10]
    for figure in results.figures:
        assert figure["deliveries"] == figure["deliveries_expected"] == figure["subscribers"] * 2
        assert figure["streams_complete"] == figure["subscribers"]
        assert 0 < figure["min_ms"] <= figure["p50_ms"] <= figure["p99_ms"] <= figure["max_ms"]
    # POST /events counts the streams of the process it reached, not the other's.
    assert lines["redis", "publishing process"]["subscribers_reached"] == 11
    assert lines["redis", "all"]["processes"] == 2
    assert [target.met for target in results.targets if target.unit == "%"] == [True, True]
    assert set(results.not_run) == {"fastapi.sse", "sse-starlette"}
    # The run's stream is gone.
    with redis.Redis.from_url(redis_url) as client:
        assert not client.exists(results.notes["redis_stream"])
    assert "redis" in results.table
{%- endif %}
{%- if cookiecutter.format_file %}


def test_every_download_is_the_file(setup: bench_tools.Setup) -> None:
    results = bench_files.measure(setup, mib=2, launchers={"uvicorn": in_thread(service)})
    file = Path(setup.env["FILES_DIR"]) / bench_files.NAME
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    assert results.notes["sha256"] == results.notes["downloaded_sha256"]["uvicorn"] == digest
    figures = {(figure["server"], figure["pattern"]): figure for figure in results.figures}
    ranges = bench_files.SMALL_RANGES[0]
    assert [(key, figures[key]["body_bytes"], figures[key]["requests"]) for key in figures] == [
        (("uvicorn", "full"), 2 * 2**20, 1),
        (("uvicorn", "one range, half"), 2**20, 1),
        (("uvicorn", "ranges of 64 KiB"), ranges * bench_files.SMALL_RANGE_BYTES, ranges),
        (("socket.sendfile", "full, no HTTP"), 2 * 2**20, 1),
    ]
    assert all(figure["mb_per_s"] > 0 for figure in results.figures)
    assert results.notes["sendfile_seconds_per_gib"] > 0
    assert {target.unit for target in results.targets} == {"MB/s", "MiB"}


def test_the_small_ranges_lie_within_the_file() -> None:
    ranges = bench_files._small_ranges(10 * 2**20, 50)
    assert len(set(ranges)) == 50
    assert all(0 <= first <= last < 10 * 2**20 for first, last in ranges)
    assert {last - first + 1 for first, last in ranges} == {bench_files.SMALL_RANGE_BYTES}
{%- endif %}
{%- if cookiecutter.format_relay %}


def test_the_relay_passes_the_whole_body_on(setup: bench_tools.Setup) -> None:
    upstream = in_thread(lambda _: bench_relay.upstream)
    results = bench_relay.measure(setup, mib=2, service=in_thread(service), source=upstream)
    assert [figure["pattern"] for figure in results.figures] == ["upstream", "relay"]
    assert all(figure["body_bytes"] == 2 * 2**20 for figure in results.figures)
    assert all(figure["first_byte_ms"] > 0 for figure in results.figures)
    assert results.notes["relay_over_upstream"] > 0
    assert len(bench_relay.payload(3 * 2**20 + 17)) == 3 * 2**20 + 17
{%- endif %}
{%- if rows %}


def _comparable(figure: dict[str, object]) -> tuple[object, ...]:
    """What a line of the rows table says about the bytes, not about how fast they went."""
    names = ("section", "pattern", "encoding", "rows", "payload_bytes")
    return tuple(figure[name] for name in names)


@pytest.mark.services
def test_the_rows_section_measures_postgresql_beside_sqlite(
    setup: bench_tools.Setup, postgres_server: str, kept_servers: bench_rows.Launchers
) -> None:
    results = bench_rows.measure(
        setup, rows=100, codecs=bench.CODECS, postgres=postgres_server, launchers=kept_servers
    )
    sqlite, postgresql = results.figures[::2], results.figures[1::2]
    assert {figure["database"] for figure in sqlite} == {"sqlite"}
    assert {figure["database"] for figure in postgresql} == {"postgresql"}
    # Line by line the same stream, of the same size: only the database differs.
    assert list(map(_comparable, postgresql)) == list(map(_comparable, sqlite))
    assert all(figure["mb_per_s"] > 0 for figure in postgresql)
    assert results.not_run == {}
    assert results.notes["postgresql"]
    assert {target.name.split()[0] for target in results.targets} == {"sqlite", "postgresql"}
    # The run's database is gone, and no password reached the report.
    with psycopg.connect(postgres_server) as admin:
        query = "SELECT count(*) FROM pg_database WHERE datname = %s"
        found = admin.execute(query, (results.notes["postgresql_database"],)).fetchone()
    assert found == (0,)
    password = urlsplit(postgres_server).password
    assert not password or f":{password}@" not in json.dumps(results.as_dict())


def body_of(app: ASGIApp, path: str) -> bytes:
    """GET `path` from `app`, run within its lifespan: the status is 200; the whole body."""
    messages = asgi_messages(app, path, lifespan=True)
    assert messages[0]["status"] == 200, path
    return b"".join(message.get("body", b"") for message in messages[1:])


@pytest.mark.services
def test_a_postgresql_database_made_for_the_run_serves_the_bytes_sqlite_does(
    setup: bench_tools.Setup, postgres_server: str, database: Path
) -> None:
    suffixes = [row_format.suffix for row_format in FORMATS]
    exports = [f"/items.{suffix}?limit={LIMIT}" for suffix in suffixes]
    patterns = [f"/per-row/items.{suffix}?limit={LIMIT}" for suffix in suffixes]
    patterns.append(f"{bench_rows.NATIVE}?limit={LIMIT}")
    with bench_rows.postgres_database(postgres_server) as made:
        # Seeded as the benchmark seeds, by the project's own seed; fewer rows.
        asyncio.run(row_source(make_settings(database_url=made.url)).seed(LIMIT))
        bench_rows.add_empty_tables(made.url)
        bodies = []
        for url in (sqlite_url(database), made.url):
            env = {**setup.env, "DATABASE_URL": url}
            app, baseline = service(env), baseline_app(env)
            bodies.append(
                [body_of(app, path) for path in exports]
                + [body_of(baseline, path) for path in patterns]
            )
    from_sqlite, from_postgresql = bodies
    assert all(from_sqlite)
    assert from_postgresql == from_sqlite


def test_the_rows_report_reads_as_a_table() -> None:
    figure = bench_rows.Figure(
        "sqlite", "csv", "service", "identity", 1000, 2_000_000, 2_000_000, 0.5, 0.4, 3, 1
    )
    assert figure.mb_per_s == 4
    assert figure.rows_per_s == 2000
    lines = bench_rows.table([figure, figure]).splitlines()
    assert lines[0].split()[:4] == ["database", "format", "pattern", "encoding"]
    assert len({len(line) for line in lines[1:]}) == 1
    assert json.dumps(figure.as_dict())
{%- endif %}


def test_the_verdicts_say_which_targets_are_met() -> None:
    missed = bench_tools.Target("speed", 4, 10, "x", at_least=True)
    kept = bench_tools.Target("memory", 4, 20, "MiB", at_least=False)
    verdicts = bench.verdicts([missed, kept]).splitlines()
    assert verdicts[1].endswith("NOT MET")
    assert verdicts[2].endswith("met")
    assert json.dumps([missed.as_dict(), kept.as_dict()])


def test_a_quick_runs_verdicts_are_indicative_only() -> None:
    missed = bench_tools.Target("speed", 4, 10, "x", at_least=True)
    kept = bench_tools.Target("memory", 4, 20, "MiB", at_least=False)
    verdicts = bench.verdicts([missed, kept], quick=True)
    assert verdicts.startswith(f"{bench.QUICK_NOTE}\n\n")
    lines = verdicts.splitlines()
    assert lines[-2].startswith("speed")
    assert lines[-2].endswith("  short of goal (indicative)")
    assert lines[-1].startswith("memory")
    assert lines[-1].endswith("  within goal (indicative)")
    assert "NOT MET" not in verdicts


def test_passwords_are_masked_in_the_report() -> None:
    shown = mask_text("--a scheme://user:s3cret@host:1/db --b scheme://host/x")
    assert shown == "--a scheme://user:***@host:1/db --b scheme://host/x"


def test_the_machine_is_described() -> None:
    described = bench_tools.machine()
    assert described["cpu_count"]
    assert described["python"]
    assert "fastapi" in described["packages"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--repeat", "0"],
        ["--only", "nothing"],
{%- if rows %}
        ["--rows", "5"],
        ["--postgres-url", "mysql://user@host/db"],
{%- endif %}
{%- if cookiecutter.format_sse %}
        ["--subscribers", "0"],
        ["--subscribers", "20001"],
        ["--subscribers", "100", "0"],
        ["--events", "0"],
        ["--redis-url", "http://127.0.0.1:6379"],
{%- endif %}
{%- if cookiecutter.format_file %}
        ["--file-mib", "0"],
{%- endif %}
{%- if cookiecutter.format_relay %}
        ["--relay-mib", "0"],
{%- endif %}
    ],
)
def test_nonsense_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(argv)
