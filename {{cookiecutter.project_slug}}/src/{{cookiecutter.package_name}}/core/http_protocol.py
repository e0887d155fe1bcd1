r"""uvicorn's HTTP protocol with the bounds it lacks: request heads, slow requests, stalled readers.

    uvicorn {{ cookiecutter.package_name }}.main:app \
        --http {{ cookiecutter.package_name }}.main:http_protocol

uvicorn's httptools protocol (the fast one, and uvicorn's choice when
httptools is installed) buffers a request head of any size: a 100 MiB header
was read in full, blocking the event loop for seconds. Neither it nor the h11
protocol bounds the time a client may take to send its request, so
connections that trickle a byte now and then stay open for ever (h11 bounds
the head's size, `--h11-max-incomplete-event-size`, but not its time). And a
response whose client stops reading waits in `send` for as long as the
connection lasts. This subclass adds, per connection:

- REQUEST_HEAD_MAX_BYTES: a request line and headers larger than this are
  answered `431` and the connection is closed, after reading no more than
  that many bytes of the head;
- REQUEST_TIMEOUT: a request (line, headers, body) not received in full this
  many seconds after its first byte (or after the connection opened) is
  answered `408`, or, once its response has begun, its connection is closed;
- SEND_BUFFER_BYTES: the kernel takes at most this many unsent bytes of a
  response (TCP_NOTSENT_LOWAT) before the server waits; by default the kernel
  grows its buffer to megabytes, which a slow client made the service fill,
  encoding the rows for it, at once;
- SEND_TIMEOUT: a response whose client accepts no byte for this many seconds
  while the server waits to write more is aborted, its buffer dropped. A byte
  counts as accepted when the client acknowledged it: the kernel's send queue
  is asked (TIOCOUTQ), since the kernel lets the process write again only
  once half its buffer is free, which a slow but steady reader may take
  minutes to free. Where the kernel cannot be asked, the process's own
  buffer is watched instead.

Everything else is uvicorn's own. The app sees which bound ended a response
through the `CONNECTION` scope extension: `{"state": ConnectionState}`, and
may reset the connection through it at once (`ConnectionState.reset`), which
ASGI has no message for.
"""

import asyncio
import fcntl
import socket
import struct
import termios
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .settings import ServerLimitsSettings

# The scope extension the protocol adds to every request it serves (see `connection_state`).
CONNECTION: Final = "{{ cookiecutter.package_name }}.connection"
_TOO_LARGE: Final = b"request line and headers too large"
_TOO_SLOW: Final = b"request not received in time"
# SO_LINGER on, for 0 seconds: closing resets the connection, discarding unsent bytes.
_LINGER_RESET: Final = struct.pack("ii", 1, 0)


@dataclass(slots=True)  # one per open connection
class ConnectionState:
    """What the protocol tells the app about the connection a request came on."""

    # Close the connection at once, unsent bytes discarded: the client sees a reset.
    reset: Callable[[], None] = field(repr=False)
    # "timeout" once a bound closed the connection; None while it is open.
    ended_by: str | None = None


