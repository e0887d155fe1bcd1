"""Run an app in-process and keep every ASGI message it sends: how a body was cut, exactly."""

import asyncio

{% if cookiecutter.__rows -%}
from starlette.applications import Starlette
{% endif -%}
from starlette.types import ASGIApp, Message


{% if cookiecutter.__rows -%}
def asgi_messages(
    app: ASGIApp,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    lifespan: bool = False,
) -> list[Message]:
    """Every message `app` sends for GET `path`: shows exactly how the body was cut.

    With `lifespan`, inside the app's lifespan, as a server runs it: a
    PostgreSQL pool is open only then.
    """
{%- else -%}
def asgi_messages(app: ASGIApp, path: str, headers: dict[str, str] | None = None) -> list[Message]:
    """Every message `app` sends for GET `path`: shows exactly how the body was cut."""
{%- endif %}
    target, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[Message] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
{%- if cookiecutter.__rows %}
        if lifespan:
            assert isinstance(app, Starlette)
            async with app.router.lifespan_context(app):
                await app(scope, receive, send)
            return
{%- endif %}
        await app(scope, receive, send)

    asyncio.run(run())
    return sent
