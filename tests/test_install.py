"""A few renders installed into fresh environments, from their own pyproject.toml and lock.

The matrix shares one environment that holds every render's dependencies, which
would hide a dependency a render forgot to declare. These renders get nothing
but what they declare: one per compression, and a minimal one. The same renders
are installed again from requirements.lock alone, as their container is.
"""

import shutil
import sys
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.matrix import FORMATS, answers, combo_id, has_rows
from tests.render import BIN, render, run

UV = shutil.which("uv", path=str(BIN)) or "uv"

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
    python = tmp_path / "venv" / "bin" / "python"
    in_fresh_venv(
        project,
        [UV, "pip", "install", "-q", "-p", str(python), "-e", ".[dev]"],
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
    )


def in_fresh_venv(project: Path, *commands: list[str]) -> None:
    """Make `venv` beside `project`, then run each command in `project` with it active."""
    venv = project.parent / "venv"
    for command in ([UV, "venv", "-q", "-p", sys.executable, str(venv)], *commands):
        result = run(command, cwd=project, VIRTUAL_ENV=str(venv))
        assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}{result.stderr[-3000:]}"


def unmet(site_packages: Path, project: str, extras: set[str]) -> list[str]:
    """What `project[extras]` needs, recursively, that the environment lacks or has too old.

    `pip check` reads every installed distribution's own requirements but not
    the extras asked of it (psycopg[binary,pool]), so those are walked here.
    """
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist
        for dist in distributions(path=[str(site_packages)])
    }
    missing: list[str] = []
    todo = [(canonicalize_name(project), extras)]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, wanted = todo.pop()
        if (name, frozenset(wanted)) in seen:
            continue
        seen.add((name, frozenset(wanted)))
        for line in installed[name].requires or []:
            requirement = Requirement(line)
            applies = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in wanted | {""}
            )
            if not applies:
                continue
            dependency = installed.get(canonicalize_name(requirement.name))
            if dependency is None or not requirement.specifier.contains(
                dependency.version, prereleases=True
            ):
                missing.append(f"{name} needs {line}")
            else:
                todo.append((canonicalize_name(requirement.name), set(requirement.extras)))
    return missing


@pytest.mark.matrix
@pytest.mark.parametrize("context", FRESH, ids=combo_id)
def test_the_lock_alone_installs_everything_the_service_runs_on(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    """What the Dockerfile does: the lock with --no-deps, then the project with --no-deps."""
    project = render(tmp_path, **context)
    python = tmp_path / "venv" / "bin" / "python"
    package = project.name.replace("-", "_")
    in_fresh_venv(
        project,
        [UV, "pip", "install", "-q", "-p", str(python), "--no-deps", "-r", "requirements.lock"],
        [UV, "pip", "install", "-q", "-p", str(python), "--no-deps", "."],
        [UV, "pip", "check", "-p", str(python)],
        [str(python), "-c", f"from {package}.app import create_app; create_app()"],
    )
    (site_packages,) = (tmp_path / "venv").glob("lib/python*/site-packages")
    extras = {"postgres"} if has_rows(context) else set()
    extras |= {"redis"} if context["format_sse"] else set()
    assert unmet(site_packages, project.name, extras) == []
