{%- set rows = cookiecutter.format_csv or cookiecutter.format_jsonl or cookiecutter.format_json -%}
{%- set formats = [
    "csv_format" if cookiecutter.format_csv else "",
    "json_format" if cookiecutter.format_json else "",
    "jsonl_format" if cookiecutter.format_jsonl else "",
] | select | list -%}
"""The ASGI application: `uvicorn {{ cookiecutter.package_name }}.main:app`."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from . import {{ (["TITLE"] + formats + ["rows"]) | join(", ") }}
{%- if cookiecutter.compression != "none" %}
from .compression import CompressionMiddleware
{%- endif %}
from .database import database_path
from .datasets import DATASETS
from .seed import create_sample_database
from .settings import Settings

logger = logging.getLogger(__name__)

ROW_FORMATS = (
{%- if cookiecutter.format_csv %}
    csv_format.FORMAT,
{%- endif %}
{%- if cookiecutter.format_jsonl %}
    jsonl_format.FORMAT,
{%- endif %}
{%- if cookiecutter.format_json %}
    json_format.FORMAT,
{%- endif %}
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from `settings` (by default, read from the environment)."""
    settings = settings or Settings()
    logging.basicConfig(format="%(levelname)s:\t%(name)s: %(message)s")
    logging.getLogger(__package__).setLevel(settings.log_level.upper())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        path = database_path(settings.database_url)
        if not path.exists():
            logger.info("no database at %s: creating %d sample rows", path, settings.sample_rows)
            await to_thread.run_sync(create_sample_database, path, settings.sample_rows)
        yield

    app = FastAPI(title=TITLE, lifespan=lifespan)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    app.include_router(rows.router(settings, DATASETS, ROW_FORMATS))
{%- if cookiecutter.compression != "none" %}
    if settings.compression != "none":
        app.add_middleware(CompressionMiddleware, level=settings.compression_level)
{%- endif %}
    return app


app = create_app()
