"""The event feed as a feature: its routes, and the hub they share while the app runs.

The hub comes with one keep-alive ticker for all its streams (`_keep_alive`).

BROKER_URL picks the hub: a `MemoryHub` for memory://, a `RedisHub` for
redis:// (imported only then, so the redis package is needed only then).
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import FastAPI

from ..core.feature import Feature
from ..core.shutdown import running_server, stopping
from .hub import EventHub, MemoryHub
from .metrics import EventMetrics
from .router import router
from .settings import EventsSettings

logger = logging.getLogger(__name__)


def create(settings: EventsSettings) -> Feature:
    """`GET`/`POST /events`, the hub on `app.state.hub`, the broker in /healthz and /metrics."""
    metrics = EventMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_hub(settings, metrics) as hub:
            app.state.hub = metrics.hub = hub
            yield

    return Feature(
        router=router(settings, metrics),
        lifespan=lifespan,
        health=lambda app: health(app.state.hub),
        metrics=(metrics,),
    )


@asynccontextmanager
async def open_hub(settings: EventsSettings, metrics: EventMetrics) -> AsyncIterator[EventHub]:
    """The app's hub while it runs; its streams end as soon as uvicorn begins to stop."""
    async with _broker_hub(settings) as hub:
        tasks = [asyncio.create_task(_keep_alive(hub, settings.sse_keepalive_seconds))]
        server = running_server()
        if server is not None:
            tasks.append(asyncio.create_task(_close_after(stopping(server), hub, metrics)))
        else:
            logger.info("not under uvicorn's signal handling: streams end at the lifespan shutdown")
        try:
            yield hub
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            metrics.closing = True
            await hub.close()


def health(hub: EventHub) -> dict[str, str]:
    """What /healthz says of the hub: `degraded` while its broker cannot be reached."""
    if hub.broker is None:
        return {"status": "ok"}
    return {"status": "ok" if hub.broker == "ok" else "degraded", "broker": hub.broker}


def _broker_hub(settings: EventsSettings) -> AbstractAsyncContextManager[EventHub]:
    if settings.broker_url.scheme == "memory":
        return nullcontext(
            MemoryHub(history=settings.sse_history, queue_size=settings.sse_queue_size)
        )
    from .redis_hub import open_redis_hub  # noqa: PLC0415 - only with the redis extra

    return open_redis_hub(settings)


async def _keep_alive(hub: EventHub, seconds: float) -> None:
    """Tick every half interval: a stream silent for a whole tick gets a keep-alive at the next.

    So no stream is silent for longer than `seconds`, and one loop serves them all.
    """
    while True:
        await asyncio.sleep(seconds / 2)
        hub.keep_alive()


async def _close_after(event: Awaitable[None], hub: EventHub, metrics: EventMetrics) -> None:
    await event
    metrics.closing = True
    await hub.close()
