"""A real uvicorn on loopback, and two replicas behind a real nginx."""

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from {{ cookiecutter.package_name }}.core.http_protocol import http_protocol
from {{ cookiecutter.package_name }}.core.settings import ServerLimitsSettings

from .nginxproxy import nginx
from .settings import make_settings


class _Server(uvicorn.Server):
    """uvicorn that begins to stop as soon as it is asked, not at its next tick.

    uvicorn looks at `should_exit` every 0.1 s; the suites start and stop
    servers by the dozen, and those ticks added up to seconds.
    """

    _asked: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def ask_to_stop(self) -> None:
        """Stop now (from any thread); before the loop runs, the first tick sees it."""
        self.should_exit = True
        if self._loop is not None and self._asked is not None:
            self._loop.call_soon_threadsafe(self._asked.set)

    async def main_loop(self) -> None:
        """uvicorn's loop, woken by `ask_to_stop` as well as by the tick."""
        self._asked = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        ticks = 0
        while not await self.on_tick(ticks):
            ticks += 1
            with suppress(TimeoutError):
                await asyncio.wait_for(self._asked.wait(), 0.1)


@contextmanager
def serve(app: ASGIApp, limits: ServerLimitsSettings | None = None) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port; yield its base URL.

    The server runs the service's own HTTP protocol, with `limits` (by
    default the settings' defaults), as it is deployed.
    """
    protocol = http_protocol(limits or make_settings())
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", http=protocol
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.ask_to_stop()
        thread.join(timeout=10)


def long_lived_client(base_url: str, timeout: float = 10) -> httpx.Client:
    """A client for a fixture that outlives one test.

    uvicorn closes a connection idle for 5 s (`timeout_keep_alive`) and httpx
    reuses one idle for up to 5 s, so a request sent just as the server closes
    meets a reset. Such a client drops its idle connections long before that.
    A client that lives across tests also saves loading the CA bundle (~20 ms)
    for each.
    """
    return httpx.Client(base_url=base_url, timeout=timeout, limits=httpx.Limits(keepalive_expiry=1))


@dataclass(frozen=True)
class Proxied:
    """nginx's URL, and the URLs of the two replicas behind it."""

    url: str
    replicas: tuple[str, str]


@contextmanager
def replicas_behind_nginx(
    apps: Sequence[ASGIApp], folder: Path, files_root: Path | None = None
) -> Iterator[Proxied]:
    """Serve two apps, then nginx in front of them with the project's config."""
    first, second = apps
    with serve(first) as one, serve(second) as two:
        addresses = [url.removeprefix("http://") for url in (one, two)]
        with nginx(addresses, folder, files_root) as url:
            yield Proxied(url, (one, two))
