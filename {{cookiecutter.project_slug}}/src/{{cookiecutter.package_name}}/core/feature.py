"""What a feature gives the app: its routes, what it holds while the app runs, health, metrics.

`create_app` builds each selected feature from the settings, enters their
lifespans in order (leaving them in reverse), includes their routes and asks
each for its part of /healthz and /metrics. A feature is a subpackage with a `feature.py`
whose `create(settings)` returns one of these.
"""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from prometheus_client.registry import Collector

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
Health = Callable[[FastAPI], Mapping[str, str]]


@asynccontextmanager
async def holds_nothing(_: FastAPI) -> AsyncIterator[None]:
    """The lifespan of a feature that opens nothing."""
    yield


@dataclass(frozen=True)
class Feature:
    """One feature of the service, as `create_app` wires it in."""

    router: APIRouter
    lifespan: Lifespan = holds_nothing
    # What it adds to /healthz; `{"status": "degraded", ...}` when a server it needs is away.
    health: Health | None = None
    # What it adds to /metrics.
    metrics: tuple[Collector, ...] = ()
