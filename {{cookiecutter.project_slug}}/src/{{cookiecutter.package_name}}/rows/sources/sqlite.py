"""Rows from the embedded SQLite database, as Arrow record batches read through ADBC.

ADBC's SQLite driver reads a query's rows straight into Arrow columns, with no
Python object per value: for 1M sample rows it took 0.53 s of CPU where
`sqlite3`'s `fetchmany` took 1.22 s. It blocks, so every call runs in a worker
thread, and a format encodes each batch in the same thread hop that read it.

SQLite is dynamically typed: a column declared INTEGER may hold text. So the
query checks every value's storage class (`typeof`) against the dataset's
declared type, passes on only values that fit, and names the first column that
does not fit in one more column, `_unfit`; `conform` then parses text into
decimals, timestamps and dates, and refuses any that will not parse. The
driver types each column from the first row it reads (and refuses another
class later), so a first row of the right classes is put before the rows and
dropped again.
"""

import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, closing
from functools import partial
from pathlib import Path
from typing import TypeVar

import adbc_driver_sqlite.dbapi as adbc
import pyarrow as pa
import pyarrow.compute as pc
from adbc_driver_manager import dbapi
from anyio import CapacityLimiter, to_thread

from ..columns import Column, Kind
from ..datasets import Dataset
from ..seed import create_sample_database
from ..settings import RowsSettings
from .base import Batch, DatabaseError, StartupError, UnfitValueError, count_stream
from .conform import conform

T = TypeVar("T")
# Page cache per export, in KiB. SQLite's default is 2 MiB per connection,
# which a long read in key order fills with pages it never reads again: with a
# hundred slow clients that was 200 MiB. The key's interior pages fit in this.
CACHE_KIB = 256
# Exports reading and encoding a batch at once, per process (the rest wait their
# turn). Left at anyio's 40 worker threads, a burst of a hundred exports ran 40
# reads and encodes together, and the allocators kept their working memory:
# 0.6 MiB more per export, measured in BENCHMARKS.md. More than the cores do
# not go faster, and the event loop keeps its share of them.
THREADS = max(4, os.cpu_count() or 1)
_PACKAGE = __name__.partition(".")[0]
# Per declared type: the storage classes that may hold it, how it is read, a probe value.
_STORED: dict[Kind, tuple[tuple[str, ...], str, str]] = {
    Kind.INTEGER: (("integer",), "{}", "0"),
    Kind.FLOAT: (("real", "integer"), "CAST({} AS REAL)", "0.0"),
    Kind.DECIMAL: (("text", "integer"), "CAST({} AS TEXT)", "''"),
    Kind.BOOLEAN: (("integer",), "{}", "0"),
    Kind.TEXT: (("text",), "{}", "''"),
    Kind.TIMESTAMPTZ: (("text",), "{}", "''"),
    Kind.TIMESTAMP: (("text",), "{}", "''"),
    Kind.DATE: (("text",), "{}", "''"),
}
# What SQLite should hold for each declared type, for the line that reports a value that does not.
HOW_STORED: dict[Kind, str] = {
    Kind.INTEGER: "INTEGER",
    Kind.FLOAT: "REAL or INTEGER",
    Kind.DECIMAL: "TEXT such as '10.25' (or INTEGER)",
    Kind.BOOLEAN: "INTEGER 0 or 1",
    Kind.TEXT: "TEXT",
    Kind.TIMESTAMPTZ: "TEXT such as '2024-05-01T12:00:00+02:00'",
    Kind.TIMESTAMP: "TEXT such as '2024-05-01T12:00:00'",
    Kind.DATE: "TEXT such as '2024-05-01'",
}
# The column types of a STRICT table that hold each declared type and nothing else.
_STRICT: dict[Kind, tuple[str, ...]] = {
    Kind.INTEGER: ("INT", "INTEGER"),
    Kind.FLOAT: ("REAL",),
    Kind.DECIMAL: ("TEXT",),
    Kind.BOOLEAN: ("INT", "INTEGER"),
    Kind.TEXT: ("TEXT",),
    Kind.TIMESTAMPTZ: ("TEXT",),
    Kind.TIMESTAMP: ("TEXT",),
    Kind.DATE: ("TEXT",),
}
UNFIT = "_unfit"

