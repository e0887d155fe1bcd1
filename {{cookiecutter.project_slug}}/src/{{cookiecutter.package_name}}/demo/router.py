"""A page to see the service work: open `/` in a browser.

The page and its scripts are the files in `static/` beside this module,
served as they are: no build step, and nothing loaded from anywhere but this
service, which the Content-Security-Policy below makes the browser enforce.
The page calls the same endpoints any client would, so what it shows is what
the API does. It is left out of the OpenAPI document; to leave it out of the
service, remove `demo.create` from `FEATURES` in `app.py`.
"""

from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

STATIC: Final = Path(__file__).with_name("static")
PAGE: Final = "index.html"
MEDIA_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
HEADERS: Final = {
    # Scripts, styles and requests from this origin only, no inline script:
    # anything else the browser refuses, and reports as an error.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Always asked for again, so an edited file shows on the next reload.
    "Cache-Control": "no-cache",
}


def assets(folder: Path = STATIC) -> dict[str, tuple[bytes, str]]:
    """Every file of the page by name, with its media type; read once, at start."""
    return {
        path.name: (path.read_bytes(), MEDIA_TYPES[path.suffix])
        for path in sorted(folder.iterdir())
        if path.suffix in MEDIA_TYPES
    }


def router() -> APIRouter:
    """`GET /`, the page, and `GET /demo/{name}`, its scripts and styles."""
    files = assets()
    page, page_type = files.pop(PAGE)
    api = APIRouter(include_in_schema=False)

    @api.get("/")
    async def index() -> Response:
        return Response(page, media_type=page_type, headers=HEADERS)

    @api.get("/demo/{name}")
    async def asset(name: str) -> Response:
        found = files.get(name)
        if found is None:
            raise HTTPException(status_code=404, detail="no such file of the demo page")
        content, media_type = found
        return Response(content, media_type=media_type, headers=HEADERS)

    return api
