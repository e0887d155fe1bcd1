"""Measure what slow readers of row exports cost a rendered project's server.

    python scripts/slow_readers.py PROJECT [--readers 100] [--format csv] [--duration 60]

Seeds a SQLite sample database (`python -m <package> seed`) in a scratch
folder, starts PROJECT's service as deployed (`uvicorn <package>.main:app
--http <package>.main:http_protocol`, loopback, SEND_TIMEOUT longer than the
run), then opens READERS connections that each request a full export with a
small receive buffer (SO_RCVBUF) and read about RATE bytes a second. Meanwhile
it samples the server's RSS (psutil) and times `/healthz`, each probe on a new
connection. It prints RSS before and at its peak, the growth per reader, and
the probes' p50/p99. BENCHMARKS.md ("Where the slow readers' memory went") was
measured with it. Run it with the tools of the project's environment on PATH.
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HOST = "127.0.0.1"
MIB = 1024 * 1024


@dataclass
class Run:
    """What the clients saw."""

    received: list[int] = field(default_factory=list)
    refused: int = 0
    ended_early: int = 0
    probes: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def package_of(project: Path) -> str:
    """The project's package: the folder under src/ that has a main.py."""
    found = sorted(path.parent.name for path in (project / "src").glob("*/main.py"))
    if len(found) != 1:
        msg = f"{project}/src should hold one package with a main.py, found {found or 'none'}"
        raise SystemExit(msg)
    return found[0]


async def request(port: int, path: str, rcvbuf: int = 0) -> tuple[socket.socket, bytes]:
    """A socket with `GET path` sent on it, and the first bytes of the answer."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await loop.sock_connect(sock, (HOST, port))
    head = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"
    await loop.sock_sendall(sock, head.encode())
    return sock, await loop.sock_recv(sock, 1024)


async def read_slowly(port: int, path: str, args: argparse.Namespace, run: Run) -> None:
    """One slow reader: about `args.rate` bytes a second until the run ends."""
    loop = asyncio.get_running_loop()
    sock, first = await request(port, path, args.rcvbuf)
    if not first.startswith(b"HTTP/1.1 200"):
        run.refused += 1
        sock.close()
        return
    received = len(first)
    try:
        while data := await loop.sock_recv(sock, 1024):
            received += len(data)
            await asyncio.sleep(len(data) / args.rate)
        run.ended_early += 1
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        run.received.append(received)
        sock.close()


async def fetch(port: int, path: str) -> float:
    """Seconds for one `GET path` on a new connection, to the end of its answer."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    sock, data = await request(port, path)
    with sock:
        while data:
            data = await loop.sock_recv(sock, 65536)
    return time.perf_counter() - started


async def sample(port: int, server: psutil.Process, run: Run, until: float) -> None:
    """RSS and a `/healthz` probe about every 0.2 s until `until`."""
    while time.monotonic() < until:
        run.rss.append(server.memory_info().rss)
        run.probes.append(await fetch(port, "/healthz"))
        await asyncio.sleep(0.2)


async def measure(port: int, server: psutil.Process, args: argparse.Namespace) -> Run:
    """The readers and the sampler, for `args.duration` seconds."""
    run = Run()
    path = f"/items.{args.format}"
    readers = [
        asyncio.ensure_future(read_slowly(port, path, args, run)) for _ in range(args.readers)
    ]
    await sample(port, server, run, time.monotonic() + args.duration)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return run


def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    """Until `/healthz` answers; the server's exit is an error."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            asyncio.run(fetch(port, "/healthz"))
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise SystemExit("the server did not answer /healthz within 30 s")


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile of `values` (inclusive method)."""
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def main() -> int:
    """Seed, serve, read slowly, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a rendered project that serves rows")
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--format", default="csv", help="the export's suffix: csv, jsonl, json")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the sample")
    parser.add_argument("--duration", type=float, default=60, help="seconds to read for")
    parser.add_argument("--rate", type=float, default=1024, help="bytes a second per reader")
    parser.add_argument("--rcvbuf", type=int, default=4096, help="each reader's SO_RCVBUF")
    args = parser.parse_args()
    project: Path = args.project.resolve()
    package = package_of(project)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="slow-readers-") as scratch:
        env = {
            **os.environ,
            "PYTHONPATH": str(project / "src"),
            "DATABASE_URL": f"sqlite:///{Path(scratch) / 'rows.db'}",
            "LOG_LEVEL": "warning",
            "SEND_TIMEOUT": str(args.duration * 10),
            "MAX_STREAMS": str(args.readers + 100),
        }
        seed = [sys.executable, "-m", package, "seed", "--rows", str(args.rows)]
        subprocess.run(seed, check=True, env=env, cwd=scratch)
        serve = [sys.executable, "-m", "uvicorn", f"{package}.main:app"]
        serve += [f"--http={package}.main:http_protocol", "--host", HOST, "--port", str(port)]
        serve += ["--log-level", "warning", "--no-access-log"]
        with subprocess.Popen(serve, env=env, cwd=scratch) as server:
            try:
                wait_ready(port, server)
                # One export read at full speed first: what the first one loads
                # (modules, worker threads) is no reader's cost.
                asyncio.run(fetch(port, f"/items.{args.format}?limit=50000"))
                process = psutil.Process(server.pid)
                before = process.memory_info().rss
                run = asyncio.run(measure(port, process, args))
            finally:
                server.terminate()
    peak = max(run.rss)
    probes = sorted(1000 * seconds for seconds in run.probes)
    readers = len(run.received)
    mean_kib = statistics.fmean(run.received) / 1024 if run.received else 0
    print(f"{args.readers} readers of /items.{args.format} for {args.duration:.0f} s")
    print(f"  readers: {readers} read, {run.refused} refused, {run.ended_early} ended early")
    print(f"  received: {mean_kib:.0f} KiB per reader on average")
    print(f"  RSS: before {before / MIB:.1f} MiB, peak {peak / MIB:.1f} MiB, ", end="")
    print(f"end {run.rss[-1] / MIB:.1f} MiB")
    print(f"  growth per reader: {(peak - before) / MIB / max(readers, 1):.2f} MiB")
    print(f"  /healthz ({len(probes)} probes): p50 {percentile(probes, 0.5):.1f} ms, ", end="")
    print(f"p99 {percentile(probes, 0.99):.1f} ms, max {probes[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
