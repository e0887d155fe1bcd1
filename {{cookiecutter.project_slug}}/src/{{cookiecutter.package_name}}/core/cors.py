"""CORS_ORIGINS: which web origins may call the service from a browser (none by default).

Starlette's CORSMiddleware does the protocol; what is chosen here is what a
streaming client needs to see and send. Exposed response headers: the file
name of an export or a download (Content-Disposition), what a resumed
download needs (Content-Range, Accept-Ranges, ETag, Last-Modified), and
Retry-After and X-Request-ID. Allowed request headers: Authorization (the
API tokens){% if cookiecutter.format_sse %}, Last-Event-ID (a fetch-based event client resuming){% endif %}, Range
and If-Range, the cache validators, X-Request-ID. No cookies are involved
(`allow_credentials` stays off).
"""

from typing import Final

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

EXPOSED: Final = (
    "Content-Disposition",
    "Content-Length",
    "Content-Range",
    "Accept-Ranges",
    "ETag",
    "Last-Modified",
    "Retry-After",
    "X-Request-ID",
)
ALLOWED: Final = (
    "Authorization",
    "Content-Type",
{%- if cookiecutter.format_sse %}
    "Last-Event-ID",
{%- endif %}
    "Range",
    "If-Range",
    "If-None-Match",
    "If-Modified-Since",
    "X-Request-ID",
)


def origins(setting: str) -> list[str]:
    """CORS_ORIGINS as a list: comma-separated origins, or `*`."""
    return [origin.strip() for origin in setting.split(",") if origin.strip()]


def add_cors(app: FastAPI, setting: str) -> None:
    """Answer CORS requests from the origins in `setting`; with none, add nothing."""
    allowed = origins(setting)
    if allowed:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=allowed,
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=list(ALLOWED),
            expose_headers=list(EXPOSED),
            max_age=600,
        )