logger = logging.getLogger(__name__)


def database_path(url: str) -> Path:
    """The file behind a `sqlite:///path` URL (four slashes for an absolute path)."""
    return Path(url.removeprefix("sqlite:///"))


def _fits(column: Column) -> str:
    """SQL that is true when the stored value fits `column`'s declared type."""
    classes, _, _ = _STORED[column.kind]
    name = f"_t.{column.name}"
    allowed = ", ".join(f"'{one}'" for one in (*classes, *(("null",) if column.nullable else ())))
    test = f"typeof({name}) IN ({allowed})"
    if column.kind is Kind.BOOLEAN:
        test += f" AND ({name} IN (0, 1){f' OR {name} IS NULL' if column.nullable else ''})"
    return f"({test})"


def _unfit(columns: Sequence[Column]) -> str:
    """SQL naming the first of `columns` whose value does not fit, with its storage class."""
    if not columns:
        return "NULL"
    tests = " ".join(
        f"WHEN NOT {_fits(column)} THEN '{column.name} ' || typeof(_t.{column.name})"
        for column in columns
    )
    return f"CASE {tests} END"


def query(dataset: Dataset, trusted: frozenset[str]) -> str:
    """The dataset's query: a probe row, then rows after `?`, in key order, at most `?`.

    Columns in `trusted` hold only their type's storage class (SQLite checks
    them itself: a STRICT table, the rowid key) and are read as they are; the
    others are read in their class and checked in `_unfit`.
    """
    probe = [f"{_STORED[column.kind][2]} AS {column.name}" for column in dataset.fields]
    values = [
        f"_t.{column.name}"
        if column.name in trusted
        else _STORED[column.kind][1].format(f"_t.{column.name}")
        for column in dataset.fields
    ]
    unfit = _unfit([column for column in dataset.fields if column.name not in trusted])
    key = f"_t.{dataset.key}"
    # The probe row comes first: SQLite runs the parts of a UNION ALL in order.
    return (
        f"SELECT {', '.join(probe)}, '' AS {UNFIT} UNION ALL "  # noqa: S608 - names from code
        f"SELECT * FROM (SELECT {', '.join(values)}, {unfit} "
        f"FROM {dataset.table} AS _t WHERE {key} > ? ORDER BY {key} LIMIT ?)"
    )


def locate(connection: dbapi.Connection, dataset: Dataset, after: object) -> UnfitValueError | None:
    """The first row after key `after` holding a value that does not fit, checking every column.

    For when the driver refused a batch (a value of another storage class than
    the rows before it): the slow query, run once, that says where.
    """
    key = f"_t.{dataset.key}"
    unfit = _unfit(dataset.fields)
    sql = (
        f"SELECT {key}, {unfit} FROM {dataset.table} AS _t "  # noqa: S608 - names from code
        f"WHERE {key} > ? AND {unfit} IS NOT NULL ORDER BY {key} LIMIT 1"
    )
    with closing(connection.cursor()) as cursor:
        cursor.execute(sql, (after,))
        found = cursor.fetchone()
    if found is None:
        return None
    return _unfit_error(dataset, found[0], str(found[1]))


def _unfit_error(dataset: Dataset, key: object, unfit: str) -> UnfitValueError:
    name, _, storage = unfit.rpartition(" ")
    column = next(one for one in dataset.fields if one.name == name)
    article = "an" if storage[:1] in ("a", "e", "i", "o", "u") else "a"
    found = f"{article} {storage} value; {column.declared} is stored as {HOW_STORED[column.kind]}"
    return UnfitValueError(dataset, name, key, found)


