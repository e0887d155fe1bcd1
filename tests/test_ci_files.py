"""The generated CI workflow and Dependabot configuration, read as GitHub reads them.

CI tests every Python the project supports, from uv.lock and with uv's cache kept
between runs, and installs what the container installs the way it installs it;
Dependabot keeps the packages and the actions current. Every supported Python has a
wheel of each compiled package the lock holds, so no CI job builds one from source.
"""

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.matrix import FORMATS, answers, combo_id
from tests.render import render

SUPPORTED = ["3.11", "3.12", "3.13", "3.14"]
RENDERS = [answers(FORMATS, "br"), answers(("csv",), "zstd"), answers(("file",), "none")]


@pytest.fixture(scope="module", params=RENDERS, ids=combo_id)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("ci"), **request.param)


def workflow(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    return loaded


def commands(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_ci_tests_every_supported_python_from_the_lock_with_a_cache(project: Path) -> None:
    check = workflow(project)["jobs"]["check"]
    assert check["strategy"]["matrix"]["python"] == SUPPORTED
    requires = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert requires["requires-python"] == f">={SUPPORTED[0]}"
    (setup,) = [step for step in check["steps"] if step.get("uses", "").startswith("astral-sh/")]
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    assert setup["with"]["enable-cache"] is True
    assert setup["with"]["cache-dependency-glob"] == "uv.lock"
    run = commands(check)
    synced = run.index("uv sync --locked --extra dev")
    checks = [command for command in run[synced + 1 :] if command.startswith("uv run")]
    assert checks == [
        "uv run --no-sync ruff check .",
        "uv run --no-sync ruff format --check .",
        "uv run --no-sync mypy",
        "uv run --no-sync pytest",
    ]


def test_ci_installs_what_the_container_installs_as_it_does(project: Path) -> None:
    job = workflow(project)["jobs"]["container-dependencies"]
    run = " && ".join(commands(job))
    assert "pip install --no-deps --requirement requirements.lock" in run
    assert "pip install --no-deps ." in run
    dockerfile = (project / "Dockerfile").read_text()
    assert "pip install --no-deps --requirement requirements.lock" in dockerfile
    python = re.search(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert python is not None
    (setup,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-")]
    assert setup["with"]["python-version"] == python.group(1)
    assert setup["with"]["cache"] == "pip"


def test_dependabot_keeps_the_packages_and_the_actions_current(project: Path) -> None:
    config = yaml.safe_load((project / ".github/dependabot.yml").read_text())
    assert config["version"] == 2
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert sorted(updates) == ["github-actions", "uv"]
    for update in updates.values():
        assert update["directory"] == "/"
        assert update["schedule"]["interval"] == "weekly"


def test_every_supported_python_has_a_wheel_of_each_locked_package(project: Path) -> None:
    lock = tomllib.loads((project / "uv.lock").read_text())
    missing = []
    for package in lock["package"]:
        wheels = [Path(wheel["url"]).name for wheel in package.get("wheels", [])]
        if not wheels or any("-none-any.whl" in wheel for wheel in wheels):
            continue  # the project itself, or pure Python
        linux = [wheel for wheel in wheels if "manylinux" in wheel and "x86_64" in wheel]
        for python in SUPPORTED:
            tags = ("-cp" + python.replace(".", "") + "-", "-abi3-", "-py3-")
            if not any(tag in wheel for wheel in linux for tag in tags):
                missing.append(f"{package['name']} {package['version']} on {python}")
    assert missing == []
