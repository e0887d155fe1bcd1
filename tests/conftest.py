"""Shared by the template tests: a warm mypy cache per worker, and the matrix's stage timings
(every worker reports them, the controller adds them up)."""

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.render import ROOT

TIMINGS = ROOT / "build" / "matrix-timings.json"
_rows: list[dict[str, Any]] = []
_started = time.monotonic()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the per-render figures that tests attach as user properties."""
    if report.when == "call":
        for key, value in report.user_properties:
            if key == "render":
                _rows.append(value)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how long each stage of the matrix took, and keep every figure in a file."""
    if not _rows or hasattr(terminalreporter.config, "workerinput"):
        return
    totals: dict[str, float] = defaultdict(float)
    for row in _rows:
        for stage, seconds in row["seconds"].items():
            totals[stage] += seconds
    tests = sum(row["tests"] for row in _rows)
    wall = time.monotonic() - _started
    write = terminalreporter.write_line
    write("")
    write(f"matrix: {len(_rows)} renders, {tests} generated tests passed, {wall:.0f} s wall")
    write(
        "stage totals (CPU-side seconds summed over renders): "
        + ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in totals.items())
    )
    slowest = sorted(_rows, key=lambda row: -sum(row["seconds"].values()))[:5]
    for row in slowest:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in row["seconds"].items())
        write(f"  slowest: {row['id']}: {stages}")
    TIMINGS.parent.mkdir(exist_ok=True)
    TIMINGS.write_text(json.dumps({"wall_seconds": wall, "renders": _rows}, indent=1))
    write(f"per-render timings: {TIMINGS.relative_to(ROOT)}")


@pytest.fixture(scope="session")
def mypy_cache() -> Path:
    """One mypy cache per worker: warm after its first render, never shared between processes."""
    path = ROOT / "build" / f"mypy-cache-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    path.mkdir(parents=True, exist_ok=True)
    return path
