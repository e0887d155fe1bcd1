"""Render every supported combination and hold each render to the same checks.

Per render: no template syntax left, nothing of an unselected option left,
valid YAML, no import cycle, `ruff check`, `ruff format --check`,
`mypy --strict`, and the project's own test suite. The slow, per-combination
checks carry the `matrix` marker.
"""

import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException

from tests.matrix import (
    FORMATS,
    SUPPORTED,
    UNSUPPORTED,
    WITH_SERVICES,
    answers,
    combo_id,
    has_rows,
)
from tests.render import ROOT, import_cycles, leftovers, render, run, run_suite, yaml_problems

# What each option leaves in a render; none of it may appear when the option is off.
TRACES: dict[str, list[str]] = {
    "csv": [r"csv_format", r"items\.csv"],
    "jsonl": [r"jsonl_format", r"items\.jsonl"],
    "json": [r"json_format", r"items\.json\b"],
    "rows": [r"DATABASE_URL", r"database_url", r"sqlite", r"/items\.", r"(?i)postgres"],
    "sse": [
        r"PUBLISH_TOKEN",
        r"publish_token",
        r"EventSource",
        r"GET /events",
        r"BROKER_URL",
        r"(?i)\bredis\b",
    ],
    "file": [r"FILES_DIR", r"files_dir", r"/files/"],
    "relay": [r"UPSTREAM_URL", r"upstream_url", r"/relay/"],
    "compression": [r"CompressionMiddleware", r"COMPRESSION\b", r"compression_level"],
    "gzip": [r"\bzlib\b"],
    "br": [r"\bbrotli\b"],
    "zstd": [r"\bzstandard\b"],
}


def unselected(context: dict[str, Any]) -> list[str]:
    """The TRACES keys that must be absent from the render of `context`."""
    off = [name for name in FORMATS if not context[f"format_{name}"]]
    if not has_rows(context):
        off.append("rows")
    off += [algo for algo in ("gzip", "br", "zstd") if context["compression"] != algo]
    if context["compression"] == "none":
        off.append("compression")
    return off


def traces(project: Path, context: dict[str, Any]) -> list[str]:
    """`file: pattern` for every trace of an unselected option found in the render."""
    found = []
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        text = f"{path.relative_to(project)}\n{path.read_text(errors='replace')}"
        for option in unselected(context):
            found += [
                f"{path.relative_to(project)}: {option} {pattern}"
                for pattern in TRACES[option]
                if re.search(pattern, text)
            ]
    return found


def test_the_template_workflows_give_no_key_twice() -> None:
    assert yaml_problems(ROOT / ".github") == []


def passed(output: str) -> int:
    """The number of passed tests in pytest's closing line."""
    match = re.search(r"(\d+) passed", output)
    return int(match.group(1)) if match else 0


# --- fast checks -------------------------------------------------------------


def test_the_default_render_is_clean(tmp_path: Path) -> None:
    project = render(tmp_path)
    assert project.name == "streaming-api"
    assert (project / "src" / "streaming_api" / "main.py").exists()
    assert leftovers(project) == []
    assert traces(project, answers(FORMATS, "gzip")) == []


def test_the_default_render_has_no_import_cycle(tmp_path: Path) -> None:
    assert import_cycles(render(tmp_path)) == []


