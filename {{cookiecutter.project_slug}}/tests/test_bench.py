"""The benchmark's parts, on the test database and without subprocesses (nothing is timed).

The whole benchmark runs in `--quick` mode in the template's own test suite.
"""

import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }} import bench, bench_baseline, bench_tools
from {{ cookiecutter.package_name }}.app import ROW_FORMATS
from {{ cookiecutter.package_name }}.bench_rows import {% if cookiecutter.compression != "none" %}compress_only, {% endif %}encode_only
from {{ cookiecutter.package_name }}.datasets import ITEMS
from {{ cookiecutter.package_name }}.rows import RowFormat
from {{ cookiecutter.package_name }}.settings import Settings

from conftest import asgi_messages, sqlite_url
from rowcontract import database_rows

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
    expected = database_rows(database)[:LIMIT]
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


def test_the_report_reads_as_tables() -> None:
    figure = bench_tools.Figure(
        "csv", "service", "identity", 1000, 2_000_000, 2_000_000, 0.5, 0.4, 3, 1
    )
    assert figure.mb_per_s == 4
    assert figure.rows_per_s == 2000
    lines = bench.table([figure, figure]).splitlines()
    assert lines[0].split()[:3] == ["format", "pattern", "encoding"]
    assert len({len(line) for line in lines[1:]}) == 1
    missed = bench_tools.Target("csv: speed", 4, 10, "x", at_least=True)
    kept = bench_tools.Target("csv: memory", 4, 20, "MiB", at_least=False)
    verdicts = bench.verdicts([missed, kept]).splitlines()
    assert verdicts[1].endswith("NOT MET")
    assert verdicts[2].endswith("met")
    assert json.dumps([figure.as_dict(), missed.as_dict()])


def test_the_machine_is_described() -> None:
    described = bench_tools.machine()
    assert described["cpu_count"]
    assert described["python"]
    assert "fastapi" in described["packages"]


@pytest.mark.parametrize("argv", [["--rows", "5"], ["--repeat", "0"]])
def test_nonsense_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(argv)
