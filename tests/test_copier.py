"""The same tree served to Copier and cruft: questions, refusals, renders and updates.

Every test works on its own copy of the template in tmp_path (as a plain folder,
or as a git repository with its own tags), so it needs no tags in this clone
and sees uncommitted changes of the working tree.
"""

import json
import re
import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from tests import matrix
from tests.render import (
    BIN,
    COOKIECUTTER_JSON,
    ROOT,
    Answers,
    cookiecutter_render,
    copier_render,
    ok,
    run,
)

ANSWERS_FILE = ".copier-answers.yml"
UNSAFE_SETTINGS = ("_tasks", "_migrations", "_jinja_extensions", "_external_data")
# What a template copy leaves out: version control, environments, caches, build output.
NOT_TEMPLATE = shutil.ignore_patterns(
    ".git", ".venv", "build", "__pycache__", "*.py[co]", ".*_cache", "node_modules"
)
Tree = dict[str, tuple[bytes, int]]


# --- helpers ---------------------------------------------------------------------


def template_copy(dst: Path) -> Path:
    """The template's working tree, copied to `dst` as a plain folder."""
    shutil.copytree(ROOT, dst, ignore=NOT_TEMPLATE)
    return dst


def template_repo(dst: Path, tag: str) -> Path:
    """The template copied to `dst` as a git repository with one commit, tagged `tag`."""
    template_copy(dst)
    ok(["git", "init", "-q", "-b", "main"], dst)
    commit(dst, "Template", tag)
    return dst


def commit(repo: Path, message: str, tag: str | None = None) -> None:
    """Commit everything in `repo`, and tag the commit."""
    ok(["git", "add", "-A"], repo)
    ok(["git", "commit", "-q", "-m", message], repo)
    if tag:
        ok(["git", "tag", tag], repo)


def tree(folder: Path) -> Tree:
    """Every file under `folder`: its bytes and permission bits."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mode & 0o7777)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def questions() -> dict[str, Any]:
    """cookiecutter.json without its private keys."""
    return {key: value for key, value in COOKIECUTTER_JSON.items() if not key.startswith("_")}


def template_version() -> str:
    """The template's version, as renders see it."""
    return str(COOKIECUTTER_JSON["_template_version"])


