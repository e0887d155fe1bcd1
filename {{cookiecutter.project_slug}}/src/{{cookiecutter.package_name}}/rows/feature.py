{%- set formats = [
    "csv_format" if cookiecutter.format_csv else "",
    "jsonl_format" if cookiecutter.format_jsonl else "",
    "json_format" if cookiecutter.format_json else "",
] | select | list -%}
"""The row endpoints as a feature: every dataset in every selected format, from one database."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..core.feature import Feature
from .columns import DeclarationError
from .datasets import DATASETS
from .formats import {{ formats | sort | join(", ") }}
from .router import router
from .settings import RowsSettings
from .sources.base import StartupError
from .sources.factory import row_source

# The formats every dataset is served in; a new format is one module in formats/ and a line here.
{% if formats | length == 1 -%}
FORMATS = ({{ formats[0] }}.FORMAT,)
{%- else -%}
FORMATS = (
{%- for name in formats %}
    {{ name }}.FORMAT,
{%- endfor %}
)
{%- endif %}


def create(settings: RowsSettings) -> Feature:
    """The routes, and the database they read, opened while the app runs.

    The datasets are checked against the database here, before the server
    starts: a missing database, table or column stops the service with one
    line, rather than a 503 and a traceback at the first request.
    """
    source = row_source(settings)
    try:
        for dataset in DATASETS:
            dataset.check()
        source.prepare(DATASETS)
    except (DeclarationError, StartupError) as error:
        raise SystemExit(f"cannot serve rows: {error}") from None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with source.running():
            yield

    return Feature(router=router(settings, source, DATASETS, FORMATS), lifespan=lifespan)
