"""Answers are data: whatever printable text is typed as a name, description or author.

Each answer set below is rendered by Cookiecutter and by Copier; the two trees must
be identical, and the render must hold each answer exactly where it lands: the
package's TITLE (and the OpenAPI title), pyproject.toml, the README's heading and
first paragraph, while every file still parses and the project still lints, type
checks and (once, under `matrix`) passes its own suite and builds a wheel. And no
answer lands anywhere else: not in shell, nginx, YAML or Dockerfile syntax.

Cookiecutter renders an answer given on its command line or in extra_context as a
Jinja template (its design: such answers may refer to others), so text holding
`{{`, `{%` or `{#` goes to it wrapped in `{% raw %}`, as README.md tells users to;
typed at its prompt, text is taken as it is, which one test checks.
"""

import email.utils
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.main import cookiecutter
from markdown_it import MarkdownIt
from markdown_it.token import Token
from packaging.metadata import Metadata

from tests import matrix
from tests.render import BIN, run, run_suite, yaml_problems
from tests.test_copier import copier_render, template_copy, tree

ANSWERS_FILE = ".copier-answers.yml"
TEXT = ("project_name", "description", "author_name", "author_email")
# The fewest files: the answers land in the same places whatever the features.
SMALL = {
    "format_csv": True,
    "format_jsonl": False,
    "format_json": False,
    "format_sse": False,
    "format_file": False,
    "format_relay": False,
    "compression": "none",
}

HOSTILE = [
    pytest.param(
        {
            "project_name": """Bob's "Streams" \\ ${HOME} `id` 東京 😀""",
            "description": 'Streams 100% of "rows" & <b>more</b> \\ fast # not a comment',
            "author_name": 'O\u2019Brien, "Bob" <bob> (x) [y]',
            "author_email": "o'brien+tag@example.com",
        },
        id="quotes-markup-unicode",
    ),
    pytest.param(
        {
            "project_name": "{{ 7*7 }} {% raw %} {# note #} %s %(x)s %% ${{ github.token }}",
            "description": "${{ secrets.TOKEN }} $(id) `id` {{ cookiecutter.project_name }} %d",
            "author_name": "{% if true %}yes{% endif %}",
            "author_email": "{x}@example.com",
        },
        id="template-and-shell-syntax",
    ),
    pytest.param(
        {
            "project_name": "- key: value",
            "description": "key: value # yes: no, &anchor *alias !tag ? | >",
            "author_name": "- item",
            "author_email": "a@example.com",
        },
        id="yaml-looking",
    ),
    pytest.param(
        {
            "project_name": "# Heading? #",
            "description": "1. not a list <!-- not a comment [link](http://x) **bold** ~~no~~",
            "author_name": "* star",
            "author_email": "a@example.com",
        },
        id="markdown-looking",
    ),
    pytest.param(
        {
            "project_name": """'''\"\"\"\\""",
            "description": "\\N{BULLET} \\x41 \\u0041 '''\"\"\" ends with a backslash \\",
            "author_name": '"""',
            "author_email": "a@example.com",
        },
        id="escapes-and-triple-quotes",
    ),
    pytest.param(
        {
            "project_name": "null",
            "description": "yes",
            "author_name": "~",
            "author_email": "true@example.com",
        },
        id="yaml-scalars",
    ),
    pytest.param(
        {
            # NBSP, a ZWJ sequence, right-to-left text, fullwidth letters, a ligature, a
            # combining accent, and what ruff calls confusable (a quote, a dash, a times sign).
            "project_name": "Zoë\u00a0Straße 👩\u200d💻 مرحبا \uff21\uff30\uff29 ﬁ e\u0301 "
            "\u2019\u2013\u00d7",
            "description": "---",
            "author_name": "",
            "author_email": "zoe@例え.jp",
        },
        id="non-ascii-and-empty",
    ),
    pytest.param(
        {
            "project_name": "A name that goes on and on, “quoted” and 'quoted' 😀 " * 4,
            "description": "A description of some length, with 'quotes' of both \"kinds\". " * 12,
            "author_name": "  padded  ",
            "author_email": "a@example.com",
        },
        id="long-and-padded",
    ),
]


def literal(value: Any) -> Any:
    """An answer as Cookiecutter's extra_context must carry it to arrive as it is."""
    if isinstance(value, str) and any(mark in value for mark in ("{{", "{%", "{#")):
        return "{% raw %}" + value + "{% endraw %}"
    return value


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One plain-folder copy of the template per module and worker."""
    return template_copy(tmp_path_factory.mktemp("template") / "template")


def render_both(template: Path, out: Path, answers: dict[str, Any]) -> Path:
    """Render `answers` with both engines, require the same files, return Cookiecutter's."""
    context = {**SMALL, "project_slug": "hostile", "package_name": "hostile", **answers}
    by_cookiecutter = Path(
        cookiecutter(
            str(template),
            no_input=True,
            extra_context={key: literal(value) for key, value in context.items()},
            output_dir=str(out / "cc"),
        )
    )
    by_copier = copier_render(template, out / "copier", context)
    copier_files = tree(by_copier)
    recorded = yaml.safe_load(copier_files.pop(ANSWERS_FILE)[0])
    assert {key: recorded[key] for key in TEXT} == {key: context[key] for key in TEXT}
    assert copier_files == tree(by_cookiecutter)
    return by_cookiecutter


