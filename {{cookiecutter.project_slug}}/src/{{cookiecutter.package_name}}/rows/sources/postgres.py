"""Rows from PostgreSQL, read batch by batch from a server-side cursor.

Connections come from a psycopg pool opened and closed with the app. Each
export declares a cursor in a transaction of its own and fetches BATCH_SIZE
rows at a time, so neither side ever holds the whole result. Each batch is
made into Arrow arrays of the dataset's declared types (`columnar`), so the
same formats write the same bytes as from SQLite.

psycopg builds a Python object per value; ADBC's PostgreSQL driver, which
reads into Arrow directly, took less CPU in a measurement on the same 1M sample
rows (read and JSON Lines: 2.6 s against 3.8 s; BENCHMARKS.md). It is not used
yet: it blocks a worker thread per stream and has no async pool, so the
connection pool's limits, the 503 after DATABASE_POOL_TIMEOUT and the release
of the connection the moment a client leaves would all have to be rebuilt
around it. Decimals, timestamps and dates are loaded as text and parsed by
Arrow (`_as_text`), which is the cheaper half of the conversion.
"""

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.types.string import TextLoader
from psycopg_pool import AsyncConnectionPool

from ...core.credentials import mask
from ..columns import Kind
from ..datasets import ITEMS, Dataset
from ..seed import sample_rows
from ..settings import RowsSettings
from .base import Batch, DatabaseError, Row, StartupError, count_stream
from .conform import conform

T = TypeVar("T")
Connection = psycopg.AsyncConnection[tuple[Any, ...]]
Cursor = psycopg.AsyncServerCursor[tuple[Any, ...]]
Pool = AsyncConnectionPool[Connection]

# How long releasing a connection may wait for the server to end its transaction.
RELEASE_SECONDS = 5.0
# The sample table in PostgreSQL's own types for the `Item` model.
_SAMPLE_COLUMNS = sql.SQL(
    """
    id bigint NOT NULL,
    name text NOT NULL,
    category text NOT NULL,
    price numeric(10, 2) NOT NULL,
    quantity bigint NOT NULL,
    in_stock boolean NOT NULL,
    created_at timestamptz NOT NULL,
    note text
    """
)
_SAMPLE_TYPES = ("int8", "text", "text", "numeric", "int8", "bool", "timestamptz", "text")
# Seeds of one database take turns on this transaction-scoped advisory lock.
_SEED_LOCK = 0x6974656D73
# libpq's words when the server answers that DATABASE_URL's database is not there.
_NO_DATABASE = re.compile(r'database "[^"]*" does not exist')
_PACKAGE = __name__.partition(".")[0]
# Loaded as text (`_as_text`): Arrow parses it, exactly, faster than Python objects.
_TEXT_TYPES = ("numeric", "timestamptz", "timestamp", "date")
_PARSED = frozenset({Kind.DECIMAL, Kind.TIMESTAMPTZ, Kind.TIMESTAMP, Kind.DATE})
# The PostgreSQL types each declared type is read from, exactly (pg_type names).
READS: dict[Kind, tuple[str, ...]] = {
    Kind.INTEGER: ("int8", "int4", "int2"),
    Kind.FLOAT: ("float8", "float4"),
    Kind.DECIMAL: ("numeric", "int8", "int4", "int2"),
    Kind.BOOLEAN: ("bool",),
    Kind.TEXT: ("text", "varchar", "bpchar"),
    Kind.TIMESTAMPTZ: ("timestamptz",),
    Kind.TIMESTAMP: ("timestamp",),
    Kind.DATE: ("date",),
}

logger = logging.getLogger(__name__)


async def _as_text(connection: Connection) -> None:
    """Read decimals, timestamps and dates as PostgreSQL's text, for Arrow to parse.

    A Python Decimal or datetime per value, then an Arrow array of them, cost
    about a fifth more CPU than Arrow parsing the text (1M sample rows); ISO
    DateStyle makes that text what Arrow reads.
    """
    for name in _TEXT_TYPES:
        connection.adapters.register_loader(name, TextLoader)
    await connection.set_autocommit(True)
    await connection.execute("SET DateStyle = 'ISO, YMD'")
    await connection.set_autocommit(False)


def columnar(dataset: Dataset, rows: list[Row]) -> Batch:
    """Rows from psycopg as a batch in the dataset's types, or `UnfitValueError`."""
    arrays = []
    by_column = zip(*rows, strict=True) if rows else [()] * len(dataset.fields)
    for column, values in zip(dataset.fields, by_column, strict=True):
        # The types loaded as text arrive as str: `conform` parses them.
        kind = pa.string() if column.kind in _PARSED else column.arrow_type
        try:
            arrays.append(pa.array(values, type=kind))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            # As text, so that `conform` names the value that does not fit, and its key.
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return conform(dataset, arrays)


