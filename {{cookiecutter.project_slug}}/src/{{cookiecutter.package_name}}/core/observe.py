"""Every response measured where it leaves the app: at the ASGI `send`, whole streams included.

A middleware that wraps `call_next` stops its clock at the response's
headers; a stream's cost is everything after them. `StreamObserver` wraps the
app's `send` and `receive` instead, so it sees the first body byte, every
byte on the wire, the client leaving and the last message. When a response
starts and when it has ended it hands its `StreamRecord` to its listeners
(the metrics, the stream log). As the outermost wrapper of every response it
also adds the headers each one carries: the request id, and the defaults it
is given (`security_headers.SECURITY_HEADERS`) where the response set none of
its own; a middleware of their own would be one more wrapper on each of a
stream's sends. Routes add what only they know (the rows or events sent)
to the record of their request through `stream_record`.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .http_protocol import connection_state
from .request_id import request_id
from .shutdown import is_stopping

Outcome = Literal["complete", "client_left", "timeout", "error", "shutdown", "dropped"]
OUTCOMES: Final[tuple[Outcome, ...]] = (
    "complete",
    "client_left",
    "timeout",
    "error",
    "shutdown",
    "dropped",
)
# Where a request's record is kept in its scope.
_RECORD: Final = "{{ cookiecutter.package_name }}.stream"


# One record per response: compared, and hashed, by identity. Slots: one is
# kept for every open stream, and a dict of its ~20 fields would be most of it.
@dataclass(eq=False, slots=True)
class StreamRecord:
    """One response, from its request's arrival to its last byte (or its end otherwise)."""

    method: str
    path: str
    query: bytes
    client: str
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    # The route's path template once routing has matched one ("" for none).
    endpoint: str = ""
    status: int = 0
    wire_bytes: int = 0
    # Body bytes before compression; None where nothing compressed them.
    payload_bytes: int | None = None
    # What the route counted: rows or events, and how many.
    item: str = ""
    items: int = 0
    first_byte: float | None = None
    ended: float | None = None
    complete: bool = False
    left: bool = False
    failed: bool = False
    # An outcome the route knows better than the observer (the hub ended an event stream).
    reason: Outcome | None = None
    connection_ended_by: str | None = None

    @property
    def outcome(self) -> Outcome:
        """How the response ended."""
        if self.failed:
            return "error"
        if self.connection_ended_by == "timeout":
            return "timeout"
        if self.reason is not None:
            return self.reason
        if self.complete:
            return "complete"
        return "shutdown" if is_stopping() else "client_left"

    @property
    def duration(self) -> float:
        """Seconds from the request's arrival to the response's end."""
        return (self.ended or time.perf_counter()) - self.started

    @property
    def time_to_first_byte(self) -> float | None:
        """Seconds from the request's arrival to the first body byte sent, if one was."""
        return None if self.first_byte is None else self.first_byte - self.started

    def count(self, item: str, number: int) -> None:
        """Add `number` rows or events that the stream carries."""
        self.item = item
        self.items += number


def stream_record(scope: Scope) -> StreamRecord | None:
    """The record of the request `scope` belongs to; None outside `StreamObserver`."""
    record = scope.get(_RECORD)
    return record if isinstance(record, StreamRecord) else None


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


Listener = Callable[[StreamRecord], None]


class StreamObserver:
    """Measure each HTTP response at the send level, telling listeners when it starts and ends."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        on_start: Sequence[Listener],
        on_end: Sequence[Listener],
        headers: Mapping[str, str],
    ) -> None:
        self.app = app
        self.on_start = tuple(on_start)
        self.on_end = tuple(on_end)
        self.headers = tuple(
            (name.lower().encode(), value.encode()) for name, value in headers.items()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; note every message of its response on the way out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = StreamRecord(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b""),
            client=_client(scope),
            request_id=request_id(scope),
        )
        scope[_RECORD] = record
        watch = _Watch(record, scope, receive, send, self)
        try:
            await self.app(scope, watch.receive, watch.send)
        except BaseException:
            record.failed = not record.complete and not record.left
            if not record.status:
                record.status = 500  # what the server answers for it
            raise
        finally:
            record.ended = time.perf_counter()
            record.endpoint = _endpoint(scope)
            state = connection_state(scope)
            record.connection_ended_by = state.ended_by if state is not None else None
            for listener in self.on_end:
                listener(record)


class _Watch:
    """One request's `receive` and `send`, noting in its record what passes."""

    __slots__ = ("_id_header", "_observer", "_receive", "_record", "_scope", "_send")

    def __init__(
        self,
        record: StreamRecord,
        scope: Scope,
        receive: Receive,
        send: Send,
        observer: StreamObserver,
    ) -> None:
        self._record = record
        self._scope = scope
        self._receive = receive
        self._send = send
        self._observer = observer
        self._id_header = (b"x-request-id", record.request_id.encode())

    async def receive(self) -> Message:
        """The client's next message; a disconnect before the end means it left."""
        message = await self._receive()
        if message["type"] == "http.disconnect" and not self._record.complete:
            self._record.left = True
        return message

    async def send(self, message: Message) -> None:
        """Pass `message` on, counting its bytes; the response carries its request's id."""
        record = self._record
        if message["type"] == "http.response.start":
            record.status = message["status"]
            record.endpoint = _endpoint(self._scope)
            headers = [*message.get("headers", ()), self._id_header]
            present = {name.lower() for name, _ in headers}
            headers += [header for header in self._observer.headers if header[0] not in present]
            message = {**message, "headers": headers}
            for listener in self._observer.on_start:
                listener(record)
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body and record.first_byte is None:
                record.first_byte = time.perf_counter()
            record.wire_bytes += len(body)
            if not message.get("more_body", False):
                record.complete = True
        await self._send(message)


def _endpoint(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", "")
    return path if isinstance(path, str) else ""