def add_line(path: Path, line: str) -> None:
    """Append one line to a text file."""
    path.write_text(path.read_text().rstrip("\n") + f"\n{line}\n")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One plain-folder copy of the template per module and worker."""
    return template_copy(tmp_path_factory.mktemp("template") / "template")


# --- copier.yml is derived, complete and safe --------------------------------------


def test_copier_yml_is_generated_from_the_current_sources() -> None:
    result = run([sys.executable, "scripts/make_copier_yml.py", "--check"], ROOT)
    assert result.returncode == 0, result.stderr


def test_copier_asks_what_cookiecutter_asks() -> None:
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    prompts = COOKIECUTTER_JSON["__prompts__"]
    asked = {key: value for key, value in config.items() if not key.startswith("_")}
    assert list(asked) == [*questions(), "cookiecutter"]
    for key, raw in questions().items():
        question = asked[key]
        if isinstance(raw, list):
            assert question["help"] == prompts[key]["__prompt__"]
            assert list(question["choices"].values()) == raw
            assert list(question["choices"]) == [prompts[key][choice] for choice in raw]
            assert question["default"] == raw[0]
        else:
            assert question["help"] == prompts[key]
            expected = raw if isinstance(raw, bool) else str(raw).replace("cookiecutter.", "")
            assert question["default"] == expected
    assert asked["cookiecutter"]["when"] is False
    assert not set(UNSAFE_SETTINGS) & set(config)
    assert config["_templates_suffix"] == ""


def test_copier_copy_needs_no_trust(template: Path, tmp_path: Path) -> None:
    result = run(
        [str(BIN / "copier"), "copy", "--defaults", "--quiet", str(template), "out"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / ANSWERS_FILE).is_file()


def test_cookiecutter_renders_the_folder_and_nothing_of_copier(tmp_path: Path) -> None:
    ok([str(BIN / "cookiecutter"), "--no-input", ".", "-o", str(tmp_path)], ROOT)
    (project,) = tmp_path.iterdir()
    files = tree(project)
    assert not [name for name in files if "copier" in name.lower()]
    assert not [name for name, (data, _) in files.items() if b"copier" in data.lower()]
    version = template_version()
    assert f"version {version} of streaming-fastapi-template" in (project / "README.md").read_text()


def test_the_version_agrees_everywhere() -> None:
    version = template_version()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == version
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.MULTILINE)
    assert released, "CHANGELOG.md has no released version"
    assert released[0] == version
    assert "## [Unreleased]" in changelog


# --- the same answers refused with the same words ----------------------------------

REFUSED = [
    pytest.param({"project_name": "\t", "project_slug": "tab"}, id="name-blank"),
    pytest.param({"project_name": "Two\nlines", "project_slug": "two"}, id="name-newline"),
    pytest.param({"project_name": "123 Go"}, id="derived-slug-digit"),
    pytest.param({"project_name": "Json"}, id="derived-package-stdlib"),
    pytest.param({"project_slug": "2fast"}, id="slug-digit"),
    pytest.param({"project_slug": "my--api"}, id="slug-double-hyphen"),
    pytest.param({"project_slug": "bob's\\api"}, id="slug-quote-backslash"),
    pytest.param({"project_slug": "fastapi"}, id="derived-package-dependency"),
    pytest.param({"package_name": "my pkg"}, id="package-space"),
    pytest.param({"package_name": "class"}, id="package-keyword"),
    pytest.param({"package_name": "asyncio"}, id="package-stdlib"),
    pytest.param({"project_name": "Del\x7f", "project_slug": "del"}, id="name-del"),
    pytest.param({"project_name": "Line\u2028break", "project_slug": "line"}, id="name-u2028"),
    pytest.param({"description": "Two\nlines"}, id="description-newline"),
    pytest.param({"description": "Next\x85line \\ 'q'"}, id="description-c1-control"),
    pytest.param({"description": "Broken \udc80 byte"}, id="description-lone-surrogate"),
    pytest.param({"author_name": "Bob\u202e"}, id="author-bidi-override"),
    pytest.param({"author_name": "Bob\ufffe"}, id="author-noncharacter"),
    pytest.param({"author_email": "me at example.com"}, id="email"),
    pytest.param({"author_email": "<me>@example.com"}, id="email-angle"),
    pytest.param({"author_email": "me..too@example.com"}, id="email-dots"),
    pytest.param({"author_email": "me@example..com"}, id="email-domain-dots"),
    pytest.param({"author_email": "zoë@example.com"}, id="email-non-ascii-local"),
    pytest.param({"author_email": "a@b@c"}, id="email-two-at"),
    pytest.param({"chunk_size": "64k"}, id="chunk-text"),
    pytest.param({"chunk_size": "511"}, id="chunk-small"),
    pytest.param({"chunk_size": "8388609"}, id="chunk-large"),
    pytest.param({"chunk_size": "0512"}, id="chunk-leading-zero"),
    pytest.param(
        {f"format_{name}": False for name in matrix.FORMATS},
        id="no-format",
    ),
]


@pytest.mark.parametrize("answers", REFUSED)
def test_copier_refuses_what_the_hook_refuses_in_its_words(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: Answers
) -> None:
    with pytest.raises(FailedHookException):
        cookiecutter_render(template, tmp_path / "cc", answers)
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    hook_message = errors[0].removeprefix("error: ")

    with pytest.raises(ValueError, match="Validation error for question") as refused:
        copier_render(template, tmp_path / "copier", answers)
    assert str(refused.value).split("': ", 1)[1] == hook_message
    assert not (tmp_path / "copier").exists()


# --- the same answers, the same files ----------------------------------------------


def combination(formats: tuple[str, ...], compression: str, chunk_size: str = "65536") -> Answers:
    """Answers that select exactly `formats`, the chunk size as a user types it."""
    return {**matrix.answers(formats, compression), "chunk_size": chunk_size}


def switches(answers: Answers) -> dict[str, bool]:
    """Every yes/no of a render, asked (`format_csv`) or derived (`__rows`), as Cookiecutter has it.

    Cookiecutter renders a derived value as a string, so a false one must render empty.
    """
    context = generate_context(str(ROOT / "cookiecutter.json"), extra_context=answers)
    rendered = prompt_for_config(context, no_input=True)
    return {
        key: bool(value)
        for key, value in rendered.items()
        if isinstance(COOKIECUTTER_JSON[key], bool) or key.startswith("__")
    }


# The fast cases (no `matrix` mark) turn every switch both ways, so a value the
# engines compute differently, asked or derived, shows in the trees of the fast run.
SAME = [
    pytest.param({}, id="defaults"),
    pytest.param(combination(("csv",), "none", "512"), id="csv.none.chunk512"),
    pytest.param(
        {**combination(("jsonl", "json"), "br", "8388608"), "project_name": "Café Streams 2"},
        id="jsonl-json.br.chunk8388608",
        marks=pytest.mark.matrix,
    ),
    pytest.param(combination(("sse",), "zstd"), id="sse.zstd"),
    pytest.param(
        combination(("file", "relay"), "gzip"), id="file-relay.gzip", marks=pytest.mark.matrix
    ),
    pytest.param(
        {
            **combination(("json", "sse", "relay"), "zstd"),
            "project_name": """Bob's "Streams" \\ ${HOME} `id` 東京""",
            "project_slug": "bobs-streams",
            "package_name": "bobs_streams_pkg",
            "description": 'Streams 100% of "rows" & more \\ fast.',
        },
        id="hostile-text.json-sse-relay.zstd",
        marks=pytest.mark.matrix,
    ),
    pytest.param(combination(("csv", "file"), "br"), id="csv-file.br", marks=pytest.mark.matrix),
]


