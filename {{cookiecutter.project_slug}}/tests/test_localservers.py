import os
import socket

import pytest

from tests.support.localservers import listening_socket, not_run


def skipped(reason: str, name: str) -> pytest.TestReport:
    """A skipped test's report, as pytest makes one for a skip in a fixture."""
    return pytest.TestReport(
        nodeid=f"tests/test_x.py::{name}",
        location=("tests/test_x.py", 1, name),
        keywords={},
        outcome="skipped",
        longrepr=("tests/conftest.py", 10, f"Skipped: {reason}"),
        when="setup",
    )


def test_skipped_tests_are_summed_up_in_one_line_by_reason() -> None:
    reports = [
        skipped("set TEST_A_URL to run the A variants", "one"),
        skipped("set TEST_B_URL to run the B variants", "two"),
        skipped("set TEST_B_URL to run the B variants", "three"),
    ]
    line = not_run(reports)
    assert line == (
        "3 did not run: set TEST_B_URL to run the B variants (2); "
        "set TEST_A_URL to run the A variants (1). "
        "(-rs lists each; REQUIRE_SERVICES=1 fails them instead)"
    )


def test_nothing_is_said_when_everything_ran() -> None:
    assert not_run([]) is None


def test_a_listening_socket_holds_its_port_and_passes_to_a_child_process() -> None:
    with listening_socket() as listener:
        port = listener.getsockname()[1]
        with socket.socket() as rival, pytest.raises(OSError, match="in use"):
            rival.bind(("127.0.0.1", port))
        # Inheritable, so `uvicorn --fd` in a child process gets the same socket.
        assert os.get_inheritable(listener.fileno())
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
