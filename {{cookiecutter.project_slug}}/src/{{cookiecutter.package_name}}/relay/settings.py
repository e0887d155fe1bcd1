"""The relay's settings: the upstream, and how long and how widely to wait for it."""

from pydantic import Field, HttpUrl
from pydantic_settings import BaseSettings

from .upstream import UpstreamUrl


class RelaySettings(BaseSettings):
    """The upstream's base URL, its timeouts, and how many connections to keep how long."""

    upstream_url: UpstreamUrl = Field(
        default=HttpUrl("http://127.0.0.1:8000"),
        description="Base URL relayed at /relay/: http(s)://host[:port][/path], no query.",
        # Left out of repr(settings): the URL may carry the upstream's credentials.
        repr=False,
    )
    upstream_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds to connect to the upstream (and to wait for a free connection).",
    )
    upstream_read_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds the upstream may stay silent: before its headers or between pieces.",
    )
    upstream_max_connections: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Upstream connections open at once; further requests wait for one.",
    )
    upstream_keepalive_seconds: float = Field(
        default=1.0,
        gt=0,
        le=300,
        description="Seconds an idle upstream connection is kept; below the upstream's own limit.",
    )
