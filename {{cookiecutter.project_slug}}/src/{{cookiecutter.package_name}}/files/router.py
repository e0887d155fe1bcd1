"""File downloads: `GET` and `HEAD /files/{name}` serve FILES_DIR with byte ranges.

Starlette's FileResponse does the HTTP: Content-Length, ETag, Last-Modified,
single and multiple ranges (`multipart/byteranges`), If-Range, 416 with
`Content-Range: bytes */size`, and the `http.response.pathsend` extension when
the server offers it (granian does: the server then sends the file itself). It
reads CHUNK_SIZE bytes at a time in a worker thread and waits for each to be
sent, so a file of any size streams in flat memory without blocking the event
loop. Written here is only what it lacks: which names may be served, a
Content-Disposition with an ASCII fallback, and conditional GET (304).
"""

import logging
import os
import re
import stat
import unicodedata
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Annotated, Final
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.responses import FileResponse, Response

from ..core.access import UNAUTHORIZED, reader
from ..core.limits import BUSY, stream_slot
from .accel import accel_response
from .settings import FilesSettings

# A backslash (a separator on Windows) or a control character in a name.
_REFUSED: Final = re.compile(r"[\x00-\x1f\x7f\\]")
SAMPLE_NAME: Final = "sample.txt"
SAMPLE: Final = (
    "A sample file, served at /files/sample.txt and resumable with Range requests.\n"
    "Put your own files beside it; names that start with a dot are never served.\n\n"
    + "".join(f"line {n:03d}: the quick brown fox jumps over the lazy dog\n" for n in range(100))
)

logger = logging.getLogger(__name__)


def check(root: Path, *, configured: bool) -> str | None:
    """Why FILES_DIR cannot be served, in one line; None when it can (or will be made)."""
    if root.is_dir():
        return None
    if root.exists():
        return f"FILES_DIR={root} is not a directory"
    if configured:
        return f"FILES_DIR={root} does not exist: create it, or unset FILES_DIR to serve ./files"
    return None


def prepare(root: Path) -> None:
    """Make sure `root` is a directory to serve; create it with a sample if it is missing.

    A missing FILES_DIR is made on first start, so a fresh checkout has
    something to download; an existing one is never written to. Anything else
    at that path stops the service.
    """
    if root.is_dir():
        return
    if root.exists():
        msg = f"FILES_DIR={root} is not a directory"
        raise RuntimeError(msg)
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".{SAMPLE_NAME}.partial"
    partial.write_text(SAMPLE, encoding="utf-8")
    partial.replace(root / SAMPLE_NAME)
    logger.warning("FILES_DIR %s did not exist: created it with %s", root, SAMPLE_NAME)


def locate(root: Path, name: str) -> tuple[Path, os.stat_result] | None:
    """The regular file that `name` names under `root`, and its stat; else None.

    `name` arrives percent-decoded, so `%2e%2e`, `%2f` and `%5c` are `..`, `/`
    and a backslash by now. A name is refused before the file system is asked when a
    segment is empty (`a//b`, an absolute path) or starts with a dot (`.`, `..`,
    `.env`), or holds a backslash or a control character. What is left must
    resolve, symlinks followed, to a regular file under `root`: never a
    directory, a device or a FIFO, and never a link out of the tree.
    """
    if _REFUSED.search(name) or any(not s or s.startswith(".") for s in name.split("/")):
        return None
    try:
        path = (root / name).resolve(strict=True)
        info = path.stat()
    except (OSError, RuntimeError):  # missing, unreadable, a symlink loop
        return None
    if not path.is_relative_to(root) or not stat.S_ISREG(info.st_mode):
        return None
    return path, info


def ascii_fallback(filename: str) -> str:
    """`filename` for clients that read only `filename=`, safe in a quoted string.

    Accents are dropped; other non-ASCII characters, quotes, backslashes,
    percent signs and control characters become `_`.
    """
    kept = (
        char if " " <= char <= "~" and char not in '"\\%' else "_"
        for char in unicodedata.normalize("NFKD", filename)
        if not unicodedata.combining(char)
    )
    return "".join(kept) or "download"


def content_disposition(filename: str) -> str:
    """`attachment` with a safe ASCII `filename`, plus the exact name as `filename*`.

    RFC 6266 and RFC 5987: `filename*` carries the UTF-8 name percent-encoded,
    and clients that know it prefer it. Starlette's own header has no ASCII
    fallback for such names, which is why this one is written here.
    """
    fallback = ascii_fallback(filename)
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def not_modified(request: Request, etag: str, modified: float) -> bool:
    """Whether the client's copy is current (RFC 9110 If-None-Match, If-Modified-Since)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return int(modified) <= since.timestamp()


def router(settings: FilesSettings) -> APIRouter:
    """`GET` and `HEAD /files/{name}` for the files under `settings.files_dir`."""
    root = settings.files_dir.resolve()
    api = APIRouter(tags=["files"])

    async def download(
        name: Annotated[str, PathParameter(description="Path under FILES_DIR, `/`-separated.")],
        request: Request,
    ) -> Response:
        found = await to_thread.run_sync(locate, root, name)
        if found is None:
            raise HTTPException(status_code=404, detail="no such file")
        path, info = found
        disposition = content_disposition(name.rpartition("/")[2])
        if settings.files_accel_redirect:
            return accel_response(settings.files_accel_redirect, root, path, disposition)
        headers = {"Content-Disposition": disposition}
        response = FileResponse(path, stat_result=info, headers=headers)
        response.chunk_size = settings.chunk_size
        etag = response.headers["etag"]
        if not_modified(request, etag, info.st_mtime):
            last_modified = response.headers["last-modified"]
            return Response(status_code=304, headers={"ETag": etag, "Last-Modified": last_modified})
        return response

    # One route per method, so each has its own OpenAPI operation id.
    for method in ("GET", "HEAD"):
        api.add_api_route(
            "/files/{name:path}",
            download,
            methods=[method],
            dependencies=[Depends(reader), Depends(stream_slot)],
            summary="Download a file; Range requests resume it",
            response_class=FileResponse,
            responses={
                200: {
                    "description": "The whole file, as an attachment.",
                    "content": {"application/octet-stream": {"schema": {"type": "string"}}},
                },
                206: {"description": "The ranges asked for (several as multipart/byteranges)."},
                304: {"description": "The client's copy is current (conditional GET)."},
                401: {"description": UNAUTHORIZED},
                404: {"description": "No such file under FILES_DIR."},
                416: {"description": "No range of the file was satisfiable."},
                503: {"description": BUSY},
            },
        )
    return api
