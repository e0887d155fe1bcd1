{%- set rows = cookiecutter.__rows -%}
{%- set sections = [
    "rows" if rows else "",
    "events" if cookiecutter.format_sse else "",
    "files" if cookiecutter.format_file else "",
    "relay" if cookiecutter.format_relay else "",
] | select | list -%}
"""The benchmark's command line: `python -m bench [--quick] [--only SECTION]`.

Measures the service on loopback, prints a table per section and the targets
the figures are held against, and writes every figure with a description of
the machine to a JSON file. Each section measures one feature of the service
in a module of its own (`bench/<section>.py`); they are wired here. Run it
from the project's folder: the benchmark is not part of the service, it is
left out of the wheel and the image, and its dependencies are the `bench`
extra.
"""

import argparse
{%- if rows or cookiecutter.format_sse %}
import importlib.util
{%- endif %}
import json
{%- if rows or cookiecutter.format_sse %}
import os
{%- endif %}
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
{%- if rows or cookiecutter.format_sse %}
from urllib.parse import urlsplit
{%- endif %}

{% if rows and cookiecutter.compression != "none" -%}
from {{ cookiecutter.package_name }}.core.compression import ENCODING, CompressionMiddleware
{% endif -%}
from {{ cookiecutter.package_name }}.core.credentials import mask_text
{%- if rows %}
from {{ cookiecutter.package_name }}.rows.seed import create_sample_database
{%- endif %}
{%- if rows and cookiecutter.compression != "none" %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}

{% for section in sections | sort -%}
from . import {{ section }} as bench_{{ section }}
{% endfor -%}
from .tools import Results, Setup, Target, UnavailableError, align, machine
{%- if rows %}

{% if cookiecutter.compression != "none" -%}
CODECS = (
    bench_rows.Codec(
        ENCODING,
        lambda app: CompressionMiddleware(app, level=Settings().compression_level),
    ),
)
{%- else -%}
CODECS: tuple[bench_rows.Codec, ...] = ()
{%- endif %}
{%- endif %}

Section = Callable[[Setup], Results]
# Each size option's lowest value, and highest where there is one.
BOUNDS: dict[str, tuple[int, int | None]] = {
    "repeat": (1, None),
{%- if rows %}
    "rows": (10, None),
{%- endif %}
{%- if cookiecutter.format_sse %}
    "subscribers": (1, 20_000),
    "events": (1, None),
{%- endif %}
{%- if cookiecutter.format_file %}
    "file_mib": (1, None),
{%- endif %}
{%- if cookiecutter.format_relay %}
    "relay_mib": (1, None),
{%- endif %}
}
{%- if rows or cookiecutter.format_sse %}
# Each server option: the URL schemes it takes, the module it needs, the extra that has it.
SERVERS: dict[str, tuple[tuple[str, ...], str, str]] = {
{%- if rows %}
    "postgres_url": (("postgresql", "postgres"), "psycopg", "postgres"),
{%- endif %}
{%- if cookiecutter.format_sse %}
    "redis_url": (("redis", "rediss"), "redis", "redis"),
{%- endif %}
}
{%- endif %}


