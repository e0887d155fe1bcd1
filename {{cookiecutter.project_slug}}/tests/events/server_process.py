"""The service as a uvicorn process of its own, for the tests of what SIGTERM does."""

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import {{ cookiecutter.package_name }}
from {{ cookiecutter.package_name }}.settings import Settings

from tests.support.localservers import listening_socket


@dataclass
class ServerProcess:
    """A running `uvicorn` and the URL it serves; what it wrote to stderr, once it has ended."""

    process: subprocess.Popen[str]
    url: str
    log: str = ""


def environment_without_settings(**changes: str) -> dict[str, str]:
    """This environment without the service's settings (so the defaults apply), and `changes`.

    Without `WEB_CONCURRENCY` too: uvicorn would take it for `--workers`.
    """
    kept = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in Settings.model_fields and name != "WEB_CONCURRENCY"
    }
    return kept | changes


@contextmanager
def uvicorn_process(
    folder: Path, environment: Mapping[str, str], *options: str
) -> Iterator[ServerProcess]:
    """`uvicorn <package>.main:app *options`, run in `folder`; killed on the way out.

    It inherits a bound socket (`--fd`), so no other test's server can take its
    port before it starts. Its stderr is in `log` after the `with` block.
    """
    source = Path({{ cookiecutter.package_name }}.__file__).parents[1]
    with listening_socket() as listener:
        command = [
            sys.executable, "-m", "uvicorn", "{{ cookiecutter.package_name }}.main:app",
            "--app-dir", str(source), "--fd", str(listener.fileno()), *options,
        ]  # fmt: skip
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            command, cwd=folder, env=dict(environment), stderr=subprocess.PIPE, text=True,
            pass_fds=(listener.fileno(),),
        )  # fmt: skip
        server = ServerProcess(process, f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        yield server
    finally:
        process.kill()
        _, server.log = process.communicate()