def trusted_columns(connection: dbapi.Connection, dataset: Dataset) -> frozenset[str]:
    """The columns whose storage class SQLite guarantees: a STRICT table's, the rowid key."""
    with closing(connection.cursor()) as cursor:
        cursor.execute(f"PRAGMA table_info({dataset.table})")
        info = {str(row[1]).lower(): row for row in cursor.fetchall()}
        try:
            cursor.execute(f"PRAGMA table_list({dataset.table})")
            strict = any(row[5] for row in cursor.fetchall())
        except adbc.Error:  # SQLite before 3.37: no STRICT tables either
            strict = False
    trusted = set()
    for column in dataset.fields:
        declared, primary = str(info[column.name.lower()][2]).upper(), info[column.name.lower()][5]
        rowid = declared == "INTEGER" and primary == 1 and column.kind is Kind.INTEGER
        if rowid or (strict and declared in _STRICT[column.kind]):
            trusted.add(column.name)
    return frozenset(trusted)


def _checked(dataset: Dataset, batch: pa.RecordBatch) -> Batch:
    """`batch` without its `_unfit` column, in the dataset's types; or `UnfitValueError`."""
    unfit = batch.column(UNFIT)
    if unfit.null_count != len(unfit):
        where = pc.index(pc.is_valid(unfit), True).as_py()
        key = batch.column(dataset.key)[where].as_py()
        raise _unfit_error(dataset, key, unfit[where].as_py())
    return conform(dataset, batch.columns[:-1])


class SqliteRows:
    """An executed query whose first batch is already in hand."""

    def __init__(
        self,
        dataset: Dataset,
        cursor: adbc.Cursor,
        reader: pa.RecordBatchReader,
        first: Batch,
        limiter: CapacityLimiter,
    ) -> None:
        count_stream(+1)
        self._dataset = dataset
        self._limiter = limiter
        self._cursor: adbc.Cursor | None = cursor
        self._reader = reader
        self._first: Batch | None = first
        self._last = _last_key(dataset, first, None)

    async def batches(self) -> AsyncIterator[Batch]:
        """Yield the first batch, then read the rest; release the connection at the end."""
        async for batch in self.encoded(_unchanged):
            yield batch

    async def encoded(self, encode: Callable[[Batch], T]) -> AsyncIterator[T]:
        """`encode` of each batch, run in the worker thread that read it.

        One thread hop per batch, and the columns never cross threads for work.
        """
        try:
            # The columns are let go once encoded: a stream that waits on a slow
            # client holds its bytes, never the batch they came from too.
            first, self._first = self._first, None
            if first is None:
                return
            found = await to_thread.run_sync(_listed, encode, first, limiter=self._limiter)
            del first
            while found:
                # Popped as it leaves: while it waits to be sent, what holds the
                # bytes is the consumer, never this frame too.
                yield found.pop()
                found = await to_thread.run_sync(self._next, encode, limiter=self._limiter)
        finally:
            self.close()

    def _next(self, encode: Callable[[Batch], T]) -> list[T]:
        """The next batch encoded, alone in a list (see `_listed`); an empty list at the end."""
        if self._cursor is None:
            msg = "the row stream is closed"
            raise RuntimeError(msg)
        try:
            batch = self._reader.read_next_batch()
        except StopIteration:
            return []
        except OSError as error:
            # The driver refuses a value of another storage class than the first
            # batch's: find the row and say so, rather than only that it failed.
            found = locate(self._cursor.connection, self._dataset, self._last)
            if found is not None:
                raise found from error
            raise
        checked = _checked(self._dataset, batch)
        self._last = _last_key(self._dataset, checked, self._last)
        return [encode(checked)]

    async def aclose(self) -> None:
        """Close the cursor's connection (for callers that release asynchronously)."""
        self.close()

    def close(self) -> None:
        """Close the cursor and its connection; safe to call more than once."""
        if self._cursor is not None:
            cursor, self._cursor = self._cursor, None
            connection = cursor.connection
            cursor.close()
            connection.close()
            count_stream(-1)


def _unchanged(batch: Batch) -> Batch:
    return batch


def _listed(encode: Callable[[Batch], T], batch: Batch) -> list[T]:
    # In a list, because a worker thread keeps what it returned until its next
    # call: popped from the list, the bytes are not held by an idle thread too.
    return [encode(batch)]


def _last_key(dataset: Dataset, batch: Batch, before: object) -> object:
    return batch.column(dataset.key)[-1].as_py() if batch.num_rows else before


