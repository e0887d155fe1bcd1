"""The template's test helpers: rendering with either engine, running tools, checking a render."""

import ast
import json
import multiprocessing
import os
import re
import subprocess
import sys
from collections import deque
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


# grimp (import-linter's graph) finds a package through sys.path, and every render
# is a throwaway folder whose package name the other renders share; the graph of a
# render's own modules is a short walk over their syntax trees.


def _modules(project: Path) -> dict[str, Path]:
    """The project's own modules by dotted name: src/<pkg>, and bench/ and tests/ if packages."""
    packages = [init.parent for init in sorted(project.glob("src/*/__init__.py"))]
    packages += [
        project / name for name in ("bench", "tests") if (project / name / "__init__.py").is_file()
    ]
    modules = {}
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            parts = path.relative_to(package.parent).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(project: Path) -> dict[str, set[str]]:
    """Which of the project's own modules each of them imports, wherever the import stands.

    Function-local imports and those under `if TYPE_CHECKING:` count. `import a.b`
    is an edge to `a.b` alone (not to `a`); `from a import b` is an edge to the
    module `a.b` if there is one, else to `a`; relative imports are resolved.
    """
    modules = _modules(project)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                base = ".".join(part for part in (base, node.module) if part)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.add(submodule if submodule in modules else base)
        graph[name] = (targets & modules.keys()) - {name}
    return graph


def _shortest_cycle(graph: dict[str, set[str]], start: str) -> list[str]:
    """The shortest chain of imports from `start` back to itself (breadth first), or []."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node]):
            if target == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(previous[chain[-1]])
                return [*reversed(chain), start]
            if target not in previous:
                previous[target] = node
                queue.append(target)
    return []


def import_cycles(project: Path) -> list[str]:
    """Import cycles among the project's own modules, as `a -> b -> a`.

    Every module that lies on a cycle appears in at least one: for each in turn,
    unless an earlier cycle already passed through it, its shortest cycle.
    """
    graph = import_graph(project)
    cycles: list[str] = []
    seen: set[str] = set()
    for module in sorted(graph):
        cycle = [] if module in seen else _shortest_cycle(graph, module)
        seen.update(cycle)
        if cycle:
            cycles.append(" -> ".join(cycle))
    return cycles


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
    # This module came into the child as `tests.render`: the project's own tests are
    # a package of the same name, so forget the template's before pytest imports them.
    for name in [name for name in sys.modules if name.split(".")[0] in ("tests", "bench")]:
        del sys.modules[name]
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT]
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
