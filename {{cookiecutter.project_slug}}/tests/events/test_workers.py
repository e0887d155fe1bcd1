"""`uvicorn --workers 2` as a real process tree: SIGTERM ends every worker's streams.

The supervisor passes SIGTERM on to each worker; each worker's app must end its
own open event streams (see core/shutdown.py), or the tree would never exit.
"""

import signal
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.events.server_process import environment_without_settings, uvicorn_process
from tests.support.settings import PUBLISH_TOKEN
from tests.support.ssewire import RawStream, raw_stream

pytestmark = pytest.mark.services

WORKERS = 2
MAX_STREAMS = 40  # opened until both workers hold some; the kernel picks the worker


def streams_per_worker(base_url: str) -> int:
    """Publish once (on a new connection): how many streams the worker that took it holds."""
    response = httpx.post(
        f"{base_url}/events",
        json={"event": "probe", "data": None},
        headers={"Authorization": f"Bearer {PUBLISH_TOKEN}"},
    )
    assert response.status_code == 202, response.text
    count: int = response.json()["subscribers"]
    return count


def read_to_end(stream: RawStream) -> None:
    """Read until the response's last chunk; raises if the connection closes before it."""
    stream.read_until(lambda: stream.response.ended)


def answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_sigterm_ends_the_streams_of_every_worker_and_the_tree_exits(tmp_path: Path) -> None:
    environment = environment_without_settings(PUBLISH_TOKEN=PUBLISH_TOKEN)
    with uvicorn_process(tmp_path, environment, "--workers", str(WORKERS)) as supervisor:
        base_url = supervisor.url
        deadline = time.monotonic() + 30
        while not answers(base_url):
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        with ExitStack() as stack:
            streams: list[RawStream] = []
            # A publish reaches the streams of the worker that took it, and says how
            # many: a count between none and all means both workers hold streams.
            while not any(0 < streams_per_worker(base_url) < len(streams) for _ in range(4)):
                assert len(streams) < MAX_STREAMS, "every stream landed on one worker"
                streams.append(stack.enter_context(raw_stream(base_url)))
            supervisor.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            for stream in streams:
                read_to_end(stream)
            ended = time.monotonic() - signalled
        # The supervisor exits only once it has joined every worker.
        supervisor.process.wait(timeout=10)
        exited = time.monotonic() - signalled
    assert ended < 10
    assert exited < 10
    assert supervisor.process.returncode == 0, supervisor.log
    assert supervisor.log.count("Application shutdown complete") == WORKERS
    # Each stream's log line says why it ended.
    assert supervisor.log.count('"GET /events" 200 shutdown') == len(streams), supervisor.log