def _log(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


# Above the targets of a --quick run: its sizes are too small to judge them by.
QUICK_NOTE = (
    "--quick: these sizes are too small to judge the targets by (start-up, warm-up and "
    "scheduling weigh more on a short run), so each verdict is indicative only; "
    "run without --quick to judge them."
)


def verdicts(targets: Sequence[Target], quick: bool = False) -> str:
    """The targets, each with its value, its limit and whether it is met.

    A quick run's verdicts are marked as indicative, and its misses are not
    shouted: small sizes do not measure what the targets are about.
    """
    if quick:
        words = ("within goal (indicative)", "short of goal (indicative)")
    else:
        words = ("met", "NOT MET")
    lines = [
        (
            target.name,
            f"{target.value:,.2f} {target.unit}",
            f"{'>=' if target.at_least else '<='} {target.limit:g} {target.unit}",
            words[0] if target.met else words[1],
        )
        for target in targets
    ]
    table = align([("target", "value", "goal", ""), *lines], left=1)
    return f"{QUICK_NOTE}\n\n{table}" if quick else table


def service_env(workdir: Path) -> dict[str, str]:
    """The service's settings in every section: quiet, and writing nothing outside `workdir`."""
{%- if cookiecutter.format_file %}
    # Made here, so that the service finds it and does not put a sample file in it.
    (workdir / "files").mkdir(exist_ok=True)
{%- endif %}
{%- if rows %}
    # Every section's service serves rows, and refuses a DATABASE_URL naming no
    # database: a small one, made here (the rows section seeds its own).
    create_sample_database(workdir / "service.db", 10)
    bench_rows.add_empty_tables(f"sqlite:///{workdir / 'service.db'}")
{%- endif %}
    return {
        "LOG_LEVEL": "warning",
        # Above the most streams any section holds open at once (--subscribers).
        "MAX_STREAMS": "100000",
{%- if rows %}
        "DATABASE_URL": f"sqlite:///{workdir.resolve() / 'service.db'}",
{%- endif %}
{%- if cookiecutter.format_file %}
        "FILES_DIR": str(workdir.resolve() / "files"),
{%- endif %}
    }


def run(sections: dict[str, Section], quick: bool, repeat: int) -> dict[str, Any]:
    """Measure every section; the report as a JSON-ready dict."""
    measured: list[Results] = []
    started = time.perf_counter()
    described = machine()
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        path = Path(workdir)
        setup = Setup(quick=quick, repeat=repeat, workdir=path, log=_log, env=service_env(path))
        for section in sections.values():
            measured.append(section(setup))
    targets = [target for results in measured for target in results.targets]
    command = " ".join(["python -m bench", *sys.argv[1:]])
    return {
        "command": mask_text(command),
        "quick": quick,
        "repeat": repeat,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": described,
        "sections": {results.section: results.as_dict() for results in measured},
        "titles": {results.section: results.title for results in measured},
        "targets": [target.as_dict() for target in targets],
        "verdicts": verdicts(targets, quick),
    }


def _default(sizes: tuple[int, int]) -> str:
    """How big a section is by default: `sizes` is (with --quick, without)."""
    return f"default {sizes[1]:,}; {sizes[0]:,} with --quick"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a short run of every section, about ten seconds each"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices={{ sections | tojson }},
        help="run this section only (repeat to run several)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each measurement this many times, keep the best"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("bench-results.json"),
        help="where to write the JSON report",
    )
{%- if rows %}
    parser.add_argument(
        "--rows",
        type=int,
        help=f"rows: rows to seed and stream ({_default(bench_rows.ROWS)})",
    )
    parser.add_argument(
        "--postgres-url",
        metavar="URL",
        default=os.environ.get("BENCH_POSTGRES_URL") or None,
        help="rows: also from PostgreSQL, in a database created on this server for the run "
        "and dropped after it (default: BENCH_POSTGRES_URL; unset, SQLite alone)",
    )
{%- endif %}
{%- if cookiecutter.format_sse %}
    parser.add_argument(
        "--subscribers",
        type=int,
        nargs="+",
        metavar="N",
        help="events: streams held open, a run for each number given (default "
        f"{' '.join(map(str, bench_events.SUBSCRIBERS[1]))}; "
        f"{' '.join(map(str, bench_events.SUBSCRIBERS[0]))} with --quick)",
    )
    parser.add_argument(
        "--events",
        type=int,
        help=f"events: events published, {bench_events.EVENTS_PER_SECOND} a second "
        f"({_default(bench_events.EVENTS)})",
    )
    parser.add_argument(
        "--redis-url",
        metavar="URL",
        default=os.environ.get("BENCH_REDIS_URL") or None,
        help="events: also across two service processes sharing this Redis, on a stream "
        "of the run's own (default: BENCH_REDIS_URL; unset, one process alone)",
    )
{%- endif %}
{%- if cookiecutter.format_file %}
    parser.add_argument(
        "--file-mib",
        type=int,
        help=f"files: MiB in the file downloaded ({_default(bench_files.MIB_SIZES)})",
    )
{%- endif %}
{%- if cookiecutter.format_relay %}
    parser.add_argument(
        "--relay-mib",
        type=int,
        help=f"relay: MiB in the body relayed ({_default(bench_relay.MIB_SIZES)})",
    )
{%- endif %}
    return parser


