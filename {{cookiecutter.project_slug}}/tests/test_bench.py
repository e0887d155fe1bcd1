{%- set rows = cookiecutter.format_csv or cookiecutter.format_jsonl or cookiecutter.format_json -%}
"""The benchmark's parts: each section run small, its report checked (nothing is timed).

The whole benchmark runs in `--quick` mode in the template's own test suite.
"""

{% if rows -%}
import asyncio
{% endif -%}
{% if cookiecutter.format_file -%}
import hashlib
{% endif -%}
import json
from pathlib import Path
{%- if rows %}
from urllib.parse import urlsplit
{%- endif %}

{% if rows -%}
import httpx
{% endif -%}
import pytest
{%- if rows %}
from fastapi import FastAPI
{%- endif %}

from {{ cookiecutter.package_name }} import (
{%- for module in [
    "bench",
    "bench_baseline" if rows else "",
    "bench_events" if cookiecutter.format_sse else "",
    "bench_files" if cookiecutter.format_file else "",
    "bench_relay" if cookiecutter.format_relay else "",
    "bench_rows" if rows else "",
    "bench_tools",
] | select %}
    {{ module }},
{%- endfor %}
)
{%- if rows %}
from {{ cookiecutter.package_name }}.app import ROW_FORMATS
from {{ cookiecutter.package_name }}.bench_rows import {% if cookiecutter.compression != "none" %}compress_only, {% endif %}encode_only
from {{ cookiecutter.package_name }}.datasets import ITEMS
from {{ cookiecutter.package_name }}.rows import RowFormat
from {{ cookiecutter.package_name }}.settings import Settings

from conftest import asgi_messages, sqlite_url
from rowcontract import database_rows
{%- endif %}


@pytest.fixture
def setup(tmp_path: Path) -> bench_tools.Setup:
    """A run's setup as `bench` makes it, in a temporary directory."""
    return bench_tools.Setup(
        quick=True, repeat=1, workdir=tmp_path, log=print, env=bench.service_env(tmp_path)
    )
{%- if rows %}


LIMIT = 300


@pytest.fixture(scope="module")
def baseline(database: Path) -> FastAPI:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", sqlite_url(database))
        return bench_baseline.create_app()


@pytest.mark.parametrize("row_format", ROW_FORMATS, ids=lambda row_format: row_format.suffix)
def test_the_per_row_pattern_sends_the_same_bytes_one_row_at_a_time(
    client: httpx.Client, baseline: FastAPI, row_format: RowFormat
) -> None:
    service = client.get(f"/items.{row_format.suffix}", params={"limit": LIMIT})
    messages = asgi_messages(baseline, f"/per-row/items.{row_format.suffix}?limit={LIMIT}")
    pieces = [message["body"] for message in messages[1:] if message["body"]]
    assert b"".join(pieces) == service.content
    assert len(pieces) >= LIMIT


def test_fastapi_native_json_lines_carry_the_same_rows(baseline: FastAPI, database: Path) -> None:
    messages = asgi_messages(baseline, f"/native/items?limit={LIMIT}")
    assert (b"content-type", b"application/jsonl") in messages[0]["headers"]
    body = b"".join(message.get("body", b"") for message in messages[1:])
    rows = [json.loads(line) for line in body.split(b"\n")[:-1]]
    expected = database_rows(sqlite_url(database))[:LIMIT]
    assert rows == [dict(zip(ITEMS.columns, row, strict=True)) for row in expected]


def test_the_client_counts_the_decoded_body(client: httpx.Client, base_url: str) -> None:
    path = f"/items.{ROW_FORMATS[0].suffix}?limit={LIMIT}"
    transfer = bench_tools.get(urlsplit(base_url).port or 0, path)
    assert transfer.status == 200
    assert transfer.body_bytes == len(client.get(path).content)
    assert 0 < transfer.first_byte <= transfer.seconds


def test_encode_only_produces_the_whole_body(client: httpx.Client, settings: Settings) -> None:
    # The pipeline is the same for every format; each format's bytes are tested on their own.
    row_format = ROW_FORMATS[0]
    measured = asyncio.run(encode_only(settings, row_format))
    assert measured.payload_bytes == len(client.get(f"/items.{row_format.suffix}").content)
    assert measured.seconds > 0
{%- if cookiecutter.compression != "none" %}


def test_the_compressor_alone_compresses_the_whole_body(settings: Settings) -> None:
    measured = asyncio.run(compress_only(settings, ROW_FORMATS[0], bench.CODECS[0]))
    assert 0 < measured.wire_bytes < measured.payload_bytes / 2
{%- endif %}
{%- endif %}
{%- if cookiecutter.format_sse %}


def test_every_subscriber_receives_every_event_through_post_events(
    setup: bench_tools.Setup,
) -> None:
    results = bench_events.measure(setup, subscribers=20, events=3)
    [figure] = results.figures
    assert figure["subscribers_reached"] == figure["streams_complete"] == 20
    assert figure["deliveries"] == figure["deliveries_expected"] == 60
    assert 0 < figure["min_ms"] <= figure["p50_ms"] <= figure["p99_ms"] <= figure["max_ms"]
    assert figure["publish_p50_ms"] > 0
    assert figure["client_processes"] == bench_events.CLIENT_PROCESSES
    assert [target.unit for target in results.targets] == ["ms", "%"]
    assert results.targets[1].met
    assert "60 / 60" in results.table
    assert json.dumps(results.as_dict())
{%- endif %}
{%- if cookiecutter.format_file %}


def test_every_download_is_the_file(setup: bench_tools.Setup) -> None:
    uvicorn = {"uvicorn": bench_tools.uvicorn(bench_files.APP)}
    results = bench_files.measure(setup, mib=2, launchers=uvicorn)
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
    results = bench_relay.measure(setup, mib=2)
    assert [figure["pattern"] for figure in results.figures] == ["upstream", "relay"]
    assert all(figure["body_bytes"] == 2 * 2**20 for figure in results.figures)
    assert all(figure["first_byte_ms"] > 0 for figure in results.figures)
    assert results.notes["relay_over_upstream"] > 0
    assert len(bench_relay.payload(3 * 2**20 + 17)) == 3 * 2**20 + 17
{%- endif %}
{%- if rows %}


def test_the_rows_report_reads_as_a_table() -> None:
    figure = bench_rows.Figure(
        "csv", "service", "identity", 1000, 2_000_000, 2_000_000, 0.5, 0.4, 3, 1
    )
    assert figure.mb_per_s == 4
    assert figure.rows_per_s == 2000
    lines = bench_rows.table([figure, figure]).splitlines()
    assert lines[0].split()[:3] == ["format", "pattern", "encoding"]
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
{%- endif %}
{%- if cookiecutter.format_sse %}
        ["--subscribers", "0"],
        ["--events", "0"],
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
