"""nginx, the Debian binary on PATH, in front of servers on loopback, with the project's config.

The server block is `deploy/nginx.conf.template` itself, with its placeholders
filled in as the nginx image fills them from the environment in compose.yaml;
only the main context around it (where nginx keeps its pid, logs and temp
files) is written here, in a folder of the test's own.
"""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from string import Template

import pytest

from .localservers import free_port, missing_service

# Starts on a fresh port when the one picked was taken before nginx bound it.
ATTEMPTS = 3
# In the test's folder: nginx's errors, and its pid, written once its ports are bound.
ERROR_LOG, PID_FILE = "error.log", "nginx.pid"
TEMPLATE = Path(__file__).parents[2] / "deploy" / "nginx.conf.template"
MAIN = Template("""\
${user}worker_processes 1;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $folder/client;
    proxy_temp_path $folder/proxy;
    fastcgi_temp_path $folder/fastcgi;
    uwsgi_temp_path $folder/uwsgi;
    scgi_temp_path $folder/scgi;
    include $site;
}
""")


def nginx_binary() -> str:
    """nginx's path; a skip saying how to get it, or a failure under REQUIRE_SERVICES=1."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found:
        return found
    missing_service("nginx is not installed (apt-get install nginx): the proxy tests need it")


def site_config(upstreams: Sequence[str], port: int, files_root: Path) -> str:
    """The shipped template with its placeholders filled in, as the nginx image does.

    `files_root` is where nginx finds the files it sends itself (FILES_ROOT).
    """
    first, second = upstreams
    text = Template(TEMPLATE.read_text()).safe_substitute(
        NGINX_PORT=f"127.0.0.1:{port}", APP_1=first, APP_2=second, FILES_ROOT=files_root
    )
    assert "${" not in text, "a placeholder of the nginx template was left unfilled"
    return text


@contextmanager
def nginx(upstreams: Sequence[str], folder: Path, files_root: Path | None = None) -> Iterator[str]:
    """nginx on a free loopback port in front of two `host:port` upstreams; yield its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    # nginx binds its port itself, so another server may take a free one first:
    # then it exits at once, and starts again on another.
    for attempt in range(1, ATTEMPTS + 1):
        port = free_port()
        process = _start(upstreams, folder, files_root, port)
        try:
            if _wait_until_listening(process, folder, port, last=attempt == ATTEMPTS):
                yield f"http://127.0.0.1:{port}"
                return
        finally:
            _stop(process)


def _start(
    upstreams: Sequence[str], folder: Path, files_root: Path | None, port: int
) -> subprocess.Popen[bytes]:
    site = folder / "site.conf"
    site.write_text(site_config(upstreams, port, (files_root or folder).resolve()))
    # Run as root, nginx would hand its workers to `nobody`, who cannot enter
    # the test's private temporary folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = folder / "nginx.conf"
    main.write_text(MAIN.substitute(user=user, folder=folder, site=site))
    log, pid = folder / ERROR_LOG, folder / PID_FILE
    log.unlink(missing_ok=True)
    pid.unlink(missing_ok=True)
    directives = f"daemon off; pid {pid}; error_log {log} warn;"
    command = [nginx_binary(), "-p", str(folder), "-e", str(log), "-c", str(main), "-g", directives]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_listening(
    process: subprocess.Popen[bytes], folder: Path, port: int, *, last: bool
) -> bool:
    """True once nginx listens; False if its port was taken and another may be tried."""
    # nginx writes its pid file after binding its ports: before that, whoever
    # answers on the port is not nginx.
    log, pid = folder / ERROR_LOG, folder / PID_FILE
    deadline = time.monotonic() + 10
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            errors = log.read_text() if log.exists() else ""
            if "Address already in use" in errors and not last:
                return False
            pytest.fail(f"nginx did not start (exit {process.returncode}):\n{errors}")
        if pid.exists():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                pass
            else:
                return True
        time.sleep(0.01)
