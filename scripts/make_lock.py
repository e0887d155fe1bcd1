"""Write the generated project's `requirements.lock` template from one resolution.

    python scripts/make_lock.py          # resolve again (needs the package index) and write it

The container installs exactly these versions with `pip install --no-deps`, so
the lock must hold the whole dependency closure of each render, and nothing of
an option the render lacks. All options are resolved together once (`uv pip
compile --universal`, so the pins hold for every Python the project supports);
then each option is resolved alone against those pins, and every pinned package
is wrapped in the Jinja condition of the options that need it.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
LOCK = ROOT / "{{cookiecutter.project_slug}}" / "requirements.lock"
PYTHON = "3.11"  # the oldest Python the generated project supports

# What the generated pyproject.toml requires, per option (the `postgres` and
# `redis` extras are what the container installs for rows and events).
BASE = ["fastapi>=0.165,<1", "pydantic-settings>=2.16,<3", "uvicorn[standard]>=0.54,<1"]
OPTIONS: dict[str, list[str]] = {
    "cookiecutter.format_relay": ["httpx>=0.28,<1"],
    'cookiecutter.compression == "br"': ["brotli>=1.2,<2"],
    'cookiecutter.compression == "zstd"': ["zstandard>=0.25,<1"],
    "rows": [
        "adbc-driver-sqlite>=1.13,<2",
        "polars>=2.1,<3",
        "pyarrow>=26,<27",
        "psycopg[binary,pool]>=3.2,<4",
    ],
    "cookiecutter.format_sse": ["redis>=8.1,<9"],
}
HEADER = """\
{%- set rows = cookiecutter.__rows -%}
# Every package the service runs on, its dependencies' dependencies too, at exact
# versions: the container installs them with `pip install --no-deps -r requirements.lock`.
# Refresh it as README.md says (Deploy: Locked dependencies)."""


def compile_(requirements: list[str], constraints: Path | None = None) -> list[str]:
    """`name==version[ ; marker]` lines of the resolution of `requirements`."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "requirements.in"
        source.write_text("\n".join(requirements) + "\n")
        command = [sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--universal"]
        command += ["--python-version", PYTHON, "--no-header", "--no-annotate", str(source)]
        if constraints:
            command += ["--constraint", str(constraints)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if line and not line.startswith("#")]


def name(line: str) -> str:
    """The package name of a pinned line."""
    return line.split("==")[0].strip().lower()


def main() -> None:
    """Resolve everything, then each option, and write the template."""
    pinned = compile_(BASE + [req for reqs in OPTIONS.values() for req in reqs])
    with tempfile.TemporaryDirectory() as folder:
        constraints = Path(folder) / "constraints.txt"
        constraints.write_text("\n".join(pinned) + "\n")
        base = {name(line) for line in compile_(BASE, constraints)}
        needs = {
            condition: {name(line) for line in compile_(BASE + reqs, constraints)} - base
            for condition, reqs in OPTIONS.items()
        }
    lines = [HEADER]
    open_condition = ""
    for line in pinned:
        conditions = [condition for condition, names in needs.items() if name(line) in names]
        if name(line) not in base and not conditions:
            raise SystemExit(f"{line}: pinned but needed by no option")
        condition = "" if name(line) in base else " or ".join(conditions)
        if condition != open_condition:
            if open_condition:
                lines.append("{%- endif %}")
            if condition:
                lines.append("{%- if " + condition + " %}")
            open_condition = condition
        lines.append(line)
    if open_condition:
        lines.append("{%- endif %}")
    LOCK.write_text("\n".join(lines) + "\n")
    print(f"wrote {LOCK.relative_to(ROOT)}: {len(pinned)} packages")


if __name__ == "__main__":
    main()