def text_of(inline: Token) -> str:
    """The text an inline token shows; it must be plain text, no markup."""
    children = inline.children or []
    assert [child.type for child in children if child.type != "text"] == []
    return "".join(child.content for child in children)


def readme_heading_and_lead(project: Path) -> tuple[str, str | None]:
    """The README's first heading and the paragraph after it, as Markdown shows them."""
    tokens = (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .parse((project / "README.md").read_text())
    )
    assert (tokens[0].type, tokens[0].tag) == ("heading_open", "h1")
    lead = text_of(tokens[4]) if tokens[3].type == "paragraph_open" else None
    return text_of(tokens[1]), lead


def imported_titles(project: Path) -> list[str]:
    """TITLE and the OpenAPI title, from the package imported in a fresh interpreter."""
    code = (
        "import json, hostile; from hostile.app import create_app; "
        "print(json.dumps([hostile.TITLE, create_app().openapi()['info']['title']]))"
    )
    result = run([sys.executable, "-c", code], cwd=project, PYTHONPATH="src")
    assert result.returncode == 0, result.stderr[-3000:]
    titles: list[str] = json.loads(result.stdout)
    return titles


@pytest.mark.parametrize("answers", HOSTILE)
def test_hostile_answers_land_as_data_and_the_render_stays_clean(
    template: Path, tmp_path: Path, mypy_cache: Path, answers: dict[str, Any]
) -> None:
    project = render_both(template, tmp_path, answers)

    assert imported_titles(project) == [answers["project_name"]] * 2
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert metadata["description"] == answers["description"]
    assert metadata["authors"] == [
        {"name": answers["author_name"], "email": answers["author_email"]}
    ]
    assert yaml_problems(project) == []
    heading, lead = readme_heading_and_lead(project)
    assert heading == answers["project_name"].strip()
    description = answers["description"].strip()
    if description:
        assert lead == description
    else:
        assert lead is not None
        assert lead.startswith("Responses are streamed")
    for command in (
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--check", "--no-cache", "."],
        ["mypy", "--cache-dir", str(mypy_cache)],
    ):
        result = run(command, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


def test_each_answer_lands_only_where_it_is_written_as_data(template: Path, tmp_path: Path) -> None:
    """No answer reaches a file that does not escape it for its syntax (shell, nginx, YAML...)."""
    markers = {key: f"Zq{index}xMark" for index, key in enumerate(TEXT)}
    markers["author_email"] = "zq3x@example.com"
    every = matrix.answers(matrix.FORMATS, "gzip")
    context = {**every, "project_slug": "landing", "package_name": "landing", **markers}
    project = render_both(template, tmp_path, context)
    landed = {
        key: sorted(
            str(path.relative_to(project))
            for path in project.rglob("*")
            if path.is_file() and marker in path.read_text(errors="replace")
        )
        for key, marker in markers.items()
    }
    assert landed == {
        # The demo page writes it HTML-escaped (`| e`).
        "project_name": [
            "README.md",
            "src/landing/__init__.py",
            "src/landing/demo/static/index.html",
        ],
        "description": ["README.md", "pyproject.toml"],
        "author_name": ["pyproject.toml"],
        "author_email": ["pyproject.toml"],
    }


def test_answers_typed_at_cookiecutters_prompt_are_taken_as_typed(
    template: Path, tmp_path: Path
) -> None:
    answers = {
        "project_name": "{{ 7*7 }} {%- endraw %} {# x",
        "project_slug": "typed",
        "package_name": "typed",
        "description": "{% raw %}${{ x }}{% endraw %} -%}",
        "author_name": "{{ cookiecutter.author_email }}",
        "author_email": "a@example.com",
    }
    booleans = ["y"] + ["n"] * 5  # format_csv, then no other format
    typed = [*answers.values(), *booleans, "", "4"]  # chunk_size's default, compression none
    result = subprocess.run(
        [str(BIN / "cookiecutter"), str(template), "-o", str(tmp_path / "cc")],
        input="\n".join(typed) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    by_copier = tree(copier_render(template, tmp_path / "copier", {**SMALL, **answers}))
    by_copier.pop(ANSWERS_FILE)
    assert tree(tmp_path / "cc" / "typed") == by_copier
    init = (tmp_path / "cc" / "typed" / "src" / "typed" / "__init__.py").read_text()
    namespace: dict[str, Any] = {}
    exec(compile(init, "__init__.py", "exec"), namespace)  # noqa: S102 - our own render
    assert namespace["TITLE"] == answers["project_name"]


@pytest.mark.matrix
def test_a_hostile_render_passes_its_suite_and_builds_its_metadata(
    template: Path, tmp_path: Path
) -> None:
    answers = HOSTILE[0].values[0]
    assert isinstance(answers, dict)
    project = render_both(template, tmp_path, answers)
    code, output = run_suite(project)
    assert code == 0, output[-6000:]

    uv = shutil.which("uv", path=str(BIN)) or "uv"
    result = run([uv, "build", "--wheel", "-q", "-o", str(tmp_path / "dist")], cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [item for item in archive.namelist() if item.endswith(".dist-info/METADATA")]
        metadata = Metadata.from_email(archive.read(name), validate=True)
    assert metadata.summary == answers["description"]
    assert email.utils.getaddresses([metadata.author_email or ""]) == [
        (answers["author_name"], answers["author_email"])
    ]
