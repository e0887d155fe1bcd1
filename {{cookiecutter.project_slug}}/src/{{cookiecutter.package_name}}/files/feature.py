"""Downloads as a feature: the route, and FILES_DIR made ready before the first request."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from ..core.feature import Feature
from .router import check, prepare, router
from .settings import FilesSettings


def create(settings: FilesSettings) -> Feature:
    """`GET`/`HEAD /files/{name}`; FILES_DIR is checked now, and made when the app starts.

    Only the default FILES_DIR is made (with a sample) when missing: one that
    was set and names no directory is a mistake, stopped here in one line.
    """
    problem = check(settings.files_dir, configured="files_dir" in settings.model_fields_set)
    if problem:
        raise SystemExit(problem)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await to_thread.run_sync(prepare, settings.files_dir.resolve())
        yield

    return Feature(router=router(settings), lifespan=lifespan)
