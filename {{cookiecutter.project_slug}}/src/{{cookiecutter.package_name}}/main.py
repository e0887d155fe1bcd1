r"""The ASGI application and the HTTP protocol it runs on, built from the environment.

    uvicorn {{ cookiecutter.package_name }}.main:app \
        --http {{ cookiecutter.package_name }}.main:http_protocol --no-access-log

`--http` gives uvicorn the protocol that bounds request heads, slow requests
and clients that stop reading (see `core/http_protocol.py`); `--no-access-log`
leaves the one line per response to the service's own log (`core/stream_log.py`).
"""

from .app import create_app
from .core.http_protocol import http_protocol as _protocol
from .settings import load_settings

settings = load_settings()
app = create_app(settings)
http_protocol = _protocol(settings)
