"""The benchmark every render carries: it runs (in --quick mode), with a section per feature.

Nothing here is timed: the figures are reported by the benchmark, never asserted.
"""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.matrix import ROW_FORMATS
from tests.render import render

NO_ROWS = {f"format_{name}": False for name in ROW_FORMATS}


@pytest.mark.matrix
def test_the_quick_benchmark_runs_on_the_default_render(tmp_path: Path) -> None:
    project = render(tmp_path)
    report_path = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--rows",
            "2000",
            "--subscribers",
            "100",
            "--events",
            "5",
            "--file-mib",
            "16",
            "--relay-mib",
            "16",
            "--output",
            str(report_path),
        ],
        cwd=project,
        # No PostgreSQL or Redis named: the sections measure without them and say so.
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("BENCH_")},
            "PYTHONPATH": str(project / "src"),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    sections = report["sections"]
    assert list(sections) == ["rows", "events", "files", "relay"]
    for name, section in sections.items():
        assert section["table"] in result.stdout
        assert f"{name}: {report['titles'][name]}" in result.stdout
        assert section["targets"]
    assert report["verdicts"] in result.stdout
    assert {"cpu_count", "cpu_model", "python", "platform", "packages"} <= set(report["machine"])
    # Nothing of the run is left in the project.
    assert not (project / "files").exists()
    assert not (project / "data").exists()

    rows = sections["rows"]["figures"]
    measured = {(f["section"], f["pattern"], f["encoding"]) for f in rows}
    for suffix in ("csv", "jsonl", "json"):
        for pattern, encoding in [
            ("service", "identity"),
            ("service", "gzip"),
            ("per-row", "identity"),
            ("encode-only", "identity"),
            ("compressor", "gzip"),
        ]:
            assert (suffix, pattern, encoding) in measured
    assert ("jsonl", "fastapi-native", "identity") in measured
    assert all(f["rows"] in (2000, 200) and f["payload_bytes"] > 0 for f in rows)
    assert {f["database"] for f in rows} == {"sqlite"}
    assert "BENCH_POSTGRES_URL" in sections["rows"]["not_run"]["postgresql"]
    assert "rows: postgresql not run: " in result.stdout

    events = sections["events"]["figures"]
    servers = [(f["server"], f["broker"], f["processes"]) for f in events]
    assert servers == [
        ("service", "memory", 1),
        ("fastapi.sse", "memory", 1),
        ("sse-starlette", "memory", 1),
    ]
    assert "BENCH_REDIS_URL" in sections["events"]["not_run"]["redis"]
    for figure in events:
        assert figure["subscribers_reached"] == figure["streams_complete"] == 100
        assert figure["deliveries"] == figure["deliveries_expected"] == 500
        assert 0 < figure["min_ms"] <= figure["p50_ms"] <= figure["p99_ms"] <= figure["max_ms"]

    files = sections["files"]
    downloaded = files["settings"]["downloaded_sha256"]
    assert "uvicorn" in downloaded
    assert set(downloaded.values()) == {files["settings"]["sha256"]}
    full = [f for f in files["figures"] if f["pattern"] == "full"]
    assert {f["server"] for f in full} == set(downloaded)
    assert all(f["body_bytes"] == 16 * 2**20 and f["mb_per_s"] > 0 for f in full)

    relay = sections["relay"]["figures"]
    assert [f["pattern"] for f in relay] == ["upstream", "relay"]
    assert all(f["body_bytes"] == 16 * 2**20 for f in relay)


@pytest.mark.parametrize(
    ("answers", "modules"),
    [
        (NO_ROWS | {"format_file": False, "format_relay": False}, {"events", "events_baselines"}),
        (NO_ROWS | {"format_sse": False, "format_relay": False}, {"files"}),
        (NO_ROWS | {"format_sse": False, "format_file": False}, {"relay"}),
        ({"format_sse": False, "format_file": False, "format_relay": False}, {"rows", "baseline"}),
    ],
    ids=["sse", "file", "relay", "rows"],
)
def test_every_render_has_a_benchmark_with_its_own_sections(
    tmp_path: Path, answers: dict[str, bool], modules: set[str]
) -> None:
    project = render(tmp_path, compression="none", **answers)
    benches = {path.stem for path in (project / "bench").glob("*.py")}
    assert benches == {"__init__", "__main__", "cli", "tools"} | modules
    # The runtime package holds no benchmark code; the benchmark's own needs are its extra.
    package = project / "src" / "streaming_api"
    assert not list(package.rglob("*bench*"))
    assert not [path for path in package.rglob("*.py") if "psutil" in path.read_text()]
    extras = tomllib.loads((project / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(requirement.startswith("psutil") for requirement in extras["bench"])
    assert "python -m bench" in (project / "README.md").read_text()
