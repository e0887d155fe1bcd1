"""BROKER_URL: which hub carries the events, checked at start and never shown whole.

`memory://` keeps events in the process; `redis://` and `rediss://` (TLS) share
them between processes through a Redis stream. redis-py's own URL parser lets
much through (a database path that is not a number becomes database 0, unknown
query arguments reach the connection), so the form is checked here, at start,
without importing redis unless the URL asks for it.
"""

import importlib.util
from typing import Annotated, Final
from urllib.parse import urlsplit

from pydantic import AfterValidator

from ..core.credentials import SecretUrl

MEMORY: Final = "memory://"
ACCEPTED: Final = "expected memory:// or redis[s]://[[user]:password@]host[:port][/db]"


class BrokerUrl(SecretUrl):
    """A broker URL that prints without its password."""

    @property
    def scheme(self) -> str:
        """`memory`, `redis` or `rediss`."""
        return self.get_secret_value().partition("://")[0]


def _check(url: BrokerUrl) -> BrokerUrl:
    text = url.get_secret_value()
    if text == MEMORY:
        return url
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(ACCEPTED) from None
    path = parts.path.removeprefix("/")
    if (
        parts.scheme not in {"redis", "rediss"}
        or not parts.hostname
        or port == 0
        or parts.query
        or parts.fragment
        or (path and not (path.isascii() and path.isdigit()))
    ):
        raise ValueError(ACCEPTED)
    if importlib.util.find_spec("redis") is None:
        msg = "a redis URL needs the redis package: install the project's 'redis' extra"
        raise ValueError(msg)
    return url


Broker = Annotated[BrokerUrl, AfterValidator(_check)]