def test_the_default_renders_test_ids_are_the_same_in_every_run(tmp_path: Path) -> None:
    # No random value in an id: `pytest --lf` finds a failed test again, CI
    # reports line up run to run, and pytest-xdist's workers collect alike.
    project = render(tmp_path)
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    runs = [run(collect, cwd=project) for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stdout[-3000:] + runs[0].stderr[-3000:]
    first, second = ([line for line in each.stdout.splitlines() if "::" in line] for each in runs)
    assert len(first) > 100
    assert first == second


@pytest.mark.parametrize(
    "context",
    [answers(("csv",), "none"), answers(("sse",), "br"), answers(("file", "relay"), "zstd")],
    ids=combo_id,
)
def test_unselected_options_leave_no_trace(tmp_path: Path, context: dict[str, Any]) -> None:
    project = render(tmp_path, **context)
    assert leftovers(project) == []
    assert traces(project, context) == []


def test_a_hostile_project_name_stays_data(tmp_path: Path) -> None:
    name = """Bob's "Streams" \\ ${HOME} `id` 東京"""
    project = render(tmp_path, project_name=name, project_slug="bobs-streams")
    init = (project / "src" / "bobs_streams" / "__init__.py").read_text()
    namespace: dict[str, Any] = {}
    exec(compile(init, "__init__.py", "exec"), namespace)  # noqa: S102 - our own render
    assert namespace["TITLE"] == name


def test_the_matrix_cli_lists_every_supported_combination() -> None:
    result = run([sys.executable, "-m", "tests.matrix", "--ids"], cwd=ROOT)
    assert result.returncode == 0
    assert result.stdout.split() == [combo_id(c) for c in SUPPORTED]
    assert len(SUPPORTED) == 63 * 4 + 6


REFUSED = [
    pytest.param({"project_slug": "my project"}, "project_slug is 'my project'", id="slug-space"),
    pytest.param({"project_slug": "2fast"}, "project_slug is '2fast'", id="slug-digit"),
    pytest.param({"package_name": "2fast"}, "package_name is '2fast'", id="package-digit"),
    pytest.param({"package_name": "my pkg"}, "package_name is 'my pkg'", id="package-space"),
    pytest.param({"package_name": "class"}, "'class'; that is a Python keyword", id="keyword"),
    pytest.param({"package_name": "json"}, "'json'; that would shadow", id="stdlib"),
    pytest.param({"package_name": "fastapi"}, "'fastapi'; that would shadow", id="dependency"),
    pytest.param({"package_name": "click"}, "'click'; that would shadow", id="indirect-dependency"),
    pytest.param(
        {"package_name": "compression"}, "'compression'; that would shadow", id="stdlib-3.14"
    ),
    pytest.param({"package_name": "type"}, "'type'; that is a Python keyword", id="soft-keyword"),
    pytest.param(
        {"project_name": "\t", "project_slug": "tab"}, "project_name is '\\t'", id="name-blank"
    ),
    pytest.param(
        {"project_name": "Next\x85line", "project_slug": "next"},
        "project_name is 'Next\\x85line'",
        id="name-c1-control",
    ),
    pytest.param(
        {"description": "Two\nlines"},
        "description is 'Two\\nlines'; expected one line of text, without control characters",
        id="description-newline",
    ),
    pytest.param(
        {"author_name": "Bob\u202e"},
        "author_name is 'Bob\\u202e'; expected one line of text",
        id="author-bidi-override",
    ),
    pytest.param({"author_email": "nobody"}, "author_email is 'nobody'", id="email"),
    pytest.param({"author_email": "<me>@example.com"}, "author_email is '<me>@", id="email-angle"),
    pytest.param({"author_email": "me..too@example.com"}, "expected an address", id="email-dots"),
    pytest.param(
        {"chunk_size": "64k"}, "chunk_size is '64k'; expected a whole number", id="chunk-text"
    ),
    pytest.param({"chunk_size": 511}, "chunk_size is '511'", id="chunk-small"),
    pytest.param({"chunk_size": 8388609}, "chunk_size is '8388609'", id="chunk-large"),
    pytest.param({"chunk_size": "0512"}, "chunk_size is '0512'", id="chunk-leading-zero"),
    *[
        pytest.param(context, "no format selected", id=f"no-format-{context['compression']}")
        for context in UNSUPPORTED
    ],
]


@pytest.mark.parametrize(("context", "message"), REFUSED)
def test_the_hook_refuses_a_broken_answer_in_one_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], context: dict[str, Any], message: str
) -> None:
    with pytest.raises(FailedHookException):
        render(tmp_path, **context)
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert message in errors[0]
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_compression_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lzma provided for choice variable compression"):
        render(tmp_path, compression="lzma")
    assert list(tmp_path.iterdir()) == []


# --- the matrix --------------------------------------------------------------


@pytest.mark.matrix
@pytest.mark.parametrize("context", SUPPORTED, ids=combo_id)
def test_render(
    tmp_path: Path, mypy_cache: Path, record_property: Any, context: dict[str, Any]
) -> None:
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        seconds[name] = seconds.get(name, 0) + now - started
        started = now

    project = render(tmp_path, **context)
    stage("render")
    assert leftovers(project) == []
    assert traces(project, context) == []
    assert yaml_problems(project) == []
    assert import_cycles(project) == []
    stage("scan")
    for command in (
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--check", "--no-cache", "."],
    ):
        result = run(command, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr
    stage("ruff")
    result = run(["mypy", "--cache-dir", str(mypy_cache)], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    stage("mypy")
    code, output = run_suite(project, services=combo_id(context) in WITH_SERVICES)
    assert code == 0, output[-6000:]
    stage("suite")
    record_property(
        "render", {"id": combo_id(context), "seconds": seconds, "tests": passed(output)}
    )
