"""The relay as a feature: its route, and the upstream client it holds while the app runs."""

from ..core.feature import Feature
from .router import Relay, router
from .settings import RelaySettings


def create(settings: RelaySettings) -> Feature:
    """`GET /relay/{path}`, with one client (one connection pool) for the app's lifetime."""
    relay = Relay(settings)
    return Feature(router=router(relay), lifespan=relay.lifespan, metrics=(relay.metrics,))
