"""`uvicorn --workers 2` as a real process tree: SIGTERM ends every worker's streams.

The supervisor passes SIGTERM on to each worker; each worker's app must end its
own open event streams (see core/shutdown.py), or the tree would never exit.
"""

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

import {{ cookiecutter.package_name }}
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.localservers import listening_socket
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
    source = Path({{ cookiecutter.package_name }}.__file__).parents[1]
    # None of the service's settings from this environment: the defaults, in tmp_path.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in Settings.model_fields and name != "WEB_CONCURRENCY"
    }
    environment["PUBLISH_TOKEN"] = PUBLISH_TOKEN
    # The supervisor inherits a bound socket: no other test's server can take its port.
    with listening_socket() as listener:
        port = listener.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-m", "uvicorn", "{{ cookiecutter.package_name }}.main:app",
            "--app-dir", str(source), "--fd", str(listener.fileno()),
            "--workers", str(WORKERS),
        ]  # fmt: skip
        supervisor = subprocess.Popen(  # noqa: S603 - a fixed command line
            command, cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True,
            pass_fds=(listener.fileno(),),
        )  # fmt: skip
    try:
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
            supervisor.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            for stream in streams:
                read_to_end(stream)
            ended = time.monotonic() - signalled
        # The supervisor exits only once it has joined every worker.
        supervisor.wait(timeout=10)
        exited = time.monotonic() - signalled
    finally:
        supervisor.kill()
        _, log = supervisor.communicate()
    assert ended < 10
    assert exited < 10
    assert supervisor.returncode == 0, log
    assert log.count("Application shutdown complete") == WORKERS
    # Each stream's log line says why it ended.
    assert log.count('"GET /events" 200 shutdown') == len(streams), log
