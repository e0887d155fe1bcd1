"""What a row format is: a batch encoder, the bytes around and between batches, a media type.

Encoders work on whole Arrow batches with polars' writers (Rust, no Python
object per value). `wire_frame` gives every format the same text for the same
value: that is the table of wire forms in the README.
"""

from collections.abc import AsyncGenerator, AsyncIterable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..datasets import Dataset
from ..sources.base import Batch

Encoder = Callable[[Batch], bytes]
# RFC 3339, in UTC; fractional seconds only when there are some (3, 6 or 9 digits).
TIMESTAMPTZ_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"
# The same without an offset: a timestamp without time zone has none to give.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"


def _nothing(_: Sequence[str]) -> bytes:
    return b""


def wire_frame(batch: Batch) -> pl.DataFrame:
    """`batch` as polars writes it, timestamps as their wire text; shares the batch's memory."""
    frame = pl.from_arrow(batch)
    if not isinstance(frame, pl.DataFrame):  # pragma: no cover - a batch is always a frame
        msg = "a record batch became a series"
        raise TypeError(msg)
    texts = [
        pl.col(name).dt.to_string(TIMESTAMPTZ_FORMAT if dtype.time_zone else TIMESTAMP_FORMAT)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    ]
    return frame.with_columns(texts) if texts else frame


def row_schema(dataset: Dataset) -> dict[str, Any]:
    """The JSON Schema of one row as the JSON formats send it: every key, typed as on the wire."""
    return {
        "title": dataset.model.__name__,
        "type": "object",
        "properties": {column.name: column.json_schema() for column in dataset.fields},
        "required": list(dataset.columns),
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class RowFormat:
    """How one format turns batches of rows into bytes.

    `encode` may run in a worker thread, so it must not share state between calls.
    """

    suffix: str
    media_type: str
    encode: Encoder
    schema: Callable[[Dataset], dict[str, Any]]
    head: Callable[[Sequence[str]], bytes] = _nothing
    separator: bytes = b""
    tail: bytes = b""
    attachment: bool = False


async def framed(
    row_format: RowFormat, columns: Sequence[str], batches: AsyncIterable[bytes]
) -> AsyncGenerator[bytes, None]:
    """Encoded batches with the format's head before them, separators between, tail after.

    The head travels with the first batch, so the first piece carries rows. A
    separator goes on its own: joined to its batch, it would copy every batch.
    """
    head = row_format.head(columns)
    empty = True
    async for data in batches:
        if not data:
            continue
        if empty:
            # Rebound, so that the first batch is held once joined, not twice.
            data = head + data if head else data  # noqa: PLW2901
            empty = False
        elif row_format.separator:
            yield row_format.separator
        yield data
    end = head + row_format.tail if empty else row_format.tail
    if end:
        yield end