class PostgresRows:
    """A declared cursor whose first batch is already in hand, on a pooled connection."""

    def __init__(  # noqa: PLR0913 - what a stream holds
        self,
        pool: Pool,
        connection: Connection,
        cursor: Cursor,
        *,
        dataset: Dataset,
        first: Batch,
        batch_size: int,
    ) -> None:
        count_stream(+1)
        self._pool = pool
        self._connection: Connection | None = connection
        self._cursor = cursor
        self._dataset = dataset
        self._first: Batch | None = first
        self._batch_size = batch_size

    async def batches(self) -> AsyncIterator[Batch]:
        """Yield the first batch, then fetch the rest; release the connection at the end."""
        async for batch in self.encoded(_unchanged):
            yield batch

    async def encoded(self, encode: Callable[[Batch], T]) -> AsyncIterator[T]:
        """`encode` of each batch, on the event loop (faster than a thread hop, see above)."""
        try:
            batch, self._first = self._first, None
            while batch is not None:
                last = batch.num_rows < self._batch_size
                found = [encode(batch)]
                # The columns are let go once encoded, and the bytes popped as
                # they leave: a stream waiting on a slow client holds them once.
                del batch
                yield found.pop()
                if last:
                    break
                rows = await self._cursor.fetchmany(self._batch_size)
                batch = columnar(self._dataset, rows) if rows else None
                del rows  # the batch has their values: their Python objects need not wait too
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """End the cursor's transaction and give the connection back; safe to call twice."""
        connection, self._connection = self._connection, None
        if connection is not None:
            count_stream(-1)
            await _release(self._pool, connection, self._cursor)


def _unchanged(batch: Batch) -> Batch:
    return batch


async def _release(pool: Pool, connection: Connection, cursor: Cursor) -> None:
    """Roll back, which ends the cursor, and return the connection to the pool.

    Shielded: a client that left cancels the task that runs this, and a
    connection never returned would be lost to the pool. psycopg has already
    cancelled a query that the cancellation interrupted; one that cannot be
    ended, or a broken connection, the pool closes and replaces.
    """
    with anyio.CancelScope(shield=True):
        status = connection.info.transaction_status
        if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            with anyio.move_on_after(RELEASE_SECONDS), contextlib.suppress(psycopg.Error):
                await connection.rollback()
        with contextlib.suppress(psycopg.Error):
            await cursor.close()  # only marks it closed: the rollback (or the error) ended it
        await pool.putconn(connection)


async def _table_exists(connection: Connection, table: str) -> bool:
    cursor = await connection.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
    found = await cursor.fetchone()
    return bool(found and found[0])


async def _create_sample(connection: Connection, rows: int, *, replace: bool) -> bool:
    """Load `rows` sample rows into a new table and swap it in, in one transaction.

    Nothing is half-written: until the commit, readers see the old table (or
    none). COPY in binary is the fastest way in (1M rows in about 2 s here);
    FREEZE spares the server rewriting every row later, as the table is new.
    Returns whether it created the table (with `replace` off, it may exist).
    """
    table = ITEMS.table
    partial = f"{table}_partial"
    names = {
        "table": sql.Identifier(table),
        "partial": sql.Identifier(partial),
        "partial_key": sql.Identifier(f"{partial}_pkey"),
        "key": sql.Identifier(f"{table}_pkey"),
        "columns": _SAMPLE_COLUMNS,
    }
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SEED_LOCK,))
        if not replace and await _table_exists(connection, table):
            return False
        await connection.execute(sql.SQL("CREATE TABLE {partial} ({columns})").format(**names))
        copy_in = sql.SQL("COPY {partial} FROM STDIN (FORMAT binary, FREEZE)").format(**names)
        async with connection.cursor().copy(copy_in) as copy:
            copy.set_types(_SAMPLE_TYPES)
            for row in sample_rows(rows):
                await copy.write_row(row)
        for statement in (
            "ALTER TABLE {partial} ADD CONSTRAINT {partial_key} PRIMARY KEY (id)",
            "DROP TABLE IF EXISTS {table}",
            "ALTER TABLE {partial} RENAME TO {table}",
            "ALTER TABLE {table} RENAME CONSTRAINT {partial_key} TO {key}",
        ):
            await connection.execute(sql.SQL(statement).format(**names))
    return True


