"""The template's test helpers: rendering with either engine, running tools, checking a render."""

import json
import multiprocessing
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from cookiecutter.main import cookiecutter
from copier import run_copy

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
COOKIECUTTER_JSON: dict[str, Any] = json.loads((ROOT / "cookiecutter.json").read_text())
# The identity of the commits tests make in scratch repositories, whatever the machine's.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
# Template syntax that must not survive rendering; `${{ }}` is GitHub Actions' own.
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|\{#|cookiecutter\.")

Answers = dict[str, Any]


# --- rendering -------------------------------------------------------------------


def render(out: Path, **answers: Any) -> Path:
    """Render this working tree with Cookiecutter into `out`; return the project folder."""
    return cookiecutter_render(ROOT, out, answers)


def cookiecutter_render(template: Path, out: Path, answers: Answers) -> Path:
    """Render `template` as `cookiecutter --no-input` would; return the project folder."""
    return Path(
        cookiecutter(str(template), no_input=True, extra_context=answers, output_dir=str(out))
    )


def copier_render(template: Path, dst: Path, answers: Answers, **options: Any) -> Path:
    """Render `template` into `dst` as `copier copy --defaults --data ...` would (no trust)."""
    run_copy(str(template), dst, data=answers, defaults=True, quiet=True, unsafe=False, **options)
    return dst


# --- running tools ---------------------------------------------------------------


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a tool in `cwd`, this environment's tools first on PATH, capturing its output."""
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, **env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        check=False,
    )


def ok(args: list[str], cwd: Path) -> str:
    """Run a tool that must succeed; return its output."""
    result = run(args, cwd)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


# --- checks of a render ----------------------------------------------------------


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


# --- a render's own test suite ---------------------------------------------------

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
