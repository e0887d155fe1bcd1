"""The sample `items` table: deterministic rows with deliberately awkward text."""

import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from anyio import to_thread

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

logger = logging.getLogger(__name__)


def sample_rows(count: int) -> Iterator[Row]:
    """Rows 1..count; the same count always gives the same rows."""
    for row_id in range(1, count + 1):
        yield (
            row_id,
            f"Item {row_id}",
            CATEGORIES[row_id % len(CATEGORIES)],
            (row_id * 7919 % 100_000) / 100,
            row_id * 31 % 1000,
            (_EPOCH + timedelta(seconds=row_id * 37)).isoformat(),
            NOTES[row_id % len(NOTES)],
        )


def create_sample_database(path: Path, rows: int) -> None:
    """Create or replace the database at `path` with `rows` sample rows.

    The rows go into a temporary file that replaces `path` only when complete,
    so a failed or interrupted seed never leaves a half-written database.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own, so processes seeding side by side never share a file.
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(name)
    try:
        with closing(sqlite3.connect(partial)) as connection:
            connection.executescript(
                """
                PRAGMA journal_mode = OFF;
                PRAGMA synchronous = OFF;
                CREATE TABLE items (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    category TEXT NOT NULL,
                    price REAL NOT NULL,
                    quantity INTEGER NOT NULL,
                    created_at TEXT NOT NULL,
                    note TEXT
                );
                """
            )
            with connection:
                connection.executemany(
                    "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)", sample_rows(rows)
                )
        # The journal was off for speed: make the file durable before it goes live.
        with partial.open("rb+") as file:
            os.fsync(file.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


async def ensure_database(path: Path, rows: int) -> None:
    """Create a sample database at `path` if there is none, so a fresh checkout just runs."""
    if not path.exists():
        logger.info("no database at %s: creating one with %d sample rows", path, rows)
        await to_thread.run_sync(create_sample_database, path, rows)
