"""Profile the events server of a rendered project under its benchmark's load.

    python scripts/profile_events.py PROJECT [--subscribers 5000] [--events 30]

Runs the events section of PROJECT's benchmark (`bench/events.py`; one
process, the service alone) with the server started inside pyinstrument, on
the service's own HTTP protocol as deployed, then prints the call tree
of the server's process, library frames included, and writes the session to
PROJECT/events-profile.json (`pyinstrument --load=...` renders it again).
BENCHMARKS.md ("Where an event's time goes") was made with it. The profiler
slows the server several times over: read the shares of the tree, not its
seconds.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The server: uvicorn inside the profiler, the session saved when uvicorn stops.
SERVE = """
import signal, sys, uvicorn
from pyinstrument import Profiler
# uvicorn raises SIGTERM again once it has stopped: let that one pass, to save the session.
signal.signal(signal.SIGTERM, lambda *_: None)
profiler = Profiler(interval=0.001)
profiler.start()
try:
    uvicorn.run(sys.argv[2], http=sys.argv[4], host="127.0.0.1", port=int(sys.argv[1]),
                log_level="warning", access_log=False)
finally:
    profiler.stop()
    profiler.last_session.save(sys.argv[3])
"""

# The benchmark, with the profiled server as its launcher.
MEASURE = """
import sys
from pathlib import Path
from bench import cli, events, tools

def main() -> None:
    serve, session, subscribers, count, workdir = sys.argv[1:6]
    launch = tools.in_subprocess(
        lambda port: [
            sys.executable, serve, str(port), tools.SERVICE_APP, session, tools.SERVICE_PROTOCOL
        ]
    )
    path = Path(workdir)
    setup = tools.Setup(False, 1, path, print, cli.service_env(path))
    harness = events.Harness(launch=launch, baselines={})
    print(events.measure(setup, [int(subscribers)], int(count), harness=harness).table)

if __name__ == "__main__":
    main()
"""


def main() -> int:
    """Profile, then print the tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a rendered project with events")
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--events", type=int, default=30)
    args = parser.parse_args()
    project: Path = args.project.resolve()
    if not (project / "bench" / "events.py").is_file():
        parser.error(f"{project} has no bench/events.py: render it with events")
    session = project / "events-profile.json"
    with tempfile.TemporaryDirectory(prefix="profile-events-") as scratch:
        folder = Path(scratch)
        (folder / "serve.py").write_text(SERVE)
        (folder / "measure.py").write_text(MEASURE)
        command = [sys.executable, str(folder / "measure.py"), str(folder / "serve.py")]
        command += [str(session), str(args.subscribers), str(args.events), scratch]
        # The benchmark runs from the project's folder, as `python -m bench` does.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project / "src"), str(project)])}
        subprocess.run(command, check=True, env=env, cwd=project)
    tree = [sys.executable, "-m", "pyinstrument", f"--load={session}", "--show-all"]
    return subprocess.run(tree, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
