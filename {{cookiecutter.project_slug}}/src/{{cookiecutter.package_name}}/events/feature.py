"""The event feed as a feature: its routes, and the hub they share while the app runs.

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
        server = running_server()
        closing = _close_after(stopping(server), hub, metrics) if server else None
        watcher = asyncio.create_task(closing) if closing else None
        if watcher is None:
            logger.info("not under uvicorn's signal handling: streams end at the lifespan shutdown")
        try:
            yield hub
        finally:
            if watcher is not None:
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
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


async def _close_after(event: Awaitable[None], hub: EventHub, metrics: EventMetrics) -> None:
    await event
    metrics.closing = True
    await hub.close()