def _pick(given: int | None, quick: bool, sizes: tuple[int, int]) -> int:
    """`given` if it was, else the quick or the full default."""
    if given is not None:
        return given
    return sizes[0] if quick else sizes[1]


def sections(args: argparse.Namespace) -> dict[str, Section]:
    """The sections to run, sized from the command line."""
    quick: bool = args.quick
{%- if rows %}
    rows = _pick(args.rows, quick, bench_rows.ROWS)
{%- endif %}
{%- if cookiecutter.format_sse %}
    subscribers: list[int] = args.subscribers or list(bench_events.SUBSCRIBERS[0 if quick else 1])
    events = _pick(args.events, quick, bench_events.EVENTS)
{%- endif %}
{%- if cookiecutter.format_file %}
    file_mib = _pick(args.file_mib, quick, bench_files.MIB_SIZES)
{%- endif %}
{%- if cookiecutter.format_relay %}
    relay_mib = _pick(args.relay_mib, quick, bench_relay.MIB_SIZES)
{%- endif %}
    every: dict[str, Section] = {
{%- if rows %}
        "rows": lambda setup: bench_rows.measure(setup, rows, CODECS, args.postgres_url),
{%- endif %}
{%- if cookiecutter.format_sse %}
        "events": lambda setup: bench_events.measure(
            setup, subscribers, events, redis_url=args.redis_url
        ),
{%- endif %}
{%- if cookiecutter.format_file %}
        "files": lambda setup: bench_files.measure(setup, file_mib),
{%- endif %}
{%- if cookiecutter.format_relay %}
        "relay": lambda setup: bench_relay.measure(setup, relay_mib),
{%- endif %}
    }
    chosen = args.only or list(every)
    return {name: section for name, section in every.items() if name in chosen}


def _problems(args: argparse.Namespace) -> Iterator[str]:
    """What is wrong with the arguments, one line each."""
    for name, (lowest, highest) in BOUNDS.items():
        given = getattr(args, name)
        option = f"--{name.replace('_', '-')}"
        for value in given if isinstance(given, list) else [given]:
            if value is not None and highest is not None and not lowest <= value <= highest:
                yield f"{option} must be between {lowest} and {highest}"
            elif value is not None and value < lowest:
                yield f"{option} must be at least {lowest}"
{%- if rows or cookiecutter.format_sse %}
    for name, (schemes, module, extra) in SERVERS.items():
        problem = _server_problem(getattr(args, name), schemes, module, extra)
        if problem:
            yield f"--{name.replace('_', '-')}: {problem}"
{%- endif %}


{% if rows or cookiecutter.format_sse -%}
def _server_problem(url: str | None, schemes: Sequence[str], module: str, extra: str) -> str:
    """What is wrong with a server URL given on the command line, or "" when nothing is."""
    if url is None:
        return ""
    scheme = urlsplit(url).scheme
    if scheme not in schemes:
        return f"expected a {' or '.join(f'{name}://' for name in schemes)} URL, not {scheme!r}"
    if importlib.util.find_spec(module) is None:
        return f"{module} is not installed: pip install '.[{extra}]'"
    return ""


{% endif -%}
def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the benchmark, print and save the report."""
    parser = _parser()
    args = parser.parse_args(argv)
    for problem in _problems(args):
        parser.error(problem)
    try:
        report = run(sections(args), args.quick, args.repeat)
    except UnavailableError as error:
        parser.exit(1, f"{parser.prog}: {error}\n")
    for name, section in report["sections"].items():
        print(f"{name}: {report['titles'][name]}\n\n{section['table']}\n")
        for part, reason in section["not_run"].items():
            print(f"{name}: {part} not run: {reason}\n")
    print(report["verdicts"])
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"\nmachine: {report['machine']['cpu_model']}, {report['machine']['cpu_count']} CPUs; "
        f"{report['machine']['python']}; report written to {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
