"""Live events: `GET /events` streams them, `POST /events` publishes one.

    POST /events -> hub.publish: encoded once, queued for every subscriber
    GET /events  -> hub.subscribe -> EventStreamResponse (retry, replay, live)

The hub lives as long as the app (see `feature.open_hub`), with one keep-alive
ticker for all its streams; the routes find it on `app.state.hub`.
"""

import json
import logging
import secrets
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, field_validator
from starlette.responses import Response, StreamingResponse

from ..core.access import SIGNED_PARAMETER, UNAUTHORIZED, access_of, reader, signed_reader
from ..core.limits import BUSY, stream_slot
from .hub import RESET_EVENT, BrokerUnavailableError, EventHub
from .metrics import EventMetrics
from .settings import EventsSettings
from .sse import MEDIA_TYPE
from .stream import EventStreamResponse

logger = logging.getLogger(__name__)

# Letters, digits and `_.-`: nothing that could end a line or a field of the frame.
EVENT_NAME: Final = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
# What signed stream tokens are made for: they open GET /events alone.
STREAM_PURPOSE: Final = "GET /events"
# Bounds the history's memory: at most SSE_HISTORY events of this size.
MAX_EVENT_BYTES: Final = 64 * 1024


def to_json(value: JsonValue) -> str:
    """Compact JSON on one line, as UTF-8 can carry it.

    Raises ValueError for NaN and infinities, which JSON lacks, and for lone
    surrogates (Python's JSON parser lets them in; UTF-8 cannot encode them).
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text.encode()
    return text


class Publish(BaseModel):
    """An event to send to every open stream."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(
        pattern=EVENT_NAME,
        description=f"Event type, what EventSource.addEventListener listens for; "
        f"'{RESET_EVENT}' is reserved.",
        examples=["price.changed"],
    )
    data: JsonValue = Field(description="Any JSON value; sent as the event's data.")

    @field_validator("event")
    @classmethod
    def _not_reserved(cls, event: str) -> str:
        if event == RESET_EVENT:
            raise ValueError(f"'{RESET_EVENT}' is reserved for the server's gap notice")
        return event


class Published(BaseModel):
    """Where a published event went."""

    id: str = Field(description="The event's id, as sent in its `id:` field.")
    subscribers: int = Field(description="Open streams on this process it was queued for.")


class StreamToken(BaseModel):
    """A token that opens GET /events, and nothing else, for a while."""

    access_token: str = Field(description=f"Pass it as ?{SIGNED_PARAMETER}= to GET /events.")
    expires_in: int = Field(description="Seconds it is good for (STREAM_TOKEN_SECONDS).")


def authorize(token: SecretStr | None, credentials: HTTPAuthorizationCredentials | None) -> None:
    """Let the holder of the publish token through; refuse everyone when none is set."""
    if token is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "publishing is disabled: the server has no PUBLISH_TOKEN configured",
        )
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send the publish token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = token.get_secret_value().encode()
    if not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the bearer token is not the publish token")


async def current_hub(request: Request) -> EventHub:
    """The hub the app's lifespan opened (async: a plain function would run in a thread)."""
    hub: EventHub = request.app.state.hub
    return hub


def router(settings: EventsSettings, metrics: EventMetrics) -> APIRouter:
    """`GET /events` and `POST /events`."""
    api = APIRouter(tags=["events"])
    bearer = HTTPBearer(auto_error=False, description="The server's PUBLISH_TOKEN.")

    async def publisher(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        authorize(settings.publish_token, credentials)

    @api.get(
        "/events",
        dependencies=[Depends(signed_reader(STREAM_PURPOSE)), Depends(stream_slot)],
        response_class=StreamingResponse,
        summary="Stream live events",
        responses={
            200: {
                "description": "Server-Sent Events, endless: a `retry:` hint, then events "
                "with `id:`, `event:` and JSON `data:`, and a keep-alive comment when idle. "
                f"An `event: {RESET_EVENT}` first means Last-Event-ID could not be resumed "
                "from the history: what followed it may have been missed.",
                "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
            },
            401: {
                "description": f"{UNAUTHORIZED} A browser's EventSource, which cannot send "
                f"headers, passes a token from POST /events/token as ?{SIGNED_PARAMETER}=."
            },
            503: {"description": BUSY},
        },
    )
    async def subscribe(
        hub: Annotated[EventHub, Depends(current_hub)],
        last_event_id: Annotated[
            str | None,
            Header(description="Resume after this event id (browsers send it on reconnect)."),
        ] = None,
    ) -> Response:
        return EventStreamResponse(hub, last_event_id, settings.sse_retry_ms, metrics)

    @api.post(
        "/events/token",
        dependencies=[Depends(reader)],
        summary="A short-lived token for GET /events, for clients that cannot send headers",
        responses={401: {"description": UNAUTHORIZED}},
    )
    async def stream_token(request: Request) -> StreamToken:
        """For a browser's EventSource: `new EventSource("/events?access_token=" + token)`."""
        seconds = settings.stream_token_seconds
        token = access_of(request).sign(STREAM_PURPOSE, seconds)
        return StreamToken(access_token=token, expires_in=seconds)

    @api.post(
        "/events",
        status_code=status.HTTP_202_ACCEPTED,
        summary="Publish an event to every open stream",
        dependencies=[Depends(publisher)],
        max_body_size=MAX_EVENT_BYTES,
        responses={
            401: {"description": "No bearer token."},
            403: {"description": "Wrong token, or publishing disabled (no PUBLISH_TOKEN)."},
            413: {"description": f"Body larger than {MAX_EVENT_BYTES} bytes."},
            503: {"description": "The event broker cannot be reached; nothing was published."},
        },
    )
    async def publish(body: Publish, hub: Annotated[EventHub, Depends(current_hub)]) -> Published:
        try:
            data = to_json(body.data)
        except ValueError as error:
            # Checked here, not in a validator: FastAPI's 422 echoes the input,
            # and a NaN or a lone surrogate would fail to encode in it.
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("body", "data"), "msg": str(error)}]
            ) from error
        try:
            event_id = await hub.publish(body.event, data)
        except BrokerUnavailableError:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the event broker is unavailable: nothing was published, try again shortly",
                headers={"Retry-After": "1"},
            ) from None
        metrics.published += 1
        return Published(id=event_id, subscribers=hub.subscribers)

    return api
