"""The benchmark every render carries: it runs (in --quick mode) and it is absent without rows.

Nothing here is timed: the figures are reported by the benchmark, never asserted.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parents[1]
NO_ROWS = {"format_csv": False, "format_jsonl": False, "format_json": False}


def render(destination: Path, **answers: Any) -> Path:
    """Render the working tree of the template with `answers`; return the project folder."""
    return Path(
        cookiecutter(str(ROOT), no_input=True, output_dir=str(destination), extra_context=answers)
    )


@pytest.mark.matrix
def test_the_quick_benchmark_runs_on_the_default_render(tmp_path: Path) -> None:
    project = render(tmp_path)
    report_path = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "streaming_api.bench",
            "--quick",
            "--rows",
            "2000",
            "--output",
            str(report_path),
        ],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    measured = {(f["section"], f["pattern"], f["encoding"]) for f in report["figures"]}
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
    assert all(f["rows"] in (2000, 200) and f["payload_bytes"] > 0 for f in report["figures"])
    assert {"cpu_count", "cpu_model", "python", "platform", "packages"} <= set(report["machine"])
    assert report["targets"]
    assert report["table"] in result.stdout
    assert report["verdicts"] in result.stdout


def test_a_render_without_row_formats_has_no_benchmark(tmp_path: Path) -> None:
    project = render(tmp_path, compression="none", **NO_ROWS)
    names = {path.name for path in project.rglob("*")}
    assert not {name for name in names if "bench" in name}
    assert "psutil" not in (project / "pyproject.toml").read_text()
