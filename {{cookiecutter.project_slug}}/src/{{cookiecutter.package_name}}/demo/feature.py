"""The demo page as a feature: its routes, and nothing it holds or reports."""

from ..core.feature import Feature
from .router import router


def create(_: object) -> Feature:
    """`GET /` and its files; left out of the OpenAPI document."""
    return Feature(router=router())
