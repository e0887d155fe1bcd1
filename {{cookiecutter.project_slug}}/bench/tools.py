"""What the benchmark measures with: a server in a subprocess, a lean client, the results.

The client parses responses with httptools, the C parser uvicorn itself uses.
httpx decodes chunked bodies in Python: one million one-row chunks took it
longer than the server needed to send them, which would flatter every ratio.
"""

import os
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httptools
import psutil

MB = 1_000_000
MIB = 1024 * 1024
# The servers' stacks: they run in other processes, so they are not loaded here.
SERVER_PACKAGES = ("uvicorn", "uvloop", "httptools"{% if cookiecutter.format_file %}, "granian"{% endif %}{% if cookiecutter.format_sse %}, "sse-starlette"{% endif %})
# The password of a URL's user info: `scheme://user:password@host`.


class UnavailableError(Exception):
    """A server the benchmark was pointed at cannot be used: the run stops with this line."""


@dataclass(frozen=True)
class Target:
    """A goal the figures are held against; reported, never asserted."""

    name: str
    value: float
    limit: float
    unit: str
    at_least: bool

    @property
    def met(self) -> bool:
        """Whether the value is on the right side of the limit."""
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        """Every field and the verdict, for the JSON report."""
        return {**self.__dict__, "value": round(self.value, 3), "met": self.met}


@dataclass
class Results:
    """What a section measured: its table, its figures and settings for the report, its targets."""

    section: str
    title: str
    table: str
    figures: list[dict[str, Any]]
    targets: list[Target] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    # Parts of the section left out, each with the reason (a server nobody named).
    not_run: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The section's part of the JSON report."""
        return {
            "settings": self.notes,
            "figures": self.figures,
            "table": self.table,
            "targets": [target.as_dict() for target in self.targets],
            "not_run": self.not_run,
        }


@dataclass(frozen=True)
class Setup:
    """How a run was asked for: shared by every section."""

    quick: bool
    repeat: int
    workdir: Path
    log: Callable[[str], None]
    # The service's environment: everything it writes stays in `workdir`.
    env: Mapping[str, str]


@dataclass(frozen=True)
class Transfer:
    """One HTTP response as the client saw it."""

    status: int
    body_bytes: int
    seconds: float
    first_byte: float
    rss_growth: int = 0
    cpu_seconds: float = 0.0


class _Response:
    """httptools callbacks: count body bytes, note when the first and the last arrive."""

    def __init__(self) -> None:
        self.body_bytes = 0
        self.first_byte: float | None = None
        self.complete = False

    def on_body(self, body: bytes) -> None:
        if self.first_byte is None:
            self.first_byte = time.perf_counter()
        self.body_bytes += len(body)

    def on_message_complete(self) -> None:
        self.complete = True


def get(
    port: int, target: str, encoding: str = "identity", headers: Mapping[str, str] | None = None
) -> Transfer:
    """GET `target` from 127.0.0.1:`port` on a new connection; read the body, keep only its size."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    request = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Accept-Encoding: {encoding}\r\n{extra}Connection: close\r\n\r\n"
    )
    response = _Response()
    parser = httptools.HttpResponseParser(response)
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request.encode())
        while not response.complete:
            received = sock.recv_into(buffer)
            if not received:
                msg = f"{target}: the connection closed before the response was complete"
                raise ConnectionError(msg)
            parser.feed_data(view[:received])
    ended = time.perf_counter()
    first = response.first_byte if response.first_byte is not None else ended
    return Transfer(parser.get_status_code(), response.body_bytes, ended - started, first - started)


class _PeakRss:
    """Sample the resident set size of a server's processes in a thread; keep the highest."""

    def __init__(self, server: "Server", interval: float = 0.002) -> None:
        self._server = server
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak = server.rss()

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._server.rss())

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._server.rss())


@dataclass(frozen=True)
class Serving:
    """A server that is up: its loopback port, and the processes whose RSS and CPU time count."""

    port: int
    processes: list[psutil.Process]


# How a server is started with an environment, and stopped when the block ends.
Launcher = Callable[[Mapping[str, str]], AbstractContextManager[Serving]]


def in_subprocess(command: Callable[[int], list[str]], health: str = "/healthz") -> Launcher:
    """Run `command(port)` on a free loopback port, ready once `health` answers 200."""

    @contextmanager
    def launch(env: Mapping[str, str]) -> Iterator[Serving]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        argv = command(port)
        # The server imports this very package, installed or not.
        source = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
        environ = {**os.environ, **env, "PYTHONPATH": path}
        popen = subprocess.Popen(argv, env=environ)  # noqa: S603 - our own command
        try:
            deadline = time.monotonic() + 30
            while True:
                if popen.poll() is not None:
                    msg = f"the server exited with status {popen.returncode}: {argv}"
                    raise RuntimeError(msg)
                try:
                    if get(port, health).status == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            # A server may serve from worker processes of its own: count them all.
            process = psutil.Process(popen.pid)
            yield Serving(port, [process, *process.children(recursive=True)])
        finally:
            popen.terminate()
            try:
                popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()

    return launch


