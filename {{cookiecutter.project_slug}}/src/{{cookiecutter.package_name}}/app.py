{%- set features = [
    "rows" if cookiecutter.__rows else "",
    "events" if cookiecutter.format_sse else "",
    "files" if cookiecutter.format_file else "",
    "relay" if cookiecutter.format_relay else "",
    "demo",
] | select | list -%}
"""The app factory: the features this project was rendered with, wired in one way.

Each feature is a subpackage with its routes, settings and lifespan; its
`feature.create(settings)` says what it gives the app. `create_app` enters the
features' lifespans in order (and leaves them in reverse), includes their
routes and asks each for its part of /healthz. `main.py` builds the app from
the environment for servers; tests build theirs here, from settings they choose.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from . import TITLE
from .core import log_format
from .core.access import Access
{%- if cookiecutter.compression != "none" %}
from .core.compression import CompressionMiddleware
{%- endif %}
from .core.cors import add_cors
from .core.docs import add_docs
from .core.feature import Feature
from .core.limits import StreamSlots
from .core.metrics import StreamMetrics, add_metrics
from .core.observe import StreamObserver
from .core.security_headers import SECURITY_HEADERS
from .core.stream_log import log_stream
{%- for name in features | sort %}
from .{{ name }} import feature as {{ name }}
{%- endfor %}
from .settings import Settings, load_settings

# The selected features, in the order their lifespans are entered; `demo` is the page at `/`.
FEATURES: tuple[Callable[[Settings], Feature], ...] = (
{%- for name in features %}
    {{ name }}.create,
{%- endfor %}
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from `settings` (by default, read from the environment)."""
    settings = settings or load_settings()
    log_format.configure(__package__, settings.log_level, settings.log_format)
    features = [create(settings) for create in FEATURES]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for feature in features:
                await stack.enter_async_context(feature.lifespan(app))
            yield

    # /docs is served pinned (core/docs.py); ReDoc, which would load an unpinned script, not at all.
    app = FastAPI(title=TITLE, lifespan=lifespan, docs_url=None, redoc_url=None)
    add_docs(app)
    # MAX_STREAMS: the slots every streaming route takes one of (core/limits.py).
    app.state.stream_slots = StreamSlots(settings.max_streams)
    # API_TOKENS: who may read the streaming routes (core/access.py).
    app.state.access = Access(settings.api_tokens)
    registry = CollectorRegistry()
    streams = StreamMetrics(registry)
    for feature in features:
        for collector in feature.metrics:
            registry.register(collector)
    add_metrics(app, registry)

    @app.get("/healthz", tags=["health"])
    @app.head("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (`degraded`: it does, but a server it needs does not).

        Still 200 when degraded: restarting the process would not bring that
        server back, and would cut the streams it keeps open meanwhile.
        """
        return health(app, features)

    for feature in features:
        app.include_router(feature.router)
    # Each middleware added wraps those before it: the last one added sees the request first.
{%- if cookiecutter.compression != "none" %}
    if settings.compression != "none":
        app.add_middleware(CompressionMiddleware, level=settings.compression_level)
{%- endif %}
    add_cors(app, settings.cors_origins)
    # Outermost, so it measures what goes on the wire, sees every response end
    # and gives every response its request id and security headers.
    app.add_middleware(
        StreamObserver,
        on_start=[streams.started],
        on_end=[streams.ended, log_stream],
        headers=SECURITY_HEADERS,
    )
    return app


def health(app: FastAPI, features: Sequence[Feature]) -> dict[str, str]:
    """Every feature's part of /healthz, `degraded` if any says so."""
    report = {"status": "ok"}
    for feature in features:
        if feature.health is None:
            continue
        part = dict(feature.health(app))
        status = part.pop("status", "ok")
        report.update(part)
        if status != "ok":
            report["status"] = status
    return report
