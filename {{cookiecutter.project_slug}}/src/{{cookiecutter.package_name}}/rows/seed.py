"""The sample `items` table: deterministic rows with deliberately awkward text."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from .datasets import ITEMS
from .sources.base import Row

CATEGORIES = ("books", "garden", "kitchen", "music", "outdoor", "toys", "tools")
# Text that breaks naive CSV and JSON writers: separators, quotes, line breaks,
# non-ASCII, an emoji, an empty string and a NULL.
NOTES = (
    "plain",
    "comma, separated",
    'say "cheese"',
    "line one\nline two",
    "carriage\r\nreturn",
    "Café Ünïcødé — 東京",
    "rocket 🚀",
    "line\u2028separator and next\x85line",
    "",
    None,
    "tab\tand ; semicolon",
)
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# Seconds a seed waits for the write lock (an export reading, another seed).
SEED_WAIT = 60.0
# SQLite has no decimal, boolean or timestamp storage: exact decimals are text
# (a REAL or NUMERIC column would turn 0.10 into a binary float), booleans 0 or
# 1, timestamps ISO 8601 text with their offset. STRICT: SQLite itself refuses
# a value of another storage class, so the service need not check them.
SAMPLE_COLUMNS = """
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    in_stock INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    note TEXT
"""


def sample_rows(count: int) -> Iterator[Row]:
    """Rows 1..count, typed as the `Item` model says; the same count gives the same rows."""
    for row_id in range(1, count + 1):
        yield (
            row_id,
            f"Item {row_id}",
            CATEGORIES[row_id % len(CATEGORIES)],
            Decimal(row_id * 7919 % 100_000).scaleb(-2),
            row_id * 31 % 1000,
            row_id % 3 != 0,
            _EPOCH + timedelta(seconds=row_id * 37, microseconds=row_id % 4 * 250_000),
            NOTES[row_id % len(NOTES)],
        )


def _stored(row: Row) -> Row:
    """A sample row as SQLite stores it: exact decimals and timestamps as text."""
    row_id, name, category, price, quantity, in_stock, created_at, note = row
    stored = (str(price), quantity, int(in_stock), created_at.isoformat())
    return (row_id, name, category, *stored, note)


def create_sample_database(path: Path, rows: int, *, replace: bool = True) -> bool:
    """Create or replace the sample table in the SQLite file at `path` (made if missing).

    Only the sample table is touched: other tables in the file stay as they
    are. The new rows go in within one transaction that also drops the old
    table, so readers see the old rows or the new ones, never half, and a
    failed or interrupted seed changes nothing. With `replace` off an existing
    table is kept; returns whether the table was written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Autocommit mode, so that this code says where the transaction begins;
    # IMMEDIATE takes the write lock at once: seeds side by side take turns.
    with closing(sqlite3.connect(path, isolation_level=None, timeout=SEED_WAIT)) as connection:
        connection.execute("BEGIN IMMEDIATE")
        try:
            if not replace and _has_table(connection, ITEMS.table):
                connection.execute("ROLLBACK")
                return False
            connection.execute(f"DROP TABLE IF EXISTS {ITEMS.table}")
            connection.execute(f"CREATE TABLE {ITEMS.table} ({SAMPLE_COLUMNS}) STRICT")
            marks = ", ".join("?" * len(ITEMS.columns))
            connection.executemany(
                f"INSERT INTO {ITEMS.table} VALUES ({marks})",  # noqa: S608 - names from code
                map(_stored, sample_rows(rows)),
            )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # SQLite ends some failed transactions itself
                connection.execute("ROLLBACK")
            raise
    return True


def _has_table(connection: sqlite3.Connection, table: str) -> bool:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (table,)
    ).fetchone()
    return found is not None
