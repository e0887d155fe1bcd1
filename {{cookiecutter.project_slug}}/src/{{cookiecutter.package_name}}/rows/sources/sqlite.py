"""Rows from the embedded SQLite database, read batch by batch from a cursor.

`sqlite3` blocks, so every call that touches the database runs in a worker
thread; the event loop only ever waits on a batch that is already fetched.
A format encodes each batch in the same thread hop that fetched it.
"""

import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from anyio import to_thread

from ..datasets import Dataset
from ..seed import create_sample_database, ensure_database
from ..settings import RowsSettings
from .base import Batch, DatabaseError, count_stream

T = TypeVar("T")
# Page cache per export, in KiB. SQLite's default is 2 MiB per connection,
# which a long read in key order fills with pages it never reads again: with a
# hundred slow clients that was 200 MiB. The key's interior pages fit in this.
CACHE_KIB = 256


def database_path(url: str) -> Path:
    """The file behind a `sqlite:///path` URL (four slashes for an absolute path)."""
    return Path(url.removeprefix("sqlite:///"))


class SqliteRows:
    """An executed query whose first batch is already in hand."""

    def __init__(self, cursor: sqlite3.Cursor, first: Batch, batch_size: int) -> None:
        count_stream(+1)
        self._cursor: sqlite3.Cursor | None = cursor
        self._first = first
        self._batch_size = batch_size

    async def batches(self) -> AsyncIterator[Batch]:
        """Yield the first batch, then fetch the rest; release the connection at the end."""
        async for batch in self.encoded(_unchanged):
            yield batch

    async def encoded(self, encode: Callable[[Batch], T]) -> AsyncIterator[T]:
        """`encode` of each batch, run in the worker thread that fetched it.

        One thread hop per batch, and the rows never cross threads: fetching
        in a thread and encoding on the event loop measured 5 % more CPU, and
        kept the loop busy for the whole encode.
        """
        try:
            # The rows are let go once encoded: a stream that waits on a slow
            # client holds its bytes, never the rows they came from too.
            first, self._first = self._first, []
            if not first:
                return
            count, data = len(first), await to_thread.run_sync(encode, first)
            del first
            while True:
                yield data
                if count < self._batch_size:
                    break
                count, data = await to_thread.run_sync(self._fetch, encode)
                if not count:
                    break
        finally:
            self.close()

    def _fetch(self, encode: Callable[[Batch], T]) -> tuple[int, T]:
        if self._cursor is None:
            msg = "the row stream is closed"
            raise RuntimeError(msg)
        batch = self._cursor.fetchmany(self._batch_size)
        return len(batch), encode(batch)

    async def aclose(self) -> None:
        """Close the cursor's connection (for callers that release asynchronously)."""
        self.close()

    def close(self) -> None:
        """Close the cursor's connection; safe to call more than once."""
        if self._cursor is not None:
            self._cursor.connection.close()
            self._cursor = None
            count_stream(-1)


def _unchanged(batch: Batch) -> Batch:
    return batch


def _execute(path: Path, sql: str, parameters: Sequence[int], batch_size: int) -> SqliteRows:
    # mode=ro: a missing file is an error, never a new empty database. as_uri()
    # escapes the path, so a `#` or `?` in it is part of the name.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        cursor = connection.execute(sql, parameters)
        return SqliteRows(cursor, cursor.fetchmany(batch_size), batch_size)
    except BaseException:
        connection.close()
        raise


class SqliteSource:
    """The database file DATABASE_URL names; each stream opens its own connection."""

    def __init__(self, settings: RowsSettings) -> None:
        self.path = database_path(settings.database_url.get_secret_value())
        self._sample_rows = settings.sample_rows

    @property
    def location(self) -> str:
        """The database file."""
        return str(self.path)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Create a sample database if there is none, so a fresh checkout just runs."""
        await ensure_database(self.path, self._sample_rows)
        yield

    async def open_rows(
        self, dataset: Dataset, *, after_id: int, limit: int | None, batch_size: int
    ) -> SqliteRows:
        """Run the dataset's query for rows after `after_id`, in key order, at most `limit`."""
        sql = f"{dataset.select} WHERE {dataset.key} > ? ORDER BY {dataset.key} LIMIT ?"
        parameters = (after_id, -1 if limit is None else limit)
        try:
            return await to_thread.run_sync(_execute, self.path, sql, parameters, batch_size)
        except sqlite3.Error as error:
            raise DatabaseError(str(error)) from error

    async def seed(self, rows: int) -> None:
        """Replace the database file with one of `rows` sample rows."""
        await to_thread.run_sync(create_sample_database, self.path, rows)