def _reply(status: bytes, body: bytes) -> bytes:
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounding request heads, request time and stalled writes."""

    limits: ClassVar[ServerLimitsSettings] = ServerLimitsSettings.model_construct()
    # Slots, not the instance dict, for what this class adds: uvicorn's protocol
    # sets 28 attributes (0.54), and past 30 CPython gives each instance a dict
    # of its own instead of one sharing its keys with the others: more memory
    # for every open connection (BENCHMARKS.md, memory per idle subscriber).
    __slots__ = ("_head_bytes", "_reading_head", "_receiving", "_socket", "_stalled", "_state")

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - uvicorn's own
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._reading_head = True
        self._receiving: asyncio.TimerHandle | None = None
        self._stalled: asyncio.TimerHandle | None = None
        self._socket: int | None = None
        self._state = ConnectionState(reset=self._reset)

    # --- the request: its head's size, and the time it takes to arrive

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock: a connection that sends nothing is closed like a slow one."""
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        self._socket = sock.fileno() if sock is not None else None
        unsent = self.limits.send_buffer_bytes
        if sock is not None and unsent and hasattr(socket, "TCP_NOTSENT_LOWAT"):
            with suppress(OSError):  # not TCP (a Unix socket): the kernel's default
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, unsent)
        self._start_receiving()

    def data_received(self, data: bytes) -> None:
        """Feed the parser, but never more than REQUEST_HEAD_MAX_BYTES of a head."""
        if not self._reading_head:
            super().data_received(data)
            return
        room = self.limits.request_head_max_bytes - self._head_bytes
        self._head_bytes += len(data)
        if len(data) <= room:
            super().data_received(data)
            return
        # Feed what fits: the head may end within it, and the rest be its body.
        super().data_received(data[:room])
        if self._reading_head and not self.transport.is_closing():
            self.transport.write(_reply(b"431 Request Header Fields Too Large", _TOO_LARGE))
            self.transport.close()
        elif not self.transport.is_closing():
            super().data_received(data[room:])

    def on_message_begin(self) -> None:
        """A request starts: it has REQUEST_TIMEOUT to arrive."""
        super().on_message_begin()
        self.scope.setdefault("extensions", {})[CONNECTION] = {"state": self._state}
        self._start_receiving()

    def on_headers_complete(self) -> None:
        """The head is in: no more counting until the next request."""
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The whole request is in: its clock stops, and what comes next is the next head."""
        self._stop_receiving()
        self._reading_head = True
        self._head_bytes = 0
        super().on_message_complete()

    def _start_receiving(self) -> None:
        if self._receiving is None:
            self._receiving = self.loop.call_later(self.limits.request_timeout, self._too_slow)

    def _stop_receiving(self) -> None:
        if self._receiving is not None:
            self._receiving.cancel()
            self._receiving = None

    def _too_slow(self) -> None:
        self._receiving = None
        if self.transport.is_closing():
            return
        self._state.ended_by = "timeout"
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_reply(b"408 Request Timeout", _TOO_SLOW))
            self.transport.close()
        else:
            self.transport.abort()

    # --- the response: a client that stops accepting bytes

    def pause_writing(self) -> None:
        """The write buffer is full: the client has SEND_TIMEOUT to take a byte of it."""
        super().pause_writing()
        self._watch(self._unaccepted())

    def resume_writing(self) -> None:
        """The client reads again."""
        super().resume_writing()
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    def _watch(self, buffered: int) -> None:
        self._stalled = self.loop.call_later(self.limits.send_timeout, self._check, buffered)

    def _check(self, buffered: int) -> None:
        self._stalled = None
        if not self.flow.write_paused or self.transport.is_closing():
            return
        now = self._unaccepted()
        if now < buffered:
            self._watch(now)  # it took some: it has another SEND_TIMEOUT
            return
        self._state.ended_by = "timeout"
        # abort, not close: close would wait for the client to read the buffer.
        self.transport.abort()

    def _unaccepted(self) -> int:
        """Bytes written for the client that it has not acknowledged: ours, and the kernel's."""
        pending = self.transport.get_write_buffer_size()
        if self._socket is not None:
            try:
                queued = fcntl.ioctl(self._socket, termios.TIOCOUTQ, bytes(4))
            except (OSError, ValueError):
                self._socket = None  # not a TCP socket on Linux: our buffer alone
            else:
                pending += struct.unpack("i", queued)[0]
        return pending

    def _reset(self) -> None:
        """Abort the connection with SO_LINGER 0: a reset, and its buffers freed at once.

        A response waiting on a client that reads nothing ends then, as if the
        client had left (uvicorn ends the request on the lost connection).
        """
        if self.transport.is_closing():
            return  # closed already (the client left): nothing is left to reset
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            # Closed meanwhile: OSError, or ValueError from uvloop's socket
            # object once the descriptor is gone. Then the abort alone.
            with suppress(OSError, ValueError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop every clock of the connection."""
        self._stop_receiving()
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None
        super().connection_lost(exc)


def http_protocol(limits: ServerLimitsSettings) -> type[BoundedHttpToolsProtocol]:
    """The protocol class, bound to `limits`, for uvicorn's `--http` (or `Config(http=...)`)."""

    class HttpProtocol(BoundedHttpToolsProtocol):
        pass

    HttpProtocol.limits = limits
    return HttpProtocol


def connection_state(scope: Mapping[str, Any]) -> ConnectionState | None:
    """What the protocol says of the connection `scope` came on; None under another server."""
    state = scope.get("extensions", {}).get(CONNECTION, {}).get("state")
    return state if isinstance(state, ConnectionState) else None
