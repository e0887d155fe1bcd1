"""What a render writes when it runs stays out of git, and nothing of the project does."""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.matrix import FORMATS, answers, combo_id
from tests.render import render, run

# Starts the app as uvicorn would (its lifespan creates what a first start creates).
START = """
from fastapi.testclient import TestClient
from {package}.app import create_app

with TestClient(create_app()) as client:
    assert client.get("/healthz").status_code == 200
"""


def untracked(project: Path) -> set[str]:
    """What `git add -A` would take in `project`, file by file."""
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(listed.stdout.splitlines())


@pytest.mark.parametrize(
    "context", [answers(FORMATS, "gzip"), answers(("sse",), "none")], ids=combo_id
)
def test_what_a_run_writes_is_ignored_and_the_project_is_not(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    project = render(tmp_path, **context)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    rendered = untracked(project)
    assert rendered == {
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }

    shutil.copy(project / ".env.example", project / ".env")
    (project / "bench-results.json").write_text("{}\n")
    start = START.format(package=project.name.replace("-", "_"))
    result = run([sys.executable, "-c", start], cwd=project, PYTHONPATH="src")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = any(context[f"format_{name}"] for name in ("csv", "jsonl", "json"))
    assert (project / "data").is_dir() == rows
    assert (project / "files").is_dir() == context["format_file"]

    assert untracked(project) - rendered == set()
