"""Rendering the template and running the tools the generated project uses."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

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