@pytest.mark.parametrize("answers", SAME)
def test_both_engines_write_the_same_files(
    template: Path, tmp_path: Path, answers: Answers
) -> None:
    by_cookiecutter = tree(cookiecutter_render(template, tmp_path / "cc", answers))
    by_copier = tree(copier_render(template, tmp_path / "copier", answers))
    recorded = yaml.safe_load(by_copier.pop(ANSWERS_FILE)[0])
    assert sorted(by_copier) == sorted(by_cookiecutter)
    assert [name for name in by_copier if by_copier[name] != by_cookiecutter[name]] == []
    assert {key: recorded[key] for key in answers} == {
        key: str(value) if key == "chunk_size" else value for key, value in answers.items()
    }
    assert set(recorded) == {*questions(), "_src_path"}


def test_the_fast_parity_cases_turn_every_switch_both_ways() -> None:
    fast = [switches(case.values[0]) for case in SAME if not case.marks]
    one_way = [key for key in fast[0] if {case[key] for case in fast} != {True, False}]
    assert one_way == []


# --- updates -----------------------------------------------------------------------

ENDPOINT = '\n\n@app.get("/version")\nasync def version() -> dict[str, str]:\n    return {"v": "1"}'
TEMPLATE_IGNORE = Path("{{cookiecutter.project_slug}}") / ".gitignore"


def project_repo(template: Path, dst: Path, tag: str) -> Path:
    """A project rendered by Copier from `template` at `tag`, committed to its own repository."""
    copier_render(template, dst, {}, vcs_ref=tag)
    ok(["git", "init", "-q", "-b", "main"], dst)
    commit(dst, "Render the template")
    return dst


def release(template: Path, line: str, tag: str) -> None:
    """A template release that adds `line` to the generated .gitignore."""
    add_line(template / TEMPLATE_IGNORE, line)
    commit(template, f"Ignore {line}", tag)


@pytest.mark.matrix
def test_a_project_copied_as_the_readme_says_updates_from_inside_it(tmp_path: Path) -> None:
    """README.md: an absolute path to a checkout with no tags yet; the relative form fails."""
    template = template_copy(tmp_path / "streaming-fastapi-template")
    ok(["git", "init", "-q", "-b", "main"], template)
    commit(template, "Template")
    copy = '"$COPIER" copy --defaults --quiet "$TEMPLATE" '
    script = f'TEMPLATE="$PWD/streaming-fastapi-template" && {copy} my-service'
    script += f" && TEMPLATE=streaming-fastapi-template && {copy} relative-service"
    result = run(["bash", "-c", script], tmp_path, COPIER=str(BIN / "copier"))
    assert result.returncode == 0, result.stderr
    for name in ("my-service", "relative-service"):
        ok(["git", "init", "-q", "-b", "main"], tmp_path / name)
        commit(tmp_path / name, "Render the template")
    project = tmp_path / "my-service"
    assert yaml.safe_load((project / ANSWERS_FILE).read_text())["_src_path"] == str(template)
    add_line(template / TEMPLATE_IGNORE, "*.log")
    commit(template, "Ignore *.log")

    ok([str(BIN / "copier"), "update", "--defaults", "--quiet"], project)
    assert (project / ".gitignore").read_text().endswith("\n*.log\n")

    update = [str(BIN / "copier"), "update", "--defaults", "--quiet"]
    relative = run(update, tmp_path / "relative-service")
    assert relative.returncode != 0, "Copier now updates from a relative path: relax README.md"
    assert "Local template must be a directory" in relative.stderr


