"""Declared types against what is stored: refused declarations, and values that do not fit.

SQLite is dynamically typed, so a table that is not STRICT may hold anything;
each test here makes such a table, serves it as a dataset of its own, and
checks that a value that does not fit is reported with the dataset, column
and key, before the first byte when it is in the first batch, never sent on.
"""

import logging
import sqlite3
from contextlib import closing
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import AwareDatetime, BaseModel, Field

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.rows import feature
from {{ cookiecutter.package_name }}.rows.datasets import Dataset

from tests.support.databases import sqlite_url
from tests.support.servers import serve
from tests.support.settings import make_settings

BATCH = 50


class Reading(BaseModel):
    id: int
    level: int
    ok: bool
    amount: Decimal = Field(max_digits=6, decimal_places=2)
    taken_at: AwareDatetime
    label: str


READINGS = Dataset(name="readings", table="readings", model=Reading)
PATH = "/readings.{}"


def good(key: int) -> tuple[Any, ...]:
    return (key, key * 2, key % 2, f"{key}.25", f"2024-05-01T12:00:{key % 60:02d}+02:00", f"r{key}")


@pytest.fixture
def serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps made in the test serve READINGS alone."""
    monkeypatch.setattr(f"{feature.__name__}.DATASETS", (READINGS,))


def readings(path: Path, bad: dict[int, tuple[str, object]], rows: int = 200) -> str:
    """A non-STRICT table of good rows but where `bad` says: {key: (column, stored value)}."""
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(
            "CREATE TABLE readings (id INTEGER PRIMARY KEY, level INTEGER, ok INTEGER,"
            " amount TEXT, taken_at TEXT, label TEXT)"
        )
        connection.executemany(
            "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?)", map(good, range(1, rows + 1))
        )
        for key, (column, value) in bad.items():
            connection.execute(f"UPDATE readings SET {column} = ? WHERE id = ?", (value, key))  # noqa: S608
    return sqlite_url(path)


def drain(response: httpx.Response, into: bytearray) -> None:
    for piece in response.iter_bytes():
        into += piece


def suffix() -> str:
    return feature.FORMATS[0].suffix


@pytest.mark.usefixtures("serving")
@pytest.mark.parametrize(
    ("column", "stored", "said"),
    [
        ("level", "high", "a text value; integer is stored as INTEGER"),
        ("level", 2.5, "a real value; integer is stored as INTEGER"),
        ("ok", 2, "an integer value; boolean is stored as INTEGER 0 or 1"),
        ("amount", "1.255", "'1.255', not a decimal(6, 2)"),
        ("label", b"\x00", "a blob value; text is stored as TEXT"),
        ("taken_at", "2024-13-01T00:00:00Z", "'2024-13-01T00:00:00Z', not a timestamp with"),
        ("taken_at", "2024-05-01T12:00:00", "'2024-05-01T12:00:00', not a timestamp with"),
        ("label", None, "a null value; text is stored as TEXT"),
    ],
)
def test_a_value_that_does_not_fit_in_the_first_batch_is_a_500_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, column: str, stored: object, said: str
) -> None:
    url = readings(tmp_path / "r.db", {7: (column, stored)})
    with serve(create_app(make_settings(database_url=url, batch_size=BATCH))) as base:
        response = httpx.get(base + PATH.format(suffix()))
    assert response.status_code == 500
    place = f"stored data does not fit dataset readings: column {column} at id 7"
    assert response.json() == {"detail": place}
    assert f"{place} holds " in caplog.text
    assert said in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.usefixtures("serving")
@pytest.mark.parametrize(
    ("column", "stored"),
    [("taken_at", "yesterday"), ("level", "high"), ("amount", "ten")],
)
def test_a_value_that_does_not_fit_later_aborts_the_body_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, column: str, stored: object
) -> None:
    # Beyond the first batch: the rows before it are sent, then the body is cut.
    url = readings(tmp_path / "r.db", {170: (column, stored)})
    received = bytearray()
    app = create_app(make_settings(database_url=url, batch_size=BATCH, chunk_size=512))
    with serve(app) as base, httpx.stream("GET", base + PATH.format(suffix())) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            drain(response, received)
    assert b"r99" in received  # two batches before the one that holds it
    assert b"r170" not in received
    assert f"column {column} at id 170 holds " in caplog.text


@pytest.mark.usefixtures("serving")
def test_a_strict_table_is_read_without_the_storage_checks(tmp_path: Path) -> None:
    path = tmp_path / "strict.db"
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(
            "CREATE TABLE readings (id INTEGER PRIMARY KEY, level INTEGER, ok INTEGER,"
            " amount TEXT, taken_at TEXT, label TEXT) STRICT"
        )
        connection.executemany(
            "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?)", map(good, range(1, 11))
        )
        # STRICT refuses the wrong storage class itself; the text is still parsed.
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute("UPDATE readings SET level = 'high' WHERE id = 3")
        connection.execute("UPDATE readings SET taken_at = 'soon' WHERE id = 3")
    with serve(create_app(make_settings(database_url=sqlite_url(path)))) as base:
        response = httpx.get(base + PATH.format(suffix()))
    assert response.status_code == 500
    assert response.json()["detail"].endswith("column taken_at at id 3")


class Bare(BaseModel):
    id: int
    at: datetime


class Loose(BaseModel):
    id: int
    amount: Decimal


class Listed(BaseModel):
    id: int
    tags: list[str]


class Keyless(BaseModel):
    key: str


@pytest.mark.parametrize(
    ("model", "said"),
    [
        (Bare, "dataset bad: Bare.at: a bare datetime could be either: declare AwareDatetime"),
        (Loose, "dataset bad: Loose.amount: a Decimal needs its digits"),
        (Listed, "dataset bad: Listed.tags: list[str] is not a column type; use int, float"),
        (Keyless, "dataset bad: its key 'id' must be a field of type int"),
    ],
)
def test_a_declaration_the_service_cannot_serve_stops_it_in_one_line(
    monkeypatch: pytest.MonkeyPatch, database: Path, model: type[BaseModel], said: str
) -> None:
    monkeypatch.setattr(f"{feature.__name__}.DATASETS", (Dataset("bad", "items", model),))
    with pytest.raises(SystemExit) as stopped:
        create_app(make_settings(database_url=sqlite_url(database)))
    assert str(stopped.value).startswith(f"cannot serve rows: {said}")
    assert "\n" not in str(stopped.value)


@pytest.mark.usefixtures("serving")
def test_a_postgres_column_of_another_type_stops_the_service(fresh_postgres_url: str) -> None:
    with psycopg.connect(fresh_postgres_url) as connection:
        connection.execute(
            "CREATE TABLE readings (id bigint PRIMARY KEY, level integer, ok integer,"
            " amount double precision, taken_at timestamptz, label text)"
        )
    with pytest.raises(SystemExit) as stopped:
        create_app(make_settings(database_url=fresh_postgres_url))
    assert str(stopped.value).startswith(
        "cannot serve rows: dataset readings: column ok is int4, where a boolean needs bool, "
        "column amount is float8, where a decimal(6, 2) needs numeric or int8 or int4 or int2"
    )


@pytest.mark.usefixtures("serving")
def test_a_postgres_value_beyond_the_declared_digits_is_refused(
    fresh_postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with psycopg.connect(fresh_postgres_url) as connection:
        connection.execute(
            "CREATE TABLE readings (id bigint PRIMARY KEY, level integer, ok boolean,"
            " amount numeric, taken_at timestamptz, label text)"
        )
        connection.execute(
            "INSERT INTO readings VALUES"
            " (1, 1, true, 1.25, now(), 'a'), (2, 2, false, 1.255, now(), 'b')"
        )
    with serve(create_app(make_settings(database_url=fresh_postgres_url))) as base:
        response = httpx.get(base + PATH.format(suffix()))
    assert response.status_code == 500
    assert response.json()["detail"].endswith("column amount at id 2")
    assert "'1.255', not a decimal(6, 2)" in caplog.text
