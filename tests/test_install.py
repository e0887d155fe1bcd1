"""A few renders installed into fresh environments, from their own pyproject.toml.

The matrix shares one environment that holds every render's dependencies, which
would hide a dependency a render forgot to declare. These renders get nothing
but what they declare: one per compression, and a minimal one.
"""

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.matrix import FORMATS, answers, combo_id
from tests.render import render, run

FRESH = [
    answers(FORMATS, "gzip"),
    answers(("csv", "file"), "br"),
    answers(("jsonl", "sse", "relay"), "zstd"),
    answers(("json",), "none"),
    answers(("sse",), "none"),
]


@pytest.mark.matrix
@pytest.mark.parametrize("context", FRESH, ids=combo_id)
def test_a_render_installs_and_passes_in_a_fresh_environment(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    project = render(tmp_path, **context)
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    for command in (
        [uv, "venv", "-q", "-p", sys.executable, str(venv)],
        [uv, "pip", "install", "-q", "-p", str(python), "-e", ".[dev]"],
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
    ):
        result = run(command, cwd=project, VIRTUAL_ENV=str(venv))
        assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}{result.stderr[-3000:]}"