def _missing(connection: psycopg.Connection[tuple[Any, ...]], dataset: Dataset) -> str | None:
    """What `dataset` needs that the database lacks, said for a person; None if nothing."""
    found = connection.execute(
        "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
        " WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
        (dataset.table,),
    ).fetchall()
    if not found:
        return f"dataset {dataset.name}: no table {dataset.table}"
    types = {str(name).lower(): str(type_name) for name, type_name in found}
    absent = [name for name in dataset.columns if name.lower() not in types]
    if absent:
        return f"dataset {dataset.name}: table {dataset.table} has no column {', '.join(absent)}"
    wrong = [
        f"column {column.name} is {types[column.name.lower()]}, "
        f"where a {column.declared} needs {' or '.join(READS[column.kind])}"
        for column in dataset.fields
        if types[column.name.lower()] not in READS[column.kind]
    ]
    if wrong:
        return f"dataset {dataset.name}: {', '.join(wrong)}"
    return None


class PostgresSource:
    """The PostgreSQL database DATABASE_URL names, through a pool of connections."""

    def __init__(self, settings: RowsSettings) -> None:
        self._url = settings.database_url.get_secret_value()
        self._settings = settings
        self._pool: Pool | None = None

    @property
    def location(self) -> str:
        """The URL, its password masked."""
        return mask(self._url)

    def prepare(self, datasets: Sequence[Dataset]) -> None:
        """Check every dataset's table and columns, if the server answers already.

        A database that does not exist stops the service; one that does not
        answer yet is no reason not to start: row requests get a 503 until it
        does, and the pool keeps trying.
        """
        timeout = self._settings.database_connect_timeout
        try:
            with psycopg.connect(self._url, connect_timeout=timeout) as connection:
                problems = [found for one in datasets if (found := _missing(connection, one))]
        except psycopg.Error as error:
            if _NO_DATABASE.search(str(error)):
                msg = f"DATABASE_URL={self.location}: the server has no such database"
                raise StartupError(msg) from error
            first = str(error).strip().partition("\n")[0]
            logger.warning("cannot reach %s at start (%s): not checked", self.location, first)
            return
        if problems:
            msg = f"{'; '.join(problems)} in {self.location}"
            if any(one.table == ITEMS.table for one in datasets):
                msg += f" (the sample table: `python -m {_PACKAGE} seed` makes it)"
            raise StartupError(msg)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open the pool, connecting in the background, and close it at the end."""
        settings = self._settings
        pool: Pool = AsyncConnectionPool(
            self._url,
            min_size=settings.database_pool_min,
            max_size=settings.database_pool_max,
            timeout=settings.database_pool_timeout,
            kwargs={"connect_timeout": settings.database_connect_timeout},
            # One round trip per export: a connection the server dropped (a
            # restart) is replaced before use, rather than failing with a 503.
            check=AsyncConnectionPool.check_connection,
            configure=_as_text,
            open=False,
        )
        await pool.open()
        self._pool = pool
        try:
            yield
        finally:
            self._pool = None
            await pool.close()

    async def open_rows(
        self, dataset: Dataset, *, after_id: int, limit: int | None, batch_size: int
    ) -> PostgresRows:
        """Declare a cursor for rows after `after_id`, in key order, at most `limit`."""
        if self._pool is None:
            msg = "the connection pool is not open"
            raise DatabaseError(msg)
        pool = self._pool
        query = f"{dataset.select} WHERE {dataset.key} > %s ORDER BY {dataset.key} LIMIT %s"
        try:
            connection = await pool.getconn()
        except psycopg.Error as error:
            raise DatabaseError(str(error)) from error
        try:
            cursor = connection.cursor("rows")
            await cursor.execute(query, (after_id, limit))
            first = columnar(dataset, await cursor.fetchmany(batch_size))
        except psycopg.Error as error:
            await _release(pool, connection, cursor)
            raise DatabaseError(str(error)) from error
        except BaseException:
            await _release(pool, connection, cursor)
            raise
        return PostgresRows(
            pool, connection, cursor, dataset=dataset, first=first, batch_size=batch_size
        )

    async def seed(self, rows: int, *, replace: bool = True) -> bool:
        """Create or replace the sample table, on a connection of its own; others stay."""
        timeout = self._settings.database_connect_timeout
        try:
            async with await psycopg.AsyncConnection.connect(
                self._url, connect_timeout=timeout
            ) as connection:
                return await _create_sample(connection, rows, replace=replace)
        except psycopg.Error as error:
            raise DatabaseError(str(error)) from error
