"""Relay: `GET /relay/{path}` streams `UPSTREAM_URL/{path}` through as it arrives.

One `httpx.AsyncClient`, opened and closed with the app, holds the connection
pool, and nothing else: no cookie, credential or other state of one caller is
kept for the next. The upstream's status and headers are awaited before the response
starts, so an upstream that is down or silent becomes a 502/503/504 with a JSON
error. After that the body is passed on undecoded (`aiter_raw`), each piece as
it arrives: an encoded body is never decoded and encoded again. An upstream
that fails mid-body aborts the response, so the client sees it incomplete
rather than a 200 with error text in it; a client that leaves closes the
upstream request at once, also while the upstream has not answered yet.
"""

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Final
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive

from ..core.access import UNAUTHORIZED, reader
from ..core.limits import BUSY, stream_slot
from ..core.streaming import PieceResponse
from .metrics import RelayMetrics
from .settings import RelaySettings
from .upstream import request_headers, response_headers, target

logger = logging.getLogger(__name__)

# What the log and the metrics record for a client that left before the
# upstream answered (nginx's code for it); the client never sees it.
CLIENT_LEFT = 499

# Failures before the upstream answered: the status and what the client is
# told. The first match wins; the timeouts are kinds of TransportError.
FAILURES: Final[tuple[tuple[type[httpx.TransportError], int, str], ...]] = (
    (httpx.PoolTimeout, 503, "too many relayed requests in flight, try again later"),
    (httpx.ConnectTimeout, 504, "the upstream did not accept a connection in time"),
    (httpx.TimeoutException, 504, "the upstream did not answer in time"),
    (httpx.ConnectError, 502, "the upstream is unreachable"),
    (httpx.TransportError, 502, "the upstream failed before answering"),
)


async def _pieces(upstream: httpx.Response, metrics: RelayMetrics) -> AsyncGenerator[bytes, None]:
    """The upstream's body bytes as they come off the socket, still encoded."""
    try:
        async for piece in upstream.aiter_raw():
            yield piece
    except httpx.TransportError as error:
        metrics.failed(error, "mid_body")
        raise


async def _client_left(receive: Receive) -> None:
    """Return once the client has hung up (the request has no body to wait for)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def send_unless_left(
    client: httpx.AsyncClient, outgoing: httpx.Request, receive: Receive
) -> httpx.Response | None:
    """The upstream's response, or None when the client left before it came.

    Nothing else would notice a client that leaves while the upstream is
    still silent: the route is only awaiting the upstream's headers. The
    request is cancelled then, which gives its pooled connection back at
    once instead of after UPSTREAM_READ_TIMEOUT.
    """
    sending = asyncio.ensure_future(client.send(outgoing, stream=True))
    leaving = asyncio.ensure_future(_client_left(receive))
    try:
        await asyncio.wait((sending, leaving), return_when=asyncio.FIRST_COMPLETED)
    finally:
        leaving.cancel()
        if not sending.done():
            sending.cancel()
        await asyncio.gather(sending, leaving, return_exceptions=True)
    return None if sending.cancelled() else sending.result()


def relay_response(upstream: httpx.Response, *, label: str, metrics: RelayMetrics) -> PieceResponse:
    """The upstream's status, headers and body; its connection is let go however it ends."""
    headers = response_headers(upstream.headers.multi_items())
    # Tell nginx not to buffer: a relayed stream is worth most as it arrives.
    headers["x-accel-buffering"] = "no"
    return PieceResponse(
        _pieces(upstream, metrics),
        label=label,
        headers=headers,
        status_code=upstream.status_code,
        release=upstream.aclose,
    )


class Relay:
    """The shared client, its lifetime, and the route that uses it."""

    def __init__(self, settings: RelaySettings) -> None:
        self._settings = settings
        self.metrics = RelayMetrics()
        self._base = httpx.URL(str(settings.upstream_url))
        # Where the upstream is, for logs: never the credentials a URL may carry.
        self._origin = str(self._base.copy_with(username=None, password=None))
        self._client: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        """Hold one client, and so one connection pool, while the app runs."""
        settings = self._settings
        timeout = httpx.Timeout(
            connect=settings.upstream_connect_timeout,
            read=settings.upstream_read_timeout,
            write=settings.upstream_read_timeout,
            pool=settings.upstream_connect_timeout,
        )
        # An idle connection is dropped before the upstream would close it: a
        # request sent on a connection the upstream is closing meets a reset,
        # which the client would get as a 502 (uvicorn closes one after 5 s
        # idle, gunicorn after 2 s; httpx's default would keep it 5 s).
        limits = httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_connections,
            keepalive_expiry=settings.upstream_keepalive_seconds,
        )
        # trust_env=False: no proxy variables or .netrc change where requests go.
        # The client is shared by every caller, so it must keep nothing of one
        # caller for the next: httpx keeps a cookie jar for the client's
        # lifetime, and an upstream's Set-Cookie for one caller would go back
        # upstream with everyone's requests. A policy that allows no domain
        # stores and sends no cookie at all.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        async with httpx.AsyncClient(
            timeout=timeout, limits=limits, trust_env=False, cookies=no_cookies
        ) as client:
            self._client = client
            try:
                yield
            finally:
                self._client = None

    async def forward(self, path: str, request: Request) -> Response:
        """Send the request on; answer with the upstream's response as it streams in."""
        url = target(self._base, path, request.scope["query_string"])
        if url is None:
            raise HTTPException(status_code=404, detail="no such path")
        if self._client is None:
            msg = "the relay runs only inside the app's lifespan"
            raise RuntimeError(msg)
        outgoing = self._client.build_request(
            "GET", url, headers=request_headers(request.headers.items())
        )
        # Percent-encoded, so no path can write a line of its own into the log.
        label = f"relay /{quote(path)}"
        try:
            upstream = await send_unless_left(self._client, outgoing, request.receive)
        except httpx.TransportError as error:
            self.metrics.failed(error, "before_headers")
            status, detail = next((s, d) for kind, s, d in FAILURES if isinstance(error, kind))
            logger.warning("%s: %s from %s (%s)", label, type(error).__name__, self._origin, error)
            raise HTTPException(status_code=status, detail=detail) from error
        if upstream is None:
            logger.info("%s: client went away before the upstream answered", label)
            return Response(status_code=CLIENT_LEFT)
        return relay_response(upstream, label=label, metrics=self.metrics)


def router(relay: Relay) -> APIRouter:
    """`GET /relay/{path}`, through `relay`'s client."""
    api = APIRouter(tags=["relay"])
    api.add_api_route(
        "/relay/{path:path}",
        relay.forward,
        methods=["GET"],
        dependencies=[Depends(reader), Depends(stream_slot)],
        name="relay",
        summary="Stream the upstream's response to GET UPSTREAM_URL/{path}",
        response_class=StreamingResponse,
        responses={
            200: {"description": "The upstream's status, body and descriptive headers."},
            401: {"description": UNAUTHORIZED},
            404: {"description": "The path has a `.` or `..` segment or a backslash."},
            502: {"description": "The upstream is unreachable or failed before answering."},
            503: {
                "description": "Every upstream connection is busy (UPSTREAM_MAX_CONNECTIONS), "
                f"or: {BUSY}"
            },
            504: {"description": "The upstream did not connect or answer in time."},
        },
    )
    return api
