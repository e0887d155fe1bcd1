"""The generated README's "Serve your own table", followed on a render, as a user would.

The render gets a dataset of every column type the service supports, each
also nullable, in place of the sample dataset; its table and rows go where
the README says (tests/rows/tables/, for SQLite and for PostgreSQL). Then the
render must still be lint-clean and mypy-clean, and its own suite, whose row
checks run for every dataset in DATASETS, must pass: on SQLite, and on
PostgreSQL when TEST_POSTGRES_URL names one.
"""

import os
import re
from pathlib import Path

import pytest

from tests.matrix import answers
from tests.render import render, run, run_suite

MODEL = '''


class Everything(BaseModel):
    """A row with every column type the service supports, each also nullable."""

    id: int
    count: int
    count_or_null: int | None
    ratio: float
    ratio_or_null: float | None
    amount: Decimal = Field(max_digits=12, decimal_places=3)
    amount_or_null: Decimal | None = Field(max_digits=12, decimal_places=3)
    flag: bool
    flag_or_null: bool | None
    label: str
    label_or_null: str | None
    happened_at: AwareDatetime
    happened_at_or_null: AwareDatetime | None
    local_time: NaiveDatetime
    local_time_or_null: NaiveDatetime | None
    day: date
    day_or_null: date | None


EVERYTHING = Dataset(name="everything", table="everything", model=Everything)
DATASETS = (EVERYTHING,)
'''
SQLITE_TABLE = """CREATE TABLE everything (
    id INTEGER PRIMARY KEY,
    count INTEGER NOT NULL, count_or_null INTEGER,
    ratio REAL NOT NULL, ratio_or_null REAL,
    amount TEXT NOT NULL, amount_or_null TEXT,
    flag INTEGER NOT NULL, flag_or_null INTEGER,
    label TEXT NOT NULL, label_or_null TEXT,
    happened_at TEXT NOT NULL, happened_at_or_null TEXT,
    local_time TEXT NOT NULL, local_time_or_null TEXT,
    day TEXT NOT NULL, day_or_null TEXT
) STRICT;
"""
POSTGRES_TABLE = """CREATE TABLE everything (
    id bigint PRIMARY KEY,
    count bigint NOT NULL, count_or_null integer,
    ratio double precision NOT NULL, ratio_or_null real,
    amount numeric(12, 3) NOT NULL, amount_or_null numeric(12, 3),
    flag boolean NOT NULL, flag_or_null boolean,
    label text NOT NULL, label_or_null varchar(40),
    happened_at timestamptz NOT NULL, happened_at_or_null timestamptz,
    local_time timestamp NOT NULL, local_time_or_null timestamp,
    day date NOT NULL, day_or_null date
);
"""
# The same rows for both databases: SQL literals either reads the same way.
ROWS = [
    "1, 0, NULL, 0.1, NULL, '0.000', NULL, {false}, NULL, '', NULL,"
    " '2024-05-01T12:00:00+00:00', NULL, '2024-05-01T12:00:00', NULL, '2024-05-01', NULL",
    "2, -9007199254740993, 42, 1e-7, -2.5, '-1234.500', '999999999.999', {true}, {true},"
    " 'comma, \"quote\"' || char(10) || 'new line', 'Café 東京 🚀',"
    " '2024-05-01T12:00:00.123456+05:30', '1999-12-31T23:59:59.5-08:00',"
    " '2024-02-29T23:59:59.999999', '1970-01-01T00:00:00', '0001-01-01', '9999-12-31'",
    "3, 9223372036854775807, -1, 1e300, 0.25, '0.001', '0.000', {false},"
    " {false}, 'plain', '', '2024-05-01T12:00:00Z', '2024-05-01T12:00:00.250+00:00',"
    " '2024-05-01T00:00:00', '2024-05-01T00:00:00.001', '2024-05-01', '2024-05-02'",
]
POSTGRES_NEWLINE = "chr(10)"


def inserts(true: str, false: str, newline: str) -> str:
    values = [row.format(true=true, false=false).replace("char(10)", newline) for row in ROWS]
    return "".join(f"INSERT INTO everything VALUES ({value});\n" for value in values)  # noqa: S608


def follow_the_recipe(project: Path) -> None:
    """What "Serve your own table" asks of a user, done to `project`."""
    readme = (project / "README.md").read_text()
    assert "### Serve your own table" in readme
    assert "tests/rows/tables/orders.sqlite.sql" in readme
    datasets = project / "src" / "streaming_api" / "rows" / "datasets.py"
    source = datasets.read_text()
    source = source.replace(
        "from decimal import Decimal\n", "from datetime import date\nfrom decimal import Decimal\n"
    )
    source = source.replace(
        "from pydantic import AwareDatetime, BaseModel, Field\n",
        "from pydantic import AwareDatetime, BaseModel, Field, NaiveDatetime\n",
    )
    # Taken out of DATASETS, the sample is no longer served: the suite must pass without it.
    source, replaced = re.subn(r"\nDATASETS = \(ITEMS,\)\n", MODEL, source)
    assert replaced == 1
    datasets.write_text(source)
    tables = project / "tests" / "rows" / "tables"
    (tables / "everything.sqlite.sql").write_text(SQLITE_TABLE + inserts("1", "0", "char(10)"))
    (tables / "everything.postgres.sql").write_text(
        POSTGRES_TABLE + inserts("true", "false", POSTGRES_NEWLINE)
    )


@pytest.mark.matrix
def test_a_dataset_of_every_type_is_served_and_tested_in_place_of_the_sample(
    tmp_path: Path,
) -> None:
    project = render(tmp_path, **answers(("csv", "jsonl", "json"), "gzip"))
    follow_the_recipe(project)
    for command in (
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--check", "--no-cache", "."],
        ["mypy", "--no-incremental"],
    ):
        result = run(command, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr
    code, output = run_suite(project, services=bool(os.environ.get("TEST_POSTGRES_URL")))
    assert code == 0, output[-6000:]
    # The dataset's own checks ran: none was skipped for want of a dataset.
    assert "got empty parameter set" not in output
