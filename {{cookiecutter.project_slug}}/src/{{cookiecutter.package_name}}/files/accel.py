"""Behind nginx, let nginx send the bytes: X-Accel-Redirect to an internal location.

Under uvicorn every piece of a download passes through Python; nginx's own
file serving (sendfile) is several times faster. With FILES_ACCEL_REDIRECT
set (the internal location of the shipped nginx config, `/_files/`), the
route still decides everything that is the service's to decide (which names
may be served, and the download's RFC 6266 name) and answers with no body
but `X-Accel-Redirect: /_files/<the file's path under FILES_DIR>`: nginx then
serves that file itself, with Range, If-Range, ETag, Last-Modified and 304,
keeping the Content-Disposition and Content-Type given here. Off by default:
without nginx in front the header would reach the client and the body would
be empty.
"""

import mimetypes
from pathlib import Path
from urllib.parse import quote

from fastapi.responses import Response


def accel_response(location: str, root: Path, path: Path, disposition: str) -> Response:
    """The answer that has nginx send `path` (a file under `root`) from `location`."""
    relative = path.relative_to(root).as_posix()
    media_type, _ = mimetypes.guess_type(path.name)
    return Response(
        headers={
            # Percent-encoded: nginx decodes it, and refuses `..` in it too.
            "X-Accel-Redirect": location + quote(relative, safe="/"),
            "Content-Disposition": disposition,
            "Content-Type": media_type or "application/octet-stream",
        }
    )