def _read_only(path: Path) -> sqlite3.Connection:
    # mode=ro: a missing file is an error, never a new empty database. as_uri()
    # escapes the path, so a `#` or `?` in it is part of the name.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def missing(connection: sqlite3.Connection, dataset: Dataset) -> str | None:
    """What `dataset` needs that the database lacks, said for a person; None if nothing."""
    found = connection.execute(f"PRAGMA table_info({dataset.table})").fetchall()
    if not found:
        return f"dataset {dataset.name}: no table {dataset.table}"
    names = {str(column[1]).lower() for column in found}
    absent = [name for name in dataset.columns if name.lower() not in names]
    if absent:
        return f"dataset {dataset.name}: table {dataset.table} has no column {', '.join(absent)}"
    return None


def _execute(
    path: Path,
    dataset: Dataset,
    parameters: Sequence[int],
    batch_size: int,
    limiter: CapacityLimiter,
) -> SqliteRows:
    # mode=ro: a missing file is an error, never a new empty database.
    connection = adbc.connect(f"{path.resolve().as_uri()}?mode=ro", autocommit=True)
    cursor = connection.cursor()
    try:
        with connection.cursor() as setup:
            setup.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_size)})
        cursor.execute(query(dataset, trusted_columns(connection, dataset)), parameters)
        reader = cursor.fetch_record_batch()
        # The probe row makes the first batch: never empty, and dropped here.
        first = _checked(dataset, reader.read_next_batch().slice(1))
        return SqliteRows(dataset, cursor, reader, first, limiter)
    except BaseException:
        cursor.close()  # the driver refuses to close a connection with a statement open
        connection.close()
        raise


class SqliteSource:
    """The database file DATABASE_URL names; each stream opens its own connection."""

    def __init__(self, settings: RowsSettings) -> None:
        self.path = database_path(settings.database_url.get_secret_value())
        self._sample_rows = settings.sample_rows
        # A sample database is made by itself only where no one asked for a file:
        # a DATABASE_URL that was set and names none is a mistake to report, and
        # 1000 made-up rows served in its place would hide it.
        self._may_create = "database_url" not in settings.model_fields_set
        self._limiter = CapacityLimiter(THREADS)

    @property
    def location(self) -> str:
        """The database file."""
        return str(self.path)

    def prepare(self, datasets: Sequence[Dataset]) -> None:
        """Make the sample database on a fresh checkout, then check every dataset's table."""
        if not self.path.exists():
            if not self._may_create:
                msg = (
                    f"DATABASE_URL names {self.path}, which does not exist: create it, "
                    f"or run `python -m {_PACKAGE} seed` to fill it with sample rows"
                )
                raise StartupError(msg)
            logger.info(
                "no database at %s: creating one with %d sample rows", self.path, self._sample_rows
            )
            create_sample_database(self.path, self._sample_rows)
        try:
            with closing(_read_only(self.path)) as connection:
                problems = [found for one in datasets if (found := missing(connection, one))]
        except sqlite3.Error as error:
            msg = f"DATABASE_URL: cannot read {self.path} as a SQLite database ({error})"
            raise StartupError(msg) from error
        if problems:
            raise StartupError(f"{'; '.join(problems)} in {self.path}")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Nothing to hold: each stream opens its own connection."""
        yield

    async def open_rows(
        self, dataset: Dataset, *, after_id: int, limit: int | None, batch_size: int
    ) -> SqliteRows:
        """Run the dataset's query for rows after `after_id`, in key order, at most `limit`."""
        parameters = (after_id, -1 if limit is None else limit)
        try:
            return await to_thread.run_sync(
                _execute,
                self.path,
                dataset,
                parameters,
                batch_size,
                self._limiter,
                limiter=self._limiter,
            )
        except adbc.Error as error:
            raise DatabaseError(str(error)) from error

    async def seed(self, rows: int, *, replace: bool = True) -> bool:
        """Create or replace the sample table; every other table in the file stays."""
        return await to_thread.run_sync(
            partial(create_sample_database, self.path, rows, replace=replace)
        )
