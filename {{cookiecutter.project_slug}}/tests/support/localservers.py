"""What the tests of real servers share: a free port, and what to do when a server is missing.

A test that needs a server beyond the app (nginx, a database, a broker) skips,
saying what to set or install; where the servers are required
(REQUIRE_SERVICES=1, as in CI) it fails instead, so that a missing server can
never pass for a passing suite.
"""

import os
import socket
from typing import NoReturn

import pytest


def missing_service(reason: str) -> NoReturn:
    """Skip the test for `reason`; under REQUIRE_SERVICES=1, fail it."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: services are required)")
    pytest.skip(reason)


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
