"""Rendering the template and running the tools the generated project uses."""

import multiprocessing
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from cookiecutter.main import cookiecutter

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
# Template syntax that must not survive rendering; `${{ }}` is GitHub Actions' own.
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|\{#|cookiecutter\.")


def render(out: Path, **context: Any) -> Path:
    """Render the working tree with these answers; return the project folder."""
    return Path(cookiecutter(str(ROOT), no_input=True, extra_context=context, output_dir=str(out)))


def leftovers(project: Path) -> list[str]:
    """Files (relative) that still hold template syntax."""
    return [
        str(path.relative_to(project))
        for path in sorted(project.rglob("*"))
        if path.is_file() and LEFTOVER.search(path.read_text(errors="replace"))
    ]


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping (plain YAML keeps the last)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(key, deep=True) for key, _ in node.value]
    twice = sorted({str(key) for key in keys if keys.count(key) > 1})
    if twice:
        raise yaml.constructor.ConstructorError(
            None, None, f"keys given twice: {', '.join(twice)}", node.start_mark
        )
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def yaml_problems(project: Path) -> list[str]:
    """YAML files (relative) that do not parse, or that give a key twice, with why."""
    problems = []
    for path in sorted([*project.rglob("*.yml"), *project.rglob("*.yaml")]):
        try:
            yaml.load(path.read_text(), Loader=_StrictLoader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as error:
            problems.append(f"{path.relative_to(project)}: {error}")
    return problems


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a tool from this environment in `cwd`, capturing its output."""
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        check=False,
    )


# Every generated suite imports the same heavy libraries before its first test
# (about a second of CPU each time). A fork server imports them once; each suite
# then runs in a fresh child forked from it, with its own cwd, modules and output.
_PRELOAD = ["fastapi", "httpx", "orjson", "pydantic_settings", "pytest", "uvicorn", "uvloop"]
_forks = multiprocessing.get_context("forkserver")
_forks.set_forkserver_preload(_PRELOAD)


# What the generated suites read to reach the servers of their `services` tests.
SERVICE_VARIABLES = ("TEST_POSTGRES_URL", "TEST_REDIS_URL", "REQUIRE_SERVICES")


def _suite(project: str, log: str, services: bool) -> None:
    os.chdir(project)
    with open(log, "wb") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    import pytest

    # Plugins imported by the server (anyio's) cannot have their asserts
    # rewritten here; that warning is the fork server's doing, not the suite's.
    args = ["-q", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if not services:
        for name in SERVICE_VARIABLES:
            os.environ.pop(name, None)
        args += ["-m", "not services"]
    sys.exit(int(pytest.main(args)))


def run_suite(project: Path, *, services: bool = False) -> tuple[int, str]:
    """Run the project's own test suite as `pytest` would; return its exit code and output.

    With `services`, its tests of PostgreSQL, Redis and nginx run too, against
    the servers the environment names; otherwise they are deselected.
    """
    log = project.parent / f"{project.name}-pytest.log"
    child = _forks.Process(target=_suite, args=(str(project), str(log), services))
    child.start()
    child.join()
    return child.exitcode if child.exitcode is not None else -1, log.read_text(errors="replace")