# The service as deployed: its app, on its own HTTP protocol.
SERVICE_APP = "{{ cookiecutter.package_name }}.main:app"
SERVICE_PROTOCOL = "{{ cookiecutter.package_name }}.main:http_protocol"


def uvicorn(app: str, *, factory: bool = False, http: str | None = None) -> Launcher:
    """Start uvicorn serving `app` (module:attribute) in a subprocess, as deployed."""
    return in_subprocess(
        lambda port: [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            *(["--factory"] if factory else []),
            *([f"--http={http}"] if http else []),
            "--host=127.0.0.1",
            f"--port={port}",
            "--log-level=warning",
            "--no-access-log",
        ]
    )


@contextmanager
def servers(launch: Launcher, env: Mapping[str, str], count: int) -> Iterator[list["Server"]]:
    """`count` servers started by `launch` with the same environment, each on a port of its own."""
    with ExitStack() as stack:
        yield [stack.enter_context(Server(launch, env)) for _ in range(count)]


class Server:
    """A server started by `launch`: its port, and the RSS and CPU time of its processes."""

    def __init__(self, launch: Launcher, env: Mapping[str, str]) -> None:
        self._running = launch(env)
        self.port = 0
        self._processes: list[psutil.Process] = []
        self.idle_rss = 0

    def __enter__(self) -> Self:
        serving = self._running.__enter__()
        self.port = serving.port
        self._processes = serving.processes
        self.idle_rss = self.rss()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._running.__exit__(kind, error, traceback)

    def settle(self) -> None:
        """Take the current RSS as the level growth is measured from (call after a warm-up)."""
        self.idle_rss = self.rss()

    def rss(self) -> int:
        """The resident set size of the server's processes, in bytes."""
        return sum(process.memory_info().rss for process in self._processes)

    def cpu(self) -> float:
        """CPU seconds the server's processes have used so far."""
        times = [process.cpu_times() for process in self._processes]
        return sum(spent.user + spent.system for spent in times)

    def kernel_cpu(self) -> float:
        """The part of `cpu` spent in the kernel (system time): sockets, mostly."""
        return sum(process.cpu_times().system for process in self._processes)

    def transfer(
        self,
        target: str,
        encoding: str = "identity",
        headers: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Transfer:
        """GET `target`; note the server's CPU time and its RSS rise above the settled level."""
        cpu = self.cpu()
        with _PeakRss(self) as rss:
            transfer = get(self.port, target, encoding, headers)
        cpu = self.cpu() - cpu
        if transfer.status != status:
            msg = f"GET {target} answered {transfer.status}, not {status}"
            raise RuntimeError(msg)
        return Transfer(
            transfer.status,
            transfer.body_bytes,
            transfer.seconds,
            transfer.first_byte,
            max(0, rss.peak - self.idle_rss),
            cpu,
        )

    def best(
        self,
        target: str,
        repeat: int,
        encoding: str = "identity",
        headers: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> Transfer:
        """The fastest of `repeat` transfers, with the highest RSS growth among them."""
        transfers = [self.transfer(target, encoding, headers, status) for _ in range(repeat)]
        fastest = min(transfers, key=lambda transfer: transfer.seconds)
        growth = max(transfer.rss_growth for transfer in transfers)
        return Transfer(
            fastest.status,
            fastest.body_bytes,
            fastest.seconds,
            fastest.first_byte,
            growth,
            min(transfer.cpu_seconds for transfer in transfers),
        )


def cell(value: float | None, digits: int = 1) -> str:
    """A number for a table: thousands separated, `-` when there is none."""
    return "-" if value is None else f"{value:,.{digits}f}"


def align(rows: Sequence[Sequence[str]], left: int) -> str:
    """`rows` as an aligned text table: the first `left` columns to the left, the rest right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def _cpu_model() -> str:
    try:
        with Path("/proc/cpuinfo").open() as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str]:
    """Versions of every library loaded in this process, and of the server's HTTP stack."""
    distributions = metadata.packages_distributions()
    loaded = {name.partition(".")[0] for name in list(sys.modules)}
    names = {dist for module in loaded for dist in distributions.get(module, ())}
    versions = {}
    for name in sorted(names | set(SERVER_PACKAGES), key=str.lower):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpu_count": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "cpu_model": _cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(load, 2) for load in psutil.getloadavg()],
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "packages": _versions(),
    }
