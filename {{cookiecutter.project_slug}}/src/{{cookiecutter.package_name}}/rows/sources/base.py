"""What every database behind the row endpoints offers: the interface, and nothing local.

The formats and the endpoints see only `RowSource` and `RowStream`; each
database is a module beside this one, and `factory.row_source` picks one.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeAlias, TypeVar

import pyarrow as pa

from ..datasets import Dataset

Row = tuple[Any, ...]
# Rows travel as Arrow record batches in the dataset's schema: one array per
# column, never a Python object per value.
Batch: TypeAlias = pa.RecordBatch
T = TypeVar("T")

# Both databases store keys in 64 bits; a larger keyset value cannot be bound.
MAX_ID = 2**63 - 1

_open_streams = 0


class DatabaseError(Exception):
    """The rows could not be read before the response started: a 503, never an empty 200."""


class UnfitValueError(Exception):
    """A stored value that does not fit its column's declared type: reported, never coerced.

    `str()` is the whole story, for the log; `public` names the place only, for a client.
    """

    def __init__(self, dataset: Dataset, column: str, key: object, found: str) -> None:
        self.public = (
            f"stored data does not fit dataset {dataset.name}: "
            f"column {column} at {dataset.key} {key}"
        )
        super().__init__(f"{self.public} holds {found}")


class StartupError(Exception):
    """The service cannot serve its datasets from this database: one line says why."""


class RowStream(Protocol):
    """An executed query whose first batch is already in hand.

    Running the query and the first fetch before the response starts turns a
    broken database into an error status instead of an empty 200.
    """

    def encoded(self, encode: Callable[[Batch], T]) -> AsyncIterator[T]:
        """`encode` of each batch, in key order; the connection is released at the end."""
        ...

    def batches(self) -> AsyncIterator[Batch]:
        """The rows themselves, batch by batch."""
        ...

    async def aclose(self) -> None:
        """Release the cursor and its connection; safe to call more than once."""
        ...


class RowSource(Protocol):
    """A database the row endpoints read."""

    @property
    def location(self) -> str:
        """Where the rows come from, fit for logs: never a password."""
        ...

    def prepare(self, datasets: Sequence[Dataset]) -> None:
        """Before the service starts: check that every dataset's table and columns exist.

        Raises `StartupError` naming the setting or the dataset and what is
        missing. SQLite's sample database is made here on a fresh checkout.
        """
        ...

    def running(self) -> AbstractAsyncContextManager[None]:
        """Ready the source while the app runs (PostgreSQL: the connection pool)."""
        ...

    async def open_rows(
        self, dataset: Dataset, *, after_id: int, limit: int | None, batch_size: int
    ) -> RowStream:
        """Run the dataset's query for rows after `after_id`, in key order, at most `limit`.

        Raises `DatabaseError` when the query cannot start.
        """
        ...

    async def seed(self, rows: int, *, replace: bool = True) -> bool:
        """Create or replace the sample table with `rows` rows, all at once or not at all.

        With `replace` off an existing sample table stays; returns whether it was written.
        """
        ...


def open_cursors() -> int:
    """How many row streams hold a database connection right now."""
    return _open_streams


def count_stream(change: int) -> None:
    """Back-ends call this with +1 when a stream takes a connection, -1 when it lets go."""
    global _open_streams  # noqa: PLW0603 - a process-wide gauge
    _open_streams += change