@pytest.mark.matrix
def test_copier_update_keeps_the_users_edit_and_brings_the_templates_change(
    tmp_path: Path,
) -> None:
    template = template_repo(tmp_path / "template", "v0.1.0")
    project = project_repo(template, tmp_path / "project", "v0.1.0")
    assert yaml.safe_load((project / ANSWERS_FILE).read_text())["_commit"] == "v0.1.0"
    main = project / "src" / "streaming_api" / "main.py"
    add_line(main, ENDPOINT)
    commit(project, "Add a version endpoint")
    release(template, "*.log", "v0.2.0")

    ok([str(BIN / "copier"), "update", "--defaults", "--quiet"], project)

    assert main.read_text().endswith(ENDPOINT + "\n")
    assert (project / ".gitignore").read_text().endswith("\n*.log\n")
    assert yaml.safe_load((project / ANSWERS_FILE).read_text())["_commit"] == "v0.2.0"
    assert "<<<<<<<" not in main.read_text() + (project / ".gitignore").read_text()
    assert not list(project.rglob("*.rej"))


@pytest.mark.matrix
@pytest.mark.parametrize("conflict", ["inline", "rej"])
def test_copier_update_marks_a_conflicting_edit(tmp_path: Path, conflict: str) -> None:
    template = template_repo(tmp_path / "template", "v0.1.0")
    project = project_repo(template, tmp_path / "project", "v0.1.0")
    add_line(project / ".gitignore", "*.tmp")
    commit(project, "Ignore temporary files")
    release(template, "*.log", "v0.2.0")

    ok([str(BIN / "copier"), "update", "--defaults", "--quiet", "--conflict", conflict], project)

    ignore = (project / ".gitignore").read_text()
    if conflict == "inline":
        assert re.search(
            r"<<<<<<< before updating\n\*\.tmp\n=======\n\*\.log\n>>>>>>> after updating\n", ignore
        )
    else:
        assert ignore.endswith("\n*.log\n")
        rejected = (project / ".gitignore.rej").read_text()
        assert "+*.tmp" in rejected


@pytest.mark.matrix
def test_cruft_creates_and_updates_a_cookiecutter_project(tmp_path: Path) -> None:
    template = template_repo(tmp_path / "template", "v0.1.0")
    out = tmp_path / "out"
    context = json.dumps({"format_sse": False, "compression": "zstd"})
    ok(
        [str(BIN / "cruft"), "create", str(template), "--no-input", "--checkout", "v0.1.0",
         "--extra-context", context, "--output-dir", str(out)],
        tmp_path,
    )  # fmt: skip
    project = out / "streaming-api"
    by_cookiecutter = tree(
        cookiecutter_render(template, tmp_path / "cc", {"format_sse": False, "compression": "zstd"})
    )
    by_cruft = tree(project)
    record = json.loads(by_cruft.pop(".cruft.json")[0])
    assert by_cruft == by_cookiecutter
    assert record["checkout"] == "v0.1.0"
    assert record["context"]["cookiecutter"]["_template_version"] == template_version()

    ok(["git", "init", "-q", "-b", "main"], project)
    commit(project, "Render the template")
    main = project / "src" / "streaming_api" / "main.py"
    add_line(main, ENDPOINT)
    commit(project, "Add a version endpoint")
    release(template, "*.log", "v0.2.0")
    assert run([str(BIN / "cruft"), "check"], project).returncode != 0

    ok([str(BIN / "cruft"), "update", "--skip-apply-ask", "--checkout", "v0.2.0"], project)

    assert main.read_text().endswith(ENDPOINT + "\n")
    assert (project / ".gitignore").read_text().endswith("\n*.log\n")
    assert json.loads((project / ".cruft.json").read_text())["checkout"] == "v0.2.0"
