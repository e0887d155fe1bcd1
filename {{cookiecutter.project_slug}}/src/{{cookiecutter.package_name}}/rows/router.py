"""Row endpoints: every dataset in every selected format, streamed from a cursor.

    cursor batch + encode -> framed -> pieces of CHUNK_SIZE -> StreamingResponse

A format is a batch encoder, the bytes around and between batches, and a media
type; nothing after the encoder knows which format it carries, and nothing here
knows which database the rows come from.
"""

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from itertools import product
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..core.access import UNAUTHORIZED, reader
from ..core.credentials import mask_text
from ..core.limits import BUSY, stream_slot
from ..core.observe import StreamRecord, stream_record
from ..core.streaming import PieceResponse
from .chunking import rechunk
from .datasets import Dataset
from .formats.base import RowFormat, framed
from .settings import RowsSettings
from .sources.base import MAX_ID, Batch, DatabaseError, RowSource, RowStream, UnfitValueError

logger = logging.getLogger(__name__)


class ExportQuery(BaseModel):
    """The query every row endpoint takes.

    Any other parameter is a 422, so a typo such as `?limt=5` is an error rather
    than a full export.
    """

    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(
        default=None, ge=0, le=MAX_ID, description="Send at most this many rows."
    )
    after_id: int = Field(
        default=0,
        ge=0,
        le=MAX_ID,
        description="Only rows whose key is greater, in key order: resume an export.",
    )


def router(
    settings: RowsSettings,
    source: RowSource,
    datasets: Sequence[Dataset],
    formats: Sequence[RowFormat],
) -> APIRouter:
    """`GET` and `HEAD /<dataset>.<suffix>` for each dataset and format."""
    api = APIRouter(tags=["rows"])
    for dataset, row_format, method in product(datasets, formats, ("GET", "HEAD")):
        # One route per method, so each has its own OpenAPI operation id.
        api.add_api_route(
            f"/{dataset.name}.{row_format.suffix}",
            _endpoint(settings, source, dataset, row_format),
            methods=[method],
            dependencies=[Depends(reader), Depends(stream_slot)],
            name=f"{dataset.name}_{row_format.suffix}{'' if method == 'GET' else '_head'}",
            summary=f"Stream {dataset.name} as {row_format.suffix.upper()}"
            + ("" if method == "GET" else " (headers only)"),
            response_class=StreamingResponse,
            responses={
                200: {
                    "description": f"Rows of {dataset.name} in key order, streamed.",
                    "content": {row_format.media_type: {"schema": row_format.schema(dataset)}},
                },
                401: {"description": UNAUTHORIZED},
                500: {"description": "A stored value does not fit its declared type."},
                503: {"description": f"The database could not be read, or: {BUSY}"},
            },
        )
    return api


def body(
    rows: RowStream,
    dataset: Dataset,
    row_format: RowFormat,
    settings: RowsSettings,
    record: StreamRecord | None = None,
) -> AsyncGenerator[bytes, None]:
    """The bytes of one export, in pieces of CHUNK_SIZE: what a response sends.

    With a `record`, the rows are counted into it as they are encoded.
    """
    encode = row_format.encode if record is None else _counting(row_format.encode, record)
    encoded = _reported(rows.encoded(encode))
    return rechunk(
        framed(row_format, dataset.columns, encoded),
        settings.chunk_size,
        settings.flush_interval,
    )


def _counting(encode: Callable[[Batch], bytes], record: StreamRecord) -> Callable[[Batch], bytes]:
    """`encode`, counting each batch's rows into `record` (one batch at a time, in any thread)."""

    def counted(batch: Batch) -> bytes:
        record.count("row", batch.num_rows)
        return encode(batch)

    return counted


async def _reported(encoded: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    """`encoded`, with a stored value that does not fit logged in its one line.

    After the first bytes the response can only be aborted; the log says why.
    """
    try:
        while True:
            # Passed on as awaited: no local here holds the bytes while they wait to be sent.
            yield await anext(encoded)
    except StopAsyncIteration:
        return
    except UnfitValueError as error:
        logger.error("%s", error)
        raise


def _endpoint(
    settings: RowsSettings, source: RowSource, dataset: Dataset, row_format: RowFormat
) -> Callable[..., Any]:
    filename = f"{dataset.name}.{row_format.suffix}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}

    async def export(query: Annotated[ExportQuery, Query()], request: Request) -> Response:
        # HEAD: the headers a GET would get, from a query that reads no row but
        # still finds out whether the database answers (the server sends no body).
        limit = 0 if request.method == "HEAD" else query.limit
        try:
            rows = await source.open_rows(
                dataset,
                after_id=query.after_id,
                limit=limit,
                batch_size=settings.batch_size,
            )
        except DatabaseError as error:
            shown = mask_text(str(error))
            logger.error("cannot read %s from %s: %s", dataset.name, source.location, shown)
            logger.debug("what the database said", exc_info=True)
            raise HTTPException(status_code=503, detail="the database could not be read") from error
        except UnfitValueError as error:
            logger.error("%s", error)  # an expected failure: the line says it all
            raise HTTPException(status_code=500, detail=error.public) from error
        return PieceResponse(
            body(rows, dataset, row_format, settings, stream_record(request.scope)),
            label=filename,
            media_type=row_format.media_type,
            headers=headers if row_format.attachment else None,
            release=rows.aclose,
        )

    return export
