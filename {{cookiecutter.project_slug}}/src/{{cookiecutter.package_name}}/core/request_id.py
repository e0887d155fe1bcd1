"""X-Request-ID: the client's, when it sent a sensible one; otherwise a new one.

Each response carries it back (`StreamObserver` adds the header) and the
stream log names it, so a client, a proxy and the service's log can speak of
the same request. A client's id is taken only when it is short and plain
(letters, digits, `-`, `_`, `.`, `:`), so none can forge a log line.
"""

import re
import uuid
from typing import Final

from starlette.datastructures import Headers
from starlette.types import Scope

_PLAIN: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(scope: Scope) -> str:
    """The request's id: its X-Request-ID if plain, else a new random one."""
    given = Headers(scope=scope).get("x-request-id", "")
    return given if _PLAIN.fullmatch(given) else uuid.uuid4().hex
