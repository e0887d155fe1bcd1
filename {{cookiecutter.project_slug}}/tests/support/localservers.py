"""What the tests of real servers share: a port, and what to do when a server is missing.

A test that needs a server beyond the app (nginx, a database, a broker, a
browser) skips, saying what to set or install; where the servers are required
(REQUIRE_SERVICES=1, as in CI) it fails instead, so that a missing server can
never pass for a passing suite. The run ends with one line that sums the skips
up by reason (`not_run`).
"""

import os
import socket
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest


def missing_service(reason: str) -> NoReturn:
    """Skip the test for `reason`; under REQUIRE_SERVICES=1, fail it."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: services are required)")
    pytest.skip(reason)


def free_port() -> int:
    """A loopback port nobody listens on now, for servers that must bind it themselves.

    Between this answer and their bind another server may take it; a server
    that can inherit a socket gets `listening_socket()` instead.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def listening_socket() -> Iterator[socket.socket]:
    """A loopback socket bound and listening, for a server process to inherit.

    `uvicorn --fd N` serves on it: the port is held from the moment it is
    picked, so no other test's server can take it before the process starts.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.set_inheritable(True)
        yield sock


def not_run(skipped: Iterable[pytest.TestReport | pytest.CollectReport]) -> str | None:
    """One line for the `skipped` tests: each reason once, with how many it stopped.

    pytest's own list gives a line per test (a hundred where the servers are
    missing); this says what did not run and what to set, once.
    """
    reasons = Counter(_reason(report) for report in skipped)
    if not reasons:
        return None
    why = "; ".join(f"{reason} ({count})" for reason, count in reasons.most_common())
    total = sum(reasons.values())
    return f"{total} did not run: {why}. (-rs lists each; REQUIRE_SERVICES=1 fails them instead)"


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """A skip's reason, as pytest -rs shows it."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")
