"""Notice that uvicorn has begun to stop, while open streams still hold it up.

On SIGTERM uvicorn stops accepting connections, then waits, without a time
limit, for the open ones to finish before it runs the lifespan shutdown. An
event stream never finishes by itself, so the app has to end its streams when
the server starts to stop; the lifespan shutdown comes too late. uvicorn has
no hook for that moment. Its signal handler is a method of the running
`uvicorn.Server`, so the server is found through the handler (the lookup
sse-starlette uses too) and its `should_exit` flag is watched, at the pace of
uvicorn's own main loop.
"""

import asyncio
import signal
from typing import Final

import uvicorn

# uvicorn checks should_exit every 0.1 s.
POLL_SECONDS: Final = 0.1


def running_server() -> uvicorn.Server | None:
    """The uvicorn server that handles this process's SIGTERM, if any.

    None under another server, or when uvicorn runs outside the main thread
    (it installs no signal handlers there): then streams end at the lifespan
    shutdown, which such servers may run while connections are still open.
    """
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return server if isinstance(server, uvicorn.Server) else None


async def stopping(server: uvicorn.Server) -> None:
    """Return once `server` has been asked to exit."""
    while not server.should_exit:
        await asyncio.sleep(POLL_SECONDS)


def is_stopping() -> bool:
    """Whether the uvicorn server of this process has been asked to exit."""
    server = running_server()
    return server is not None and server.should_exit
