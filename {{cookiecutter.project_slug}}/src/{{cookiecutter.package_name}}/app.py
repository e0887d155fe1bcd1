{%- set rows = cookiecutter.format_csv or cookiecutter.format_jsonl or cookiecutter.format_json -%}
{%- set formats = [
    "csv_format" if cookiecutter.format_csv else "",
    "files" if cookiecutter.format_file else "",
    "json_format" if cookiecutter.format_json else "",
    "jsonl_format" if cookiecutter.format_jsonl else "",
    "relay" if cookiecutter.format_relay else "",
] | select | list -%}
"""The app factory: where the formats chosen for the project are wired in.

Each format lives in its own module; `main.py` builds the app from the
environment for servers. Tests build theirs here, from settings they choose.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from . import {{ (["TITLE"] + ((["demo"] + formats + (["rows"] if rows else []) + (["events"] if cookiecutter.format_sse else [])) | sort)) | join(", ") }}
{%- if cookiecutter.compression != "none" %}
from .compression import CompressionMiddleware
{%- endif %}
{%- if rows %}
from .database import row_source
from .datasets import DATASETS
{%- endif %}
from .settings import Settings, load_settings
{%- if rows %}

{%- set refs = [
    "csv_format.FORMAT" if cookiecutter.format_csv else "",
    "jsonl_format.FORMAT" if cookiecutter.format_jsonl else "",
    "json_format.FORMAT" if cookiecutter.format_json else "",
] | select | list %}

{% if refs | length == 1 -%}
ROW_FORMATS = ({{ refs[0] }},)
{%- else -%}
ROW_FORMATS = (
{%- for ref in refs %}
    {{ ref }},
{%- endfor %}
)
{%- endif %}{%- endif %}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from `settings` (by default, read from the environment)."""
    settings = settings or load_settings()
    logging.basicConfig(format="%(levelname)s:\t%(name)s: %(message)s")
    logging.getLogger(__package__).setLevel(settings.log_level.upper())
{%- if rows %}
    source = row_source(settings)
{%- endif %}

    @asynccontextmanager
    async def lifespan({{ "app" if cookiecutter.format_sse else "_" }}: FastAPI) -> AsyncIterator[None]:
{%- if rows and cookiecutter.format_sse %}
        async with source.running(), events.open_hub(settings) as hub:
            app.state.hub = hub
            yield
{%- elif rows %}
        async with source.running():
            yield
{%- elif cookiecutter.format_sse %}
        async with events.open_hub(settings) as hub:
            app.state.hub = hub
            yield
{%- else %}
        yield
{%- endif %}

    app = FastAPI(title=TITLE, lifespan=lifespan)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
{%- if cookiecutter.format_sse %}
        """Liveness: the process answers (`degraded`: it does, but its event broker does not).

        Still 200 when degraded: restarting the process would not bring the
        broker back, and would cut the streams it keeps open meanwhile.
        """
        return events.health(app.state.hub)
{%- else %}
        """Liveness: the process answers."""
        return {"status": "ok"}
{%- endif %}
{% if rows %}
    app.include_router(rows.router(settings, source, DATASETS, ROW_FORMATS))
{%- endif %}
{%- if cookiecutter.format_sse %}
    app.include_router(events.router(settings))
{%- endif %}
{%- if cookiecutter.format_file %}
    app.include_router(files.router(settings))
{%- endif %}
{%- if cookiecutter.format_relay %}
    app.include_router(relay.router(settings))
{%- endif %}
    # The page at `/` that shows the service working (see demo.py).
    app.include_router(demo.router())
{%- if cookiecutter.compression != "none" %}
    if settings.compression != "none":
        app.add_middleware(CompressionMiddleware, level=settings.compression_level)
{%- endif %}
    return app
