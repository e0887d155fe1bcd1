"""The two locks agree: requirements.lock holds what uv.lock locks for the service to run.

uv.lock is what `uv sync` installs (and CI tests on); requirements.lock, written from it
by the `uv export` command its first lines name, is what the container installs with
pip. A change to one alone (an update of uv.lock from a bot, say) fails here until
that command is run again.
"""

import tomllib
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).parents[1]
# The extras the container installs, as the export command names them.
EXTRAS = {
    word
    for line in (PROJECT / "requirements.lock").read_text().splitlines()[:2]
    for flag, word in zip(line.split(), line.split()[1:], strict=False)
    if flag == "--extra"
}


def locked() -> dict[str, dict[str, Any]]:
    """uv.lock's packages by name."""
    lock = tomllib.loads((PROJECT / "uv.lock").read_text())
    return {package["name"]: package for package in lock["package"]}


def pinned() -> dict[str, str]:
    """requirements.lock's pins: name to version."""
    pins = {}
    for line in (PROJECT / "requirements.lock").read_text().splitlines():
        requirement = line.split(";", 1)[0].strip()
        if requirement and not requirement.startswith("#"):
            name, version = requirement.split("==")
            pins[name] = version
    return pins


def runtime_closure(packages: dict[str, dict[str, Any]]) -> set[str]:
    """What the project needs to run, with EXTRAS, on any platform: the names, recursively."""
    (project,) = [p for p in packages.values() if p["source"].get("editable") == "."]
    todo = list(project.get("dependencies", []))
    for extra in EXTRAS:
        todo += project["optional-dependencies"][extra]
    needed: set[str] = set()
    while todo:
        dependency = todo.pop()
        package = packages[dependency["name"]]
        for extra in dependency.get("extra", []):
            todo += package["optional-dependencies"][extra]
        if dependency["name"] not in needed:
            needed.add(dependency["name"])
            todo += package.get("dependencies", [])
    return needed


def test_requirements_lock_pins_the_versions_uv_lock_locks() -> None:
    packages = locked()
    pins = pinned()
    assert {name: packages[name]["version"] for name in pins if name in packages} == pins


def test_requirements_lock_holds_everything_the_service_runs_on_and_nothing_else() -> None:
    assert set(pinned()) == runtime_closure(locked())
