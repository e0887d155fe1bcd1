"""What a row format is: a batch encoder, the bytes around and between batches, a media type."""

from collections.abc import AsyncGenerator, AsyncIterable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..sources.base import Batch

Encoder = Callable[[Sequence[str], Batch], bytes]


def _nothing(_: Sequence[str]) -> bytes:
    return b""


@dataclass(frozen=True)
class RowFormat:
    """How one format turns batches of rows into bytes.

    `encode` may run in a worker thread, so it must not share state between calls.
    """

    suffix: str
    media_type: str
    encode: Encoder
    schema: Callable[[type[BaseModel]], dict[str, Any]]
    head: Callable[[Sequence[str]], bytes] = _nothing
    separator: bytes = b""
    tail: bytes = b""
    attachment: bool = False


async def framed(
    row_format: RowFormat, columns: Sequence[str], batches: AsyncIterable[bytes]
) -> AsyncGenerator[bytes, None]:
    """Encoded batches with the format's head before them, separators between, tail after.

    The head travels with the first batch, so the first piece carries rows.
    """
    head = prefix = row_format.head(columns)
    empty = True
    async for data in batches:
        if not data:
            continue
        yield prefix + data if prefix else data
        prefix, empty = row_format.separator, False
    end = head + row_format.tail if empty else row_format.tail
    if end:
        yield end
