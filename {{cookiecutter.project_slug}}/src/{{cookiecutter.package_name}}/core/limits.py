"""How many streams one process serves at once: MAX_STREAMS, and a 503 at once beyond it.

Every streaming route depends on `stream_slot`: it takes a slot before the
route does any work (no cursor opened, no upstream asked, no file read) and
gives it back when the response has been sent, however it ended (FastAPI runs
a dependency's exit after a streamed response is done). A request beyond the
limit is answered `503` with `Retry-After` at once, rather than queued behind
streams that may last for hours.
"""

from collections.abc import AsyncIterator
from typing import Final

from fastapi import HTTPException, Request, status

# Seconds a refused client is asked to wait before it tries again.
RETRY_AFTER: Final = 5
# What a streaming route's OpenAPI entry says of that 503.
BUSY: Final = "MAX_STREAMS streams are open in this process already (Retry-After)."


class StreamSlots:
    """The streams open in this process, at most `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    def take(self) -> None:
        """Take a slot, or refuse with a 503 when every one is in use."""
        if self.active >= self.limit:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the server is serving its limit of {self.limit} streams; try again shortly",
                headers={"Retry-After": str(RETRY_AFTER)},
            )
        self.active += 1

    def give_back(self) -> None:
        """Free a slot taken with `take`."""
        self.active -= 1


async def stream_slot(request: Request) -> AsyncIterator[None]:
    """A FastAPI dependency: hold one of the app's slots while the response streams."""
    slots: StreamSlots = request.app.state.stream_slots
    slots.take()
    try:
        yield
    finally:
        slots.give_back()
